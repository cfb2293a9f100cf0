/**
 * When the crawl is over, as promises. After the last page: every live recording ended, every video job
 * reached `done` or `failed` (VideoJobs.allFinished, resolved by the transition that finishes the last
 * job), the merges cleaned up after themselves, and the download queue has nothing left (images, units of
 * videos already judged). A stopped run ends every wait at once.
 */
import type { RequestProvider } from '@crawlee/core';
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
