/**
 * Small buffered fetches with retries: playlists and keys (kilobytes). Segments and images are
 * streamed by the download crawler instead.
 */
import { GotScrapingHttpClient } from '@crawlee/core';
import { isRetryableStatus, retryDelayMs, sleep } from './retry.js';
import { withUserAgent, type Headers } from './headers.js';

export class HttpStatusError extends Error {
    override readonly name = 'HttpStatusError' as const;
    constructor(
        readonly url: string,
        readonly statusCode: number,
        readonly retryAfter?: string,
    ) {
        super(`HTTP ${statusCode} from ${redactUrl(url)}`);
    }
}

export class ResponseTooLargeError extends Error {
    override readonly name = 'ResponseTooLargeError' as const;
    constructor(url: string, limit: number) {
        super(`response from ${redactUrl(url)} is larger than ${limit} bytes`);
    }
}

/** Query strings carry tokens: logs and errors show the path only. */
export function redactUrl(url: string): string {
    try {
        const u = new URL(url);
        if (u.protocol === 'data:') return 'data:…';
        u.username = '';
        u.password = '';
        return u.search ? `${u.origin}${u.pathname}?…` : `${u.origin}${u.pathname}`;
    } catch {
        return url.slice(0, 100);
    }
}

export interface FetchOptions {
    headers?: Headers;
    proxyUrl?: string;
    retries: number;
    maxBytes: number;
    timeoutMs?: number;
}

export interface FetchedBody {
    body: Buffer;
    url: string;
    contentType: string;
}

export const httpClient = new GotScrapingHttpClient();

export function decodeDataUrl(url: string): FetchedBody {
    const m = /^data:([^,]*?)(;base64)?,(.*)$/is.exec(url);
    if (!m) throw new Error('malformed data: URI');
    const body = m[2] ? Buffer.from(m[3] ?? '', 'base64') : Buffer.from(decodeURIComponent(m[3] ?? ''), 'latin1');
    return { body, url, contentType: m[1] || 'text/plain' };
}

export async function fetchBytes(url: string, options: FetchOptions): Promise<FetchedBody> {
    if (url.startsWith('data:')) return decodeDataUrl(url);
    for (let attempt = 0; ; attempt++) {
        let retryAfter: string | undefined;
        try {
            const res = await httpClient.sendRequest({
                url,
                headers: withUserAgent(options.headers),
                proxyUrl: options.proxyUrl,
                responseType: 'buffer',
                throwHttpErrors: false,
                // The browser's own headers are sent as they were; generated ones would contradict them.
                useHeaderGenerator: false,
                timeout: { request: options.timeoutMs ?? 30_000 },
            });
            if (res.statusCode >= 200 && res.statusCode < 300) {
                if (res.body.length > options.maxBytes) throw new ResponseTooLargeError(url, options.maxBytes);
                const ct = res.headers['content-type'];
                return { body: res.body, url: res.url, contentType: (Array.isArray(ct) ? ct[0] : ct) ?? '' };
            }
            const ra = res.headers['retry-after'];
            throw new HttpStatusError(url, res.statusCode, Array.isArray(ra) ? ra[0] : ra);
        } catch (error) {
            // Network errors and 408/429/5xx are worth another try; other statuses and oversize bodies are not.
            const retryable = error instanceof HttpStatusError ? isRetryableStatus(error.statusCode) : !(error instanceof ResponseTooLargeError);
            if (!retryable || attempt >= options.retries) throw error;
            retryAfter = error instanceof HttpStatusError ? error.retryAfter : undefined;
        }
        await sleep(retryDelayMs(attempt + 1, retryAfter));
    }
}
