/**
 * Live recordings: a video whose source still grows is followed, beside the rest of the crawl, by
 * looking at its tracks again every target duration. New segments become units of the same job
 * (queued like any other, remuxed as they arrive when the video allows), segments that left the
 * window before they were seen are counted as gaps, and the job is finished when the source ends
 * (HLS ENDLIST: a complete recording), when `maxLiveSecs` have been recorded of a source without a
 * promised end, or when the source stops changing. The job and its requests are saved after every
 * look, so a restarted run picks the recording up where it stopped.
 */
import type { RequestProvider } from '@crawlee/core';
import { log } from '@crawlee/core';
import type { VideoJobs } from '../download/jobs.js';
import { extendTrack, groupRequests, knownInitsOf } from '../download/unit-tasks.js';
import type { ManifestFetcher, TrackJob, TrackPlan, VideoJob } from '../model.js';
import { delay } from '../time/delay.js';
import { refreshDelayMs, stallLimitMs, windowUpdate } from './window.js';

/** An HLS EVENT playlist will end; this bounds a broken one that never does. */
const EVENT_CAP_MS = 6 * 3600_000;
/** Units per queued request of a live recording: a look brings a few segments per track. */
const LIVE_RUN = 4;

export interface LiveRecorderOptions {
    jobs: VideoJobs;
    queue: RequestProvider;
    maxLiveSecs: number;
    /** Failed looks in a row before the recording ends. */
    retries: number;
    client(job: VideoJob): ManifestFetcher;
    poll(job: VideoJob, track: TrackJob, fetcher: ManifestFetcher): Promise<TrackPlan>;
    /** The job's units are all accounted for and it follows its source no more. */
    onSettled(id: string): void;
    /** New units were queued. */
    onQueued(): void;
    /** The run's stop: the wait for the next look ends at once, and the recording with it. */
    signal?: AbortSignal;
}

export class LiveRecorder {
    private readonly running = new Map<string, Promise<void>>();
    private readonly stopping = new AbortController();
    /** Aborted by the run's stop or by stop(): ends every wait between two looks. */
    private readonly stopped: AbortSignal;

    constructor(private readonly options: LiveRecorderOptions) {
        const { signal } = options;
        this.stopped = signal ? AbortSignal.any([signal, this.stopping.signal]) : this.stopping.signal;
    }

    /** Follows a live job until its recording ends; a job already followed is left alone. */
    follow(job: VideoJob): void {
        if (this.running.has(job.id) || !job.liveOpen) return;
        const run = this.record(job)
            .catch((error: Error) => log.exception(error, `Live recording of ${job.pageUrl} stopped unexpectedly`))
            .finally(() => this.running.delete(job.id));
        this.running.set(job.id, run);
    }

    /** Resolves when every recording followed now has ended by itself (the source ended, maxLiveSecs, a stall). */
    async ended(): Promise<void> {
        await Promise.allSettled([...this.running.values()]);
    }

    /** Recordings still following their source. */
    active(): number {
        return this.running.size;
    }

    /**
     * Ends every recording now (the crawl is over or stopped) and waits for them: a wait for the next look
     * (up to 10 s) ends at once, so the run's wind-down (lifecycle.ts WIND_DOWN_MS) is not overrun.
     */
    async stop(): Promise<void> {
        this.stopping.abort();
        await Promise.allSettled([...this.running.values()]);
    }

    private async record(job: VideoJob): Promise<void> {
        const { jobs, maxLiveSecs } = this.options;
        const fetcher = this.options.client(job);
        const plan = await jobs.loadPlan(job.id);
        const units = plan.flatMap((r) => r.userData?.units ?? []);
        const knownInits = new Map(job.tracks.map((t) => [t.name, knownInitsOf(t.name, units)]));
        const bound = job.liveEndless ? maxLiveSecs * 1000 : EVENT_CAP_MS;
        const since = job.liveSince ?? Date.now();
        let lastNew = Date.now();
        let failedLooks = 0;
        let end: string | undefined;
        log.info(
            `Recording a live stream from ${job.pageUrl}${job.liveEndless ? ` for up to ${maxLiveSecs} s` : ' until it ends'}`,
        );
        while (!end) {
            const wait = refreshDelayMs(job.liveRefreshSecs);
            await delay(wait, this.stopped);
            if (this.stopped.aborted) {
                // The run reports the video as it stands (app/crawl-end.ts abandonDownloads). The job stays open, so a
                // unit arriving now does not settle it into a merge whose storages are being dropped.
                log.info(`Live recording of ${job.pageUrl} stops: the crawl was stopped`);
                return;
            }
            if (Date.now() - since >= bound) {
                end = job.liveEndless ? `recorded for maxLiveSecs (${maxLiveSecs} s)` : 'followed for 6 hours';
                break;
            }
            let ended = true;
            let grew = false;
            let error: Error | undefined;
            for (const track of job.tracks) {
                let current: TrackPlan;
                try {
                    current = await this.options.poll(job, track, fetcher);
                } catch (e) {
                    // Only the video's own playlist decides; a subtitle or audio playlist that fails costs that look.
                    if (track.name === 'v') {
                        error = e as Error;
                        ended = false;
                    }
                    continue;
                }
                const update = windowUpdate(track.lastSeq ?? track.firstSeq + track.segments - 1, current);
                if (!update.ended) ended = false;
                if (track.name === 'v' && current.refreshSecs) jobs.setLiveRefresh(job.id, current.refreshSecs);
                if (!update.fresh.length) continue;
                grew = true;
                const known = knownInits.get(track.name) ?? new Map<string, number>();
                const grown = extendTrack(track, update.fresh, current.inits, known);
                const added = track.name === 'v' ? { durationSecs: grown.durationSecs, gaps: update.gaps } : undefined;
                const requests = groupRequests(job.id, grown.units, LIVE_RUN, job.proxySession);
                plan.push(...requests);
                await jobs.extendTrack(job.id, grown.track, grown.units, added);
                await this.options.queue.addRequests(requests);
                this.options.onQueued();
            }
            failedLooks = error ? failedLooks + 1 : 0;
            if (error && failedLooks > this.options.retries)
                end = `the stream could not be read any more: ${error.message}`;
            else if (ended) end = 'the stream ended';
            if (grew) {
                lastNew = Date.now();
                await jobs.savePlan(job.id, plan);
            } else if (!end && Date.now() - lastNew > stallLimitMs(wait)) {
                end = 'the stream stopped updating';
            }
        }
        await jobs.endLive(job.id, end);
        log.info(
            `Live recording of ${job.pageUrl} ends: ${end} (${job.durationSecs.toFixed(1)} s, ${job.gaps ?? 0} gaps)`,
        );
        // Stopped during its last look: no merge is started either.
        if (!this.stopped.aborted && jobs.isSettled(job.id)) this.options.onSettled(job.id);
    }
}
