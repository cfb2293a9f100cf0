/**
 * When the crawl is over, as promises. After the last page: every live recording ended, every video job
 * reached `done` or `failed` (VideoJobs.allFinished, resolved by the transition that finishes the last
 * job), the merges cleaned up after themselves, and the download queue has nothing left (images, units of
 * videos already judged). A stopped run ends every wait at once, reports the videos it leaves
 * (`abandonDownloads`) and winds the download crawler down without waiting for it (`windDown`).
 */
import type { AutoscaledPool, RequestProvider } from '@crawlee/core';
import type { FileDownload } from '@crawlee/http';
import { videoLost } from '../results/items.js';
import type { Results } from '../results/results.js';
import type { VideoJobs } from '../download/jobs.js';
import type { VideoFinisher } from '../merge/finish.js';
import type { LiveRecorder } from '../live/recorder.js';
import { delay } from '../time/delay.js';

/**
 * How often the download queue is asked whether it is finished. Crawlee's queue tells it only when asked
 * (its own pool asks as often: `maybeRunIntervalSecs` 0.1 in download-crawler.ts); the jobs are not polled.
 */
const QUEUE_CHECK_MS = 100;
/**
 * How long an empty queue must stay empty before a job still downloading is judged stranded (its units can
 * no longer arrive): the former end loop's 10 idle checks of 200 ms.
 */
const STRANDED_AFTER_MS = 2_000;

export interface CrawlEndParts {
    jobs: VideoJobs;
    finisher: VideoFinisher;
    recorder: LiveRecorder;
    queue: RequestProvider;
}

/** Resolves when the downloads are over, or at once when `signal` aborts (the caller then abandons the rest). */
export async function downloadsOver(parts: CrawlEndParts, signal?: AbortSignal): Promise<void> {
    const { jobs, finisher, recorder, queue } = parts;
    const stop = new AbortController();
    const stopped = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
    // A signal aborted already fires no event.
    const aborted = new Promise<void>((resolve) =>
        stopped.aborted ? resolve() : stopped.addEventListener('abort', () => resolve(), { once: true }),
    );
    const until = (p: Promise<unknown>): Promise<unknown> => Promise.race([p, aborted]);
    try {
        // No new recording starts after the last page; one that ends settles its job (or its last unit will).
        await until(recorder.ended());
        // A job none of whose units can arrive any more would hold the end: the watch settles it as failed.
        await until(Promise.race([jobs.allFinished(), settleStranded(parts, stopped)]));
        await until(jobs.allFinished());
        await until(finisher.drain());
        await until(queueFinished(queue, stopped));
    } finally {
        stop.abort();
    }
}

/** Resolves when the queue has no request pending or in progress; early (unresolved work left) on abort. */
async function queueFinished(queue: RequestProvider, signal: AbortSignal): Promise<void> {
    while (!signal.aborted && !(await queue.isFinished())) {
        await delay(QUEUE_CHECK_MS, signal);
    }
}

/**
 * Waits for the queue to be empty while jobs still download without a live recording feeding them; if that
 * lasts STRANDED_AFTER_MS, their units that are neither stored nor failed are failed and the jobs settled
 * (they become failed items that say what is missing). Returns when no job is left downloading.
 */
async function settleStranded(parts: CrawlEndParts, signal: AbortSignal): Promise<void> {
    const { jobs, finisher, queue } = parts;
    const stranded = () => jobs.unfinished().filter((j) => j.status === 'downloading' && !j.liveOpen);
    let since: number | undefined;
    while (!signal.aborted && stranded().length) {
        const empty = (await queue.isFinished()) && finisher.idle();
        since = empty ? (since ?? Date.now()) : undefined;
        if (since !== undefined && Date.now() - since >= STRANDED_AFTER_MS) {
            for (const job of stranded()) {
                jobs.failUnaccounted(job.id, 'the download queue has no request left for it');
                finisher.settle(job.id);
            }
            return;
        }
        await delay(QUEUE_CHECK_MS * 2, signal);
    }
}

/**
 * Stopping early: videos still downloading stop taking units (their requests end after the unit in hand)
 * and become failed items that say how far they got, so the dataset and the report account for them.
 */
export async function abandonDownloads(jobs: VideoJobs, results: Results, reason: unknown): Promise<void> {
    const why = reason === 'timeout' ? 'the run stopped before its timeout' : 'the run was aborted';
    for (const job of jobs.unfinished()) {
        if (job.status !== 'downloading' && job.status !== 'merging') continue;
        const { done, total } = jobs.counts(job.id);
        // A merge in progress loses its files when the run's storages are dropped: it is reported here, unless
        // its merge reported it first (one verdict per video: Results.verdict refuses the second).
        const error =
            job.status === 'merging'
                ? `${why} while its ${total} segments were being merged`
                : `${why} with ${done} of ${total} segments downloaded`;
        if (await results.verdict(job.id, videoLost(job, error))) await jobs.transition(job.id, 'failed');
    }
}

/**
 * Lets the requests in flight end before the storages they report to are dropped: after
 * `abandonDownloads` each ends with the unit in hand. No new request starts (Crawlee pauses its pools on
 * `aborting` too, but not at the run timeout).
 */
async function quiesce(pool: AutoscaledPool | undefined, ms: number): Promise<void> {
    if (!pool) return;
    void pool.pause(ms).catch(() => undefined);
    const deadline = Date.now() + ms;
    // No signal: this runs after the stop, and its own deadline bounds it.
    while (pool.currentConcurrency > 0 && Date.now() < deadline) await delay(50);
}

/**
 * Aborts a crawler's pool until its run has ended. A stop during start-up can come before the pool runs:
 * `abort()` then only marks it stopped, and a pool that starts stopped never asks whether it is finished,
 * so the keepAlive download crawler ran on (measured under load: the run-timeout test's crawl did not wind
 * down, and the run exited 2.3 s after its timeout instead of ~13 s before).
 */
async function abortUntilEnded(crawler: { autoscaledPool?: AutoscaledPool }, running: Promise<unknown>): Promise<void> {
    let ended = false;
    const end = running.finally(() => (ended = true));
    end.catch(() => undefined); // its error is the caller's, who awaits `running`
    while (!ended) {
        await crawler.autoscaledPool?.abort();
        // No signal: this runs after the stop; each round is short and ends with the run.
        await Promise.race([end, delay(200)]);
    }
}

/** Ends the recordings and the download crawler: a graceful end waits for it, an abort does not. */
export async function windDown(
    stages: { recorder: LiveRecorder; downloader: FileDownload },
    downloading: Promise<unknown>,
    signal: AbortSignal | undefined,
): Promise<void> {
    const { recorder, downloader } = stages;
    await recorder.stop();
    // A graceful stop lets running requests finish (a run of segments, up to a minute); an abort does not wait.
    if (signal?.aborted) {
        await quiesce(downloader.autoscaledPool, 5_000);
        await abortUntilEnded(downloader, downloading);
    } else {
        downloader.stop();
        // The pool asks whether it is finished at its next tick (every 0.1 s) or when a task ends, and no task
        // is left to end: ask now. The crawl's end came 33-95 ms after the stop on the bench's m3u8 URL.
        void downloader.autoscaledPool?.notify();
    }
    await downloading;
}
