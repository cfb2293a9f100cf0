/**
 * The worker runs a coordinator starts on the Apify platform (platform.ts): started with `Actor.start`,
 * watched to their end, started again when one fails, aborted when this run is aborted, their locked
 * pages given back when they die. A migrated coordinator finds its worker runs in its state and waits for
 * them instead of starting more.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { Actor } from 'apify';
import { KeyValueStore, log } from '@crawlee/core';
import type { CrawlOptions, CrawlSummary } from '../app/crawl.js';
import { WIND_DOWN_MS } from '../run/lifecycle.js';
import { pageClientKey } from '../run/page-queue.js';
import { claimsQueueName, pageQueueName, setWorkerRole, workerScope, type WorkerRole } from '../run/role.js';
import { runScope } from '../run/storage.js';
import { reportLostVideos } from './lost-videos.js';
import { inheritedTimeoutSecs, platformRole, workerInput, type SharedIds } from './platform-input.js';
import { afterWorkerEnd, MAX_RESTARTS, type AfterEnd } from './supervisor.js';
import { openQueue } from '../run/queues.js';

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

interface WorkerRun {
    index: number;
    runId: string;
    restarts: number;
}

/** How a worker run ended for the coordinator, with its summary when it finished its part. */
export interface WorkerEnd {
    outcome: AfterEnd;
    summary?: CrawlSummary;
}

/** The public half of this run's input-secrets key, if the platform gave it one. */
function inputSecretsPublicKey(): KeyObject | undefined {
    const key = Actor.config.get('inputSecretsPrivateKeyFile');
    const passphrase = Actor.config.get('inputSecretsPrivateKeyPassphrase');
    if (!key || !passphrase) return undefined;
    return createPublicKey(createPrivateKey({ key: Buffer.from(key, 'base64'), passphrase }));
}

export class WorkerRuns {
    /** What the report says beside the items: worker runs that could not start. */
    readonly notices: string[] = [];
    /** Workers whose run could not start: this run renders their share of the pages. */
    readonly missing: number[] = [];
    private runs: WorkerRun[] = [];
    /** After a stop, the waits for the worker runs end at this deadline, whether they have finished or not. */
    private stopped = false;
    private pastStopWait = false;
    private endStopWait!: () => void;
    private readonly stopWaitOver = new Promise<void>((resolve) => (this.endStopWait = resolve));
    private readonly onAbort = (): void => this.abortAll();

    private constructor(
        private readonly total: number,
        private readonly options: CrawlOptions & { rawInput: Record<string, unknown> },
        private readonly run: string,
        private readonly me: WorkerRole,
        private readonly ids: SharedIds,
        private readonly state: KeyValueStore,
        private readonly publicKey: KeyObject | undefined,
    ) {}

    /** Opens the shared queues and takes this run's role, worker 0 of `total`. */
    static async open(
        total: number,
        options: CrawlOptions & { rawInput: Record<string, unknown> },
    ): Promise<WorkerRuns> {
        const env = Actor.getEnv();
        const run = runScope();
        // Passed by id: a resource field takes ids or names, and an id needs no lookup under the user's account.
        const [pageQueue, claims] = await Promise.all(
            [pageQueueName(run), claimsQueueName(run)].map((name) => openQueue(name)),
        );
        const ids: SharedIds = {
            dataset: env.defaultDatasetId!,
            store: env.defaultKeyValueStoreId!,
            pageQueue: pageQueue!.id,
            claims: claims!.id,
        };
        const me = platformRole(run, 0, total, ids);
        setWorkerRole(me);
        const state = await KeyValueStore.open();
        const publicKey = inputSecretsPublicKey();
        if (!publicKey)
            log.warning('No input-secrets key in this run: the worker runs get the credentials unencrypted');
        return new WorkerRuns(total, options, run, me, ids, state, publicKey);
    }

    /** Worker runs started (or found running after a migration). */
    get count(): number {
        return this.runs.length;
    }

    /**
     * Starts worker runs 1 … N − 1, or (a migrated coordinator) takes up the ones it had started; from then
     * on an abort of this run aborts them.
     */
    async startAll(): Promise<void> {
        const found = await this.state.getValue<WorkerRun[]>(WORKER_RUNS_KEY);
        if (found) this.runs = found;
        else {
            try {
                for (let i = 1; i < this.total; i++) {
                    // A start refused (memory, a plan's limit) costs that worker, not the crawl.
                    const runId = await this.start(i, false).catch(
                        (error: unknown) => void this.couldNotStart(i, error),
                    );
                    if (runId) this.runs.push({ index: i, runId, restarts: 0 });
                    else this.missing.push(i);
                }
                await this.state.setValue(WORKER_RUNS_KEY, this.runs);
            } catch (error) {
                // Started runs stay; the shared queues would stay too: none is left behind.
                for (const w of this.runs) await Actor.abort(w.runId, { gracefully: true }).catch(() => undefined);
                await this.dropShared().catch((e: Error) =>
                    log.warning(`Could not drop the shared queues: ${e.message}`),
                );
                throw error;
            }
        }
        // An abort while the worker runs were being started has already fired: no listener would hear it.
        if (this.options.signal?.aborted) this.abortAll();
        else this.options.signal?.addEventListener('abort', this.onAbort, { once: true });
    }

