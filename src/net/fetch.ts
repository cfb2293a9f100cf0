/**
 * Small buffered fetches with retries: playlists and keys (kilobytes). Segments and images are
 * streamed by the download crawler instead.
 */
import { GotScrapingHttpClient, type HttpRequest, type HttpResponse, type ResponseTypes } from '@crawlee/core';
import { HttpStatusError, isRetryable, ResponseTooLargeError } from '../errors.js';
import { retry } from '../time/retry.js';
import { credentials } from './credentials.js';
import { withUserAgent, type Headers } from './headers.js';
import { asPolicyError, guardRequest } from './guard.js';

// The error classes live with the rest of the hierarchy; re-exported for the callers of this module.
export { HttpStatusError, redactUrl, ResponseTooLargeError } from '../errors.js';

export interface FetchOptions {
    headers?: Headers;
    proxyUrl?: string;
    retries: number;
    maxBytes: number;
    timeoutMs?: number;
    /** The page the fetch is for: its start source's headers go with it (credentials.ts). */
    pageUrl?: string;
    /** The run's stop: a request in flight is dropped, a wait before the next try ends, none starts. */
    signal?: AbortSignal;
}

export interface FetchedBody {
    body: Buffer;
    url: string;
    contentType: string;
}

/**
 * Crawlee's got-scraping client with the network policy on every request (net/guard.ts): the one
 * HTTP client of manifests, keys, probes, refreshes, segments and images.
 */
class PolicyHttpClient extends GotScrapingHttpClient {
    override async sendRequest<T extends keyof ResponseTypes>(request: HttpRequest<T>): Promise<HttpResponse<T>> {
        try {
            return await super.sendRequest(guardRequest(request));
        } catch (error) {
            throw asPolicyError(error);
        }
    }

    override async stream(...[request, onRedirect]: Parameters<GotScrapingHttpClient['stream']>) {
        try {
            return await super.stream(guardRequest(request), onRedirect);
        } catch (error) {
            throw asPolicyError(error);
        }
    }
}

export const httpClient = new PolicyHttpClient();

/**
 * Loads the client's library now instead of at the first request, where Crawlee imports got-scraping:
 * 0.3-0.4 s of the main thread on the play-page bench, paid while the page's playlist waited. Called where
 * the main thread would otherwise wait for Chromium. With no page to wait for it only moves the same work:
 * on the m3u8 URL the playlist's fetch started that much later and the first segment came no sooner.
 */
export function preloadHttpClient(): void {
    void import('got-scraping').catch(() => undefined);
}

export function decodeDataUrl(url: string): FetchedBody {
    const m = /^data:([^,]*?)(;base64)?,(.*)$/is.exec(url);
    if (!m) throw new Error('malformed data: URI');
    const body = m[2] ? Buffer.from(m[3] ?? '', 'base64') : Buffer.from(decodeURIComponent(m[3] ?? ''), 'latin1');
    return { body, url, contentType: m[1] || 'text/plain' };
}

export async function fetchBytes(url: string, options: FetchOptions): Promise<FetchedBody> {
    if (url.startsWith('data:')) return decodeDataUrl(url);
    const { signal } = options;
    return retry(
        async () => {
            // Cookies and the input's headers are set per hop, redirects included (credentials.ts).
            const request = credentials.apply({ url, headers: withUserAgent(options.headers) }, options.pageUrl);
            const res = await httpClient.sendRequest({
                ...request,
                proxyUrl: options.proxyUrl,
                responseType: 'buffer',
                throwHttpErrors: false,
                // The browser's own headers are sent as they were; generated ones would contradict them.
                useHeaderGenerator: false,
                timeout: { request: options.timeoutMs ?? 30_000 },
                signal,
            });
            if (res.statusCode >= 200 && res.statusCode < 300) {
                if (res.body.length > options.maxBytes) throw new ResponseTooLargeError(url, options.maxBytes);
                const ct = res.headers['content-type'];
                return { body: res.body, url: res.url, contentType: (Array.isArray(ct) ? ct[0] : ct) ?? '' };
            }
            const ra = res.headers['retry-after'];
            throw new HttpStatusError(url, res.statusCode, Array.isArray(ra) ? ra[0] : ra);
        },
        { attempts: options.retries + 1, shouldRetry: isRetryable, signal },
    );
}
