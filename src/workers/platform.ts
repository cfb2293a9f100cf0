/**
 * `workers` > 1 on the Apify platform: this run is worker 0 and the coordinator. It starts N − 1 more
 * runs of the same actor and build with `Actor.start`, each told its role (`_worker` in its input) and
 * given the shared storages in declared resource fields of the input schema: this run's default dataset
 * and key-value store, where every item and file goes, and the shared page and claims queues. A run under
 * the platform's default "limited permissions" may use another run's storages only when they come in
 * such a field (`resourceType`, `resourcePermissions: READ, WRITE`); an undeclared field's ids are refused.
 * The platform's request queue does the rest: locked pages, links followed into the same queue, a dead
 * run's locks expiring so another run takes its pages.
 *
 * A worker run that cannot start (the account's memory limit: a Free plan's 8 GB hold two 4 GB runs) is
 * logged and named in the report; the crawl goes on with the runs that did start, this run taking the
 * missing runs' share of `maxPagesPerCrawl`. The shared queues are dropped however the crawl ends.
 *
 * This run crawls too, then waits for the others, starts a replacement for one that failed (it resumes
 * the dead run's videos from their named state, supervisor.ts), aborts them all when it is aborted, and
 * leaves the one report to main.ts. A worker run writes its summary as its OUTPUT record.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { encryptInputSecretValue } from '@apify/input_secrets';
import { Actor } from 'apify';
import { KeyValueStore, log, RequestQueue } from '@crawlee/core';
import { crawl, type CrawlOptions, type CrawlSummary } from '../app/crawl.js';
import type { CrawlInput } from '../input/input.js';
import { WIND_DOWN_MS } from '../run/lifecycle.js';
import { runScope } from '../run/storage.js';
import { sumSummaries } from './local.js';
import { reportLostVideos } from './lost-videos.js';
import { pageClientKey } from '../run/page-queue.js';
import { claimsQueueName, pageQueueName, pageShare, setWorkerRole, workerScope, type WorkerRole } from '../run/role.js';
import { afterWorkerEnd, MAX_RESTARTS, type AfterEnd } from './supervisor.js';

/** The input field that makes a run a worker of another: its index, count, scope (declared, hidden). */
export const WORKER_FIELD = '_worker';

/**
 * The declared input fields (.actor/input_schema.json, hidden) that carry the shared storages to a worker
 * run, by id: with `resourceType` and `resourcePermissions` the platform adds them to the run's scoped token.
 */
export const SHARED_FIELDS = {
    dataset: 'workerDataset',
    store: 'workerKeyValueStore',
    /** The page queue, then the claims queue. */
    queues: 'workerRequestQueues',
} as const;

/**
 * A worker run's input is a storage record of its own: the credentials in it (`cookies`, `headers`, the
 * start sources' `headers`) travel in this one field, encrypted with the actor's input-secrets key pair
 * as the console encrypts secret fields; the worker's `Actor.getInput()` decrypts it (any top-level
 * encrypted value, whatever the schema says) and `withWorkerSecrets` puts the fields back.
 */
export const WORKER_SECRETS_FIELD = '_workerSecrets';

