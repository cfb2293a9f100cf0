/**
 * What the coordinator does when a worker ends. Pure.
 *
 * A worker that ends with its summary sent and exit code 0 is done. Any other end (a crash, an
 * out-of-memory kill, `kill -9`) starts it again in its own storages, which resumes its videos where
 * their units stopped; its pages went back to the queue when it died. A worker that keeps dying is
 * given up after `MAX_RESTARTS`, so one that crashes at start cannot hang the run: the other workers
 * take its pages, and its unfinished videos become failed items.
 */
export const MAX_RESTARTS = 3;

export interface WorkerEnd {
    /** The worker sent its summary before it exited. */
    finished: boolean;
    code: number | null;
    signal: string | null;
}

export type AfterEnd = 'done' | 'restart' | 'give-up';

export function afterWorkerEnd(end: WorkerEnd, restarts: number): AfterEnd {
    if (end.finished && end.code === 0) return 'done';
    return restarts < MAX_RESTARTS ? 'restart' : 'give-up';
}

/** How a worker's end reads in the log and in a failed item. Pure. */
export function describeEnd(end: WorkerEnd): string {
    if (end.signal) return `killed by ${end.signal}`;
    if (end.code !== 0) return `exited with code ${end.code}`;
    return 'exited before it finished';
}

/** Whether a run whose workers ended so has failed: only when no worker got through. Pure. */
export const runFailed = (outcomes: readonly AfterEnd[]): boolean =>
    outcomes.length > 0 && outcomes.every((o) => o === 'give-up');
