/**
 * Video jobs: what a video needs downloaded, and how far it got. The job list is persisted in the
 * run's state store; which units are done is the work folder itself (a unit's file appears only
 * after it was downloaded completely and verified), so a resumed run recounts instead of trusting.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { KeyValueStore, RequestOptions } from '@crawlee/core';
import { totalUnits, unitName, type JobStatus, type UnitsTask, type UnitTask, type VideoJob } from '../model.js';

/** Who hears of the units a job offers to the download requests (the scheduler's leases). */
export interface UnitsWatcher {
    offered(videoId: string, units: readonly UnitTask[]): void;
    /** The video is merged or failed: its units are nobody's business any more. */
    closed(videoId: string): void;
}

interface Progress {
    done: Set<string>;
    failed: Map<string, string>;
    /** Why no unit of the video can be used (its key, URLs that expired for good), with its code. */
    fatal?: { code?: string; message: string };
}

export class VideoJobs {
    private readonly jobs = new Map<string, VideoJob>();
    private readonly progress = new Map<string, Progress>();
    private readonly watchers: UnitsWatcher[] = [];

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

    /** Reloads persisted jobs (resume) and recounts finished units from the work folder. */
    async load(): Promise<VideoJob[]> {
        const loaded: VideoJob[] = [];
        await this.store.forEachKey(async (key) => {
            if (!key.startsWith('job-')) return;
            const job = await this.store.getValue<VideoJob>(key);
            if (!job) return;
            this.jobs.set(job.id, job);
            const files = await readdir(this.workDir(job.id)).catch(() => [] as string[]);
            this.progress.set(job.id, { done: new Set(files.filter((f) => f.endsWith('.bin'))), failed: new Map() });
            loaded.push(job);
        });
        return loaded;
    }

    get(id: string): VideoJob | undefined {
        return this.jobs.get(id);
    }

    /** A new job and the units its queued requests carry. */
    async add(job: VideoJob, units: readonly UnitTask[]): Promise<void> {
        this.jobs.set(job.id, job);
        this.progress.set(job.id, { done: new Set(), failed: new Map() });
        this.offer(job.id, units);
        await this.persist(job);
    }

    async setStatus(job: VideoJob, status: JobStatus): Promise<void> {
        job.status = status;
        if (status === 'done' || status === 'failed') for (const w of this.watchers) w.closed(job.id);
        await this.persist(job);
    }

    /** The queued requests of a video, kept so a resumed run can re-queue units whose files were lost. */
    async savePlan(id: string, requests: RequestOptions<UnitsTask>[]): Promise<void> {
        await this.store.setValue(`plan-${id}`, requests);
    }

    async loadPlan(id: string): Promise<RequestOptions<UnitsTask>[]> {
        return (await this.store.getValue<RequestOptions<UnitsTask>[]>(`plan-${id}`)) ?? [];
    }

    /** A live recording's new units: offered to the video's requests and counted. */
    async extend(job: VideoJob, units: readonly UnitTask[]): Promise<void> {
        this.offer(job.id, units);
        await this.persist(job);
    }

    /** Saves a job whose fields changed (a live recording's counts, its end). */
    async save(job: VideoJob): Promise<void> {
        await this.persist(job);
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

    failures(id: string): Map<string, string> {
        return this.progress.get(id)?.failed ?? new Map();
    }

    /** Jobs not yet merged or failed: the crawl is not over while there are any. */
    unfinished(): VideoJob[] {
        return [...this.jobs.values()].filter((j) => j.status === 'downloading' || j.status === 'merging');
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

    private async persist(job: VideoJob): Promise<void> {
        await this.store.setValue(`job-${job.id}`, job);
    }
}