    /** Each worker run watched to its end, beside this run's own crawl. */
    superviseAll(): Promise<WorkerEnd>[] {
        const watching = this.runs.map((w) => this.supervise(w));
        watching.forEach((p) => p.catch(() => undefined));
        return watching;
    }

    /** Asks every worker run to stop; the waits for them end STOP_WAIT_MS after the first call. */
    abortAll(): void {
        if (!this.stopped) {
            this.stopped = true;
            setTimeout(() => {
                this.pastStopWait = true;
                this.endStopWait();
            }, STOP_WAIT_MS).unref();
        }
        for (const w of this.runs) void Actor.abort(w.runId, { gracefully: true }).catch(() => undefined);
    }

    stopListening(): void {
        this.options.signal?.removeEventListener('abort', this.onAbort);
    }

    /** Drops the shared queues (kept when migrating) and forgets the worker runs. */
    async dropShared(): Promise<void> {
        if (this.options.keepStorages?.()) return;
        for (const id of [this.me.shared.pageQueue!, this.me.shared.claims]) await (await openQueue(id)).drop();
        await this.state.setValue(WORKER_RUNS_KEY, null);
    }

    private async start(index: number, resumed: boolean): Promise<string> {
        const env = Actor.getEnv();
        const role = platformRole(this.run, index, this.total, this.ids, resumed);
        const started = await Actor.start(env.actorId!, workerInput(this.options.rawInput, role, this.publicKey), {
            // The platform sets ACTOR_BUILD_NUMBER; getEnv's `actorBuildNumber` reads the legacy APIFY_ACTOR_BUILD_NUMBER.
            build: process.env.ACTOR_BUILD_NUMBER || env.actorBuildNumber || undefined,
            memory: env.memoryMbytes ?? undefined,
            timeout: inheritedTimeoutSecs(env.timeoutAt),
        });
        log.info(`Worker ${index} ${resumed ? 'restarted' : 'started'}: run ${started.id}`);
        return started.id;
    }

    private couldNotStart(index: number, error: unknown): void {
        const why = ((error as Error).message ?? String(error)).replace(/\.$/, '');
        log.error(`Worker ${index} could not start: ${why}. The crawl goes on without it`);
        this.notices.push(`Worker run ${index} of ${this.total} could not start: ${why}`);
    }

    /** The worker run once it has finished, or as it is when a wait (WAIT_SECS, or the stop's deadline) is over. */
    private async waitFor(runId: string): Promise<{ status: string }> {
        const client = Actor.apifyClient.run(runId);
        const finishing = client.waitForFinish({ waitSecs: WAIT_SECS });
        finishing.catch(() => undefined); // once the deadline won, its end does not matter
        const atDeadline = this.stopWaitOver.then(async () => {
            const run = await client.get().catch(() => undefined);
            return run ?? { status: 'RUNNING' };
        });
        return Promise.race([finishing, atDeadline]);
    }

    /**
     * A dead worker run's pages come back at once: its page-queue locks were taken under its role's
     * client key (page-queue.ts), and `requests/unlock` gives back exactly that key's locks.
     */
    private async unlockPagesOf(index: number): Promise<void> {
        const queue = await openQueue(this.me.shared.pageQueue);
        const clientKey = pageClientKey(workerScope(this.run, index));
        const unlocked = await Actor.apifyClient.requestQueue(queue.id, { clientKey }).unlockRequests();
        if (unlocked.unlockedCount)
            log.info(`Worker ${index}'s ${unlocked.unlockedCount} locked pages went back to the queue`);
    }

    /** Watches one worker run to its end, starting it again when it fails. */
    private async supervise(w: WorkerRun): Promise<WorkerEnd> {
        for (;;) {
            const finished = await this.waitFor(w.runId);
            if (!FINISHED.has(finished.status)) {
                if (!this.pastStopWait) continue;
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
            const next = this.options.signal?.aborted
                ? 'give-up'
                : afterWorkerEnd({ finished: ok, code: ok ? 0 : 1, signal: null }, w.restarts);
            if (next === 'done') return { outcome: next, summary };
            const what = `Worker ${w.index} (run ${w.runId}) ended ${finished.status}`;
            await this.unlockPagesOf(w.index).catch((e: Error) =>
                log.warning(`${what}; its pages stay locked: ${e.message}`),
            );
            if (next === 'restart' && (await this.restart(w, what))) continue;
            if (next !== 'restart') log.error(`${what}; given up`);
            await reportLostVideos(workerScope(this.run, w.index), `ended ${finished.status}`).catch((e: Error) =>
                log.warning(`Could not report worker ${w.index}'s videos: ${e.message}`),
            );
            return { outcome: next };
        }
    }

    /** Starts a failed worker run again (it resumes its videos); false when the start was refused. */
    private async restart(w: WorkerRun, what: string): Promise<boolean> {
        w.restarts++;
        log.warning(`${what}; starting it again (${w.restarts} of ${MAX_RESTARTS}) to resume its videos`);
        const runId = await this.start(w.index, true).catch(
            (error: unknown) => void this.couldNotStart(w.index, error),
        );
        if (!runId) return false;
        w.runId = runId;
        await this.state.setValue(WORKER_RUNS_KEY, this.runs);
        return true;
    }
}
