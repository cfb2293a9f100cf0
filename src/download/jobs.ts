/**
 * Video jobs: what a video needs downloaded, and how far it got. The job list is persisted in the
 * run's state store; which units are done is the work folder itself (a unit's file appears only
 * after it was downloaded completely and verified), so a resumed run recounts instead of trusting.
 *
 * This registry is the only writer of a job: its status changes through `transition()` along the edges of
 * job-state.ts, a live recording grows it through `extendTrack()` and ends it through `endLive()`. Other
 * modules see `VideoJob`, whose changing fields are readonly.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { KeyValueStore, RequestOptions } from '@crawlee/core';
import {
    totalUnits,
    unitName,
    type JobStatus,
    type TrackJob,
    type UnitsTask,
    type UnitTask,
    type VideoJob,
} from '../model.js';
import { isTerminal, nextStatus } from './job-state.js';

/** Who hears of the units a job offers to the download requests (the scheduler's leases). */
export interface UnitsWatcher {
    offered(videoId: string, units: readonly UnitTask[]): void;
    /** The video is merged or failed: its units are nobody's business any more. */
    closed(videoId: string): void;
}

/** The registry's own view of a job: the fields other modules may only read. */
type OwnedJob = { -readonly [K in keyof VideoJob]: VideoJob[K] } & { tracks: TrackJob[] };

interface Progress {
    done: Set<string>;
    failed: Map<string, string>;
    /** Why no unit of the video can be used (its key, URLs that expired for good), with its code. */
    fatal?: { code?: string; message: string };
}

export class VideoJobs {
    private readonly jobs = new Map<string, OwnedJob>();
    private readonly progress = new Map<string, Progress>();
    private readonly watchers: UnitsWatcher[] = [];
    /** The last write of each job to the state store: writes of one job go in order, the last one wins. */
    private readonly writes = new Map<string, Promise<void>>();
    /** Resolved when no job is downloading or merging (allFinished). */
    private finishedWaiters: (() => void)[] = [];

    constructor(
        private readonly store: KeyValueStore,
        readonly workRoot: string,
    ) {}

    /** Hears of every unit offered from now on, and of each job closed. */
    watchUnits(watcher: UnitsWatcher): void {
        this.watchers.push(watcher);
    }

    /** Offers units of a job to the download requests (a new job, a live recording's new units, a resume). */
    offer(id: string, units: readonly UnitTask[]): void {
        for (const w of this.watchers) w.offered(id, units);
    }

    workDir(id: string): string {
        return path.join(this.workRoot, id);
    }

    /**
     * Reloads persisted jobs (resume) and recounts finished units from the work folder. A merge the process
     * did not finish starts again from its units: the job goes back to `downloading`.
     */
    async load(): Promise<VideoJob[]> {
        const loaded: OwnedJob[] = [];
        await this.store.forEachKey(async (key) => {
            if (!key.startsWith('job-')) return;
            const job = await this.store.getValue<OwnedJob>(key);
            if (!job) return;
            this.jobs.set(job.id, job);
            const files = await readdir(this.workDir(job.id)).catch(() => [] as string[]);
            this.progress.set(job.id, { done: new Set(files.filter((f) => f.endsWith('.bin'))), failed: new Map() });
            loaded.push(job);
        });
        for (const job of loaded) if (job.status === 'merging') await this.transition(job.id, 'downloading');
        return loaded;
    }

    get(id: string): VideoJob | undefined {
        return this.jobs.get(id);
    }

    /** A new job (status `downloading`) and the units its queued requests carry. */
    async add(job: VideoJob, units: readonly UnitTask[]): Promise<void> {
        if (job.status !== 'downloading') throw new Error(`a new video job starts downloading, not ${job.status}`);
        this.jobs.set(job.id, job as OwnedJob);
        this.progress.set(job.id, { done: new Set(), failed: new Map() });
        this.offer(job.id, units);
        await this.persist(job.id);
    }

    /**
     * The one place a job's status changes, along the edges of job-state.ts (an edge it does not list throws
     * IllegalTransitionError). The change is made at once, before anything is awaited, so two callers
     * cannot both take the same edge; the returned promise is the job's write to the state store (resume).
     */
    transition(id: string, to: JobStatus): Promise<void> {
        const job = this.jobs.get(id);
        if (!job) throw new Error(`no video job ${id}`);
        job.status = nextStatus(id, job.status, to);
        if (isTerminal(to)) {
            for (const w of this.watchers) w.closed(id);
            if (this.unfinished().length === 0) this.wakeFinished();
        }
        return this.persist(id);
    }

    /** Resolves when no job is downloading or merging: every transition to `done` or `failed` may end it. */
    allFinished(): Promise<void> {
        if (this.unfinished().length === 0) return Promise.resolve();
        return new Promise((resolve) => this.finishedWaiters.push(resolve));
    }

    /** The queued requests of a video, kept so a resumed run can re-queue units whose files were lost. */
    async savePlan(id: string, requests: RequestOptions<UnitsTask>[]): Promise<void> {
        await this.store.setValue(`plan-${id}`, requests);
    }

