/**
 * What a worker run on the Apify platform is told: its role, the shared storages in declared input fields,
 * its credentials encrypted; and the pure rules the coordinator (platform.ts) lives by. All pure.
 */
import type { KeyObject } from 'node:crypto';
import { encryptInputSecretValue } from '@apify/input_secrets';
import { pageShare, workerScope, type WorkerRole } from '../run/role.js';

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
