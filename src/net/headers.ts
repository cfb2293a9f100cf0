/**
 * Which of the browser's request headers travel with our own fetches of the same media. Keys and
 * segments are often refused (403) without the page's Referer, the browser's User-Agent or its cookies.
 */
export type { Headers } from '../model.js';
import type { Headers } from '../model.js';

/**
 * For media reached without a page (a start URL that is a playlist): a plain desktop Chrome
 * User-Agent. got-scraping's header generator would make one per request, and that costs more CPU
 * than the rest of a segment download together.
 */
export const DEFAULT_USER_AGENT =
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36';

/** The headers to send: the browser's where we have them, a User-Agent at least. */
export const withUserAgent = (headers: Headers | undefined): Headers => ({
    'user-agent': DEFAULT_USER_AGENT,
    ...headers,
});

// Connection-level, per-request or body headers: forwarding them breaks or confuses the next request.
const DROP = new Set([
    'host',
    'connection',
    'content-length',
    'content-type',
    'range',
    'if-range',
    'if-none-match',
    'if-modified-since',
    'accept-encoding',
    'upgrade-insecure-requests',
    'purpose',
    'sec-purpose',
]);

export function forwardableHeaders(all: Record<string, string | string[] | undefined>): Headers {
    const out: Headers = {};
    for (const [rawName, value] of Object.entries(all)) {
        const name = rawName.toLowerCase();
        if (value === undefined || name.startsWith(':') || DROP.has(name)) continue;
        out[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    return out;
}

/** A Cookie header from browser cookies, as the browser would send it. Pure. */
export const cookieHeader = (cookies: readonly { name: string; value: string }[]): string =>
    cookies.map((c) => `${c.name}=${c.value}`).join('; ');

// Never printed, never stored in the dataset.
const SECRET = /^(cookie|authorization|proxy-authorization|x-.*token.*|x-api-key)$/i;

export function redactHeaders(headers: Headers): Headers {
    return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, SECRET.test(k) ? '<redacted>' : v]));
}
