/**
 * The scheduler of the download stage: which unit each running request fetches next, what a stored
 * unit means for its video, and what becomes of the units of a request that fails.
 *
 * It owns the leases (`unit-leases.ts`), the units each request holds and has not stored (`held`:
 * what its retry fetches again and its final failure reports), and the last error of each unit (the
 * reason its video's item gives). A queued request is only a ticket for a connection: it fetches the
 * earliest unleased unit of its own video, then of any other video, until none is left. So the queue
 * holds about one request per connection per video (`unit-tasks.ts`), and a connection never waits on
 * the queue between units, nor at the tail of a video for the next video's requests.
 *
 * Why not one request per segment: measured on Crawlee's local storage on this machine (2 cores, load
 * 16), a queued request cost 10–15 ms to add and 25 ms to fetch and mark handled, 7–10 ms of it CPU: on
 * 3,000 segments that is 20–30 s of CPU, more than the whole download of 940 MB at the network's pace.
 */
import type { RequestOptions } from '@crawlee/core';
import { UnitsFailedError } from '../errors.js';
import type { UnitsTask, UnitTask, VideoJob } from '../model.js';
import type { VideoJobs } from './jobs.js';
import { isVideoFatal } from './renew.js';
import type { Connection } from './connections.js';
import { continuationRequest } from './unit-tasks.js';
import { UnitLeases, type LeasedUnit } from './unit-leases.js';

/**
 * How long a request keeps taking units: a bound on how long it holds its slot (the handler timeout
 * is 300 s). What it leaves of its own run goes back to the queue (`continuationRequest`).
 */
export const TAKE_BUDGET_MS = 60_000;

export interface SchedulerEvents {
    /**
     * A unit's file is in the video's work folder under its final name, complete and checked: the one
     * place a unit is committed (a merge that runs while the video downloads listens here). Units arrive
     * about in playback order.
     */
    onUnitCommitted?(videoId: string, unit: string): void;
    /** Every unit of the video is either on disk or failed for good (or the video failed as a whole). */
    onVideoSettled(videoId: string): void;
}

export interface SchedulerOptions extends SchedulerEvents {
    jobs: VideoJobs;
    /** Puts a request (a run handed back when its time is up) into the download queue. */
    requeue(request: RequestOptions<UnitsTask>): Promise<void>;
    takeBudgetMs?: number;
    /**
     * The run's stop: no unit is taken after it. An interrupted run's videos keep their state and are resumed
     * (its requests would otherwise fetch every unit left while the run winds down: all 300 remaining of a
     * 600-segment video in the 4 s after a Ctrl-C, measured in test/e2e-resilience.test.ts).
     */
    signal?: AbortSignal;
    /** Connections one request keeps busy at once (`lanesPerRequest`); 1 when not given. */
    lanes?: number;
    /**
     * Runs one fetch on one of the run's connections, waiting for a free one (`connections.ts`); a
     * lane takes its unit only once it has the connection, so a unit never waits leased and unfetched.
     */
    connection?: Connection;
}

/** Fetches one unit into place; resolves to the bytes received (`UnitFetcher.fetch`). */
export type FetchUnit = (job: VideoJob, unit: UnitTask) => Promise<number>;

/** What one run of a request did: bytes received, units tried, the errors of those that failed. */
interface Tally {
    bytes: number;
    tried: number;
    errors: Error[];
}

const unitKey = (videoId: string, unit: string): string => `${videoId}:${unit}`;

export class DownloadScheduler {
    readonly leases = new UnitLeases();
    /** Request uniqueKey → units it leased and has not stored. */
    private readonly held = new Map<string, LeasedUnit[]>();
    /** Last error per unit (`videoId:unit`), for the reason of a unit that fails for good. */
    private readonly unitErrors = new Map<string, string>();

    constructor(private readonly options: SchedulerOptions) {
        options.jobs.watchUnits({
            offered: (videoId, units) => this.leases.offer(videoId, units),
            closed: (videoId) => this.leases.forget(videoId),
        });
    }

    /** The job while it still wants units: a failed video (e.g. an unusable key) is not worth fetching for. */
    private wanted(videoId: string): VideoJob | undefined {
        const { jobs, signal } = this.options;
        // The run stopped: no video wants a unit any more (held ones are let go, none is taken).
        if (signal?.aborted) return undefined;
        const job = jobs.get(videoId);
        return job?.status === 'downloading' && !jobs.fatal(videoId) ? job : undefined;
    }

    /** Records a unit whose file is in place; tells who listens, and settles its video if it was the last. */
    commit(videoId: string, unit: string): void {
        const settled = this.options.jobs.unitDone(videoId, unit);
        this.options.onUnitCommitted?.(videoId, unit);
        if (settled) this.options.onVideoSettled(videoId);
    }

