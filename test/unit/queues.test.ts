/**
 * run/queues.ts on Crawlee's real RequestQueue in local storage: every queue's dedup cache is constructed
 * with the slots this crawler sets, the queues Crawlee opens itself too (a Crawlee that moves, renames or
 * drops the class or the field fails here, not silently in time and memory), and requests added twice, in
 * one call and across batched calls, are still queued once.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/actor.js';

const dir = await tempDir('queues');
// Crawlee reads its storage folder when it first opens a storage: set before anything opens one.
process.env.CRAWLEE_STORAGE_DIR = path.join(dir, 'storage');
const { RequestQueue } = await import('@crawlee/core');
const { DEDUP_SLOTS, installDedupSlots, openQueue, resizeDedupCache } = await import('../../src/run/queues.js');

const seenCache = (queue: object): { size: number } | undefined =>
    (queue as { requestSeenCache?: { size: number } }).requestSeenCache;

test("every queue, Crawlee's own open too, is constructed with the crawler's dedup slots", async () => {
    const plain = await RequestQueue.open('plain');
    assert.equal(
        seenCache(plain)?.size,
        DEDUP_SLOTS,
        "Crawlee's queue was constructed with another cache: run/queues.ts installDedupSlots needs a look",
    );
    assert.equal(installDedupSlots(), true, 'installed at import; installing again keeps it');
    assert.equal(seenCache(await RequestQueue.open('plain-2'))?.size, DEDUP_SLOTS, 'not wrapped twice');
    const Cache = seenCache(plain)!.constructor as new (size?: number) => { size: number };
    assert.equal(new Cache(1_000_000).size, DEDUP_SLOTS, 'never more slots than set');
    assert.equal(new Cache(1_024).size, 1_024, 'fewer when asked');
    const Crawlees = Object.getPrototypeOf(Cache) as new (size?: number) => { size: number };
    assert.equal(new Crawlees().size, 1_000_000, "Crawlee's own default (what the install saves) changed");
});

test('openQueue: the resize, for a Crawlee where the class could not be replaced', async () => {
    const queue = await openQueue('sized');
    assert.equal(seenCache(queue)?.size, DEDUP_SLOTS);
    assert.equal(resizeDedupCache(queue), false, 'a cache no larger is left as it is');
    const Cache = Object.getPrototypeOf(seenCache(queue)!.constructor) as new (size?: number) => { size: number };
    const big = { requestSeenCache: new Cache(1_000_000) };
    assert.equal(resizeDedupCache(big as never), true);
    assert.equal(big.requestSeenCache.size, DEDUP_SLOTS);
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
