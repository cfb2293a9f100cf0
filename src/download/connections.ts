/**
 * The run's connections: at most `maxConcurrency` fetches at once, whichever requests they serve. A
 * queued request of a video keeps several connections busy (its lanes, `scheduler.ts`), an image
 * request one, and Crawlee's pool counts requests, not connections: this limit is what holds the
 * input's `maxConcurrency`. Waiting fetches are served in turn (p-limit's queue).
 */
import pLimit from 'p-limit';

/** Runs `work` (one fetch) on a connection, once one is free. */
export type Connection = <T>(work: () => Promise<T>) => Promise<T>;

export function connectionLimit(maxConcurrency: number): Connection {
    const limit = pLimit(Math.max(1, maxConcurrency));
    return (work) => limit(work);
}
