/**
 * `workers` > 1 on this machine: the coordinator (this process) holds the run's storage and starts N
 * worker processes that share it (ipc-storage.ts). Every worker runs the whole crawl over the shared
 * page queue: it takes the next page (locked while it renders), adds the links it follows, downloads
 * and merges the videos it claimed, and pushes its items to the one dataset. The coordinator restarts
 * a worker that dies (supervisor.ts), then sums what the workers did; main.ts reports as for one.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Configuration, Dataset, KeyValueStore, log } from '@crawlee/core';
import type { CrawlSummary } from '../app/crawl.js';
import type { CrawlInput } from '../input/input.js';
import { purgeOnStart, releaseLocks, runScope, runStorageNames } from '../run/storage.js';
import { LockBook, QueueCalls, releaseLocksOf, serveStorage } from './ipc-storage.js';
import { reportLostVideos } from './lost-videos.js';
import { claimsQueueName, workerScope, type WorkerRole } from '../run/role.js';
import { afterWorkerEnd, describeEnd, MAX_RESTARTS, runFailed, type AfterEnd, type WorkerEnd } from './supervisor.js';
import { openQueue } from '../run/queues.js';

/** What the coordinator sends a worker first; nothing else is needed to run its part. */
export interface WorkerStart {
    kind: 'start';
    role: WorkerRole;
    input: CrawlInput;
    outputDir?: string;
}

/** What a worker sends when its crawl is over, just before it exits. */
export interface WorkerDone {
    kind: 'done';
    summary: CrawlSummary;
}

const isDone = (m: unknown): m is WorkerDone => (m as WorkerDone | undefined)?.kind === 'done';

/** The workers' crawls as one. Pure. */
export function sumSummaries(parts: readonly CrawlSummary[], secs: number): CrawlSummary {
    const sum = (f: (s: CrawlSummary) => number) => parts.reduce((n, s) => n + f(s), 0);
    return {
        pages: sum((s) => s.pages),
        videosOk: sum((s) => s.videosOk),
        videosFailed: sum((s) => s.videosFailed),
        peakConnections: sum((s) => s.peakConnections),
        bytes: sum((s) => s.bytes),
        secs,
        stopped: parts.some((s) => s.stopped),
        // Only when a policy refused anything: a summary without it reads as before.
        ...(parts.some((s) => s.refusedRequests) ? { refusedRequests: sum((s) => s.refusedRequests ?? 0) } : {}),
    };
}

/** The workers' request-queue calls per rendered page, as the benchmark reads them. Pure. */
export function queueCallsLine(calls: QueueCalls, pages: number): string {
    const per = (n: number) => (pages ? (n / pages).toFixed(1) : '–');
    const parts = ['pages', 'claims', 'downloads'].map((kind) => {
        const c = calls.counts.get(kind) ?? { reads: 0, writes: 0 };
        return `${kind} queue ${per(c.reads)} reads + ${per(c.writes)} writes`;
    });
    return `Request-queue calls per page (${pages} pages): ${parts.join(', ')}`;
}

/** The worker entry beside this module: compiled (`.js`) or run from the sources (`.ts`, through tsx). */
function workerEntry(): string {
    const here = fileURLToPath(import.meta.url);
    return path.join(path.dirname(here), `worker-main${path.extname(here)}`);
}

export interface LocalWorkersOptions {
    outputDir?: string;
    signal?: AbortSignal;
}

