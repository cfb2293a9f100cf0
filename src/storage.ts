/**
 * Where this run keeps things. All resumable state lives in Crawlee storages named after the run, so
 * a restarted or migrated run finds it; the work folder only holds segment bytes, which a resumed
 * run re-checks instead of trusting.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
// The download queue is the v1 queue: segment work belongs to the run that found the video, so it
// needs no cross-run request locking, and v2's locking head (25 requests per refill, each lock a
// write) held local downloads to about 25 in parallel where v1 reached 54 (300 segments, 100 ms TTFB).
import { KeyValueStore, LogLevel, RequestQueueV1 } from '@crawlee/core';

export function storageDir(): string {
    return path.resolve(process.env.CRAWLEE_STORAGE_DIR ?? './storage');
}

/** The run's scope: the platform run id, or `local`, which a purge-on-start run clears. */
export function runScope(): string {
    return (process.env.ACTOR_RUN_ID ?? process.env.APIFY_ACTOR_RUN_ID ?? 'local').toLowerCase().replace(/[^a-z0-9-]/g, '-');
}

export function purgeOnStart(): boolean {
    const v = (process.env.CRAWLEE_PURGE_ON_START ?? process.env.APIFY_PURGE_ON_START ?? '').toLowerCase();
    return !(v === '0' || v === 'false');
}

export const workRoot = (): string => path.join(storageDir(), 'work', runScope());
export const defaultKvDir = (): string => path.join(storageDir(), 'key_value_stores', 'default');

export interface RunStorages {
    downloads: RequestQueueV1;
    state: KeyValueStore;
}

/**
 * Opens the run's named download queue and state store. Locally, unless purging is switched off,
 * leftovers of an earlier run are dropped first (named storages are not purged by Crawlee).
 */
export async function openRunStorages(): Promise<RunStorages> {
    const scope = runScope();
    if (scope === 'local' && purgeOnStart()) {
        await (await RequestQueueV1.open(`downloads-${scope}`)).drop();
        await (await KeyValueStore.open(`state-${scope}`)).drop();
        await rm(workRoot(), { recursive: true, force: true });
    }
    const downloads = await RequestQueueV1.open(`downloads-${scope}`);
    // At high concurrency v1 warns "Queue head returned a request that is already in progress" and
    // skips it: harmless, but a warning per segment would bury the ones people must read.
    downloads.log.setLevel(LogLevel.ERROR);
    return { downloads, state: await KeyValueStore.open(`state-${scope}`) };
}

/** Named storages outlive the run on the platform: drop them once everything is delivered. */
export async function dropRunStorages(storages: RunStorages): Promise<void> {
    await storages.downloads.drop();
    await storages.state.drop();
    await rm(workRoot(), { recursive: true, force: true });
}
