/**
 * The unit fetcher: one segment, init section or range of a file from its URL (or from a file the page
 * stage wrote) to its final name in the video's work folder, decrypted and checked; resolves to the
 * bytes received. It owns the AES key cache and the cache of fresh URLs (a video's source read again
 * after its signed URLs expired). It knows nothing of queues, leases or what a stored unit means for
 * its video: that is the scheduler's (`scheduler.ts`).
 */
import { createDecipheriv } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ProxyConfiguration } from '@crawlee/core';
import {
    CorruptUnitError,
    ExpiredError,
    HttpStatusError,
    isRetryable,
    KeyError,
    PermanentMediaError,
    redactUrl,
} from '../errors.js';
import type { FreshUrls, Headers, UnitTask, VideoJob } from '../model.js';
import { httpClient } from '../net/fetch.js';
import { credentials } from '../net/credentials.js';
import { withUserAgent } from '../net/headers.js';
import { KeyCache } from './keys.js';
import { isVideoFatal, refusalAction, refusalStatus, UrlRenewer } from './renew.js';
import { rangeSlicer, SegmentInspector } from './segment-bytes.js';

export interface StreamedResponse {
    stream: Readable;
    statusCode: number;
    headers: Record<string, string | string[] | undefined>;
}

/** Where a request goes out from, and on whose behalf. */
export interface OpenOptions {
    /** The request's own headers (the page's Referer, …); the User-Agent is added when missing. */
    headers?: Headers | Record<string, string>;
    /** The proxy session of the page that found the media (same session, same IP), if proxies are on. */
    proxySession?: string;
    /** The proxy Crawlee picked for the request, used when there is no session. */
    proxyUrl?: string;
    /** The page the media was found on: whose cookies and headers go with it (credentials.ts). */
    pageUrl?: string;
}

export interface UnitFetcherOptions {
    /** Retries of a key fetch (the input's `maxRequestRetries`). */
    retries: number;
    /** The run's work folder: every video's units are under it. */
    workRoot: string;
    workDir(videoId: string): string;
    /** Units of the video stored so far: a refusal after some arrived means expiry (renew.ts). */
    stored(videoId: string): number;
    /** Fresh URLs for a video's units (from its manifest fetched again), after signed URLs expired. */
    refreshUrls(job: VideoJob): Promise<FreshUrls>;
    proxyConfiguration?: ProxyConfiguration;
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

/** The Range header of a unit that is a slice of a file. Pure. */
export const rangeHeader = (range: UnitTask['range']): Record<string, string> =>
    range ? { range: `bytes=${range.offset}-${range.offset + range.length - 1}` } : {};

export class UnitFetcher {
    private readonly keys: KeyCache;
    private readonly renewer: UrlRenewer;
    /** Work folders made so far: once per video, not per segment (mkdir showed up in profiles at hundreds of segments). */
    private readonly madeDirs = new Set<string>();

    constructor(private readonly options: UnitFetcherOptions) {
        this.keys = new KeyCache({ retries: options.retries });
        this.renewer = new UrlRenewer({ refresh: (job) => options.refreshUrls(job), stored: options.stored });
    }

    private async sessionProxy(session: string | undefined): Promise<string | undefined> {
        const proxies = this.options.proxyConfiguration;
        return session && proxies ? proxies.newUrl(session) : undefined;
    }

