/**
 * The download stage: one `FileDownload` crawler over the run's named queue fetches every segment,
 * init section and image, streaming bytes to disk. Requests are `skipNavigation` and streamed here
 * because `FileDownload`'s own `streamHandler` drops the request's headers, and keys, segments and
 * images need the page's Referer, User-Agent and cookies.
 */
import { createDecipheriv } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ProxyConfiguration, RequestProvider } from '@crawlee/core';
import { FileDownload, type FileDownloadCrawlingContext } from '@crawlee/http';
import {
    CorruptUnitError,
    ExpiredError,
    HttpStatusError,
    isRetryable,
    KeyError,
    PermanentMediaError,
    redactUrl,
    UnitsFailedError,
} from '../errors.js';
import type { CrawlInput } from '../input/input.js';
import type { FreshUrls, UnitsTask, UnitTask, VideoJob } from '../model.js';
import { httpClient } from '../net/fetch.js';
import { backoffMs } from '../time/backoff.js';
import { delay } from '../time/delay.js';
import { credentials } from '../net/credentials.js';
import { withUserAgent } from '../net/headers.js';
import { KeyCache } from './keys.js';
import { isVideoFatal, refusalAction, refusalStatus, UrlRenewer } from './renew.js';
import type { VideoJobs } from './jobs.js';
import { rangeSlicer, SegmentInspector } from './segment-bytes.js';
import { continuationRequest } from './unit-tasks.js';
import type { TransferStats } from './stats.js';

/**
 * How long a request keeps taking units: a bound on how long it holds its slot (the handler timeout
 * is 300 s). What it leaves of its own run goes back to the queue (`continueLater`).
 */
const TAKE_BUDGET_MS = 60_000;

export interface DownloadHandlers {
    /** A unit of the video is on disk (it arrives about in playback order). */
    onUnitStored?(videoId: string): void;
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
    /** Fresh URLs for a video's units (from its manifest fetched again), after signed URLs expired. */
    refreshUrls(job: VideoJob): Promise<FreshUrls>;
    queue: RequestProvider;
    jobs: VideoJobs;
    stats: TransferStats;
    proxyConfiguration?: ProxyConfiguration;
    handlers: DownloadHandlers;
    /** This worker's index, when the crawl is split across workers. */
    worker?: number;
    /** The run's stop: a wait before a retry (Retry-After, up to 60 s) ends at once. */
    signal?: AbortSignal;
}

const header = (h: StreamedResponse['headers'], name: string): string | undefined => {
    const v = h[name];
    return Array.isArray(v) ? v[0] : v;
};

/**
 * Moves a unit file the page stage wrote (`UnitSource.localFile`) to `final`; resolves to its size.
 * Only files under the run's work root are taken: a unit never names any other file to move.
 */
export async function moveLocalUnit(file: string, root: string, final: string): Promise<number> {
    const from = path.resolve(file);
    if (!from.startsWith(path.resolve(root) + path.sep)) {
        throw new PermanentMediaError(
            'UNSAFE_URL',
            `refused to take a unit from ${file}: it is outside the work folder`,
        );
    }
    const { size } = await stat(from);
    await rename(from, final).catch(async (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EXDEV') throw error;
        await copyFile(from, final);
        await rm(from, { force: true });
    });
    return size;
}