/** A worker run's input with its decrypted credentials back in their fields. Pure. */
export function withWorkerSecrets(raw: Record<string, unknown>): Record<string, unknown> {
    const secrets = raw[WORKER_SECRETS_FIELD];
    if (secrets === undefined) return raw;
    if (typeof secrets !== 'object' || secrets === null) {
        throw new Error(`${WORKER_SECRETS_FIELD} could not be decrypted (no input-secrets key in this run)`);
    }
    const { [WORKER_SECRETS_FIELD]: _secrets, ...rest } = raw;
    const defined = Object.entries(secrets as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return { ...rest, ...Object.fromEntries(defined) };
}

/** The public half of this run's input-secrets key, if the platform gave it one. */
function inputSecretsPublicKey(): KeyObject | undefined {
    const key = Actor.config.get('inputSecretsPrivateKeyFile');
    const passphrase = Actor.config.get('inputSecretsPrivateKeyPassphrase');
    if (!key || !passphrase) return undefined;
    return createPublicKey(createPrivateKey({ key: Buffer.from(key, 'base64'), passphrase }));
}

/** Where the coordinator keeps its worker runs' ids, so a migrated coordinator waits for them instead of starting more. */
const WORKER_RUNS_KEY = 'WORKER_RUNS';

/** How long one wait for a worker run asks the API to hold (its maximum). */
const WAIT_SECS = 60;

/**
 * After a stop, main.ts reports and ends the run WIND_DOWN_MS after it, whatever is still running: the waits
 * for the worker runs (being aborted too) end this long before that, so the shared queues are still dropped.
 */
const STOP_WAIT_MS = WIND_DOWN_MS - 2_000;

/** Terminal run statuses: a run in any other status is still going. */
const FINISHED = new Set(['SUCCEEDED', 'FAILED', 'TIMED-OUT', 'ABORTED']);

/** Ids of the storages every worker shares: this run's default dataset and store, the page and claims queues. */
export interface SharedIds {
    dataset: string;
    store: string;
    pageQueue: string;
    claims: string;
}

/** The role of worker `index` of the coordinator run scoped `run`. Pure. */
export function platformRole(run: string, index: number, count: number, ids: SharedIds, resumed = false): WorkerRole {
    const { dataset, store, pageQueue, claims } = ids;
    return { index, count, scope: workerScope(run, index), resumed, shared: { pageQueue, claims, dataset, store } };
}

/**
 * A worker run's input: the run's own, one worker, its role, the shared storages in their declared fields;
 * the credentials encrypted when there is a key (on the platform). Pure.
 */
export function workerInput(
    rawInput: Record<string, unknown>,
    role: WorkerRole,
    publicKey?: KeyObject,
): Record<string, unknown> {
    const { shared, ...own } = role;
    const input: Record<string, unknown> = {
        ...rawInput,
        workers: 1,
        [WORKER_FIELD]: own,
        [SHARED_FIELDS.dataset]: shared.dataset,
        [SHARED_FIELDS.store]: shared.store,
        [SHARED_FIELDS.queues]: [shared.pageQueue, shared.claims],
    };
    if (!publicKey) return input;
    const secrets = { cookies: rawInput.cookies, headers: rawInput.headers, startUrls: rawInput.startUrls };
    delete input.cookies;
    delete input.headers;
    // The sources' URLs stay readable (the run's input shows what it crawls); their headers go encrypted.
    if (Array.isArray(rawInput.startUrls)) {
        input.startUrls = rawInput.startUrls.map((s: unknown) => {
            if (typeof s !== 'object' || s === null) return s;
            const { headers: _headers, ...rest } = s as Record<string, unknown>;
            return rest;
        });
    }
    input[WORKER_SECRETS_FIELD] = encryptInputSecretValue({ value: secrets, publicKey });
    return input;
}

/** The role a worker run was given, from its input; undefined for a run that is not one. Pure. */
export function roleFromInput(raw: unknown): WorkerRole | undefined {
    const input = raw as Record<string, unknown> | undefined;
    const r = input?.[WORKER_FIELD] as Omit<WorkerRole, 'shared'> | undefined;
    if (!r || typeof r !== 'object') return undefined;
    const [pageQueue, claims] = (input?.[SHARED_FIELDS.queues] as unknown[] | undefined) ?? [];
    const dataset = input?.[SHARED_FIELDS.dataset];
    const store = input?.[SHARED_FIELDS.store];
    const ok =
        Number.isInteger(r.index) &&
        Number.isInteger(r.count) &&
        typeof r.scope === 'string' &&
        [pageQueue, claims, dataset, store].every((id) => typeof id === 'string' && id !== '');
    if (!ok) {
        const fields = [WORKER_FIELD, ...Object.values(SHARED_FIELDS)];
        const given = Object.fromEntries(fields.map((f) => [f, input?.[f]]));
        throw new Error(`${fields.join(', ')} are not a worker role: ${JSON.stringify(given)}`);
    }
    const shared = {
        pageQueue: pageQueue as string,
        claims: claims as string,
        dataset: dataset as string,
        store: store as string,
    };
    return { index: r.index, count: r.count, scope: r.scope, resumed: Boolean(r.resumed), shared };
}

/**
 * The page cap of the coordinator when some worker runs did not start: its own share and theirs, so the
 * crawl still renders `maxPagesPerCrawl` pages (0: no cap). Pure.
 */
export function coordinatorPageCap(max: number, count: number, missing: readonly number[]): number {
    return [0, ...missing].reduce((sum, index) => sum + pageShare(max, index, count), 0);
}

/**
 * What is left of this run's timeout, in whole seconds, for a run it starts: at least 1 (the API reads 0 as
 * no timeout); undefined for a run without a timeout. The SDK's `timeout: 'inherit'` is not used: apify 3.7
 * passes the time left in milliseconds where the API takes seconds (fixed in apify-sdk-js#667). Pure.
 */
export function inheritedTimeoutSecs(timeoutAt: Date | null | undefined, now = Date.now()): number | undefined {
    if (!timeoutAt) return undefined;
    return Math.max(1, Math.ceil((timeoutAt.getTime() - now) / 1000));
}

interface WorkerRun {
    index: number;
    runId: string;
    restarts: number;
}

export interface PlatformWorkersOptions extends CrawlOptions {
    /** The run's input as given: worker runs get the same, with their role. */
    rawInput: Record<string, unknown>;
}

export async function runPlatformWorkers(input: CrawlInput, options: PlatformWorkersOptions): Promise<CrawlSummary> {
    const started = Date.now();
    const env = Actor.getEnv();
    const run = runScope();
    // Passed by id: a resource field takes ids or names, and an id needs no lookup under the user's account.
    const [pageQueue, claims] = await Promise.all(
        [pageQueueName(run), claimsQueueName(run)].map((name) => RequestQueue.open(name)),
    );
    const ids: SharedIds = {
        dataset: env.defaultDatasetId!,
        store: env.defaultKeyValueStoreId!,
        pageQueue: pageQueue!.id,
        claims: claims!.id,
    };
    const count = input.workers;
    const me = platformRole(run, 0, count, ids);
    setWorkerRole(me);
    const state = await KeyValueStore.open();
    const publicKey = inputSecretsPublicKey();
    if (!publicKey) log.warning('No input-secrets key in this run: the worker runs get the credentials unencrypted');
    /** What the report says beside the items: worker runs that could not start. */
    const notices: string[] = [];
    const couldNotStart = (index: number, error: unknown): void => {
        const why = ((error as Error).message ?? String(error)).replace(/\.$/, '');
        log.error(`Worker ${index} could not start: ${why}. The crawl goes on without it`);
        notices.push(`Worker run ${index} of ${count} could not start: ${why}`);
    };
    const start = async (index: number, resumed: boolean): Promise<string> => {
        const role = platformRole(run, index, count, ids, resumed);
        const started = await Actor.start(env.actorId!, workerInput(options.rawInput, role, publicKey), {
            // The platform sets ACTOR_BUILD_NUMBER; getEnv's `actorBuildNumber` reads the legacy APIFY_ACTOR_BUILD_NUMBER.
            build: process.env.ACTOR_BUILD_NUMBER || env.actorBuildNumber || undefined,
            memory: env.memoryMbytes ?? undefined,
            timeout: inheritedTimeoutSecs(env.timeoutAt),
        });
        log.info(`Worker ${index} ${resumed ? 'restarted' : 'started'}: run ${started.id}`);
        return started.id;
    };
    // A migrated coordinator finds its workers still running: it waits for them instead of starting more.
    let runs = (await state.getValue<WorkerRun[]>(WORKER_RUNS_KEY)) ?? undefined;
    /** Workers whose run could not start: this run renders their share of the pages. */
    const missing: number[] = [];
    const dropShared = async (): Promise<void> => {
        if (options.keepStorages?.()) return;
        for (const id of [me.shared.pageQueue!, me.shared.claims]) await (await RequestQueue.open(id)).drop();
        await state.setValue(WORKER_RUNS_KEY, null);
    };
    if (!runs) {
        runs = [];
        try {
            for (let i = 1; i < count; i++) {
                // A start refused (memory, a plan's limit) costs that worker, not the crawl.
                const runId = await start(i, false).catch((error: unknown) => void couldNotStart(i, error));
                if (runId) runs.push({ index: i, runId, restarts: 0 });
                else missing.push(i);
            }
            await state.setValue(WORKER_RUNS_KEY, runs);
        } catch (error) {
            // Started runs stay; the shared queues would stay too: none is left behind.
            for (const w of runs) await Actor.abort(w.runId, { gracefully: true }).catch(() => undefined);
            await dropShared().catch((e: Error) => log.warning(`Could not drop the shared queues: ${e.message}`));
            throw error;
        }
    }
    // After a stop, the waits for the worker runs end at this deadline, whether they have finished or not.
    let stopped = false;
    let pastStopWait = false;
    let endStopWait!: () => void;
    const stopWaitOver = new Promise<void>((resolve) => (endStopWait = resolve));
    const abortAll = () => {
        if (!stopped) {
            stopped = true;
            setTimeout(() => {
                pastStopWait = true;
                endStopWait();
            }, STOP_WAIT_MS).unref();
        }
        for (const w of runs) void Actor.abort(w.runId, { gracefully: true }).catch(() => undefined);
    };
    /** The worker run once it has finished, or as it is when a wait (WAIT_SECS, or the stop's deadline) is over. */
    const waitFor = async (runId: string): Promise<{ status: string }> => {
        const client = Actor.apifyClient.run(runId);
        const finishing = client.waitForFinish({ waitSecs: WAIT_SECS });
        finishing.catch(() => undefined); // once the deadline won, its end does not matter
        const atDeadline = stopWaitOver.then(async () => {
            const run = await client.get().catch(() => undefined);
            return run ?? { status: 'RUNNING' };
        });
        return Promise.race([finishing, atDeadline]);
    };
    // An abort while the worker runs were being started has already fired: no listener would hear it.
    if (options.signal?.aborted) abortAll();
    else options.signal?.addEventListener('abort', abortAll, { once: true });

    /**
     * A dead worker run's pages come back at once: its page-queue locks were taken under its role's
     * client key (page-queue.ts), and `requests/unlock` gives back exactly that key's locks.
     */
    const unlockPagesOf = async (index: number): Promise<void> => {
        const queue = await RequestQueue.open(me.shared.pageQueue);
        const clientKey = pageClientKey(workerScope(run, index));
        const unlocked = await Actor.apifyClient.requestQueue(queue.id, { clientKey }).unlockRequests();
        if (unlocked.unlockedCount)
            log.info(`Worker ${index}'s ${unlocked.unlockedCount} locked pages went back to the queue`);
    };
    /** Watches one worker run to its end, starting it again when it fails; runs beside this run's own crawl. */
    const supervise = async (w: WorkerRun): Promise<{ outcome: AfterEnd; summary?: CrawlSummary }> => {
        for (;;) {
            const finished = await waitFor(w.runId);
            if (!FINISHED.has(finished.status)) {
                if (!pastStopWait) continue;
                // Stopping and not done yet: the platform kills it 30 s after its `aborting`; its storages are its own to drop.
                log.warning(`Worker ${w.index} (run ${w.runId}) is still stopping; not waited for`);
                return { outcome: 'give-up' };
            }
            const output = await Actor.apifyClient
                .run(w.runId)
                .keyValueStore()
                .getRecord('OUTPUT')
                .catch(() => undefined);
            const summary = output?.value as CrawlSummary | undefined;
            const ok = finished.status === 'SUCCEEDED' && summary !== undefined;
            const next = options.signal?.aborted
                ? 'give-up'
                : afterWorkerEnd({ finished: ok, code: ok ? 0 : 1, signal: null }, w.restarts);
            if (next === 'done') return { outcome: next, summary };
            const what = `Worker ${w.index} (run ${w.runId}) ended ${finished.status}`;
            await unlockPagesOf(w.index).catch((e: Error) =>
                log.warning(`${what}; its pages stay locked: ${e.message}`),
            );
            if (next === 'restart') {
                w.restarts++;
                log.warning(`${what}; starting it again (${w.restarts} of ${MAX_RESTARTS}) to resume its videos`);
                const runId = await start(w.index, true).catch((error: unknown) => void couldNotStart(w.index, error));
                if (runId) {
                    w.runId = runId;
                    await state.setValue(WORKER_RUNS_KEY, runs);
                    continue;
                }
            } else log.error(`${what}; given up`);
            await reportLostVideos(workerScope(run, w.index), `ended ${finished.status}`).catch((e: Error) =>
                log.warning(`Could not report worker ${w.index}'s videos: ${e.message}`),
            );
            return { outcome: next };
        }
    };
    // Watched from the start: a worker run that fails early is restarted while this run still crawls.
    const watching = runs.map((w) => supervise(w));
    watching.forEach((p) => p.catch(() => undefined));

    try {
        const pageCap = missing.length ? coordinatorPageCap(input.maxPagesPerCrawl, count, missing) : undefined;
        const own = await crawl(input, { ...options, pageCap });
        log.info(`This run's part of the crawl is done: waiting for ${runs.length} worker run(s)`);
        const ends = await Promise.all(watching);
        const summaries: CrawlSummary[] = [own, ...ends.flatMap((e) => (e.summary ? [e.summary] : []))];
        const summary = sumSummaries(summaries, (Date.now() - started) / 1000);
        return notices.length ? { ...summary, notices } : summary;
    } catch (error) {
        // A failed run leaves no worker run crawling on into its storages.
        options.signal?.removeEventListener('abort', abortAll);
        abortAll();
        throw error;
    } finally {
        // However the crawl ends, no shared queue is left in the user's account (kept only when migrating).
        options.signal?.removeEventListener('abort', abortAll);
        await dropShared().catch((e: Error) => log.warning(`Could not drop the shared queues: ${e.message}`));
    }
}

/** A worker run: its part of the crawl, its summary as OUTPUT for the coordinator. */
export async function runAsWorker(input: CrawlInput, role: WorkerRole, options: CrawlOptions): Promise<CrawlSummary> {
    setWorkerRole(role);
    const summary = await crawl(input, options);
    await Actor.setValue('OUTPUT', summary);
    return summary;
}