    /**
     * Runs one queued request: keeps its lanes (connections) busy with units until no video has one
     * left unleased (or its time is up). A retry first fetches again what this request holds and did
     * not store. A unit that fails does not stop the others; the request then fails as a whole, and its
     * retry (or its final failure, `failRequest`) answers for the units it holds. Resolves to the bytes
     * received.
     */
    async run(task: UnitsTask, holder: string, fetch: FetchUnit): Promise<number> {
        const { jobs, lanes = 1, connection = (work) => work() } = this.options;
        const started = Date.now();
        const held = this.held.get(holder) ?? [];
        this.held.set(holder, held);
        const tally: Tally = { bytes: 0, tried: 0, errors: [] };
        // A resumed run counted the units on disk: the last of them may settle the video.
        for (const { unit } of task.units)
            if (jobs.isDone(task.videoId, unit) && jobs.unitDone(task.videoId, unit))
                this.options.onVideoSettled(task.videoId);
        for (const leased of [...held]) await connection(() => this.fetchHeld(leased, holder, fetch, tally));
        const skip = (videoId: string, unit: string): boolean => jobs.isDone(videoId, unit);
        let timeUp = false;
        /** Takes the next unit and fetches it; false when there is none (or the request's time is up). */
        const takeAndFetch = async (): Promise<boolean> => {
            if (timeUp) return false;
            if (Date.now() - started > (this.options.takeBudgetMs ?? TAKE_BUDGET_MS)) {
                timeUp = true;
                const rest = continuationRequest(
                    task,
                    holder,
                    (u) => skip(task.videoId, u),
                    (u) => this.leases.holder(task.videoId, u),
                );
                if (rest) await this.options.requeue(rest);
                return false;
            }
            const own = this.wanted(task.videoId)
                ? this.leases.takeNext(task.videoId, holder, (u) => skip(task.videoId, u))
                : undefined;
            const next = own
                ? { videoId: task.videoId, unit: own }
                : this.leases.takeAny(holder, (id) => this.wanted(id) !== undefined, skip);
            if (!next) return false;
            // Held before the fetch: the request's retry and its final failure then cover the unit.
            held.push(next);
            await this.fetchHeld(next, holder, fetch, tally);
            return true;
        };
        const lane = async (): Promise<void> => {
            while (await connection(takeAndFetch));
        };
        // Every lane ends before the request does: a lane that threw (the hand-back above) must not leave
        // the others fetching for a request Crawlee already counts as over.
        const ended = await Promise.allSettled(Array.from({ length: Math.max(1, lanes) }, lane));
        const thrown = ended.find((e): e is PromiseRejectedResult => e.status === 'rejected');
        if (thrown) throw thrown.reason;
        if (tally.errors.length) throw new UnitsFailedError(tally.errors, tally.tried);
        this.held.delete(holder);
        return tally.bytes;
    }

    /** Fetches a held unit; stored, it is let go; failed, it stays held (retried with the request). */
    private async fetchHeld(leased: LeasedUnit, holder: string, fetch: FetchUnit, tally: Tally): Promise<void> {
        const { videoId, unit } = leased;
        const job = this.wanted(videoId);
        // The video failed or was settled meanwhile: the unit is not worth fetching.
        if (!job) return this.letGo(holder, leased);
        if (this.options.jobs.isDone(videoId, unit.unit)) {
            this.letGo(holder, leased);
            return this.commit(videoId, unit.unit);
        }
        tally.tried++;
        try {
            // Not `tally.bytes += await …`: that reads the sum before the await, and lanes fetch at once.
            const bytes = await fetch(job, unit);
            tally.bytes += bytes;
            this.letGo(holder, leased);
            this.commit(videoId, unit.unit);
        } catch (error) {
            const failure = error instanceof Error ? error : new Error(String(error));
            // The video cannot be had (its key, URLs that expired for good): it fails now, once, as a whole.
            if (isVideoFatal(failure)) return this.failVideo(videoId, failure);
            this.unitErrors.set(unitKey(videoId, unit.unit), `${unit.unit}: ${failure.message}`);
            tally.errors.push(failure);
        }
    }

    private letGo(holder: string, leased: LeasedUnit): void {
        const held = this.held.get(holder);
        const at = held?.indexOf(leased) ?? -1;
        if (at >= 0) held!.splice(at, 1);
    }

    /**
     * Without its key or its URLs no unit of the video can be used: it is settled now, not after every
     * unit, and every request lets go of its units.
     */
    private failVideo(videoId: string, error: Error): void {
        const { jobs } = this.options;
        jobs.setFatal(videoId, error);
        for (const held of this.held.values()) {
            for (const leased of held.filter((h) => h.videoId === videoId)) {
                held.splice(held.indexOf(leased), 1);
                if (!jobs.isDone(videoId, leased.unit.unit)) jobs.unitFailed(videoId, leased.unit.unit, error.message);
            }
        }
        this.options.onVideoSettled(videoId);
    }

    /**
     * A request failed for good: each unit it holds fails with its own last error, and so does each
     * unit of its own run that nobody holds (no other request answers for it). Their videos are settled
     * when nothing of them is outstanding any more.
     */
    failRequest(task: UnitsTask, holder: string, error: Error): void {
        const { jobs } = this.options;
        if (isVideoFatal(error)) return this.failVideo(task.videoId, error);
        const held = this.held.get(holder) ?? [];
        this.held.delete(holder);
        const free = task.units
            .filter((u) => this.leases.holder(task.videoId, u.unit) === undefined)
            .map((unit) => ({ videoId: task.videoId, unit }));
        const settled = new Set<string>();
        for (const { videoId, unit } of [...held, ...free]) {
            if (jobs.isDone(videoId, unit.unit)) continue;
            const reason = this.unitErrors.get(unitKey(videoId, unit.unit)) ?? `${unit.unit}: ${error.message}`;
            if (jobs.unitFailed(videoId, unit.unit, reason)) settled.add(videoId);
        }
        for (const videoId of settled) this.options.onVideoSettled(videoId);
    }
}
