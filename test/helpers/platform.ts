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
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { MemoryStorage } from '@crawlee/memory-storage';

// `ws` (the SDK's own websocket library) ships no types and @types/ws is not installed: the little used here.
interface WebSocket {
    send(data: string): void;
    terminate(): void;
    on(event: 'close', listener: () => void): void;
}
interface WebSocketServer {
    on(event: 'connection', listener: (ws: WebSocket) => void): void;
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

export interface FakePlatform {
    apiUrl: string;
    storage: MemoryStorage;
    statusMessages: StatusMessage[];
    /** Run ids, once per `POST actor-runs/:id/reboot`. */
    reboots: string[];
    /** Every record PUT: key, content type, bytes received, and the status answered. */
    uploads: { key: string; contentType: string; bytes: number; status: number }[];
    /** Answer 503 to the first upload whose content type matches, after its first chunk (a CDN hiccup). */
    failFirstUploadOf?: RegExp;
    /** Env of a run on this platform: default storages named after the run, events socket, API. */
    env(runId: string): Record<string, string>;
    /** Creates the run's default key-value store with its INPUT record. */
    createRun(runId: string, input: unknown): Promise<void>;
    /** Sends a platform event to every connected actor. */
    send(name: string, data?: unknown): void;
    connections(): number;
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

const json = async (req: IncomingMessage): Promise<unknown> => JSON.parse((await body(req)).toString('utf8'));

function send(res: ServerResponse, status: number, data?: unknown, headers: Record<string, string> = {}): void {
    if (data === undefined) return void res.writeHead(status, headers).end();
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(data));
}

const notFound = (res: ServerResponse, what: string): void =>
    send(res, 404, { error: { type: 'record-not-found', message: `${what} was not found` } });

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
    const runs = new Map<string, { id: string; statusMessage?: string }>();
    const platform: FakePlatform = {
        apiUrl: '',
        storage,
        statusMessages,
        reboots: [],
        uploads,
        env: () => ({}),
        createRun: async () => undefined,
        send: () => undefined,
        connections: () => 0,
        storageNames: async () => ({ queues: [], stores: [], datasets: [] }),
        close: async () => undefined,
    };

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

    async function actorRuns(req: IncomingMessage, res: ServerResponse, parts: string[]): Promise<void> {
        const [id, sub] = parts;
        const run = runs.get(id!) ?? { id: id! };
        runs.set(run.id, run);
        if (sub === 'reboot' && req.method === 'POST') {
            platform.reboots.push(run.id);
            return send(res, 200, { data: { ...run, status: 'RUNNING' } });
        }
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
            }
        }
        return send(res, 200, {
            data: { ...run, status: 'RUNNING', options: {}, pricingInfo: undefined, chargedEventCounts: {} },
        });
    }

    const server = createServer((req, res) => {
        const url = new URL(req.url!, 'http://platform');
        const [, v2, resource, ...parts] = url.pathname.split('/') as [string, string, string, ...string[]];
        const handle = async (): Promise<void> => {
            if (v2 !== 'v2') return notFound(res, url.pathname);
            if (resource === 'key-value-stores') return keyValueStores(req, res, parts, url.searchParams);
            if (resource === 'datasets') return datasets(req, res, parts, url.searchParams);
            if (resource === 'request-queues') return requestQueues(req, res, parts, url.searchParams);
            if (resource === 'actor-runs') return actorRuns(req, res, parts);
            return notFound(res, url.pathname);
        };
        handle().catch((error: Error) => {
            // Memory storage throws for a storage that does not exist (a dropped one): the API's 404.
            if (/does not exist|not found/i.test(error.message)) return notFound(res, url.pathname);
            console.error(`fake platform: ${req.method} ${req.url}: ${error.stack}`);
            if (!res.headersSent) send(res, 400, { error: { type: 'invalid-input', message: error.message } });
        });
    });
    const sockets = new Set<WebSocket>();
    const wss = new WebSocketServer({ server, path: '/events' });
    wss.on('connection', (ws) => {
        sockets.add(ws);
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
        APIFY_TOKEN: 'fake-token',
        APIFY_API_BASE_URL: platform.apiUrl,
        APIFY_API_PUBLIC_BASE_URL: platform.apiUrl,
        ACTOR_EVENTS_WEBSOCKET_URL: `ws://127.0.0.1:${port}/events`,
        ACTOR_DEFAULT_KEY_VALUE_STORE_ID: `kvs-${runId}`,
        ACTOR_DEFAULT_DATASET_ID: `ds-${runId}`,
        ACTOR_DEFAULT_REQUEST_QUEUE_ID: `rq-${runId}`,
        ACTOR_MEMORY_MBYTES: '4096',
    });
    platform.createRun = async (runId, input) => {
        // The platform creates a run's default storages before the container starts.
        const kvs = await storage.keyValueStores().getOrCreate(`kvs-${runId}`);
        await storage.datasets().getOrCreate(`ds-${runId}`);
        await storage.requestQueues().getOrCreate(`rq-${runId}`);
        const value = Buffer.from(JSON.stringify(input));
        await storage
            .keyValueStore(kvs.id)
            .setRecord({ key: 'INPUT', value, contentType: 'application/json; charset=utf-8' });
    };
    platform.send = (name, data) => {
        for (const ws of sockets) ws.send(JSON.stringify({ name, data }));
    };
    platform.connections = () => sockets.size;
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
        for (const ws of sockets) ws.terminate();
        wss.close();
        await new Promise<void>((resolve) => server.close(() => resolve()));
    };
    return platform;
}
