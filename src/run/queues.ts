/**
 * The one way this program opens a request queue: Crawlee's `RequestQueue.open`, with the queue's
 * dedup cache sized for what it holds.
 *
 * Crawlee 3.18 gives every queue a direct-mapped cache of 1,000,000 slots (`requestSeenCache`, two
 * `new Array(1e6)`: ~8 MB, and 45-75 ms of the main thread to construct) that remembers which unique keys were
 * added, so that background batches of `addRequestsBatched` do not submit a request twice. A slot
 * collision only means a request is submitted again, which the storage deduplicates (Crawlee's own
 * comment on the class). This crawler's queues hold requests of many units each and images, tens of
 * thousands at most, so 65,536 slots keep collisions rare. Measured on 3,600 segments with Node 24.21
 * (three alternated pairs): the actor's peak RSS was 292-311 MB with Crawlee's cache and 235-245 MB
 * with this one, its peak V8 heap 115-122 MB against 73-77 MB, and the run took as long.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { RequestQueue } from '@crawlee/core';

/** Slots of a queue's dedup cache (a power of two is no requirement: Crawlee takes the hash modulo). */
export const DEDUP_SLOTS = 65_536;

interface DedupCache {
    size: number;
}

type DedupCacheClass = new (size?: number) => DedupCache;

/**
 * Makes Crawlee construct every queue's dedup cache with `slots`, so that its 1,000,000-slot arrays are
 * never allocated: measured with Node 24.21, `new RequestDeduplicationCache()` took 45-75 ms of the main
 * thread each time, and a local run constructs two queues (the download queue opened to be purged, then
 * again) before its first request, three with pages. Crawlee's RequestProvider constructor reads the class
 * from its module's exports at each construction, so a subclass put there is what every queue gets, the
 * ones Crawlee opens itself too. That module is not among @crawlee/core's public exports: it is loaded by
 * its file path. Returns whether it is installed; a Crawlee that moved it leaves the memory half to
 * `resizeDedupCache` (test/unit/queues.test.ts fails then, so an upgrade cannot lose it silently).
 */
export function installDedupSlots(slots = DEDUP_SLOTS): boolean {
    try {
        const require = createRequire(import.meta.url);
        const file = path.join(path.dirname(require.resolve('@crawlee/core')), 'storages', 'request_dedup_cache.js');
        const cacheModule = require(file) as { RequestDeduplicationCache?: DedupCacheClass & { sizedSlots?: number } };
        const Base = cacheModule.RequestDeduplicationCache;
        if (typeof Base !== 'function') return false;
        // Installed before (the class put there says so): not wrapped twice.
        if (Base.sizedSlots !== undefined) return true;
        cacheModule.RequestDeduplicationCache = class extends Base {
            static override readonly sizedSlots = slots;
            constructor(size = slots) {
                super(Math.min(size, slots));
            }
        };
        return true;
    } catch {
        return false;
    }
}

installDedupSlots();

/**
 * Replaces a queue's dedup cache by an empty one of `slots` of the same class, before anything is added
 * through it: the fallback for a Crawlee where `installDedupSlots` found no module. Returns whether it did:
 * a queue without the field (or with a cache no larger) is left as it is.
 */
export function resizeDedupCache(queue: RequestQueue, slots = DEDUP_SLOTS): boolean {
    const holder = queue as unknown as { requestSeenCache?: DedupCache };
    const cache = holder.requestSeenCache;
    if (!cache || typeof cache.size !== 'number' || cache.size <= slots) return false;
    const Cache = cache.constructor as new (size: number) => DedupCache;
    holder.requestSeenCache = new Cache(slots);
    return true;
}

/** `RequestQueue.open(name)`, with the dedup cache resized (once per queue object: the open is cached). */
export async function openQueue(name?: string | null): Promise<RequestQueue> {
    const queue = await RequestQueue.open(name);
    resizeDedupCache(queue);
    return queue;
}
