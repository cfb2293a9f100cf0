/**
 * Wires the stages: pages → sources (manifests, files) → download queue → merge.
 * Page rendering and downloading run at the same time; the download crawler stays alive until the
 * last page is rendered and the downloads are over (crawl-end.ts: every job done or failed, the queue empty).
 */
import { Actor } from 'apify';
import { log, type ProxyConfiguration } from '@crawlee/core';
import type { FileDownload } from '@crawlee/http';
import type { CrawlInput } from '../input/input.js';
import { createDownloadCrawler } from '../download/download-crawler.js';
import { ImageSaver } from '../download/images.js';
import { isImageUrl } from '../download/image-rules.js';
import { VideoJobs } from '../download/jobs.js';
import { TransferStats } from '../download/stats.js';
import { VideoFinisher } from '../merge/finish.js';
import { mediaNote, pageFailed } from '../results/items.js';
import { Results } from '../results/results.js';
import { formatFromUrl, pollTrack, refreshUnitUrls } from '../sources/index.js';
import { LiveRecorder } from '../live/recorder.js';
import type { FoundVideos, VideoJob } from '../model.js';
import { renderPageAgain, SourceLooks } from './page-again.js';
import { VideoSubmitter } from './video-submitter.js';
import { UnsafeUrlError } from '../urls.js';
import { applyStartPolicy, refusedPageRequests } from '../net/guard.js';
import { ProgressReporter, silenceCrawlerStatus } from './progress.js';
import { abandonDownloads, downloadsOver, windDown } from './crawl-end.js';
import { openStartRequests, startSites } from '../net/site-access.js';
import { credentials } from '../net/credentials.js';
import type { Headers } from '../net/headers.js';
import { preloadHttpClient } from '../net/fetch.js';
import { openQueue } from '../run/queues.js';
import { dropRunStorages, openRunStorages, workRoot, type RunStorages } from '../run/storage.js';
import { Claims } from '../run/claims.js';
import { openPageQueue } from '../run/page-queue.js';
import { pageShare, workerRole } from '../run/role.js';
import type { PageCrawlerOptions } from '../pages/page-crawler.js';

export interface CrawlSummary {
    pages: number;
    videosOk: number;
    videosFailed: number;
    peakConnections: number;
    bytes: number;
    secs: number;
    /** The crawl was told to stop before it was done (the platform's `aborting`, the run timeout). */
    stopped: boolean;
    /** What the report says beside the items (worker runs that could not start). */
    notices?: string[];
    /** Page requests (subresources, frames, workers) the network policy refused. */
    refusedRequests?: number;
}

export interface CrawlOptions {
    /** Aborted when the run must stop early: the crawl winds down, unfinished work is left. */
    signal?: AbortSignal;
    /** True once the run is migrating: the resumed run continues from the named storages. */
    keepStorages?: () => boolean;
    /** This worker's page cap when it is not its share (a split crawl's runs did not all start). */
    pageCap?: number;
    /** Locally: the folder every stored file also lands in (`outputDir`); unset on the platform. */
    outputDir?: string;
}

async function proxyFor(input: CrawlInput): Promise<ProxyConfiguration | undefined> {
    const p = input.proxyConfiguration;
    if (!p.useApifyProxy && !p.proxyUrls?.length) return undefined;
    return (await Actor.createProxyConfiguration(p)) ?? undefined;
}

/** What the input asks of this worker, sorted: direct videos and images, pages to render, credentials. */
interface CrawlPlan {
    proxyConfiguration?: ProxyConfiguration;
    pageAccess: PageCrawlerOptions['access'];
    role: ReturnType<typeof workerRole>;
    directVideos: { url: string }[];
    directImages: { url: string }[];
    pageCap: number;
    pageUrls: { url: string }[];
    pagesStage?: typeof import('../pages/page-crawler.js');
    executablePath: string;
}

