/**
 * Local workers share the coordinator's storage through their IPC channel.
 *
 * Crawlee's local storage (`@crawlee/memory-storage`) keeps a queue's entries in the memory of the
 * process that opened it: requests another process adds later are never seen (its `listAndLockHead`
 * walks the cached entries only), and two processes pushing to one dataset overwrite each other's
 * numbered item files. So one process, the coordinator, holds the storage; each worker's Crawlee is
 * given a `StorageClient` whose every call (open a queue, lock its head, push items, read a record)
 * runs there. Queue semantics, request locking included, stay Crawlee's own; only the transport is ours.
 * Records travel whole (v8 serialization keeps Buffers); stored media files do not come this way: they
 * are moved into the store's folder on disk (output.ts).
 */
import type { ChildProcess } from 'node:child_process';
import type { StorageClient } from '@crawlee/types';

type Collection = 'datasets' | 'dataset' | 'keyValueStores' | 'keyValueStore' | 'requestQueues' | 'requestQueue';

interface StorageCall {
    kind: 'storage';
    id: number;
    collection: Collection;
    ctorArgs: unknown[];
    method: string;
    args: unknown[];
}

interface StorageReply {
    kind: 'storage-reply';
    id: number;
    result?: unknown;
    error?: { message: string; name: string };
}

const isCall = (m: unknown): m is StorageCall => (m as StorageCall | undefined)?.kind === 'storage';
const isReply = (m: unknown): m is StorageReply => (m as StorageReply | undefined)?.kind === 'storage-reply';

/** A value as JSON gives it (what a storage keeps of a request). */
const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value)) as unknown;

/** Worker side: a storage client whose calls run in the parent process. */
export function storageOverIpc(channel: NodeJS.Process = process): StorageClient {
    let next = 0;
    const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
    channel.on('message', (m: unknown) => {
        if (!isReply(m)) return;
        const w = waiting.get(m.id);
        waiting.delete(m.id);
        if (!m.error) return w?.resolve(m.result);
        const error = new Error(m.error.message);
        error.name = m.error.name;
        w?.reject(error);
    });
    channel.on('disconnect', () => {
        for (const w of waiting.values()) w.reject(new Error('the coordinator process is gone'));
        waiting.clear();
    });
    const call = (collection: Collection, ctorArgs: unknown[], method: string, args: unknown[]) =>
        new Promise<unknown>((resolve, reject) => {
            const id = ++next;
            waiting.set(id, { resolve, reject });
            // A Request keeps `skipNavigation` in a non-enumerable `userData.__crawlee` that only its toJSON
            // writes out; the IPC channel's structured clone dropped it, so the download crawler navigated to
            // every queued image and segment itself (generated headers, no credentials hook), then fetched it again.
            const sent = collection === 'requestQueue' ? args.map((a) => (a === undefined ? a : asJson(a))) : args;
            const message: StorageCall = { kind: 'storage', id, collection, ctorArgs, method, args: sent };
            channel.send!(message, undefined, undefined, (error) => {
                if (!error) return;
                waiting.delete(id);
                reject(error);
            });
        });
    // Every storage method is async and takes plain data: one forwarding proxy serves all six clients.
    const client = (collection: Collection, ...ctorArgs: unknown[]) =>
        new Proxy(
            {},
            {
                // A member set on the client (run/page-queue.ts wraps `listAndLockHead`) wins over forwarding.
                get: (target: Record<string | symbol, unknown>, method) =>
                    method in target
                        ? target[method]
                        : typeof method === 'string' && method !== 'then'
                          ? (...args: unknown[]) => call(collection, ctorArgs, method, args)
                          : undefined,
            },
        ) as never;
    return {
        datasets: () => client('datasets'),
        dataset: (id) => client('dataset', id),
        keyValueStores: () => client('keyValueStores'),
        keyValueStore: (id) => client('keyValueStore', id),
        requestQueues: () => client('requestQueues'),
        requestQueue: (id, options) => client('requestQueue', id, options),
        // The coordinator purged the run's storages once, before the first worker started.
        purge: async () => undefined,
        teardown: async () => undefined,
    };
}

/**
 * Which requests each worker holds locked, so a worker that dies (a crash, `kill -9`) gives its pages
 * and downloads back at once instead of after the lock's minute or more: local storage knows no lock
 * owners, the platform does (`clientKey`) and there locks simply expire.
 */
export class LockBook {
    private readonly held = new Map<string, Set<string>>();

    private key = (worker: number, queue: string): string => `${worker}\u0000${queue}`;

    /** Records what a call did to the locks a worker holds. */
    note(
        worker: number,
        call: Pick<StorageCall, 'collection' | 'ctorArgs' | 'method' | 'args'>,
        result: unknown,
    ): void {
        if (call.collection !== 'requestQueue') return;
        const k = this.key(worker, String(call.ctorArgs[0]));
        const set = this.held.get(k) ?? new Set<string>();
        this.held.set(k, set);
        if (call.method === 'listAndLockHead') {
            for (const item of (result as { items?: { id: string }[] } | undefined)?.items ?? []) set.add(item.id);
        } else if (call.method === 'deleteRequestLock' || call.method === 'deleteRequest') {
            set.delete(String(call.args[0]));
        } else if (call.method === 'updateRequest') {
            const request = call.args[0] as { id?: string; handledAt?: unknown };
            if (request?.id && request.handledAt) set.delete(request.id);
        }
    }

