/**
 * Found playlists → video jobs with their segment requests in the run's download queue.
 */
import { createHash } from 'node:crypto';
import type { ProxyConfiguration, RequestOptions, RequestProvider } from '@crawlee/core';
import type { CrawlInput } from '../../input.js';
import { fetchBytes } from '../../net/fetch.js';
import type { Headers } from '../../net/headers.js';
import { pushItem } from '../../output.js';
import type { FoundVideos, PlaylistCandidate } from '../../pages/page-crawler.js';
import { normalizeUrl } from '../../urls.js';
import type { VideoJob, VideoJobs } from '../../download/jobs.js';
import { segmentRequests, trackJob, type SegmentTask } from '../../download/segment-task.js';
import { resolveVideo, type FetchText } from './resolve.js';
import { ALREADY_DOWNLOADED, archiveKeys, type Archive } from '../../archive.js';

const PLAYLIST_MAX_BYTES = 32 * 1024 * 1024;

export function videoId(playlistUrl: string, quality: CrawlInput['videoQuality']): string {
    return createHash('sha256').update(`${normalizeUrl(playlistUrl)}|${JSON.stringify(quality)}`).digest('hex').slice(0, 16);
}

/**
 * What the archive remembers a video by: its page, the playlist's path (query strings carry tokens
 * that change from run to run) and the quality asked for. Pure.
 */
export function archiveVideoId(pageUrl: string, playlistUrl: string, quality: CrawlInput['videoQuality']): string {
    const u = new URL(playlistUrl);
    return createHash('sha256').update(`${normalizeUrl(pageUrl)}|${u.origin}${u.pathname}|${JSON.stringify(quality)}`).digest('hex').slice(0, 16);
}

const planKey = (id: string): string => `plan-${id}`;

/** Requests queued before a video's download starts; the rest follow in the background. */
const FIRST_BATCH = 16;

export class VideoSubmitter {
    /** Playlist URL (any variant or rendition of a video taken on) → the page that found it. */
    private readonly covered = new Map<string, string>();

    constructor(
        private readonly input: CrawlInput,
        private readonly jobs: VideoJobs,
        private readonly queue: RequestProvider,
        private readonly archive: Archive,
        private readonly proxyConfiguration?: ProxyConfiguration,
    ) {
        for (const job of jobs.all()) for (const url of [job.url, job.variantUrl]) this.covered.set(normalizeUrl(url), job.pageUrl);
    }

    private fetchText(headers: Headers, proxySession?: string): FetchText {
        return async (url) => {
            const proxyUrl = await this.proxyConfiguration?.newUrl(proxySession);
            const res = await fetchBytes(url, { headers, proxyUrl, retries: this.input.maxRequestRetries, maxBytes: PLAYLIST_MAX_BYTES });
            return { text: res.body.toString('utf8'), url: res.url, contentType: res.contentType };
        };
    }

    /** Every playlist a page yielded; failures become `failed` video items, the page goes on. */
    async submitPage(found: FoundVideos): Promise<number> {
        let submitted = 0;
        const failures: { candidate: PlaylistCandidate; error: Error }[] = [];
        for (const candidate of found.playlists) {
            const coveredBy = this.covered.get(normalizeUrl(candidate.url));
            if (coveredBy !== undefined) {
                // Another page of this crawl shows the same video: one download, and a visible trace here.
                if (coveredBy !== found.pageUrl) await this.pushSameVideo(found, candidate, coveredBy);
                continue;
            }
            try {
                if (await this.submit(candidate, found)) submitted++;
            } catch (error) {
                failures.push({ candidate, error: error as Error });
            }
        }
        // A playlist the player fetched is a real video; a URL merely mentioned in a script may be
        // stale, so it is reported only when nothing better was found.
        const reported = failures.filter((f) => f.candidate.source === 'network' || submitted === 0);
        for (const { candidate, error } of submitted === 0 ? reported.slice(0, 1) : reported) {
            await pushItem({ type: 'video', status: 'failed', pageUrl: found.pageUrl, url: candidate.url, title: found.title, error: error.message });
        }
        return submitted;
    }