/** Reads the start URLs, sets up credentials and the network policy, and starts Chromium if pages need it. */
async function planCrawl(input: CrawlInput, options: CrawlOptions): Promise<CrawlPlan> {
    const proxyConfiguration = await proxyFor(input);
    // Remote URL lists are fetched here; the input's cookies and headers go to these URLs' sites.
    const starts = await openStartRequests(input, proxyConfiguration);
    const access = { cookies: input.cookies, headers: input.headers, sites: startSites(starts) };
    // Cookies and headers stay in this process's memory and go on each request as it leaves (net/credentials.ts).
    credentials.configure({ ...access, starts });
    const pageAccess = { ...access, ownHeaders: (url: string) => credentials.ownHeaders(url) };
    // Private networks are reachable only as far as the start URLs are in them (net/address-policy.ts).
    await applyStartPolicy(
        starts.map((s) => s.url),
        input.allowPrivateNetwork,
        proxyConfiguration !== undefined,
    );
    // Manifests and video files named by their URL are downloaded without rendering a page.
    // A split crawl: every worker renders pages from the shared queue; worker 0 alone takes the direct URLs.
    const role = workerRole();
    const first = !role || role.index === 0;
    const directVideos = starts.filter((s) => first && formatFromUrl(s.url) !== undefined);
    const directImages = starts.filter((s) => first && !formatFromUrl(s.url) && isImageUrl(s.url));
    // A split crawl's page cap is shared out; a worker whose share is none renders no page.
    const pageCap =
        options.pageCap ?? (role ? pageShare(input.maxPagesPerCrawl, role.index, role.count) : input.maxPagesPerCrawl);
    const noPages = input.maxPagesPerCrawl > 0 && pageCap === 0;
    const pageUrls = starts.filter((s) => !noPages && !formatFromUrl(s.url) && !isImageUrl(s.url));
    // The page stage (Playwright, browser pool) costs a second of start-up and ~60 MB: load it only for pages.
    const pagesStage = pageUrls.length ? await import('../pages/page-crawler.js') : undefined;
    // Fail before anything is downloaded if pages need a browser and there is none.
    const executablePath = pageUrls.length ? (await import('../pages/browser.js')).findBrowser() : '';
    // Chromium starts (another process, ~0.5 s) while storages open and the download crawler starts.
    pagesStage?.startBrowser(executablePath, input);
    // Meanwhile the main thread loads the HTTP client, which the first page's playlist waited for (net/fetch.ts).
    if (pagesStage) preloadHttpClient();
    const plan = { proxyConfiguration, pageAccess, role, directVideos, directImages, pageCap, pageUrls };
    return { ...plan, pagesStage, executablePath };
}

/** The stages of one crawl, wired: jobs → download crawler → finisher, the recorder, the submitter, images. */
interface Stages {
    storages: RunStorages;
    jobs: VideoJobs;
    resumed: VideoJob[];
    stats: TransferStats;
    claims: Claims;
    /** Items, notes, keys, stored files and archive records: one home, with this crawl's storages and folder. */
    results: Results;
    finisher: VideoFinisher;
    images: ImageSaver;
    recorder: LiveRecorder;
    submitter: VideoSubmitter;
    downloader: FileDownload;
}

async function openStages(
    input: CrawlInput,
    plan: CrawlPlan,
    options: CrawlOptions,
    signal: AbortSignal | undefined,
): Promise<Stages> {
    const { proxyConfiguration, role, pagesStage } = plan;
    const storages = await openRunStorages();
    const jobs = new VideoJobs(storages.state, workRoot());
    const resumed = await jobs.load();
    const stats = new TransferStats();
    const claims = await Claims.open(role?.shared.claims);
    const results = await Results.open({
        outputDir: options.outputDir,
        dataset: role?.shared.dataset,
        store: role?.shared.store,
        claims,
        holder: `worker ${role?.index ?? 0}`,
        archiveName: input.archiveName,
        signal,
    });
    const finisher = new VideoFinisher(jobs, results);
    const images = new ImageSaver(input, results, workRoot(), claims);
    await images.load(storages.state);
    const client = (job: VideoJob) => submitter.client(job.headers, job.proxySession, job.pageUrl);
    const recorder = new LiveRecorder({
        jobs,
        queue: storages.downloads,
        maxLiveSecs: input.maxLiveSecs,
        retries: input.maxRequestRetries,
        client,
        poll: pollTrack,
        onSettled: (id) => finisher.settle(id),
        onQueued: () => void downloader.autoscaledPool?.notify(),
        signal,
    });
    const submitter = new VideoSubmitter(
        input,
        jobs,
        storages.downloads,
        results,
        claims,
        proxyConfiguration,
        (job) => recorder.follow(job),
        signal,
    );
    // A source whose own URL expired is taken again from its page, rendered again (page-again.ts).
    const looks = new SourceLooks({
        read: (job) => refreshUnitUrls(job, client(job)),
        render: pagesStage
            ? (pageUrl) =>
                  renderPageAgain(
                      pagesStage,
                      {
                          input,
                          executablePath: plan.executablePath,
                          proxyConfiguration,
                          access: plan.pageAccess,
                          worker: role?.index,
                      },
                      pageUrl,
                      signal,
                  )
            : undefined,
    });
    const downloader = createDownloadCrawler({
        input,
        queue: storages.downloads,
        jobs,
        stats,
        proxyConfiguration,
        worker: role?.index,
        signal,
        refreshUrls: (job) => looks.refresh(job),
        onUnitCommitted: (id) => finisher.unitStored(id),
        onVideoSettled: (id) => finisher.settle(id),
        images,
    });
    return { storages, jobs, resumed, stats, claims, results, finisher, images, recorder, submitter, downloader };
}

