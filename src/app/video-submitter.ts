/**
 * Found videos → video jobs with their unit requests in the run's download queue. Wires the source
 * stage (a candidate URL → a format-neutral plan) to the download stage; knows no format itself.
 */
import { createHash } from 'node:crypto';
import type { ProxyConfiguration, RequestProvider } from '@crawlee/core';
import { ALREADY_DOWNLOADED, archiveKeys } from '../results/archive.js';
import { videoNote as videoNoteItem } from '../results/items.js';
import type { Results } from '../results/results.js';
import type { VideoJobs } from '../download/jobs.js';
import { FIRST_BATCH, trackJob, unitRequests } from '../download/unit-tasks.js';
import { errorCode } from '../errors.js';
import type { CrawlInput } from '../input/input.js';
import { planDuration, type FoundVideos, type MediaItem, type VideoCandidate, type VideoJob } from '../model.js';
import { MediaClient } from '../net/media-client.js';
import { urlsRefusal } from '../net/guard.js';
import { nameFromUrl } from '../results/output.js';
import { formatFromUrl, resolvePlan, withPageSubtitles, withReceived } from '../sources/index.js';
import { normalizeUrl } from '../urls.js';
import { credentials } from '../net/credentials.js';
import type { Claims } from '../run/claims.js';

export function videoId(url: string, quality: CrawlInput['videoQuality']): string {
    return createHash('sha256')
        .update(`${normalizeUrl(url)}|${JSON.stringify(quality)}`)
        .digest('hex')
        .slice(0, 16);
}

/**
 * What the archive remembers a video by: its page, the manifest's or file's path (query strings
 * carry tokens that change from run to run) and the quality asked for. Pure.
 */
export function archiveVideoId(pageUrl: string, url: string, quality: CrawlInput['videoQuality']): string {
    const u = new URL(url);
    const id = `${normalizeUrl(pageUrl)}|${u.origin}${u.pathname}|${JSON.stringify(quality)}`;
    return createHash('sha256').update(id).digest('hex').slice(0, 16);
}

/** The item of a video that was not stored: found on this page, with why. Pure. */
export function videoNote(
    found: FoundVideos,
    candidate: VideoCandidate,
    status: 'failed' | 'skipped',
    error: string,
    extra: Partial<MediaItem> = {},
): MediaItem {
    const format = candidate.format ?? formatFromUrl(candidate.url);
    const at = { pageUrl: found.pageUrl, url: candidate.url, format, title: found.title };
    return videoNoteItem(at, status, error, extra);
}

/**
 * What a video is known by across runs: its URL, or for a manifest the page built itself (a
 * `blob:` URL is new on every load) the hash of its text, so resume and the archive recognise it.
 */
export function identityUrl(candidate: VideoCandidate): string {
    if (!candidate.inline) return candidate.url;
    return `inline:${createHash('sha256').update(candidate.inline.text).digest('hex').slice(0, 32)}`;
}

const isManifest = (c: VideoCandidate): boolean => (c.format ?? formatFromUrl(c.url)) !== 'file';

/**
 * Which of a page's candidates to take on. A manifest is the video in every quality with its audio;
 * a file a player fetched beside it is, on the pages seen, the same video (a `<source>` fallback)
 * or one of a DASH video's single-file representations, which alone lack the audio. So files count
 * only when the page showed no manifest. Pure.
 */
export function chooseCandidates(candidates: readonly VideoCandidate[]): VideoCandidate[] {
    const manifests = candidates.filter(isManifest);
    return manifests.length ? manifests : [...candidates];
}

const PRIVATE = 'PRIVATE_NETWORK';

export class VideoSubmitter {
    /** Manifest or file URL (any variant or rendition of a video taken on) → the page that found it. */
    private readonly covered = new Map<string, string>();
    /** Video id → the page whose submission of it is under way (not yet a job). */
    private readonly taking = new Map<string, string>();