    private async pushSameVideo(found: FoundVideos, candidate: PlaylistCandidate, otherPage: string): Promise<void> {
        await pushItem({ type: 'video', status: 'skipped', pageUrl: found.pageUrl, url: candidate.url, title: found.title, error: `the same video as on ${otherPage}, downloaded once` });
    }

    private async submit(candidate: PlaylistCandidate, found: FoundVideos): Promise<boolean> {
        const id = videoId(candidate.url, this.input.videoQuality);
        const same = this.jobs.get(id);
        if (same) {
            if (same.pageUrl !== found.pageUrl) await this.pushSameVideo(found, candidate, same.pageUrl);
            return false;
        }
        const archiveId = archiveVideoId(found.pageUrl, candidate.url, this.input.videoQuality);
        const earlier = await this.archive.get(archiveKeys.video(archiveId));
        if (earlier) {
            this.covered.set(normalizeUrl(candidate.url), found.pageUrl);
            await pushItem({ type: 'video', status: 'skipped', pageUrl: found.pageUrl, url: candidate.url, title: found.title, error: `${ALREADY_DOWNLOADED} (stored as "${earlier.key}" on ${earlier.at})` });
            return true;
        }
        const video = await resolveVideo(candidate.url, this.fetchText(candidate.headers, found.proxySession), this.input.videoQuality, this.input.maxSegmentsPerVideo);
        for (const url of [video.playlistUrl, video.variantUrl, ...video.relatedUrls]) this.covered.set(normalizeUrl(url), found.pageUrl);
        const job: VideoJob = {
            id,
            pageUrl: found.pageUrl,
            url: candidate.url,
            variantUrl: video.variantUrl,
            title: found.title,
            headers: candidate.headers,
            width: video.width,
            height: video.height,
            durationSecs: video.main.durationSecs,
            live: video.main.live,
            tracks: [trackJob('v', video.main), ...(video.audio ? [trackJob('a', video.audio)] : [])],
            status: 'downloading',
            archiveId,
            proxySession: found.proxySession,
        };
        const requests = segmentRequests(id, video, this.input.maxConcurrency, found.proxySession);
        // The plan is kept so a resumed run can re-queue units whose files were lost (a migration keeps storages, not disks).
        await this.jobs.savePlan(planKey(id), requests);
        await this.jobs.add(job, requests.flatMap((r) => r.userData?.units ?? []));
        // The first requests go in alone so downloading starts while the rest are written (locally each
        // queued request is a file; 110 of them took 0.4 s). The queue reports itself unfinished until
        // the background batches are in; a run killed meanwhile re-queues from the plan.
        await this.queue.addRequestsBatched(requests, { batchSize: FIRST_BATCH, waitBetweenBatchesMillis: 0 });
        return true;
    }

    /**
     * Resume: puts back every unit of unfinished jobs that has no file yet. Units the queue already
     * counts as handled (failed before, or done on a machine whose disk is gone) get a fresh key.
     */
    async requeueMissing(job: VideoJob): Promise<number> {
        const plan = (await this.jobs.loadPlan(planKey(job.id))) as RequestOptions<SegmentTask>[] | undefined;
        if (!plan) return 0;
        const missing = plan.filter((r) => r.userData?.units.some((u) => !this.jobs.isDone(job.id, u.unit)));
        if (!missing.length) return 0;
        this.jobs.claims.offer(job.id, missing.flatMap((r) => r.userData?.units ?? []));
        const result = await this.queue.addRequests(missing);
        const handled = new Set(result.processedRequests.filter((p) => p.wasAlreadyHandled).map((p) => p.uniqueKey));
        const again = missing.filter((r) => handled.has(r.uniqueKey ?? '')).map((r) => ({ ...r, uniqueKey: `${r.uniqueKey}#${Date.now()}` }));
        if (again.length) await this.queue.addRequests(again);
        return missing.reduce((n, r) => n + (r.userData?.units.filter((u) => !this.jobs.isDone(job.id, u.unit)).length ?? 0), 0);
    }
}
