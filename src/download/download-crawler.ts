/**
 * The download stage: one `FileDownload` crawler over the run's named queue fetches every segment,
 * init section and image, streaming bytes to disk. Requests are `skipNavigation` and streamed here
 * because `FileDownload`'s own `streamHandler` drops the request's headers, and keys, segments and
 * images need the page's Referer, User-Agent and cookies.
 */
import { createDecipheriv } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ProxyConfiguration, RequestProvider } from '@crawlee/core';
import { FileDownload, type FileDownloadCrawlingContext } from '@crawlee/http';
import type { CrawlInput } from '../input.js';
import { httpClient, HttpStatusError, redactUrl } from '../net/fetch.js';
import { isRetryableStatus, retryDelayMs, sleep } from '../net/retry.js';
import { withUserAgent } from '../net/headers.js';
import { KeyCache, KeyError } from './keys.js';
import type { VideoJobs } from './jobs.js';
import { SegmentInspector, CorruptSegmentError, rangeSlicer } from './segment-bytes.js';
import type { SegmentTask } from './segment-task.js';
import type { TransferStats } from './stats.js';
import { PlaylistRefresher, TOKEN_STATUSES } from './refresh.js';

export interface DownloadHandlers {
    /** Every unit of the video is either on disk or failed for good. */
    onVideoSettled(videoId: string): void;
    /** Images and other single files; resolves to the bytes received. */
    onOtherRequest?(ctx: FileDownloadCrawlingContext, open: () => Promise<StreamedResponse>): Promise<number>;
    onOtherFailed?(ctx: FileDownloadCrawlingContext, error: Error): Promise<void>;
}

export interface StreamedResponse {
    stream: Readable;
    statusCode: number;
    headers: Record<string, string | string[] | undefined>;
}

export interface DownloadCrawlerOptions {
    input: CrawlInput;
    queue: RequestProvider;
    jobs: VideoJobs;
    stats: TransferStats;
    proxyConfiguration?: ProxyConfiguration;
    handlers: DownloadHandlers;
}

/** Errors that another attempt cannot fix. */
function isPermanent(error: Error): boolean {
    if ((error as { permanent?: boolean }).permanent === true) return true;
    if (error instanceof HttpStatusError) return !isRetryableStatus(error.statusCode);
    return false;
}

const header = (h: StreamedResponse['headers'], name: string): string | undefined => {
    const v = h[name];
    return Array.isArray(v) ? v[0] : v;
};