    async loadPlan(id: string): Promise<RequestOptions<UnitsTask>[]> {
        return (await this.store.getValue<RequestOptions<UnitsTask>[]>(`plan-${id}`)) ?? [];
    }

    /**
     * A live recording's look found new segments of a track: the grown track replaces it, its new units are
     * offered to the video's requests, and the video's recorded duration and gaps grow by what the look added.
     */
    async extendTrack(
        id: string,
        track: TrackJob,
        units: readonly UnitTask[],
        added?: { durationSecs: number; gaps: number },
    ): Promise<void> {
        const job = this.owned(id);
        const i = job.tracks.findIndex((t) => t.name === track.name);
        if (i < 0) throw new Error(`video job ${id} has no track ${track.name}`);
        job.tracks[i] = track;
        if (added) {
            job.durationSecs += added.durationSecs;
            job.gaps = (job.gaps ?? 0) + added.gaps;
        }
        this.offer(id, units);
        await this.persist(id);
    }

    /** Live: the source's own pace between looks (saved with the next write). */
    setLiveRefresh(id: string, secs: number): void {
        this.owned(id).liveRefreshSecs = secs;
    }

    /** The key the video's file goes to, saved before it is stored (VideoJob.storedAs). */
    async storingAs(id: string, key: string): Promise<void> {
        this.owned(id).storedAs = key;
        await this.persist(id);
    }

    /** Live: the recording stopped following its source, and why. */
    async endLive(id: string, end: string): Promise<void> {
        const job = this.owned(id);
        job.liveOpen = false;
        job.liveEnd = end;
        await this.persist(id);
    }

    /** Every unit of the job is stored or failed for good, and nothing more is coming. */
    isSettled(id: string): boolean {
        return this.settled(id);
    }

    isDone(id: string, unit: string): boolean {
        return this.progress.get(id)?.done.has(unit) ?? false;
    }

    /** Records a finished unit; true when it was the job's last outstanding unit. */
    unitDone(id: string, unit: string): boolean {
        const p = this.progress.get(id);
        if (!p) return false;
        p.done.add(unit);
        p.failed.delete(unit);
        return this.settled(id);
    }

    /** Records a unit that failed for good; true when nothing of the job is outstanding any more. */
    unitFailed(id: string, unit: string, reason: string): boolean {
        const p = this.progress.get(id);
        if (!p) return false;
        p.failed.set(unit, reason);
        return this.settled(id);
    }

    /** Every unit name of a job. */
    units(job: VideoJob): string[] {
        return job.tracks.flatMap((t) => [
            ...Array.from({ length: t.inits }, (_, i) => unitName(t.name, 'init', i)),
            ...Array.from({ length: t.segments }, (_, i) => unitName(t.name, 'seg', i)),
        ]);
    }

    /** Marks units that are neither done nor failed as failed: the queue has nothing left for them. */
    failUnaccounted(id: string, reason: string): void {
        const job = this.jobs.get(id);
        const p = this.progress.get(id);
        if (!job || !p) return;
        for (const unit of this.units(job)) if (!p.done.has(unit) && !p.failed.has(unit)) p.failed.set(unit, reason);
    }

    counts(id: string): { done: number; failed: number; total: number } {
        const job = this.jobs.get(id);
        const p = this.progress.get(id);
        return { done: p?.done.size ?? 0, failed: p?.failed.size ?? 0, total: job ? totalUnits(job) : 0 };
    }

    /** The video cannot be had as a whole: its item says this, once, with the error's code. */
    setFatal(id: string, error: Error & { code?: string }): void {
        const p = this.progress.get(id);
        if (p && !p.fatal) p.fatal = { code: error.code, message: error.message };
    }

    fatal(id: string): { code?: string; message: string } | undefined {
        return this.progress.get(id)?.fatal;
    }

    /** The units of a job that failed for good, with why: a copy. */
    failures(id: string): Map<string, string> {
        return new Map(this.progress.get(id)?.failed);
    }

    /** Jobs not yet merged or failed: the crawl is not over while there are any. */
    unfinished(): VideoJob[] {
        return [...this.jobs.values()].filter((j) => !isTerminal(j.status));
    }

    all(): VideoJob[] {
        return [...this.jobs.values()];
    }

    private settled(id: string): boolean {
        // A live recording is not finished while it still follows its source.
        if (this.jobs.get(id)?.liveOpen) return false;
        const c = this.counts(id);
        return c.done + c.failed >= c.total;
    }

    private owned(id: string): OwnedJob {
        const job = this.jobs.get(id);
        if (!job) throw new Error(`no video job ${id}`);
        return job;
    }

    private wakeFinished(): void {
        const waiters = this.finishedWaiters;
        this.finishedWaiters = [];
        for (const wake of waiters) wake();
    }

    /** Writes the job as it is now, after its earlier writes (a write that failed does not stop the next). */
    private persist(id: string): Promise<void> {
        const job = this.owned(id);
        const write = (this.writes.get(id) ?? Promise.resolve())
            .catch(() => undefined)
            .then(() => this.store.setValue(`job-${id}`, job));
        this.writes.set(id, write);
        return write;
    }
}
