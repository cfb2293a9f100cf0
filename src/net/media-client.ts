/**
 * One media client per job: the page's headers, its proxy session and the retry budget bound once,
 * so a source module reads manifests and probes files without knowing any of them.
 */
import { HttpStatusError, isRetryable } from '../errors.js';
import type { ByteRange, FetchedText, Headers, ManifestFetcher, SniffedHead } from '../model.js';
import { fetchBytes, httpClient } from './fetch.js';
import { credentials } from './credentials.js';
import { withUserAgent } from './headers.js';
import { retry } from '../time/retry.js';
import { throwIfStopped } from '../time/delay.js';

/** Manifests are text: anything larger is not one (a hostile or endless response). */
export const MANIFEST_MAX_BYTES = 32 * 1024 * 1024;

export interface MediaClientOptions {
    headers: Headers;
    /** The proxy URL for this job's requests (same session as the page), if proxies are on. */
    proxyUrl?: () => Promise<string | undefined>;
    retries: number;
    /** The run's stop: requests in flight are dropped, waits between tries end, no request starts. */
    signal?: AbortSignal;
    /** The page the media is on: its start source's headers go with the requests (credentials.ts). */
    pageUrl?: string;
}

/** The total size from a `Content-Range: bytes 0-99/1234` header, if it states one. */
export function totalFromContentRange(header: string | undefined): number | undefined {
    const m = /^bytes\s+\d+-\d+\/(\d+)\s*$/i.exec(header ?? '');
    return m ? Number(m[1]) : undefined;
}

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

export class MediaClient implements ManifestFetcher {
    constructor(private readonly options: MediaClientOptions) {}

    get headers(): Headers {
        return this.options.headers;
    }

    private async common(): Promise<{
        headers: Headers;
        proxyUrl?: string;
        retries: number;
        pageUrl?: string;
        signal?: AbortSignal;
    }> {
        throwIfStopped(this.options.signal);
        return {
            headers: this.options.headers,
            proxyUrl: await this.options.proxyUrl?.(),
            retries: this.options.retries,
            pageUrl: this.options.pageUrl,
            signal: this.options.signal,
        };
    }

    async text(url: string): Promise<FetchedText> {
        const res = await fetchBytes(url, { ...(await this.common()), maxBytes: MANIFEST_MAX_BYTES });
        return { text: res.body.toString('utf8'), url: res.url, contentType: res.contentType };
    }

    async range(url: string, range: ByteRange): Promise<Buffer> {
        const common = await this.common();
        const headers = { ...common.headers, range: `bytes=${range.offset}-${range.offset + range.length - 1}` };
        const res = await fetchBytes(url, { ...common, headers, maxBytes: Math.max(range.length, MANIFEST_MAX_BYTES) });
        // A server that ignores Range sends the whole resource: cut the part out.
        return res.body.length > range.length ? res.body.subarray(range.offset, range.offset + range.length) : res.body;
    }

    /** The first `bytes` of `url` by a ranged GET that is dropped once they arrived. */
    async sniff(url: string, bytes: number): Promise<SniffedHead> {
        const { retries, signal } = this.options;
        return retry(() => this.sniffOnce(url, bytes), { attempts: retries + 1, shouldRetry: isRetryable, signal });
    }

    private async sniffOnce(url: string, bytes: number): Promise<SniffedHead> {
        const common = await this.common();
        const headers = { ...withUserAgent(common.headers), range: `bytes=0-${bytes - 1}` };
        const res = await httpClient.stream({
            ...credentials.apply({ url, headers }, common.pageUrl),
            proxyUrl: common.proxyUrl,
            throwHttpErrors: false,
            useHeaderGenerator: false,
            timeout: { request: 30_000 },
            signal: common.signal,
        });
        if (res.statusCode < 200 || res.statusCode >= 300) {
            res.stream.destroy();
            throw new HttpStatusError(url, res.statusCode, first(res.headers['retry-after']));
        }
        const chunks: Buffer[] = [];
        let got = 0;
        try {
            for await (const chunk of res.stream) {
                chunks.push(chunk as Buffer);
                got += (chunk as Buffer).length;
                if (got >= bytes) break;
            }
        } finally {
            // A server that ignored Range is sending the whole file: stop it here.
            res.stream.destroy();
        }
        const ranged = res.statusCode === 206;
        const length = Number(first(res.headers['content-length']));
        const total = ranged
            ? totalFromContentRange(first(res.headers['content-range']))
            : Number.isFinite(length) && length > 0
              ? length
              : undefined;
        return {
            body: Buffer.concat(chunks).subarray(0, bytes),
            url: res.url ?? url,
            contentType: first(res.headers['content-type']) ?? '',
            totalBytes: total,
            acceptsRanges: ranged && total !== undefined,
        };
    }
}