export function createDownloadCrawler(options: DownloadCrawlerOptions): FileDownload {
    const { input, queue, jobs, stats, handlers } = options;
    const keys = new KeyCache({ retries: input.maxRequestRetries });
    const refresher = new PlaylistRefresher(jobs, input.maxRequestRetries);
    const madeDirs = new Set<string>();

    /** The proxy of the page that found the media (same session, same IP), if proxies are on. */
    const sessionProxy = async (session: string | undefined): Promise<string | undefined> =>
        session && options.proxyConfiguration ? options.proxyConfiguration.newUrl(session) : undefined;

    async function open(ctx: FileDownloadCrawlingContext, extraHeaders: Record<string, string> = {}): Promise<StreamedResponse> {
        const { request } = ctx;
        const headers = { ...withUserAgent(request.headers), ...extraHeaders };
        const proxyUrl = (await sessionProxy(request.userData.proxySession as string | undefined)) ?? ctx.proxyInfo?.url;
        const res = await httpClient.stream({
            url: request.url,
            headers,
            proxyUrl,
            throwHttpErrors: false,
            useHeaderGenerator: false,
            timeout: { request: 120_000 },
        });
        if (res.statusCode < 200 || res.statusCode >= 300) {
            res.stream.destroy();
            throw new HttpStatusError(request.url, res.statusCode, header(res.headers, 'retry-after'));
        }
        return { stream: res.stream, statusCode: res.statusCode, headers: res.headers };
    }

    /** Fetches one segment or init section to the work folder; resolves to the bytes received. */
    async function downloadUnit(ctx: FileDownloadCrawlingContext, task: SegmentTask): Promise<number> {
        const job = jobs.get(task.videoId);
        // The video failed already (e.g. its key is unusable): its other units are not worth fetching.
        if (!job || job.status !== 'downloading') return 0;
        if (jobs.isDone(job.id, task.unit)) {
            if (jobs.unitDone(job.id, task.unit)) handlers.onVideoSettled(job.id);
            return 0;
        }
        const key = task.key ? await keys.get(task.key.uri, job.headers, await sessionProxy(job.proxySession)) : undefined;
        const sendHeaders = { ...job.headers, ...(task.range ? { range: `bytes=${task.range.offset}-${task.range.offset + task.range.length - 1}` } : {}) };
        const res = await open(ctx, sendHeaders).catch(async (error: Error) => {
            // A refused segment may only carry an expired token: once per unit, retry at the URL a fresh playlist gives.
            if (!(error instanceof HttpStatusError) || !TOKEN_STATUSES.has(error.statusCode) || ctx.request.userData.refreshed) throw error;
            ctx.request.userData.refreshed = true;
            const fresh = (await refresher.urls(job.id).catch(() => undefined))?.get(task.unit);
            if (!fresh || fresh === ctx.request.url) throw error;
            ctx.request.url = fresh;
            return open(ctx, sendHeaders);
        });
        const dir = jobs.workDir(job.id);
        // Once per video, not per segment: mkdir showed up in profiles at hundreds of segments.
        if (!madeDirs.has(dir)) {
            await mkdir(dir, { recursive: true });
            madeDirs.add(dir);
        }
        const final = path.join(dir, task.unit);
        const part = `${final}.part`;
        let received = 0;
        const counter = new Transform({
            transform(chunk: Buffer, _enc, done) {
                received += chunk.length;
                done(null, chunk);
            },
        });
        const stages: NodeJS.ReadWriteStream[] = [counter];
        // A server that ignores Range sends the whole file: cut our part out of it.
        if (task.range && res.statusCode === 200) stages.push(rangeSlicer(task.range.offset, task.range.length));
        if (key && task.key) stages.push(createDecipheriv('aes-128-cbc', key, Buffer.from(task.key.iv, 'hex')));
        stages.push(new SegmentInspector());
        try {
            await pipeline([res.stream, ...stages, createWriteStream(part)]);
        } catch (error) {
            await rm(part, { force: true });
            // A body that is not valid AES-CBC ciphertext means a wrong key: no retry helps.
            if ((error as { code?: string }).code === 'ERR_OSSL_BAD_DECRYPT') throw new KeyError(`decryption failed for ${redactUrl(ctx.request.url)}: wrong key or IV`);
            throw error;
        }
        const expected = Number(header(res.headers, 'content-length'));
        if (Number.isFinite(expected) && expected > 0 && received !== expected) {
            await rm(part, { force: true });
            throw new CorruptSegmentError(`received ${received} of ${expected} bytes`);
        }
        await rename(part, final);
        if (jobs.unitDone(job.id, task.unit)) handlers.onVideoSettled(job.id);
        return received;
    }

    return new FileDownload({
        requestQueue: queue,
        proxyConfiguration: options.proxyConfiguration,
        maxConcurrency: input.maxConcurrency,
        minConcurrency: Math.min(input.maxConcurrency, 4),
        maxRequestRetries: input.maxRequestRetries,
        requestHandlerTimeoutSecs: 300,
        keepAlive: true,
        // Crawlee passes desiredConcurrency 10 to the pool by default, which wins over minConcurrency;
        // downloads are I/O-bound, so start at the ceiling instead of growing 5 % per 10 s.
        autoscaledPoolOptions: {
            desiredConcurrency: input.maxConcurrency,
            // Waiting on sockets costs no CPU, so a busy CPU (Chromium rendering pages, other processes on
            // a shared machine) is no reason to open fewer connections: only memory and our own event loop
            // lag may scale the downloads down. A ratio can never exceed 1, so CPU load never counts.
            systemStatusOptions: { maxCpuOverloadedRatio: 1, maxEventLoopOverloadedRatio: 0.9 },
        },
        async requestHandler(ctx) {
            stats.started();
            let bytes = 0;
            try {
                const task = ctx.request.userData as SegmentTask | { kind?: string };
                if (task.kind === 'segment') bytes = await downloadUnit(ctx, task as SegmentTask);
                else if (handlers.onOtherRequest) bytes = await handlers.onOtherRequest(ctx, () => open(ctx));
            } finally {
                stats.finished(bytes);
            }
        },
        async errorHandler({ request }, error) {
            if (isPermanent(error)) {
                request.noRetry = true;
                return;
            }
            const retryAfter = error instanceof HttpStatusError ? error.retryAfter : undefined;
            await sleep(retryDelayMs(request.retryCount + 1, retryAfter));
        },
        async failedRequestHandler(ctx, error) {
            const task = ctx.request.userData as SegmentTask | { kind?: string };
            if (task.kind === 'segment') {
                const { videoId, unit } = task as SegmentTask;
                const reason = error instanceof KeyError ? error.message : `${unit}: ${error.message}`;
                // Without its key no segment of the video can be used: settle it now, not after every unit.
                if (jobs.unitFailed(videoId, unit, reason) || error instanceof KeyError) handlers.onVideoSettled(videoId);
            } else if (handlers.onOtherFailed) {
                await handlers.onOtherFailed(ctx, error);
            }
        },
    });
}