    /** Opens `url` as a stream; a status other than 2xx is an `HttpStatusError` (with its Retry-After). */
    async open(url: string, options: OpenOptions = {}): Promise<StreamedResponse> {
        const headers = withUserAgent(options.headers ?? {});
        const proxyUrl = (await this.sessionProxy(options.proxySession)) ?? options.proxyUrl;
        // Cookies and the input's headers are set per hop, redirects included (credentials.ts).
        const res = await httpClient.stream({
            ...credentials.apply({ url, headers }, options.pageUrl),
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

    /**
     * Fetches one unit of `job` to its final name in the work folder (written as `.part`, renamed once
     * complete and checked); resolves to the bytes received. A unit the page stage holds is moved instead.
     */
    async fetch(job: VideoJob, unit: UnitTask, proxyUrl?: string): Promise<number> {
        const dir = this.options.workDir(job.id);
        if (!this.madeDirs.has(dir)) {
            await mkdir(dir, { recursive: true });
            this.madeDirs.add(dir);
        }
        const final = path.join(dir, unit.unit);
        if (unit.localFile) return moveLocalUnit(unit.localFile, this.options.workRoot, final);
        const { key, res } = await this.openUnit(job, unit, proxyUrl);
        return this.write(res, unit, key, final);
    }

    /** Streams a unit's body through its stages (range cut, decryption, segment check) to `final`. */
    private async write(
        res: StreamedResponse,
        unit: UnitTask,
        key: Buffer | undefined,
        final: string,
    ): Promise<number> {
        const part = `${final}.part`;
        // Segments are checked (and unwrapped from fake image headers); ranges of a file are taken as they come.
        const inspector = unit.raw ? undefined : new SegmentInspector();
        const stages: NodeJS.ReadWriteStream[] = [];
        // A server that ignores Range sends the whole file: cut our part out of it.
        if (unit.range && res.statusCode === 200) stages.push(rangeSlicer(unit.range.offset, unit.range.length));
        if (key && unit.key) stages.push(createDecipheriv('aes-128-cbc', key, Buffer.from(unit.key.iv, 'hex')));
        try {
            await pipeline([res.stream, ...stages, ...(inspector ? [inspector] : []), createWriteStream(part)]);
        } catch (error) {
            await rm(part, { force: true });
            // A body that is not valid AES-CBC ciphertext means a wrong key: no retry helps.
            if (error instanceof Error && 'code' in error && error.code === 'ERR_OSSL_BAD_DECRYPT') {
                throw new KeyError(`decryption failed for ${redactUrl(unit.url)}: wrong key or IV`, { cause: error });
            }
            throw error;
        }
        // got counts the body bytes as they arrive; a separate counting stage cost a stream hop per chunk.
        const progress = (res.stream as Readable & { downloadProgress?: { transferred: number } }).downloadProgress;
        const received = progress?.transferred ?? inspector?.received ?? 0;
        const expected = Number(header(res.headers, 'content-length'));
        let corrupt: string | undefined;
        if (Number.isFinite(expected) && expected > 0 && received !== expected)
            corrupt = `received ${received} of ${expected} bytes`;
        // A range of a file must be exactly the bytes asked for: the joined file is checked by size too.
        else if (unit.raw && unit.range && res.statusCode === 206 && received !== unit.range.length)
            corrupt = `received ${received} bytes for a range of ${unit.range.length}`;
        if (corrupt) {
            await rm(part, { force: true });
            throw new CorruptUnitError(corrupt);
        }
        await rename(part, final);
        return received;
    }

    /**
     * Opens a unit at its latest URL (and gets its key). A refusal after other units of the video
     * arrived means the signed URLs expired (`looksExpired`): the source is read again, as often as
     * that helps, and the unit tried at its fresh URL. A refused key is renewed the same way; when
     * that cannot work, the video fails with the key's error.
     */
    private async openUnit(
        job: VideoJob,
        unit: UnitTask,
        proxyUrl?: string,
    ): Promise<{ key?: Buffer; res: StreamedResponse }> {
        const headers = { ...job.headers, ...rangeHeader(unit.range) };
        const from = { headers, proxySession: job.proxySession, proxyUrl, pageUrl: job.pageUrl };
        for (;;) {
            const generation = this.renewer.generation(job.id);
            const fresh = this.renewer.fresh(job.id, unit.unit);
            const url = fresh?.url ?? unit.url;
            const keyUri = fresh?.keyUri ?? unit.key?.uri;
            try {
                const keyProxy = await this.sessionProxy(job.proxySession);
                const keying = keyUri ? this.keys.get(keyUri, job.headers, keyProxy, job.pageUrl) : undefined;
                // A key known to be refused fails the unit before its segment is asked for (issue 21).
                if (keyUri && this.keys.failed(keyUri)) await keying;
                // Else the segment is asked for while the key is: the first units of an encrypted video
                // waited a round trip for the key before their own requests went out.
                const opening = this.open(url, from);
                opening.catch(() => undefined); // awaited below, after the key
                const key = await keying?.catch((error: unknown) => {
                    void opening.then(
                        (res) => res.stream.destroy(),
                        () => undefined,
                    );
                    throw error;
                });
                return { key, res: await opening };
            } catch (error) {
                const action = await this.renewAfter(error, job, generation);
                const now = this.renewer.fresh(job.id, unit.unit);
                // The fresh look names the same URLs: asking again cannot help this unit.
                if ((now?.url ?? unit.url) === url && (now?.keyUri ?? unit.key?.uri) === keyUri) {
                    if (error instanceof KeyError || action === 'probe') throw error;
                    throw new ExpiredError('the source read again names the same URLs', { cause: error });
                }
            }
        }
    }

    /**
     * After a refused unit or key: reads the video's source again when that may help (and says which
     * rule applied, `refusalAction`), else rethrows.
     */
    private async renewAfter(error: unknown, job: VideoJob, generation: number): Promise<'renew' | 'probe'> {
        const action = refusalAction(refusalStatus(error), this.options.stored(job.id), generation);
        if (action === 'fail') throw error;
        // A probe that could not look (a network error, a 5xx) is tried again with the request; else the refusal stands.
        if (action === 'probe')
            await this.renewer.renew(job, generation).catch((renewal: Error) => {
                throw isRetryable(renewal) ? renewal : error;
            });
        else
            await this.renewer.renew(job, generation).catch((renewal: Error) => {
                // A key that cannot be had is the key's failure, whatever stopped its renewal.
                if (error instanceof KeyError && isVideoFatal(renewal))
                    throw new KeyError(`${error.message}; ${renewal.message}`, { cause: renewal });
                throw renewal;
            });
        return action;
    }
}