/** Jobs of an earlier run of this worker (VideoJobs.load put unfinished merges back to `downloading`). */
async function resumeJobs({ resumed, claims, submitter, recorder, finisher }: Stages): Promise<void> {
    for (const job of resumed) {
        // This worker delivers the videos it resumes: if it died before confirming one, its page, rendered
        // again, must not take the video over, nor its variants as videos of their own.
        if (claims.shared) await claims.confirm('video', job.id, job.pageUrl);
        if (job.status !== 'downloading') continue;
        finisher.prepare();
        const requeued = await submitter.requeueMissing(job);
        log.info(
            `Resuming video from ${job.pageUrl}: ${requeued} units still to fetch${job.liveOpen ? ', still recording' : ''}`,
        );
        recorder.follow(job);
        if (requeued === 0) finisher.settle(job.id);
    }
}

/** What the page stage hands over: videos to the submitter, images to the image saver, the rest as notes. */
function pageHandlers(
    input: CrawlInput,
    { submitter, images, storages, results, finisher }: Stages,
    counters: { pages: number },
    wakeDownloads: () => Promise<void>,
): Pick<PageCrawlerOptions, 'onVideos' | 'onImages' | 'onRefusedMedia' | 'onNothingFound' | 'onPageFailed'> {
    const stripped = <T extends { headers: Headers }>(found: readonly T[]): T[] =>
        found.map((f) => ({ ...f, headers: credentials.strip(f.headers) }));
    return {
        async onVideos(found: FoundVideos) {
            counters.pages++;
            if (found.candidates.length) finisher.prepare();
            const candidates = stripped(found.candidates);
            const submitted = await submitter.submitPage({ ...found, candidates });
            await wakeDownloads();
            return submitted;
        },
        async onImages(found) {
            const pageImages = stripped(found.images).map((i) =>
                i.thumbnail ? { ...i, thumbnail: stripped([i.thumbnail])[0]! } : i,
            );
            await images.enqueue(storages.downloads, found.pageUrl, pageImages, found.proxySession);
            const { pageUrl } = found;
            for (const url of found.refusedImages) {
                await results.note(mediaNote('image', 'failed', { pageUrl, url }, new UnsafeUrlError(url).message));
            }
            for (const s of found.skippedImages) {
                await results.note(mediaNote('image', 'skipped', { pageUrl, url: s.url, title: s.alt }, s.reason));
            }
        },
        async onRefusedMedia(pageUrl, refused) {
            for (const { url, kind, reason } of refused) {
                const wanted = kind === 'image' ? input.downloadImages : input.downloadVideos;
                if (wanted) await results.note(mediaNote(kind, 'skipped', { pageUrl, url }, reason, 'PRIVATE_NETWORK'));
            }
        },
        async onNothingFound(pageUrl, title, why) {
            const what = [input.downloadVideos && 'video', input.downloadImages && 'image']
                .filter(Boolean)
                .join(' or ');
            const error = `no ${what} found on the page${why ? `: ${why}` : ` within ${input.pageWaitSecs} s`}`;
            await results.note(pageFailed(pageUrl, error, title));
        },
        async onPageFailed(pageUrl, reason) {
            await results.note(pageFailed(pageUrl, `page could not be rendered: ${reason}`));
        },
    };
}

