/**
 * The page queue of a split crawl, opened so pages spread over the workers.
 *
 * Crawlee's request queue (v2) locks the next 25 requests at once and keeps them in the process's
 * own head until it gets to them, refilling when one is left. Measured on the demo site with two
 * workers: the first to ask locked all 7 start pages and rendered them four at a time while the second
 * found nothing to take; capped at 4 per ask, the first still held 4 rendering plus 4 waiting. So a
 * worker here locks half a round of tabs per ask: it holds what it renders plus one or two waiting,
 * which keeps its tabs fed (the next ask starts while one is left) and leaves the rest to the others.
 */
import { createHash } from 'node:crypto';
import { Configuration, RequestQueue } from '@crawlee/core';
import type { RequestQueueClient } from '@crawlee/types';
import { openQueue } from './queues.js';

type ListAndLockHead = RequestQueueClient['listAndLockHead'];

/** The limit a worker asks the queue for: Crawlee's, capped at half the pages it renders at once. Pure. */
export const headLimit = (asked: number | undefined, pagesAtOnce: number): number =>
    Math.max(1, Math.min(asked ?? 25, Math.ceil(pagesAtOnce / 2)));

/**
 * The queue client key of the worker scoped `scope`: the same in every run of that worker. The
 * platform records who locked a request by this key and `requests/unlock` gives back exactly that
 * key's locks, so the coordinator can return a dead worker run's pages at once instead of after the
 * lock's ~9 minutes (a page may take 550 s: an MSE capture), and its replacement starts unburdened.
 * Crawlee draws a random key per queue object and has no option for it. Pure.
 */
export const pageClientKey = (scope: string): string =>
    createHash('sha256').update(`pages|${scope}`).digest('hex').slice(0, 32);

export async function openPageQueue(
    name: string | undefined,
    pagesAtOnce: number,
    scope: string,
): Promise<RequestQueue> {
    const queue = await openQueue(name);
    const clientKey = pageClientKey(scope);
    const storage = Configuration.getGlobalConfig().getStorageClient();
    const client = storage.requestQueue(queue.id, { clientKey, timeoutSecs: queue.timeoutSecs });
    const listAndLockHead: ListAndLockHead = client.listAndLockHead.bind(client);
    client.listAndLockHead = async (options) =>
        listAndLockHead({ ...options, limit: headLimit(options.limit, pagesAtOnce) });
    Object.assign(queue, { client, clientKey });
    return queue;
}