export function createDownloadCrawler(options: DownloadCrawlerOptions): FileDownload {
    const { input, queue, jobs, stats, handlers } = options;
    const keys = new KeyCache({ retries: input.maxRequestRetries });
    const renewer = new UrlRenewer({
        refresh: (job) => options.refreshUrls(job),
        stored: (id) => jobs.counts(id).done,
    });
    const madeDirs = new Set<string>();
    /** Last error per unit (`videoId:unit`), for the reason of a unit that fails for good. */
    const unitErrors = new Map<string, string>();

    /** The proxy of the page that found the media (same session, same IP), if proxies are on. */
    const sessionProxy = async (session: string | undefined): Promise<string | undefined> =>
        session && options.proxyConfiguration ? options.proxyConfiguration.newUrl(session) : undefined;

    async function open(
        ctx: FileDownloadCrawlingContext,
        url: string,
        extraHeaders: Record<string, string> = {},
        proxySession?: string,
        pageUrl = ctx.request.userData.pageUrl as string | undefined,
    ): Promise<StreamedResponse> {
        const headers = { ...withUserAgent(ctx.request.headers), ...extraHeaders };
        const proxyUrl =
            (await sessionProxy(proxySession ?? (ctx.request.userData.proxySession as string | undefined))) ??
            ctx.proxyInfo?.url;
        // Cookies and the input's headers are set per hop, redirects included (credentials.ts).
        const res = await httpClient.stream({
            ...credentials.apply({ url, headers }, pageUrl),
            proxyUrl,
            throwHttpErrors: false,
            useHeaderGenerator: false,
            timeout: { request: 120_000 },
        });
        if (res.statusCode < 200 || res.statusCode >= 300) {
            res.stream.destroy();
            throw new HttpStatusError(url, res.statusCode, header(res.headers, 'retry-after'));
        }
        return { stream: res.stream, statusCode: res.statusCode, headers: res.headers };
    }

    /** Bytes the page stage took out of a MediaSource: moved into place and counted like a fetched unit. */
    async function storeLocalUnit(job: VideoJob, unit: UnitTask, file: string): Promise<number> {
        const dir = jobs.workDir(job.id);
        await mkdir(dir, { recursive: true });
        const bytes = await moveLocalUnit(file, jobs.workRoot, path.join(dir, unit.unit));
        const settled = jobs.unitDone(job.id, unit.unit);
        handlers.onUnitStored?.(job.id);
        if (settled) handlers.onVideoSettled(job.id);
        return bytes;
    }

    /**
     * Opens a unit at its latest URL (and gets its key). A refusal after other units of the video
     * arrived means the signed URLs expired (`looksExpired`): the source is read again, as often as
     * that helps, and the unit tried at its fresh URL. A refused key is renewed the same way; when
     * that cannot work, the video fails with the key's error.
     */
    async function openUnit(
        ctx: FileDownloadCrawlingContext,
        job: VideoJob,
        unit: UnitTask,
    ): Promise<{ key?: Buffer; res: StreamedResponse }> {
        const sendHeaders = {
            ...job.headers,
            ...(unit.range ? { range: `bytes=${unit.range.offset}-${unit.range.offset + unit.range.length - 1}` } : {}),
        };
        for (;;) {
            const generation = renewer.generation(job.id);
            const fresh = renewer.fresh(job.id, unit.unit);
            const url = fresh?.url ?? unit.url;
            const keyUri = fresh?.keyUri ?? unit.key?.uri;
            try {
                const key = keyUri
                    ? await keys.get(keyUri, job.headers, await sessionProxy(job.proxySession), job.pageUrl)
                    : undefined;
                return { key, res: await open(ctx, url, sendHeaders, job.proxySession, job.pageUrl) };
            } catch (error) {
                const action = refusalAction(refusalStatus(error), jobs.counts(job.id).done, generation);
                if (action === 'fail') throw error;
                // A probe that could not look (a network error, a 5xx) is tried again with the request; else the refusal stands.
                if (action === 'probe')
                    await renewer.renew(job, generation).catch((renewal: Error) => {
                        throw isRetryable(renewal) ? renewal : error;
                    });
                else
                    await renewer.renew(job, generation).catch((renewal: Error) => {
                        // A key that cannot be had is the key's failure, whatever stopped its renewal.
                        if (error instanceof KeyError && isVideoFatal(renewal))
                            throw new KeyError(`${error.message}; ${renewal.message}`, { cause: renewal });
                        throw renewal;
                    });
                const now = renewer.fresh(job.id, unit.unit);
                // The fresh look names the same URLs: asking again cannot help this unit.
                if ((now?.url ?? unit.url) === url && (now?.keyUri ?? unit.key?.uri) === keyUri) {
                    if (error instanceof KeyError || action === 'probe') throw error;
                    throw new ExpiredError('the source read again names the same URLs', { cause: error });
                }
            }
        }
    }

    /** Fetches one segment or init section to the work folder; resolves to the bytes received. */
    async function fetchUnit(ctx: FileDownloadCrawlingContext, job: VideoJob, unit: UnitTask): Promise<number> {
        if (unit.localFile) return storeLocalUnit(job, unit, unit.localFile);
        const { key, res } = await openUnit(ctx, job, unit);
        const dir = jobs.workDir(job.id);
        // Once per video, not per segment: mkdir showed up in profiles at hundreds of segments.
        if (!madeDirs.has(dir)) {
            await mkdir(dir, { recursive: true });
            madeDirs.add(dir);
        }
        const final = path.join(dir, unit.unit);
        const part = `${final}.part`;
        // Segments are checked (and unwrapped from fake image headers); ranges of a file are taken as they come.
        const inspector = unit.raw ? undefined : new SegmentInspector();
        let received = 0;
        const stages: NodeJS.ReadWriteStream[] = [];
        // A server that ignores Range sends the whole file: cut our part out of it.
        if (unit.range && res.statusCode === 200) stages.push(rangeSlicer(unit.range.offset, unit.range.length));
        if (key && unit.key) stages.push(createDecipheriv('aes-128-cbc', key, Buffer.from(unit.key.iv, 'hex')));
        try {
            const tail = inspector ? [inspector] : [];
            await pipeline([res.stream, ...stages, ...tail, createWriteStream(part)]);
        } catch (error) {
            await rm(part, { force: true });
            // A body that is not valid AES-CBC ciphertext means a wrong key: no retry helps.
            if ((error as { code?: string }).code === 'ERR_OSSL_BAD_DECRYPT') {
                throw new KeyError(`decryption failed for ${redactUrl(unit.url)}: wrong key or IV`, { cause: error });
            }
            throw error;
        }
        // got counts the body bytes as they arrive; a separate counting stage cost a stream hop per chunk.
        const progress = (res.stream as Readable & { downloadProgress?: { transferred: number } }).downloadProgress;
        received = progress?.transferred ?? inspector?.received ?? 0;
        const expected = Number(header(res.headers, 'content-length'));
        if (Number.isFinite(expected) && expected > 0 && received !== expected) {
            await rm(part, { force: true });
            throw new CorruptUnitError(`received ${received} of ${expected} bytes`);
        }
        // A range of a file must be exactly the bytes asked for: the joined file is checked by size too.
        if (unit.raw && unit.range && res.statusCode === 206 && received !== unit.range.length) {
            await rm(part, { force: true });
            throw new CorruptUnitError(`received ${received} bytes for a range of ${unit.range.length}`);
        }
        await rename(part, final);
        const settled = jobs.unitDone(job.id, unit.unit);
        handlers.onUnitStored?.(job.id);
        if (settled) handlers.onVideoSettled(job.id);
        return received;
    }

    /**
     * Out of time with units of the video left: what of this request's own run nobody took goes back
     * to the queue as a request of its own, so every unit keeps a request that answers for it.
     */
    async function continueLater(task: UnitsTask, holder: string): Promise<void> {
        const request = continuationRequest(
            task,
            holder,
            (unit) => jobs.isDone(task.videoId, unit),
            (unit) => jobs.claims.holder(task.videoId, unit),
        );
        if (request) await queue.addRequest(request);
    }

    /**
     * Keeps one connection busy with the video's units, earliest first, until none is left untaken
     * (see `unit-claims.ts`): the video then arrives in playback order, which lets its merge run
     * while it downloads. A retry first fetches again what this request took and did not store. A
     * unit that fails does not stop the others; the request then fails as a whole.
     */
    async function downloadUnits(ctx: FileDownloadCrawlingContext, task: UnitsTask): Promise<number> {
        const holder = ctx.request.uniqueKey;
        const started = Date.now();
        let bytes = 0;
        const errors: Error[] = [];
        const fetchOne = async (job: VideoJob, unit: UnitTask): Promise<void> => {
            try {
                bytes += await fetchUnit(ctx, job, unit);
            } catch (error) {
                // The video cannot be had (its key, URLs that expired for good): it fails now, once.
                if (isVideoFatal(error)) {
                    jobs.setFatal(job.id, error);
                    throw error;
                }
                unitErrors.set(`${job.id}:${unit.unit}`, `${unit.unit}: ${(error as Error).message}`);
                errors.push(error as Error);
            }
        };
        /** The job while it still wants units: a failed video (e.g. unusable key) is not worth fetching for. */
        const wanted = (): VideoJob | undefined => {
            const job = jobs.get(task.videoId);
            return job?.status === 'downloading' ? job : undefined;
        };
        for (const unit of task.units) {
            const job = wanted();
            if (!job) return bytes;
            if (jobs.isDone(job.id, unit.unit)) {
                if (jobs.unitDone(job.id, unit.unit)) handlers.onVideoSettled(job.id);
                continue;
            }
            // A retry: what this request took before and did not store.
            if (jobs.claims.holder(job.id, unit.unit) === holder) await fetchOne(job, unit);
        }
        for (let job = wanted(); job; job = wanted()) {
            if (Date.now() - started > TAKE_BUDGET_MS) {
                await continueLater(task, holder);
                break;
            }
            const unit = jobs.claims.takeNext(job.id, holder, (name) => jobs.isDone(task.videoId, name));
            if (!unit) break;
            // Recorded in the request before the fetch: its retry and its final failure then cover the unit.
            if (!task.units.some((u) => u.unit === unit.unit)) task.units.push(unit);
            await fetchOne(job, unit);
        }
        if (errors.length) throw new UnitsFailedError(errors, task.units.length);
        return bytes;
    }

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
        async requestHandler(ctx) {
            stats.started();
            let bytes = 0;
            try {
                const task = ctx.request.userData as UnitsTask | { kind?: string };
                if (task.kind === 'units') bytes = await downloadUnits(ctx, task as UnitsTask);
                else if (handlers.onOtherRequest)
                    bytes = await handlers.onOtherRequest(ctx, () => open(ctx, ctx.request.url));
            } finally {
                stats.finished(bytes);
            }
        },
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
            const task = ctx.request.userData as UnitsTask | { kind?: string };
            if (task.kind === 'units') {
                const { videoId, units } = task as UnitsTask;
                // Without its key or its URLs no unit of the video can be used: settle it now, not after every unit.
                const fatal = isVideoFatal(error);
                let settled = fatal;
                for (const { unit } of units) {
                    if (jobs.isDone(videoId, unit)) continue;
                    // Another request took the unit over and answers for it.
                    const holder = jobs.claims.holder(videoId, unit);
                    if (holder !== undefined && holder !== ctx.request.uniqueKey) continue;
                    const reason = fatal
                        ? error.message
                        : (unitErrors.get(`${videoId}:${unit}`) ?? `${unit}: ${error.message}`);
                    settled = jobs.unitFailed(videoId, unit, reason) || settled;
                }
                if (settled) handlers.onVideoSettled(videoId);
            } else if (handlers.onOtherFailed) {
                await handlers.onOtherFailed(ctx, error);
            }
        },
    });
}
