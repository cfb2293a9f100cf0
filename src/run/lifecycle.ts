/**
 * How a run on the Apify platform ends early, and what it leaves behind.
 *
 * - `aborting` (a graceful abort; the platform kills the container 30 s later): the crawl stops,
 *   REPORT.html is written with what was stored, the run's named storages are dropped, and the status
 *   message says what was left undone.
 * - The run timeout (`ACTOR_TIMEOUT_AT`; the platform sends no event, it just kills): the same, a margin
 *   before it.
 * - `migrating` (the container moves to another server; the run starts again there with the same id
 *   and storages): the named storages are kept, because the resumed run continues from them, and nothing
 *   is reported. The SDK then reboots the run, which moves it at once instead of when the server goes.
 *
 * - Ctrl-C on a laptop (SIGINT, not on the platform): the crawl stops as it does for `aborting` and reports what
 *   was stored, but keeps its named storages and writes no failure for the videos in progress: the same
 *   command started again with `CRAWLEE_PURGE_ON_START=0` resumes them, as after a kill. A second Ctrl-C
 *   quits at once (exit code 130).
 *
 * The SDK's own handlers (`Actor.init({ gracefulShutdown })`, on by default) would call `Actor.exit()` on
 * `aborting`: the process would end without a report and with the named storages left on the platform.
 */
import { setMaxListeners } from 'node:events';
import { Actor } from 'apify';
import { log } from '@crawlee/core';
import { releaseLocksForMigration } from './storage.js';

export type StopReason = 'aborting' | 'timeout' | 'interrupted';

/**
 * After a stop, the crawl gets this long to wind down (abort its pools, close Chromium; measured 1–3 s in
 * test/e2e-lifecycle.test.ts); then the run reports and drops its storages regardless, well inside the
 * 30 s the platform gives after `aborting`.
 */
export const WIND_DOWN_MS = 10_000;

/**
 * How long before the run timeout the crawl stops: 5 % of the run's time, at least 15 s, at most 60 s.
 * Stopping, the report and the drop took 2–4 s in the lifecycle test; the floor leaves room for a slow API
 * and a browser that closes slowly, the cap keeps a day-long run from stopping minutes early. Pure.
 */
export function stopMarginMs(runMs: number): number {
    return Math.min(60_000, Math.max(15_000, runMs * 0.05));
}

/** When to stop, from `ACTOR_TIMEOUT_AT` (ISO time); undefined for a run without a timeout. Pure. */
export function stopAt(timeoutAtIso: string | undefined, startedAt: number): number | undefined {
    const at = timeoutAtIso ? Date.parse(timeoutAtIso) : Number.NaN;
    if (!Number.isFinite(at)) return undefined;
    return at - stopMarginMs(Math.max(0, at - startedAt));
}

/** The platform's start of the run (`ACTOR_STARTED_AT`), else this process's. */
function runStartedAt(env: NodeJS.ProcessEnv): number {
    const at = Date.parse(env.ACTOR_STARTED_AT ?? env.APIFY_STARTED_AT ?? '');
    return Number.isFinite(at) ? at : Date.now() - process.uptime() * 1000;
}

export class RunLifecycle {
    private readonly controller = new AbortController();
    private timer?: NodeJS.Timeout;
    private stoppedAt?: number;
    /** Why the run stops early, once it does. */
    reason?: StopReason;
    /** The platform is moving the run: keep every storage, report nothing, let the platform restart it. */
    migrating = false;
    /**
     * Aborted when the crawl must wind down: the one signal of the run, through `crawl()` to the media
     * clients' requests and waits, the download crawler's retry waits and the live recorder (time/).
     */
    readonly signal = this.controller.signal;

    constructor() {
        // Every request in flight and every wait listens to it while it lasts: more than Node's default
        // of 10 at once is normal here, not a leak.
        setMaxListeners(0, this.signal);
    }

    /**
     * Listens for the platform's events (and, run locally, for Ctrl-C) and arms the timeout; `Actor.init`
     * must have run.
     */
    install(env: NodeJS.ProcessEnv = process.env, local = !Actor.isAtHome()): void {
        Actor.on('aborting', () => this.stop('aborting'));
        // Crawlee's crawlers listen for SIGINT too while they run (each pauses its pool, once): with this
        // listener the process no longer exits on the first one, so the crawl winds down through the one signal.
        if (local) process.on('SIGINT', this.interrupted);
        Actor.on('migrating', () => this.migrate());
        const at = stopAt(env.ACTOR_TIMEOUT_AT ?? env.APIFY_TIMEOUT_AT, runStartedAt(env));
        if (at === undefined) return;
        this.timer = setTimeout(() => this.stop('timeout'), Math.max(0, at - Date.now()));
        this.timer.unref();
    }

    stop(reason: StopReason): void {
        if (this.reason || this.migrating) return;
        this.reason = reason;
        this.stoppedAt = Date.now();
        if (reason === 'interrupted') {
            log.warning(
                'Interrupted: stopping the crawl and writing the report of what was stored. Start the same command ' +
                    'again with CRAWLEE_PURGE_ON_START=0 to resume the videos in progress; Ctrl-C again quits at once',
            );
        } else {
            const why = reason === 'aborting' ? 'The run is being aborted' : 'The run timeout is near';
            log.warning(`${why}: stopping the crawl, writing the report of what was stored`);
        }
        this.controller.abort(reason);
    }

    /** Ctrl-C: the first stops the crawl, a second one quits at once. */
    private readonly interrupted = (): void => {
        if (!this.reason) return this.stop('interrupted');
        log.warning('Quitting at once: what was stored stays; CRAWLEE_PURGE_ON_START=0 resumes the videos in progress');
        process.exit(130);
    };

    /**
     * Whether the run's named storages outlive it: a migrating run resumes from them elsewhere, an interrupted
     * one when it is started again.
     */
    get keepsStorages(): boolean {
        return this.migrating || this.reason === 'interrupted';
    }

    /** The process's exit code once the run is over: 130 after Ctrl-C, as a shell expects. */
    get exitCode(): number {
        return this.reason === 'interrupted' ? 130 : 0;
    }

    migrate(): void {
        if (this.migrating) return;
        this.migrating = true;
        log.info('The run is migrating to another server: state kept, it resumes there');
        void (async () => {
            await releaseLocksForMigration();
            // Persists every listener's state (Crawlee pauses its crawlers on `migrating`), then restarts the run.
            await Actor.reboot();
        })().catch((error: Error) => log.warning(`Preparing the migration failed: ${error.message}`));
    }

    /** Resolves when the crawl has had its time to wind down after a stop; never without a stop. */
    async windDownOver(): Promise<void> {
        await new Promise<void>((resolve) => {
            const wait = () => {
                const left = (this.stoppedAt ?? Date.now()) + WIND_DOWN_MS - Date.now();
                setTimeout(resolve, Math.max(0, left));
            };
            if (this.signal.aborted) wait();
            else this.signal.addEventListener('abort', wait, { once: true });
        });
    }

    /** While migrating the process only waits: the platform stops it and starts the run elsewhere. */
    async migrated(): Promise<never> {
        for (;;) await new Promise((resolve) => setTimeout(resolve, 60_000));
    }

    dispose(): void {
        clearTimeout(this.timer);
        process.off('SIGINT', this.interrupted);
    }
}