    /** Takes the worker's locks out of the book: [queue id, request id] pairs. */
    release(worker: number): [string, string][] {
        const out: [string, string][] = [];
        for (const [k, ids] of this.held) {
            const [w, queue] = k.split('\u0000') as [string, string];
            if (Number(w) !== worker) continue;
            for (const id of ids) out.push([queue, id]);
            this.held.delete(k);
        }
        return out;
    }
}

/**
 * Adds to one queue, one at a time, and storages created one at a time. Local storage checks a unique
 * key, then writes the request file, then records it: two adds of one key from two workers both found
 * it absent (a unit test caught two workers both winning one claim). The platform answers atomically.
 */
const addsInTurn = new Map<string, Promise<unknown>>();
const ADDS = new Set(['addRequest', 'batchAddRequests']);

function inTurn<T>(call: StorageCall, run: () => Promise<T>): Promise<T> {
    // Creating a storage by name is check-then-create too: two workers opening `claims-local` at once
    // made two queues of that name, and each worker's claims were its own (a video stored twice).
    const creates = call.method === 'getOrCreate';
    if (!creates && (call.collection !== 'requestQueue' || !ADDS.has(call.method))) return run();
    const queue = creates ? `create:${call.collection}` : String(call.ctorArgs[0]);
    const result = (addsInTurn.get(queue) ?? Promise.resolve()).then(run, run);
    addsInTurn.set(
        queue,
        result.catch(() => undefined),
    );
    return result;
}

const READS = new Set(['get', 'getRequest', 'listHead', 'listAndLockHead']);

/**
 * Request-queue calls by queue kind: on the platform each is an API call, and queue reads and writes
 * are what a crawl is billed for, so the benchmark reads them here (the same Crawlee code makes the
 * same calls there). A queue is known by name once it was opened.
 */
export class QueueCalls {
    private readonly names = new Map<string, string>();
    readonly counts = new Map<string, { reads: number; writes: number }>();

    /** pages (the default queue), claims, downloads. Pure. */
    static kind(name: string): string {
        if (name.startsWith('claims')) return 'claims';
        if (name.startsWith('downloads')) return 'downloads';
        return 'pages';
    }

    note(call: Pick<StorageCall, 'collection' | 'ctorArgs' | 'method' | 'args'>, result: unknown): void {
        const info = result as { id?: string; name?: string } | undefined;
        if (call.collection === 'requestQueues' && info?.id) this.names.set(info.id, info.name ?? 'default');
        if (call.collection !== 'requestQueue') return;
        const id = String(call.ctorArgs[0]);
        if (call.method === 'get' && info?.id) this.names.set(info.id, info.name ?? id);
        const kind = QueueCalls.kind(this.names.get(id) ?? id);
        const count = this.counts.get(kind) ?? { reads: 0, writes: 0 };
        this.counts.set(kind, count);
        // A batch add is billed per request, like that many single adds.
        const n = call.method === 'batchAddRequests' ? ((call.args[0] as unknown[] | undefined)?.length ?? 1) : 1;
        if (READS.has(call.method)) count.reads += n;
        else count.writes += n;
    }
}

/** Coordinator side: runs a worker's storage calls on `storage`, noting its locks in `locks`. */
export function serveStorage(
    child: ChildProcess,
    worker: number,
    storage: StorageClient,
    locks: LockBook,
    calls?: QueueCalls,
): void {
    child.on('message', (m: unknown) => {
        if (!isCall(m)) return;
        void inTurn(m, async () => {
            let reply: StorageReply;
            try {
                const target = (storage[m.collection] as unknown as (...a: unknown[]) => Record<string, unknown>).apply(
                    storage,
                    m.ctorArgs,
                );
                const method = target[m.method];
                if (typeof method !== 'function') throw new Error(`storage client has no method ${m.method}`);
                const result: unknown = await (method as (...a: unknown[]) => unknown).apply(target, m.args);
                calls?.note(m, result);
                // A lock taken for a worker that died while the call ran would be noted after its locks
                // were given back, under an index its restart reuses: give it back here instead (seen as
                // a resumed video whose requests stayed locked and a run that never ended).
                if ((child.exitCode ?? null) !== null || (child.signalCode ?? null) !== null) {
                    for (const item of (result as { items?: { id: string }[] } | undefined)?.items ?? []) {
                        if (m.method === 'listAndLockHead')
                            await (target.deleteRequestLock as (id: string) => Promise<void>)
                                .call(target, item.id)
                                .catch(() => undefined);
                    }
                } else locks.note(worker, m, result);
                reply = { kind: 'storage-reply', id: m.id, result };
            } catch (error) {
                const e = error as Error;
                reply = { kind: 'storage-reply', id: m.id, error: { message: e.message, name: e.name } };
            }
            if (child.connected) child.send(reply, (error) => error && undefined);
        });
    });
}

/** Gives back every lock a dead worker held. */
export async function releaseLocksOf(worker: number, storage: StorageClient, locks: LockBook): Promise<number> {
    let released = 0;
    for (const [queue, id] of locks.release(worker)) {
        await storage
            .requestQueue(queue)
            .deleteRequestLock(id)
            .then(() => released++)
            .catch(() => undefined); // handled meanwhile, or its lock already expired
    }
    return released;
}
