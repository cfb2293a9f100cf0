/**
 * Where this run keeps things. All resumable state lives in Crawlee storages named after the run, so
 * a restarted or migrated run finds it; the work folder only holds segment bytes, which a resumed
 * run re-checks instead of trusting.
 */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
// The download queue is Crawlee's default (v2, locking) queue. Locally its storage hands out 25
// locked requests per refill, slowly under load, so queued requests carry runs of segments
// (download/segment-task.ts). The v1 queue was tried and left: with 3,600 segments it kept requests
// it had already seen handled "in progress", and the crawl idled for minutes before it could end.
import { KeyValueStore, log, RequestQueue } from '@crawlee/core';
import { workerRole } from './role.js';
import { openQueue } from './queues.js';

export function storageDir(): string {
    return path.resolve(process.env.CRAWLEE_STORAGE_DIR ?? './storage');
}

/** The run's scope: the platform run id, or `local`, which a purge-on-start run clears. */
export function runScope(): string {
    return (process.env.ACTOR_RUN_ID ?? process.env.APIFY_ACTOR_RUN_ID ?? 'local')
        .toLowerCase()
        .replace(/[^a-z0-9-]/g, '-');
}

/** What this process's own storages are named after: its worker's scope, else the run's. */
export const ownScope = (): string => workerRole()?.scope ?? runScope();

/** Whether this process's own storages are local ones that a purge-on-start run clears. */
const localScope = (scope: string): boolean => scope === 'local' || scope.startsWith('local-w');

export function purgeOnStart(): boolean {
    const v = (process.env.CRAWLEE_PURGE_ON_START ?? process.env.APIFY_PURGE_ON_START ?? '').toLowerCase();
    return !(v === '0' || v === 'false');
}

export const workRoot = (): string => path.join(storageDir(), 'work', ownScope());
export const defaultKvDir = (): string => path.join(storageDir(), 'key_value_stores', 'default');

/**
 * A killed local run leaves its in-progress requests locked for the handler timeout (minutes); the
 * same command started again would wait that long. Locally no other process shares the storage, so
 * a resumed run releases every lock. (Crawlee's local storage keeps a queue as `<id>.json` files.)
 */
export async function releaseLocks(queue: RequestQueue, name: string): Promise<number> {
    const files = await readdir(path.join(storageDir(), 'request_queues', name)).catch(() => [] as string[]);
    let released = 0;
    for (const f of files) {
        if (!f.endsWith('.json') || f.startsWith('__')) continue;
        await queue.client
            .deleteRequestLock(f.slice(0, -5))
            .then(() => released++)
            .catch(() => undefined); // not locked, or not a request
    }
    return released;
}

/** Gives back every lock in a queue this process alone uses, by its head (locked requests included locally). */
async function releaseHeadLocks(queue: RequestQueue): Promise<number> {
    let released = 0;
    const { items } = await queue.client.listHead({ limit: 100_000 });
    for (const item of items) {
        await queue.client
            .deleteRequestLock(item.id!)
            .then(() => released++)
            .catch(() => undefined); // not locked
    }
    return released;
}

export interface RunStorages {
    downloads: RequestQueue;
    state: KeyValueStore;
}

/** The names of the run's own storages; on the platform they would outlive the run unless dropped. */
export const runStorageNames = (scope = ownScope()): { downloads: string; state: string } => ({
    downloads: `downloads-${scope}`,
    state: `state-${scope}`,
});

/** The storages this process opened: a run that stops early or fails drops them without a handle. */
let opened: RunStorages | undefined;
const dropped = new WeakSet<RunStorages>();

/**
 * Opens the run's named download queue and state store. Locally, unless purging is switched off,
 * leftovers of an earlier run are dropped first (named storages are not purged by Crawlee).
 */
export async function openRunStorages(): Promise<RunStorages> {
    const scope = ownScope();
    const names = runStorageNames(scope);
    const role = workerRole();
    // A worker is told whether it starts afresh or resumes (workers/local.ts); its locks are the coordinator's to release.
    const purge = role ? !role.resumed : purgeOnStart();
    if (localScope(scope) && purge) {
        await (await openQueue(names.downloads)).drop();
        await (await KeyValueStore.open(names.state)).drop();
        await rm(workRoot(), { recursive: true, force: true });
    }
    const downloads = await openQueue(names.downloads);
    if (localScope(scope) && !purge && !role) {
        await releaseLocks(downloads, names.downloads);
        await releaseLocks(await openQueue(), 'default');
    }
    // A restarted local worker is the only user of its download queue: whatever its dead self held is free.
    if (localScope(scope) && role?.resumed) await releaseHeadLocks(downloads);
    opened = { downloads, state: await KeyValueStore.open(names.state) };
    return opened;
}

/**
 * Before a migration: gives back every request this process holds. A download request stays locked for
 * the handler timeout plus 5 s (305 s, crawlee basic-crawler.js `requestLockSecs`) under this process's
 * client key, which the resumed run does not have: without this it would wait five minutes for them.
 * The platform stops this process before it starts the resumed one, so no request is worked on twice.
 */
export async function releaseLocksForMigration(): Promise<void> {
    const pages = workerRole()?.shared.pageQueue;
    const queues = [opened?.downloads, await openQueue(pages)];
    for (const queue of queues) {
        // apify-client's RequestQueueClient has it (POST requests/unlock); local storage has no lock owners.
        const client = queue?.client as { unlockRequests?: () => Promise<unknown> } | undefined;
        await client?.unlockRequests?.();
    }
}

async function openByName(): Promise<RunStorages> {
    const names = runStorageNames();
    return { downloads: await openQueue(names.downloads), state: await KeyValueStore.open(names.state) };
}

/**
 * Named storages outlive the run on the platform (and cost storage there): drop them once everything is
 * delivered, and when the run stops early or fails. Never while migrating: the resumed run needs them.
 * Dropping twice is harmless; with no argument it drops the run's storages by name.
 */
export async function dropRunStorages(storages?: RunStorages): Promise<void> {
    // A run that fails before it opened them may still have them from before a migration.
    storages ??= opened ?? (await openByName());
    if (!dropped.has(storages)) {
        dropped.add(storages);
        await Promise.all([storages.downloads.drop(), storages.state.drop()]);
    }
    // After an abort a unit fetch still ending may write into a video's folder while it is removed: rm
    // then fails with ENOTEMPTY (seen in CI: "The crawl could not run"). Node's rm retries that case;
    // a work folder that still cannot be removed is only left over, never a reason to fail the run.
    await rm(workRoot(), { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }).catch((error: Error) =>
        log.warning(`The work folder ${workRoot()} was not removed: ${error.message}`),
    );
}
