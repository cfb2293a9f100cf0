/**
 * run/queues.ts on Crawlee's real RequestQueue in local storage: the queue's dedup cache is the one this
 * crawler sizes (a Crawlee that renames or drops it fails here, not silently in memory), and requests
 * added twice, in one call and across batched calls, are still queued once.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/actor.js';

const dir = await tempDir('queues');
// Crawlee reads its storage folder when it first opens a storage: set before anything opens one.
process.env.CRAWLEE_STORAGE_DIR = path.join(dir, 'storage');
const { RequestQueue } = await import('@crawlee/core');
const { DEDUP_SLOTS, openQueue, resizeDedupCache } = await import('../../src/run/queues.js');

const seenCache = (queue: object): { size: number } | undefined =>
    (queue as { requestSeenCache?: { size: number } }).requestSeenCache;

test("Crawlee's queue has the 1,000,000-slot dedup cache that openQueue resizes", async () => {
    const plain = await RequestQueue.open('plain');
    assert.equal(seenCache(plain)?.size, 1_000_000, "Crawlee's field changed: run/queues.ts needs a look");
    const queue = await openQueue('sized');
    assert.equal(seenCache(queue)?.size, DEDUP_SLOTS);
    assert.equal(resizeDedupCache(queue), false, 'a resized cache is left as it is');
    assert.equal(await openQueue('sized'), queue, 'the open is cached: the same queue object');
    assert.equal(resizeDedupCache({} as never), false, 'a queue without the field is left as it is');
});

test('a resized queue still queues a request added twice once, in batches too', async () => {
    const queue = await openQueue('dedup');
    const requests = Array.from({ length: 300 }, (_, i) => ({ url: `https://cdn.test/s${i}.ts`, uniqueKey: `u${i}` }));
    await queue.addRequests(requests.slice(0, 100));
    const again = await queue.addRequests(requests.slice(0, 100));
    assert.ok(
        again.processedRequests.every((r) => r.wasAlreadyPresent),
        'added again: all already present',
    );
    const batched = await queue.addRequestsBatched(requests, { batchSize: 50, waitBetweenBatchesMillis: 0 });
    await batched.waitForAllRequestsToBeAdded;
    assert.equal(await queue.getTotalCount(), 300);
    let handled = 0;
    for (let r = await queue.fetchNextRequest(); r; r = await queue.fetchNextRequest()) {
        await queue.markRequestHandled(r);
        handled++;
    }
    assert.equal(handled, 300, 'every request once');
});