    constructor(
        private readonly input: CrawlInput,
        private readonly jobs: VideoJobs,
        private readonly queue: RequestProvider,
        /** Where notes go; the archive of earlier runs. */
        private readonly results: Results,
        /** Videos claimed across workers: found by two workers, downloaded by one. */
        private readonly claims: Claims,
        private readonly proxyConfiguration?: ProxyConfiguration,
        /** A live video was taken on: someone must follow its source. */
        private readonly onLive?: (job: VideoJob) => void,
        /** The run's stop: the media clients' requests and their waits between tries end with it. */
        private readonly signal?: AbortSignal,
    ) {
        for (const job of jobs.all()) {
            for (const url of [job.url, job.variantUrl]) this.covered.set(normalizeUrl(url), job.pageUrl);
        }
    }

    /** The media client of a job: the page's headers and proxy session, the input's retries, the run's stop. */
    client(headers: VideoCandidate['headers'], proxySession?: string, pageUrl?: string): MediaClient {
        const proxy = this.proxyConfiguration;
        return new MediaClient({
            headers,
            pageUrl,
            proxyUrl: proxy ? () => proxy.newUrl(proxySession) : undefined,
            retries: this.input.maxRequestRetries,
            signal: this.signal,
        });
    }

    /** Every video a page yielded; failures become `failed` video items, the page goes on. */
    async submitPage(found: FoundVideos): Promise<number> {
        let submitted = 0;
        const failures: { candidate: VideoCandidate; error: Error }[] = [];
        const shownElsewhere: { candidate: VideoCandidate; page: string }[] = [];
        // Targets the network policy refuses as written: each one an item, whatever else the page shows.
        const allowed: VideoCandidate[] = [];
        for (const candidate of found.candidates) {
            const refused = candidate.inline ? undefined : await urlsRefusal([candidate.url]);
            if (!refused) allowed.push(candidate);
            else await this.note(videoNote(found, candidate, 'skipped', refused, { errorCode: PRIVATE }));
        }
        for (const candidate of chooseCandidates(allowed)) {
            const coveredBy = await this.coveredBy(candidate.url, found.pageUrl);
            if (coveredBy !== undefined) {
                if (coveredBy !== found.pageUrl) shownElsewhere.push({ candidate, page: coveredBy });
                continue;
            }
            try {
                if (await this.submit(candidate, found)) submitted++;
            } catch (error) {
                failures.push({ candidate, error: error as Error });
            }
        }
        // Another page of this crawl shows the same video: one download, and a visible trace here
        // when this page has no video of its own (else the trace is noise: a preview, a trailer).
        if (submitted === 0)
            for (const { candidate, page } of shownElsewhere) await this.pushSameVideo(found, candidate, page);
        // What the player fetched is a real video; a URL merely mentioned in a script may be stale,
        // so it is reported only when nothing better was found.
        // What a player played before its main video (a pre-roll, an intro): seen, never the page's video.
        for (const { url, reason } of found.replaced ?? [])
            await this.note(videoNote(found, { url, headers: {}, source: 'network' }, 'skipped', reason));
        // A refused target (a redirect into a private network) is always reported, as skipped.
        const refusedHere = failures.filter((f) => errorCode(f.error) === PRIVATE);
        const others = failures.filter((f) => errorCode(f.error) !== PRIVATE);
        const reported = others.filter((f) => f.candidate.source === 'network' || submitted === 0);
        for (const { candidate, error } of submitted === 0 ? reported.slice(0, 1) : reported) {
            await this.note(videoNote(found, candidate, 'failed', error.message, { errorCode: errorCode(error) }));
        }
        for (const { candidate, error } of refusedHere) {
            await this.note(videoNote(found, candidate, 'skipped', error.message, { errorCode: PRIVATE }));
        }
        return submitted;
    }

    /**
     * The page whose video includes this URL (its manifest, a variant, a rendition, its file): this
     * worker's own, else, in a split crawl, one another worker published once it took the video on.
     */
    private async coveredBy(url: string, pageUrl: string): Promise<string | undefined> {
        const here = this.covered.get(normalizeUrl(url));
        if (here !== undefined || !this.claims.shared) return here;
        const claim = await this.claims.lookup('video-url', normalizeUrl(url));
        if (!claim || claim.holder !== pageUrl || !claim.of) return claim?.holder;
        // This page again (its worker died, or it is retried): covered if its video was taken on for good;
        // else that video is taken over here, and its URLs are claimed again.
        return (await this.claims.lookup('video', claim.of))?.confirmed ? claim.holder : undefined;
    }

