/**
 * The download stage: one `FileDownload` crawler over the run's named queue fetches every segment,
 * init section and image, streaming bytes to disk. This file only configures Crawlee; the parts are
 * the unit fetcher (`unit-fetcher.ts`: bytes of one unit, keys, fresh URLs), the scheduler
 * (`scheduler.ts`: leases, held units, unit errors, commits) and the routes (`routes.ts`: units and
 * images by label). Requests are `skipNavigation` and streamed by the routes because `FileDownload`'s
 * own `streamHandler` drops the request's headers, and keys, segments and images need the page's
 * Referer, User-Agent and cookies.
 */
import type { ProxyConfiguration, RequestProvider } from '@crawlee/core';
import { FileDownload } from '@crawlee/http';
import { HttpStatusError, isRetryable, UnitsFailedError } from '../errors.js';
import type { CrawlInput } from '../input/input.js';
import type { FreshUrls, VideoJob } from '../model.js';
import { backoffMs } from '../time/backoff.js';
import { delay } from '../time/delay.js';
import type { VideoJobs } from './jobs.js';
import { connectionLimit } from './connections.js';
import { createDownloadRouter, isUnitsRequest, type ImageRoute } from './routes.js';
import { DownloadScheduler, type SchedulerEvents } from './scheduler.js';
import type { TransferStats } from './stats.js';
import { UnitFetcher } from './unit-fetcher.js';
import { lanesPerRequest } from './unit-tasks.js';

export type { StreamedResponse } from './unit-fetcher.js';

export interface DownloadCrawlerOptions extends SchedulerEvents {
    input: CrawlInput;
    /** Fresh URLs for a video's units (from its manifest fetched again), after signed URLs expired. */
    refreshUrls(job: VideoJob): Promise<FreshUrls>;
    queue: RequestProvider;
    jobs: VideoJobs;
    stats: TransferStats;
    proxyConfiguration?: ProxyConfiguration;
    /** Images and other single files. */
    images?: ImageRoute;
    /** This worker's index, when the crawl is split across workers. */
    worker?: number;
    /** The run's stop: a wait before a retry (Retry-After, up to 60 s) ends at once. */
    signal?: AbortSignal;
}

export function createDownloadCrawler(options: DownloadCrawlerOptions): FileDownload {
    const { input, queue, jobs, stats } = options;
    const fetcher = new UnitFetcher({
        retries: input.maxRequestRetries,
        workRoot: jobs.workRoot,
        workDir: (id) => jobs.workDir(id),
        stored: (id) => jobs.counts(id).done,
        refreshUrls: options.refreshUrls,
        proxyConfiguration: options.proxyConfiguration,
    });
    const connection = connectionLimit(input.maxConcurrency);
    const scheduler = new DownloadScheduler({
        jobs,
        lanes: lanesPerRequest(input.maxConcurrency),
        connection,
        onUnitCommitted: options.onUnitCommitted,
        onVideoSettled: options.onVideoSettled,
        requeue: async (request) => void (await queue.addRequest(request)),
        signal: options.signal,
    });
    return new FileDownload({
        requestQueue: queue,
        // Workers share the default key-value store: none loads another's statistics.
        ...(options.worker !== undefined ? { statisticsOptions: { persistenceOptions: { enable: false } } } : {}),
        proxyConfiguration: options.proxyConfiguration,
        maxConcurrency: input.maxConcurrency,
        minConcurrency: Math.min(input.maxConcurrency, 4),
        maxRequestRetries: input.maxRequestRetries,
        requestHandlerTimeoutSecs: 300,
        keepAlive: true,
        // A session per request cost ~0.75 ms of CPU each (a third of the per-segment overhead in a
        // profile) and buys nothing here: the proxy session comes from the page that found the media.
        useSessionPool: false,
        persistCookiesPerSession: false,
        // Crawlee passes desiredConcurrency 10 to the pool by default, which wins over minConcurrency;
        // downloads are I/O-bound, so start at the ceiling instead of growing 5 % per 10 s.
        autoscaledPoolOptions: {
            desiredConcurrency: input.maxConcurrency,
            // The pool looks for work again every 0.5 s by default when the queue head ran dry, and
            // notices a stop() as late: both showed up as dead time on short videos.
            maybeRunIntervalSecs: 0.1,
            // Waiting on sockets costs no CPU, so a busy CPU (Chromium rendering pages, other processes on
            // a shared machine) is no reason to open fewer connections: only memory and our own event loop
            // lag may scale the downloads down. A ratio can never exceed 1, so CPU load never counts.
            systemStatusOptions: { maxCpuOverloadedRatio: 1, maxEventLoopOverloadedRatio: 0.9 },
        },
        requestHandler: createDownloadRouter({ scheduler, fetcher, stats, connection, images: options.images }),
        async errorHandler({ request }, error) {
            if (!isRetryable(error)) {
                request.noRetry = true;
                return;
            }
            const retryAfter =
                error instanceof HttpStatusError || error instanceof UnitsFailedError ? error.retryAfter : undefined;
            await delay(backoffMs(request.retryCount + 1, retryAfter), options.signal);
        },
        async failedRequestHandler(ctx, error) {
            if (isUnitsRequest(ctx.request)) scheduler.failRequest(ctx.request.userData, ctx.request.uniqueKey, error);
            else await options.images?.failed(ctx, error);
        },
    });
}