/** Direct URLs first (each is its own page), then the rendered pages; resolves when the last page is done. */
async function feedPages(
    input: CrawlInput,
    plan: CrawlPlan,
    stages: Stages,
    counters: { pages: number },
    signal: AbortSignal | undefined,
): Promise<void> {
    const { submitter, images, storages, downloader, finisher } = stages;
    const { pagesStage, role } = plan;
    if (plan.directVideos.length) finisher.prepare();
    // The pool looks at an empty queue again only after its interval; new segment requests should not wait for it.
    const wakeDownloads = async (): Promise<void> => downloader.autoscaledPool?.notify();
    // A direct URL is its own page: its source's headers, the input's and the cookies are added per request.
    for (const { url } of plan.directVideos) {
        if (signal?.aborted) break;
        const candidates = [{ url, headers: {}, source: 'network' as const, format: formatFromUrl(url) }];
        await submitter.submitPage({ pageUrl: url, candidates });
        await wakeDownloads();
    }
    for (const { url } of plan.directImages) {
        if (!signal?.aborted) await images.enqueue(storages.downloads, url, [{ url, headers: {} }]);
    }
    if (!pagesStage || signal?.aborted) return;
    const pageCrawler = pagesStage.createPageCrawler({
        input: { ...input, maxPagesPerCrawl: plan.pageCap },
        executablePath: plan.executablePath,
        // The default queue, else Crawlee would open it with its 1,000,000-slot dedup cache (run/queues.ts).
        requestQueue: role
            ? await openPageQueue(role.shared.pageQueue, pagesStage.PAGES_AT_ONCE, role.scope)
            : await openQueue(),
        worker: role?.index,
        proxyConfiguration: plan.proxyConfiguration,
        access: plan.pageAccess,
        ...pageHandlers(input, stages, counters, wakeDownloads),
    });
    silenceCrawlerStatus(pageCrawler);
    const stopPages = () => void pageCrawler.autoscaledPool?.abort();
    signal?.addEventListener('abort', stopPages, { once: true });
    // No headers on the queued requests: the queue is a storage record (applySiteAccess adds them).
    await pageCrawler.run(plan.pageUrls.map(({ url }) => ({ url })));
    signal?.removeEventListener('abort', stopPages);
}

export async function crawl(input: CrawlInput, options: CrawlOptions = {}): Promise<CrawlSummary> {
    const started = Date.now();
    const { signal } = options;
    const plan = await planCrawl(input, options);
    const stages = await openStages(input, plan, options, signal);
    const { jobs, finisher, recorder, storages, downloader, stats, results } = stages;
    await resumeJobs(stages);

    silenceCrawlerStatus(downloader);
    const downloading = downloader.run();
    const counters = { pages: 0 };
    const progress = new ProgressReporter(stats, jobs, counters);
    progress.start();
    try {
        await feedPages(input, plan, stages, counters, signal);
        // Pages are done: the last recording, segment and merge.
        await downloadsOver({ jobs, finisher, recorder, queue: storages.downloads }, signal);
        // Stopping early: merges in progress are left; the platform kills the run 30 s after `aborting`.
        // Interrupted (Ctrl-C): the videos in progress stay resumable (CRAWLEE_PURGE_ON_START=0 resumes them).
        if (!signal?.aborted) await finisher.drain();
        else if (signal.reason !== 'interrupted') await abandonDownloads(jobs, results, signal.reason);
    } finally {
        progress.stop();
        await windDown(stages, downloading, signal);
    }
    if (!options.keepStorages?.()) await dropRunStorages(storages);
    const all = jobs.all();
    return {
        pages: counters.pages,
        videosOk: all.filter((j) => j.status === 'done').length,
        videosFailed: all.filter((j) => j.status === 'failed').length,
        peakConnections: stats.peakActive,
        bytes: stats.bytes,
        secs: (Date.now() - started) / 1000,
        stopped: signal?.aborted ?? false,
        refusedRequests: refusedPageRequests.count,
    };
}