    /** A video item that says why it was not stored: once per page and URL, however often the page is rendered. */
    private async note(item: MediaItem): Promise<void> {
        await this.results.note(item);
    }

    private async pushSameVideo(found: FoundVideos, candidate: VideoCandidate, otherPage: string): Promise<void> {
        await this.note(videoNote(found, candidate, 'skipped', `the same video as on ${otherPage}, downloaded once`));
    }

    private async submit(candidate: VideoCandidate, found: FoundVideos): Promise<boolean> {
        const key = identityUrl(candidate);
        const id = videoId(key, this.input.videoQuality);
        // Claimed before the first await: two pages showing the same video at once take it on once.
        const takenBy = this.jobs.get(id)?.pageUrl ?? this.taking.get(id);
        if (takenBy !== undefined) {
            if (takenBy !== found.pageUrl) await this.pushSameVideo(found, candidate, takenBy);
            return false;
        }
        this.taking.set(id, found.pageUrl);
        const claimedBy = this.claims.shared
            ? await this.claims.claim('video', id, found.pageUrl, { takeOverUnconfirmed: true })
            : undefined;
        if (claimedBy !== undefined) {
            // Another worker took it on; its page is the one its item names.
            this.taking.delete(id);
            if (claimedBy !== found.pageUrl) await this.pushSameVideo(found, candidate, claimedBy);
            return false;
        }
        try {
            return await this.takeOn(candidate, found, key, id);
        } catch (error) {
            // Not taken on after all: the next page that shows it tries again.
            this.taking.delete(id);
            if (this.claims.shared) await this.claims.release('video', id);
            throw error;
        }
    }

