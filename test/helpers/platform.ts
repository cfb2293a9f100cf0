/**
 * The Apify platform as the actor sees it, on loopback: the API the SDK and Crawlee call (storages, the
 * run's status message, reboot) and the events websocket (`aborting`, `migrating`, `systemInfo`).
 *
 * The cheapest faithful way found: Apify's own SDK tests mock the API client in-process and feed events
 * from a local websocket server (apify-sdk-python tests/unit/events: `_platform_ws_server`); an actor in a
 * child process cannot be mocked that way. So the real `apify-client` in the actor talks HTTP to this
 * server, and every storage call lands in Crawlee's own `MemoryStorage` (the same code a local run uses,
 * request locking included). Only the thin REST layer below is fake: the routes and response shapes of
 * apify-client 2.25 (`{ data }` bodies, `x-apify-pagination-*` headers, `record-not-found` errors), and the
 * one platform rule memory storage lacks, lock owners (`clientKey`) for `requests/unlock`.
 *
 * Runs of the actor (`Actor.start`, what a coordinator of platform workers does) are started the way the
 * platform does: a new run id with its own default storages and INPUT record, then its container, which is
 * whatever `startRun` spawns (the real actor, with the run's env); the run's status follows the process
 * (`waitForFinish`), `abort` sends it `aborting` or kills it, and its default storages are reachable under
 * `actor-runs/:id/key-value-store` and `…/dataset`, as apify-client's `run(id).keyValueStore()` asks.
 *
 * Each run gets its own token, scoped as the platform scopes an actor's run under its default "limited
 * permissions" (docs.apify.com/platform/actors/development/permissions): its own default storages, named
 * storages (created by runs of this one actor), the default storages of runs it started (read only), and
 * storages given in its input through fields that the actor's input schema declares with `resourceType`
 * (written only with `resourcePermissions` WRITE). Anything else answers 403 `insufficient-permissions`
 * and is recorded in `refused`; `permissionLevel: 'FULL_PERMISSIONS'` lifts that. With `accountMemoryMbytes`
 * a start that would take the account's runs past it answers as the API does: 402
 * `actor-memory-limit-exceeded`, "By launching this job you will exceed the memory limit of …".
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { MemoryStorage } from '@crawlee/memory-storage';

// `ws` (the SDK's own websocket library) ships no types and @types/ws is not installed: the little used here.
interface WebSocket {
    send(data: string): void;
    terminate(): void;
    on(event: 'close', listener: () => void): void;
}
interface WebSocketServer {
    on(event: 'connection', listener: (ws: WebSocket, req: IncomingMessage) => void): void;
    close(): void;
}
const { WebSocketServer } = createRequire(import.meta.url)('ws') as {
    WebSocketServer: new (options: { server: Server; path: string }) => WebSocketServer;
};

export interface StatusMessage {
    runId: string;
    message: string;
    terminal: boolean;
    at: number;
}

export type RunStatus = 'READY' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTING' | 'ABORTED' | 'TIMED-OUT';

/** A run started through the API (`POST acts/:actorId/runs`), as the platform sees it. */
export interface StartedRun {
    id: string;
    actorId: string;
    /** The input as sent (parsed JSON when it was JSON). */
    input: unknown;
    /** The start's query parameters, as sent: build tag or number, memory (MB), timeout (s). */
    build?: string;
    memory?: number;
    timeout?: number;
    startedAt: Date;
    finishedAt?: Date;
    status: RunStatus;
    exitCode?: number | null;
    /** The env the run's container got. */
    env: Record<string, string>;
    /** Its container; undefined while `startRun` is still spawning it. */
    child?: ChildProcess;
    /** Aborts asked for: `gracefully` or not. */
    aborts: boolean[];
}

/** Starts a run's container: the actor with `env` (which names the run's default storages and API). */
export type StartRun = (run: {
    id: string;
    input: unknown;
    env: Record<string, string>;
}) => ChildProcess | Promise<ChildProcess>;