export async function runLocalWorkers(input: CrawlInput, options: LocalWorkersOptions = {}): Promise<CrawlSummary> {
    const started = Date.now();
    const run = runScope();
    const storage = Configuration.getGlobalConfig().getStorageClient();
    const claims = claimsQueueName(run);
    const count = input.workers;
    if (purgeOnStart()) await (await openQueue(claims)).drop();
    else {
        // Resuming a killed run: nobody holds anything any more.
        await releaseLocks(await openQueue(), 'default');
        for (let i = 0; i < count; i++) {
            const name = runStorageNames(workerScope(run, i)).downloads;
            await releaseLocks(await openQueue(name), name);
        }
    }
    // The shared storages exist before any worker asks for them (ipc-storage.ts creates in turn as well).
    await Promise.all([openQueue(claims), openQueue(), Dataset.open(), KeyValueStore.open()]);
    const locks = new LockBook();
    const calls = new QueueCalls();
    const summaries: CrawlSummary[] = [];
    const outcomes: AfterEnd[] = [];
    const children = new Set<ChildProcess>();
    const stopAll = () => children.forEach((c) => c.kill('SIGTERM'));
    options.signal?.addEventListener('abort', stopAll, { once: true });

    const runWorker = (index: number): Promise<void> =>
        new Promise((resolveWorker) => {
            let restarts = 0;
            const start = (resumed: boolean) => {
                const role: WorkerRole = {
                    index,
                    count,
                    scope: workerScope(run, index),
                    resumed,
                    shared: { claims },
                };
                const child = fork(workerEntry(), [], {
                    env: { ...process.env, CRAWLEE_PURGE_ON_START: '0', MEDIA_CRAWLER_WORKER: String(index) },
                    serialization: 'advanced',
                    stdio: 'inherit',
                });
                children.add(child);
                serveStorage(child, index, storage, locks, calls);
                let summary: CrawlSummary | undefined;
                child.on('message', (m: unknown) => {
                    if (isDone(m)) summary = m.summary;
                });
                const hello: WorkerStart = { kind: 'start', role, input, outputDir: options.outputDir };
                child.send(hello);
                log.info(`Worker ${index} ${resumed ? 'restarted' : 'started'} (pid ${child.pid})`);
                child.on('exit', (code, signal) => {
                    children.delete(child);
                    void (async () => {
                        const end: WorkerEnd = { finished: summary !== undefined, code, signal };
                        const released = await releaseLocksOf(index, storage, locks);
                        const next = options.signal?.aborted ? 'give-up' : afterWorkerEnd(end, restarts);
                        if (next === 'done') {
                            summaries.push(summary!);
                            outcomes.push(next);
                            return resolveWorker();
                        }
                        if (options.signal?.aborted) {
                            // Stopped (Ctrl-C): its videos stay in its storages for a resumed run, not reported lost.
                            if (summary) summaries.push(summary);
                            log.info(`Worker ${index} stopped; ${released} requests it held went back to the queues`);
                            return resolveWorker();
                        }
                        const what = `Worker ${index} ${describeEnd(end)}; ${released} requests it held went back to the queues`;
                        if (next === 'restart') {
                            restarts++;
                            log.warning(
                                `${what}; starting it again (${restarts} of ${MAX_RESTARTS}) to resume its videos`,
                            );
                            return start(true);
                        }
                        log.error(`${what}; given up, the other workers take its pages`);
                        outcomes.push(next);
                        await reportLostVideos(role.scope, describeEnd(end)).catch((e: Error) =>
                            log.warning(`Could not report worker ${index}'s videos: ${e.message}`),
                        );
                        resolveWorker();
                    })();
                });
            };
            // A run started with purging off resumes a killed one: its workers resume their own storages too.
            start(!purgeOnStart());
        });

    await Promise.all(Array.from({ length: count }, (_, i) => runWorker(i)));
    options.signal?.removeEventListener('abort', stopAll);
    const secs = (Date.now() - started) / 1000;
    // Stopped: what the workers stored is reported; the claims stay for the resumed run.
    if (options.signal?.aborted) return { ...sumSummaries(summaries, secs), stopped: true };
    if (runFailed(outcomes)) throw new Error(`none of the ${count} workers could finish; see the log above`);
    await (await openQueue(claims)).drop();
    const summary = sumSummaries(summaries, secs);
    log.info(queueCallsLine(calls, summary.pages));
    return summary;
}