    private async takeOn(candidate: VideoCandidate, found: FoundVideos, key: string, id: string): Promise<boolean> {
        const archiveId = archiveVideoId(found.pageUrl, key, this.input.videoQuality);
        const earlier = await this.results.archive.get(archiveKeys.video(archiveId));
        if (earlier) {
            this.covered.set(normalizeUrl(candidate.url), found.pageUrl);
            const why = `${ALREADY_DOWNLOADED} (stored as "${earlier.key}" on ${earlier.at})`;
            await this.note(videoNote(found, candidate, 'skipped', why));
            await this.claims.confirm('video', id);
            return true;
        }
        // The manifests the page's player already received are not fetched again (sources/index.ts).
        const resolved = await resolvePlan(
            candidate,
            withReceived(this.client(candidate.headers, found.proxySession, found.pageUrl), found.received),
            {
                quality: this.input.videoQuality,
                maxSegments: this.input.maxSegmentsPerVideo,
                maxConcurrency: this.input.maxConcurrency,
                preferredLang: found.lang,
                subtitles: this.input.subtitles,
            },
        );
        // The page's `<track>` files belong to its (first) video.
        const firstOfPage = !this.jobs.all().some((j) => j.pageUrl === found.pageUrl);
        const plan = firstOfPage && found.subtitles?.length ? withPageSubtitles(resolved, found.subtitles) : resolved;
        // A playlist whose segments, keys or subtitles point into a refused network is refused whole.
        const units = plan.tracks.flatMap((t) => [...t.inits, ...t.segments]);
        const refused = await urlsRefusal(units.flatMap((u) => (u.key ? [u.url, u.key.uri] : [u.url])));
        if (refused) {
            const why = `${refused}: the video's segments point there, nothing was downloaded`;
            await this.note(videoNote(found, candidate, 'skipped', why, { format: plan.format, errorCode: PRIVATE }));
            await this.claims.confirm('video', id);
            return true;
        }
        for (const url of [plan.url, plan.variantUrl, ...plan.relatedUrls]) {
            this.covered.set(normalizeUrl(url), found.pageUrl);
        }
        // Other workers learn at once which URLs this video covers (its variants, renditions, files).
        if (this.claims.shared) {
            for (const url of new Set([plan.url, plan.variantUrl, ...plan.relatedUrls].map(normalizeUrl)))
                await this.claims.claim('video-url', url, found.pageUrl, { takeOverUnconfirmed: true, of: id });
        }
        const live = plan.tracks.some((t) => t.live);
        const endless = Boolean(plan.tracks[0]?.endless);
        if (live && endless && this.input.maxLiveSecs === 0) {
            const why = 'a live stream with no end, and maxLiveSecs is 0';
            await this.note(videoNote(found, candidate, 'skipped', why, { format: plan.format, live: true }));
            await this.claims.confirm('video', id);
            return true;
        }
        // HLS playlists and dynamic MPDs are followed; other sources are taken as they are.
        const follow = live && (plan.format === 'hls' || plan.format === 'dash');
        const job: VideoJob = {
            id,
            format: plan.format,
            pageUrl: found.pageUrl,
            url: candidate.url,
            variantUrl: plan.variantUrl,
            title: found.title,
            nameHint: found.title ? undefined : (nameFromUrl(plan.variantUrl) ?? nameFromUrl(candidate.url)),
            // Stored in the state store: cookies and the input's headers are added per request instead.
            headers: credentials.strip(candidate.headers),
            width: plan.width,
            height: plan.height,
            durationSecs: planDuration(plan),
            live,
            ...(follow
                ? {
                      liveOpen: true,
                      liveEndless: endless,
                      liveSince: Date.now(),
                      liveRefreshSecs: plan.tracks[0]?.refreshSecs,
                      gaps: 0,
                  }
                : {}),
            tracks: plan.tracks.map(trackJob),
            delivery: plan.delivery,
            contentType: plan.contentType,
            expectedBytes: plan.expectedBytes,
            status: 'downloading',
            archiveId,
            proxySession: found.proxySession,
            ...(plan.audioOnly ? { audioOnly: true } : {}),
        };
        const requests = unitRequests(id, plan, this.input.maxConcurrency, found.proxySession);
        // The plan is kept so a resumed run can re-queue units whose files were lost (a migration keeps storages, not disks).
        await this.jobs.savePlan(id, requests);
        await this.jobs.add(
            job,
            requests.flatMap((r) => r.userData?.units ?? []),
        );
        // With the job and its plan saved the claim is final: a restart of this worker resumes the video
        // (requeueMissing). A worker killed before this point has its page rendered again, and the video
        // is taken over there.
        await this.claims.confirm('video', id);
        // The first requests go in alone so downloading starts while the rest are written (locally each
        // queued request is a file; 110 of them took 0.4 s). The queue reports itself unfinished until
        // the background batches are in; a run killed meanwhile re-queues from the plan.
        await this.queue.addRequestsBatched(requests, { batchSize: FIRST_BATCH, waitBetweenBatchesMillis: 0 });
        if (job.liveOpen) this.onLive?.(job);
        return true;
    }

    /**
     * Resume: puts back every unit of unfinished jobs that has no file yet. Units the queue already
     * counts as handled (failed before, or done on a machine whose disk is gone) get a fresh key.
     */
    async requeueMissing(job: VideoJob): Promise<number> {
        const plan = await this.jobs.loadPlan(job.id);
        if (!plan.length) return 0;
        const missing = plan.filter((r) => r.userData?.units.some((u) => !this.jobs.isDone(job.id, u.unit)));
        if (!missing.length) return 0;
        this.jobs.offer(
            job.id,
            missing.flatMap((r) => r.userData?.units ?? []),
        );
        const result = await this.queue.addRequests(missing);
        const handled = new Set(result.processedRequests.filter((p) => p.wasAlreadyHandled).map((p) => p.uniqueKey));
        const again = missing
            .filter((r) => handled.has(r.uniqueKey ?? ''))
            .map((r) => ({ ...r, uniqueKey: `${r.uniqueKey}#${Date.now()}` }));
        if (again.length) await this.queue.addRequests(again);
        return missing.reduce(
            (n, r) => n + (r.userData?.units.filter((u) => !this.jobs.isDone(job.id, u.unit)).length ?? 0),
            0,
        );
    }
}