export interface FakePlatform {
    apiUrl: string;
    /** The id of the one actor on this platform (`ACTOR_ID`); starts of another actor answer 404. */
    actorId: string;
    /** How a run started through the API gets its container; without it such a start answers 400. */
    startRun?: StartRun;
    /** Runs started through the API, in the order they were started. */
    startedRuns: StartedRun[];
    /** Every `GET actor-runs/:id?waitForFinish=…`: the run waited for, the seconds asked, when it came. */
    waits: { runId: string; secs: number; at: number }[];
    storage: MemoryStorage;
    statusMessages: StatusMessage[];
    /** Run ids, once per `POST actor-runs/:id/reboot`. */
    reboots: string[];
    /** Every record PUT: key, content type, bytes received, and the status answered. */
    uploads: { key: string; contentType: string; bytes: number; status: number }[];
    /** Answer 503 to the first upload whose content type matches, after its first chunk (a CDN hiccup). */
    failFirstUploadOf?: RegExp;
    /** The actor's permission level: its runs' tokens are scoped (the platform's default) or not. */
    permissionLevel: 'LIMITED_PERMISSIONS' | 'FULL_PERMISSIONS';
    /** Storage calls a run's token was refused (403): the run, the method and path. */
    refused: { runId: string; method: string; path: string }[];
    /** The account's memory limit for all its runs at once (MB); none when unset. */
    accountMemoryMbytes?: number;
    /** Env of a run on this platform: default storages named after the run, events socket, API, actor, build. */
    env(runId: string): Record<string, string>;
    /** Creates the run's default key-value store with its INPUT record. */
    createRun(runId: string, input: unknown): Promise<void>;
    /** Sends a platform event to every connected actor, or to run `runId`'s connections only. */
    send(name: string, data?: unknown, runId?: string): void;
    /** Open events connections, of every run or of run `runId`. */
    connections(runId?: string): number;
    /** Resolves once run `runId` (started through the API) has finished, with its final state. */
    finished(runId: string): Promise<StartedRun>;
    /** Names of the named storages that exist, per kind. */
    storageNames(): Promise<{ queues: string[]; stores: string[]; datasets: string[] }>;
    close(): Promise<void>;
}

type Query = URLSearchParams;
const num = (q: Query, name: string): number | undefined => (q.has(name) ? Number(q.get(name)) : undefined);
const bool = (q: Query, name: string): boolean | undefined =>
    q.has(name) ? q.get(name) === 'true' || q.get(name) === '1' : undefined;

async function body(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    // apify-client compresses bodies of 1 KB and more (brotli in 2.25, gzip before).
    const encoding = req.headers['content-encoding'];
    return encoding === 'br' ? brotliDecompressSync(raw) : encoding === 'gzip' ? gunzipSync(raw) : raw;
}

/** A wait that does not keep the process alive: a held `waitForFinish` must not outlive the test. */
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

const json = async (req: IncomingMessage): Promise<unknown> => JSON.parse((await body(req)).toString('utf8'));

function send(res: ServerResponse, status: number, data?: unknown, headers: Record<string, string> = {}): void {
    if (data === undefined) return void res.writeHead(status, headers).end();
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(data));
}

const notFound = (res: ServerResponse, what: string): void =>
    send(res, 404, { error: { type: 'record-not-found', message: `${what} was not found` } });

/** The actor every run on this platform is a run of, its build and the memory a run gets by default. */
const ACTOR_ID = 'fAkEaCtOr0000001';
const BUILD_NUMBER = '0.1.7';
const MEMORY_MBYTES = 4096;
/** The API holds a `waitForFinish` request at most this long. */
const MAX_WAIT_SECS = 60;
/** After a graceful abort the platform stops the container this long after `aborting`. */
const ABORT_GRACE_MS = 30_000;
const TERMINAL = new Set<RunStatus>(['SUCCEEDED', 'FAILED', 'ABORTED', 'TIMED-OUT']);

type StorageKind = 'dataset' | 'keyValueStore' | 'requestQueue';

/** The actor's input fields that name storages (`resourceType`), as the platform reads its input schema. */
const RESOURCE_FIELDS = Object.entries(
    (
        JSON.parse(readFileSync(path.join(import.meta.dirname, '..', '..', '.actor', 'input_schema.json'), 'utf8')) as {
            properties: Record<string, { resourceType?: StorageKind; resourcePermissions?: string[] }>;
        }
    ).properties,
).filter(([, p]) => p.resourceType);

const TOKEN_PREFIX = 'fake-token-of-';

/** A run id as the platform makes them: 17 letters and digits, both cases. */
function newRunId(): string {
    const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    return [...randomBytes(17)].map((b) => chars[b % chars.length]).join('');
}

export async function startFakePlatform(): Promise<FakePlatform> {
    const storage = new MemoryStorage({ persistStorage: false, writeMetadata: false });
    const statusMessages: StatusMessage[] = [];
    const uploads: FakePlatform['uploads'] = [];
    const failed = new Set<string>();
    // clientKey → queue id → request ids it locked (the platform unlocks by owner; memory storage has none).
    const locks = new Map<string, Map<string, Set<string>>>();
    const lockedBy = (clientKey: string, queueId: string): Set<string> => {
        const byQueue = locks.get(clientKey) ?? new Map<string, Set<string>>();
        locks.set(clientKey, byQueue);
        const ids = byQueue.get(queueId) ?? new Set<string>();
        byQueue.set(queueId, ids);
        return ids;
    };
    // Whose default storage a storage is (by its name here: `kvs-<run>`, `ds-<run>`, `rq-<run>`), each run's
    // input, which run started which, and the runs started from outside (a test's coordinator).
    const defaultOwner = new Map<string, string>();
    const inputs = new Map<string, unknown>();
    const startedBy = new Map<string, string>();
    const createdRuns = new Set<string>();
    const runs = new Map<string, { id: string; statusMessage?: string; terminal?: boolean }>();
    const started = new Map<string, StartedRun>();
    const exits = new Map<string, Promise<void>>();
    const platformStartedAt = new Date();
    const platform: FakePlatform = {
        apiUrl: '',
        actorId: ACTOR_ID,
        startedRuns: [],
        waits: [],
        finished: async () => Promise.reject(new Error('not started')),
        storage,
        statusMessages,
        reboots: [],
        uploads,
        permissionLevel: 'LIMITED_PERMISSIONS',
        refused: [],
        env: () => ({}),
        createRun: async () => undefined,
        send: () => undefined,
        connections: () => 0,
        storageNames: async () => ({ queues: [], stores: [], datasets: [] }),
        close: async () => undefined,
    };

    const runOfToken = (req: IncomingMessage): string | undefined => {
        const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
        return token?.startsWith(TOKEN_PREFIX) ? token.slice(TOKEN_PREFIX.length) : undefined;
    };

    /** Whether the request's run may use this storage (limited permissions); see the header. */
    function permitted(req: IncomingMessage, kind: StorageKind, info: { id: string; name?: string }): boolean {
        const runId = runOfToken(req);
        if (platform.permissionLevel === 'FULL_PERMISSIONS' || runId === undefined) return true;
        const owner = info.name ? defaultOwner.get(info.name) : undefined;
        // A named storage: runs of the actor that created it keep access to it.
        if (owner === undefined || owner === runId) return true;
        const write = req.method !== 'GET' && req.method !== 'HEAD';
        if (!write && startedBy.get(owner) === runId) return true;
        const input = (inputs.get(runId) ?? {}) as Record<string, unknown>;
        return RESOURCE_FIELDS.some(([field, p]) => {
            if (p.resourceType !== kind) return false;
            const given = ([] as unknown[]).concat(input[field] ?? []);
            const named = given.includes(info.id) || (info.name !== undefined && given.includes(info.name));
            return named && (!write || (p.resourcePermissions ?? []).includes('WRITE'));
        });
    }

    /** Answers 403 as the API does when the run's token may not use the storage; true when it did. */
    async function refuse(
        req: IncomingMessage,
        res: ServerResponse,
        kind: StorageKind,
        info: { id: string; name?: string } | undefined,
    ): Promise<boolean> {
        if (!info || permitted(req, kind, info)) return false;
        platform.refused.push({ runId: runOfToken(req)!, method: req.method!, path: req.url! });
        const what = { dataset: 'dataset', keyValueStore: 'key-value store', requestQueue: 'request queue' }[kind];
        send(res, 403, {
            error: {
                type: 'insufficient-permissions',
                message: `Insufficient permissions for the ${what}. Make sure you're passing a correct API token and that it has the required permissions.`,
            },
        });
        return true;
    }

    async function keyValueStores(req: IncomingMessage, res: ServerResponse, parts: string[], q: Query): Promise<void> {
        const [id, sub, key] = parts;
        if (!id) {
            if (req.method === 'POST')
                return send(res, 201, {
                    data: await storage.keyValueStores().getOrCreate(q.get('name') ?? `unnamed-${Date.now()}`),
                });
            return send(res, 200, { data: await storage.keyValueStores().list() });
        }
        const store = storage.keyValueStore(id);
        if (await refuse(req, res, 'keyValueStore', await store.get())) return;
        if (!sub) {
            if (req.method === 'DELETE') return void (await store.delete(), send(res, 204));
            const info = await store.get();
            return info ? send(res, 200, { data: info }) : notFound(res, `Key-value store ${id}`);
        }
        if (sub === 'keys') {
            const list = await store.listKeys({
                limit: num(q, 'limit'),
                exclusiveStartKey: q.get('exclusiveStartKey') ?? undefined,
            });
            return send(res, 200, { data: list });
        }
        if (sub !== 'records' || !key) return notFound(res, req.url!);
        const recordKey = decodeURIComponent(key);
        if (req.method === 'HEAD') return send(res, (await store.recordExists(recordKey)) ? 200 : 404);
        if (req.method === 'GET') {
            const record = await store.getRecord(recordKey, { buffer: true });
            if (!record) return notFound(res, `Record ${recordKey}`);
            return void res
                .writeHead(200, { 'content-type': record.contentType ?? 'application/octet-stream' })
                .end(record.value as Buffer);
        }
        if (req.method === 'DELETE') return void (await store.deleteRecord(recordKey), send(res, 204));
        if (req.method === 'PUT' || req.method === 'POST') {
            const contentType = req.headers['content-type'] ?? 'application/octet-stream';
            if (platform.failFirstUploadOf?.test(contentType) && !failed.has(contentType)) {
                failed.add(contentType);
                // The first chunk arrives, then the API gives up: the client has sent part of a stream.
                for await (const chunk of req) {
                    uploads.push({ key: recordKey, contentType, bytes: (chunk as Buffer).length, status: 503 });
                    break;
                }
                res.writeHead(503, { 'content-type': 'application/json', connection: 'close' });
                return void res.end(
                    JSON.stringify({ error: { type: 'server-error', message: 'Service unavailable' } }),
                );
            }
            const value = await body(req);
            uploads.push({ key: recordKey, contentType, bytes: value.length, status: 201 });
            await store.setRecord({ key: recordKey, value, contentType });
            return send(res, 201);
        }
        return notFound(res, req.url!);
    }

    async function datasets(req: IncomingMessage, res: ServerResponse, parts: string[], q: Query): Promise<void> {
        const [id, sub] = parts;
        if (!id)
            return send(res, 201, {
                data: await storage.datasets().getOrCreate(q.get('name') ?? `unnamed-${Date.now()}`),
            });
        const dataset = storage.dataset(id);
        if (await refuse(req, res, 'dataset', await dataset.get())) return;
        if (!sub) {
            if (req.method === 'DELETE') return void (await dataset.delete(), send(res, 204));
            const info = await dataset.get();
            return info ? send(res, 200, { data: info }) : notFound(res, `Dataset ${id}`);
        }
        if (sub !== 'items') return notFound(res, req.url!);
        if (req.method === 'POST') return void (await dataset.pushItems((await json(req)) as object[]), send(res, 201));
        const page = await dataset.listItems({
            offset: num(q, 'offset'),
            limit: num(q, 'limit'),
            desc: bool(q, 'desc'),
        });
        return send(res, 200, page.items, {
            'x-apify-pagination-total': String(page.total),
            'x-apify-pagination-offset': String(page.offset),
            'x-apify-pagination-count': String(page.count),
            'x-apify-pagination-limit': String(page.limit),
            'x-apify-pagination-desc': String(page.desc ?? false),
        });
    }

    async function requestQueues(req: IncomingMessage, res: ServerResponse, parts: string[], q: Query): Promise<void> {
        const [id, sub, requestId, tail] = parts;
        if (!id)
            return send(res, 201, {
                data: await storage.requestQueues().getOrCreate(q.get('name') ?? `unnamed-${Date.now()}`),
            });
        const clientKey = q.get('clientKey') ?? '';
        const queue = storage.requestQueue(id, { clientKey });
        if (await refuse(req, res, 'requestQueue', await queue.get())) return;
        const forefront = bool(q, 'forefront');
        const m = req.method;
        if (!sub) {
            if (m === 'DELETE') return void (await queue.delete(), send(res, 204));
            const info = await queue.get();
            return info ? send(res, 200, { data: info }) : notFound(res, `Request queue ${id}`);
        }
        if (sub === 'head' && requestId === 'lock') {
            const head = await queue.listAndLockHead({ limit: num(q, 'limit') ?? 25, lockSecs: num(q, 'lockSecs')! });
            for (const r of head.items) lockedBy(clientKey, id).add(r.id!);
            return send(res, 201, { data: head });
        }
        if (sub === 'head') return send(res, 200, { data: await queue.listHead({ limit: num(q, 'limit') }) });
        if (sub !== 'requests') return notFound(res, req.url!);
        if (requestId === 'batch' && m === 'POST') {
            return send(res, 201, { data: await queue.batchAddRequests((await json(req)) as never[], { forefront }) });
        }
        if (requestId === 'unlock' && m === 'POST') {
            const ids = lockedBy(clientKey, id);
            let unlockedCount = 0;
            for (const rid of ids) {
                await queue.deleteRequestLock(rid).then(
                    () => unlockedCount++,
                    () => undefined,
                );
            }
            ids.clear();
            return send(res, 200, { data: { unlockedCount } });
        }
        if (!requestId) {
            if (m === 'POST')
                return send(res, 201, { data: await queue.addRequest((await json(req)) as never, { forefront }) });
            return notFound(res, req.url!);
        }
        if (tail === 'lock') {
            if (m === 'PUT') {
                const lockSecs = num(q, 'lockSecs')!;
                return send(res, 200, { data: await queue.prolongRequestLock(requestId, { lockSecs, forefront }) });
            }
            lockedBy(clientKey, id).delete(requestId);
            await queue.deleteRequestLock(requestId, { forefront }).catch(() => undefined);
            return send(res, 204);
        }
        if (m === 'GET') {
            const request = await queue.getRequest(requestId);
            return request ? send(res, 200, { data: request }) : notFound(res, `Request ${requestId}`);
        }
        if (m === 'PUT')
            return send(res, 200, { data: await queue.updateRequest((await json(req)) as never, { forefront }) });
        if (m === 'DELETE') return void (await queue.deleteRequest(requestId), send(res, 204));
        return notFound(res, req.url!);
    }

    /** The platform creates a run's default storages, and its INPUT record, before the container starts. */
    async function createDefaultStorages(runId: string, input: Buffer | undefined, contentType: string): Promise<void> {
        for (const name of [`kvs-${runId}`, `ds-${runId}`, `rq-${runId}`]) defaultOwner.set(name, runId);
        const kvs = await storage.keyValueStores().getOrCreate(`kvs-${runId}`);
        await storage.datasets().getOrCreate(`ds-${runId}`);
        await storage.requestQueues().getOrCreate(`rq-${runId}`);
        if (input) await storage.keyValueStore(kvs.id).setRecord({ key: 'INPUT', value: input, contentType });
    }

    /** A run as `GET actor-runs/:id` answers it (apify-client 2.25 reads `status`, the ids and `options`). */
    function runObject(id: string): Record<string, unknown> {
        const run = started.get(id);
        const own = runs.get(id);
        return {
            id,
            actId: run?.actorId ?? platform.actorId,
            userId: 'fAkEuSeR00000001',
            actorTaskId: null,
            startedAt: (run?.startedAt ?? platformStartedAt).toISOString(),
            finishedAt: run?.finishedAt?.toISOString() ?? null,
            status: run?.status ?? 'RUNNING',
            statusMessage: own?.statusMessage ?? null,
            isStatusMessageTerminal: own?.terminal ?? false,
            meta: { origin: run ? 'API' : 'DEVELOPMENT' },
            buildNumber: run?.env.ACTOR_BUILD_NUMBER ?? BUILD_NUMBER,
            exitCode: run?.exitCode ?? null,
            options: {
                build: run?.build ?? 'latest',
                timeoutSecs: run?.timeout ?? 0,
                memoryMbytes: run?.memory ?? MEMORY_MBYTES,
                diskMbytes: 2 * (run?.memory ?? MEMORY_MBYTES),
            },
            defaultKeyValueStoreId: `kvs-${id}`,
            defaultDatasetId: `ds-${id}`,
            defaultRequestQueueId: `rq-${id}`,
            pricingInfo: undefined,
            chargedEventCounts: {},
        };
    }

    /** Memory (MB) of the runs in progress: those started through the API, and the tests' runs while connected. */
    function memoryInUse(): number {
        let used = 0;
        for (const run of started.values()) if (!TERMINAL.has(run.status)) used += run.memory ?? MEMORY_MBYTES;
        for (const id of createdRuns) if (platform.connections(id) > 0) used += MEMORY_MBYTES;
        return used;
    }

    /** `POST acts/:actorId/runs` (apify-client 2.25 `actor(id).start()` posts to `actors/:actorId/runs`). */
    async function startRun(req: IncomingMessage, res: ServerResponse, actorId: string, q: Query): Promise<void> {
        if (actorId.replace('~', '/') !== platform.actorId) return notFound(res, `Actor ${actorId}`);
        if (!platform.startRun) {
            return send(res, 400, { error: { type: 'invalid-input', message: 'fake platform: no startRun given' } });
        }
        const raw = await body(req);
        const contentType = req.headers['content-type'] ?? 'application/json; charset=utf-8';
        const input: unknown = /json/.test(contentType) && raw.length ? JSON.parse(raw.toString('utf8')) : raw;
        const memory = num(q, 'memory');
        const limit = platform.accountMemoryMbytes;
        if (limit !== undefined) {
            const used = memoryInUse();
            const requested = memory ?? MEMORY_MBYTES;
            if (used + requested > limit) {
                return send(res, 402, {
                    error: {
                        type: 'actor-memory-limit-exceeded',
                        message: `By launching this job you will exceed the memory limit of ${limit}MB for all your Actor runs and builds (currently used: ${used}MB, requested: ${requested}MB). Please upgrade your plan or wait until some of your runs finish.`,
                    },
                });
            }
        }
        const id = newRunId();
        inputs.set(id, input);
        const parent = runOfToken(req);
        if (parent) startedBy.set(id, parent);
        await createDefaultStorages(id, raw.length ? raw : undefined, contentType);
        const build = q.get('build') ?? undefined;
        const timeout = num(q, 'timeout');
        const startedAt = new Date();
        const env: Record<string, string> = {
            ...platform.env(id),
            ...(build && /^\d+\.\d+\.\d+$/.test(build) ? { ACTOR_BUILD_NUMBER: build } : {}),
            ...(memory ? { ACTOR_MEMORY_MBYTES: String(memory) } : {}),
            ACTOR_STARTED_AT: startedAt.toISOString(),
            // Zero or none: no timeout.
            ...(timeout ? { ACTOR_TIMEOUT_AT: new Date(startedAt.getTime() + timeout * 1000).toISOString() } : {}),
        };
        const run: StartedRun = {
            id,
            actorId,
            input,
            build,
            memory,
            timeout,
            startedAt,
            status: 'RUNNING',
            env,
            aborts: [],
        };
        started.set(id, run);
        platform.startedRuns.push(run);
        let timedOut = false;
        let ended!: (code: number | null) => void;
        const exited = new Promise<void>((resolve) => {
            ended = (code) => {
                run.exitCode = code;
                run.finishedAt = new Date();
                const end = code === 0 ? 'SUCCEEDED' : 'FAILED';
                run.status = run.aborts.length ? 'ABORTED' : timedOut ? 'TIMED-OUT' : end;
                resolve();
            };
        });
        exits.set(id, exited);
        try {
            run.child = await platform.startRun({ id, input, env });
        } catch (error) {
            // The start was accepted; the run fails (a container that does not come up).
            console.error(`fake platform: run ${id} could not start: ${(error as Error).stack}`);
            ended(null);
            return send(res, 201, { data: runObject(id) });
        }
        const child = run.child;
        // setTimeout fires at once for more than 2^31 - 1 ms: a timeout that long is no timeout here.
        const killer =
            timeout && timeout * 1000 < 2 ** 31 - 1
                ? setTimeout(() => {
                      timedOut = true;
                      child.kill('SIGKILL');
                  }, timeout * 1000).unref()
                : undefined;
        const onExit = (code: number | null): void => {
            clearTimeout(killer);
            ended(code);
        };
        if (child.exitCode !== null || child.signalCode !== null) onExit(child.exitCode);
        else child.once('exit', onExit);
        const waitSecs = Math.min(num(q, 'waitForFinish') ?? 0, MAX_WAIT_SECS);
        if (waitSecs > 0) await Promise.race([exited, sleep(waitSecs * 1000)]);
        return send(res, 201, { data: runObject(id) });
    }

    async function actorRuns(req: IncomingMessage, res: ServerResponse, parts: string[], q: Query): Promise<void> {
        const [id, sub, ...rest] = parts;
        if (!id) return notFound(res, req.url!);
        const run = runs.get(id) ?? { id };
        runs.set(run.id, run);
        // The run's default storages (apify-client `run(id).keyValueStore()`, `.dataset()`, `.requestQueue()`).
        if (sub === 'key-value-store') return keyValueStores(req, res, [`kvs-${id}`, ...rest], q);
        if (sub === 'dataset') return datasets(req, res, [`ds-${id}`, ...rest], q);
        if (sub === 'request-queue') return requestQueues(req, res, [`rq-${id}`, ...rest], q);
        if (sub === 'reboot' && req.method === 'POST') {
            platform.reboots.push(run.id);
            return send(res, 200, { data: runObject(id) });
        }
        const startedRun = started.get(id);
        if (sub === 'abort' && req.method === 'POST') {
            if (!startedRun) return notFound(res, `Actor run ${id}`);
            if (TERMINAL.has(startedRun.status)) return send(res, 200, { data: runObject(id) });
            const gracefully = bool(q, 'gracefully') ?? false;
            startedRun.aborts.push(gracefully);
            if (gracefully) {
                // The platform sends `aborting` and `persistState`, then stops the container 30 s later.
                startedRun.status = 'ABORTING';
                platform.send('aborting', undefined, id);
                platform.send('persistState', { isMigrating: false }, id);
                setTimeout(() => startedRun.child?.kill('SIGKILL'), ABORT_GRACE_MS).unref();
            } else {
                startedRun.child?.kill('SIGKILL');
                await exits.get(id);
            }
            return send(res, 200, { data: runObject(id) });
        }
        if (sub) return notFound(res, req.url!);
        if (req.method === 'PUT') {
            const update = (await json(req)) as { statusMessage?: string; isStatusMessageTerminal?: boolean };
            if (update.statusMessage !== undefined) {
                statusMessages.push({
                    runId: run.id,
                    message: update.statusMessage,
                    terminal: Boolean(update.isStatusMessageTerminal),
                    at: Date.now(),
                });
                run.statusMessage = update.statusMessage;
                run.terminal = Boolean(update.isStatusMessageTerminal);
            }
        }
        // `waitForFinish` (seconds, at most 60): the API answers once the run has finished or the time is up.
        const waitSecs = Math.min(num(q, 'waitForFinish') ?? 0, MAX_WAIT_SECS);
        if (req.method === 'GET' && q.has('waitForFinish'))
            platform.waits.push({ runId: id, secs: waitSecs, at: Date.now() });
        const exited = exits.get(id);
        if (req.method === 'GET' && waitSecs > 0 && exited) await Promise.race([exited, sleep(waitSecs * 1000)]);
        return send(res, 200, { data: runObject(id) });
    }

    const server = createServer((req, res) => {
        const url = new URL(req.url!, 'http://platform');
        const [, v2, resource, ...parts] = url.pathname.split('/') as [string, string, string, ...string[]];
        const handle = async (): Promise<void> => {
            if (v2 !== 'v2') return notFound(res, url.pathname);
            if (resource === 'key-value-stores') return keyValueStores(req, res, parts, url.searchParams);
            if (resource === 'datasets') return datasets(req, res, parts, url.searchParams);
            if (resource === 'request-queues') return requestQueues(req, res, parts, url.searchParams);
            if (resource === 'actor-runs') return actorRuns(req, res, parts, url.searchParams);
            if ((resource === 'acts' || resource === 'actors') && parts[1] === 'runs' && parts.length === 2) {
                if (req.method === 'POST') return startRun(req, res, decodeURIComponent(parts[0]!), url.searchParams);
            }
            return notFound(res, url.pathname);
        };
        handle().catch((error: Error) => {
            // Memory storage throws for a storage that does not exist (a dropped one): the API's 404.
            if (/does not exist|not found/i.test(error.message)) return notFound(res, url.pathname);
            console.error(`fake platform: ${req.method} ${req.url}: ${error.stack}`);
            if (!res.headersSent) send(res, 400, { error: { type: 'invalid-input', message: error.message } });
        });
    });
    // Each run's events connection, by run id (its URL names the run: one container, one socket).
    const sockets = new Map<WebSocket, string | undefined>();
    const wss = new WebSocketServer({ server, path: '/events' });
    wss.on('connection', (ws, req) => {
        sockets.set(ws, new URL(req.url!, 'http://platform').searchParams.get('run') ?? undefined);
        ws.on('close', () => sockets.delete(ws));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    platform.apiUrl = `http://127.0.0.1:${port}`;
    // The platform reports the container's load every second; the autoscaled pools read it.
    const systemInfo = setInterval(() => {
        platform.send('systemInfo', {
            isCpuOverloaded: false,
            createdAt: new Date().toISOString(),
            cpuCurrentUsage: 10,
        });
    }, 1000);

    platform.env = (runId) => ({
        APIFY_IS_AT_HOME: '1',
        ACTOR_RUN_ID: runId,
        // Its own token: the storages it may use follow from the run (limited permissions, see the header).
        APIFY_TOKEN: `${TOKEN_PREFIX}${runId}`,
        APIFY_API_BASE_URL: platform.apiUrl,
        APIFY_API_PUBLIC_BASE_URL: platform.apiUrl,
        ACTOR_EVENTS_WEBSOCKET_URL: `ws://127.0.0.1:${port}/events?run=${encodeURIComponent(runId)}`,
        ACTOR_DEFAULT_KEY_VALUE_STORE_ID: `kvs-${runId}`,
        ACTOR_DEFAULT_DATASET_ID: `ds-${runId}`,
        ACTOR_DEFAULT_REQUEST_QUEUE_ID: `rq-${runId}`,
        // What Actor.getEnv() reads as actorId, memoryMbytes; ACTOR_BUILD_NUMBER is the build number's
        // documented variable (getEnv's `actorBuildNumber` reads the legacy APIFY_ACTOR_BUILD_NUMBER, not set here).
        ACTOR_ID: platform.actorId,
        ACTOR_BUILD_NUMBER: BUILD_NUMBER,
        ACTOR_MEMORY_MBYTES: String(MEMORY_MBYTES),
    });
    platform.createRun = async (runId, input) => {
        inputs.set(runId, input);
        createdRuns.add(runId);
        await createDefaultStorages(runId, Buffer.from(JSON.stringify(input)), 'application/json; charset=utf-8');
    };
    platform.send = (name, data, runId) => {
        for (const [ws, run] of sockets)
            if (runId === undefined || run === runId) ws.send(JSON.stringify({ name, data }));
    };
    platform.connections = (runId) => [...sockets.values()].filter((r) => runId === undefined || r === runId).length;
    platform.finished = async (runId) => {
        const exited = exits.get(runId);
        if (!exited) throw new Error(`run ${runId} was not started through the API`);
        await exited;
        return started.get(runId)!;
    };
    platform.storageNames = async () => {
        const names = (list: { items: { name?: string }[] }): string[] =>
            list.items.map((i) => i.name).filter((n): n is string => Boolean(n));
        return {
            queues: names(await storage.requestQueues().list()),
            stores: names(await storage.keyValueStores().list()),
            datasets: names(await storage.datasets().list()),
        };
    };
    platform.close = async () => {
        clearInterval(systemInfo);
        for (const ws of sockets.keys()) ws.terminate();
        wss.close();
        // A `waitForFinish` request may be held open: do not wait for it.
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
    };
    return platform;
}
