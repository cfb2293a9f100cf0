/**
 * Start URLs as requests, and what a site behind a login needs with them.
 *
 * Crawlee's `RequestList` reads the console's request-list sources (a list, an uploaded file, a remote
 * text file); each source's `headers` travel with every URL it yields. The input's `headers` go to the
 * start URLs' sites only, and its `cookies` only where a browser would send them (RFC 6265 matching):
 * a login token must not leak to an ad server or a third-party CDN a page happens to load.
 */
import { RequestList, type ProxyConfiguration } from '@crawlee/core';
import type { BrowserContext, Page } from 'playwright';
import type { CookieInput, CrawlInput, HeaderMap } from '../input/input.js';
import { cookieHeader } from './headers.js';

export interface StartRequest {
    url: string;
    /** The source's own headers (`directHeaders` adds the input's `headers` and cookies). */
    headers: HeaderMap;
}

/** The site a host belongs to, for header scoping: the host without a leading `www.`. Pure. */
export const siteOf = (hostname: string): string => hostname.toLowerCase().replace(/^www\./, '');

const hostOf = (url: string): string | undefined => {
    try {
        return new URL(url).hostname.toLowerCase();
    } catch {
        return undefined;
    }
};

/**
 * Whether a URL is on one of these sites: the site itself or a subdomain of it (`cdn.example.com` for
 * `www.example.com`). A start URL on `video.example.com` does not widen to `example.com`: without the
 * public-suffix list that would also widen `example.co.uk` to `co.uk`. Pure.
 */
export function onSites(url: string, sites: readonly string[]): boolean {
    const host = hostOf(url);
    return host !== undefined && sites.some((s) => host === s || host.endsWith(`.${s}`));
}

/** The cookies a browser would send with a request to this URL (RFC 6265 §5.4). Pure. */
export function cookiesFor(url: string, cookies: readonly CookieInput[], nowSecs = Date.now() / 1000): CookieInput[] {
    let u: URL;
    try {
        u = new URL(url);
    } catch {
        return [];
    }
    const host = u.hostname.toLowerCase();
    return cookies.filter((c) => {
        const domain = c.domain.replace(/^\./, '');
        const domainMatch = c.hostOnly ? host === domain : host === domain || host.endsWith(`.${domain}`);
        const pathMatch = u.pathname === c.path || u.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`);
        const live = c.expires === undefined || c.expires > nowSecs;
        return domainMatch && pathMatch && live && (!c.secure || u.protocol === 'https:');
    });
}

/**
 * The input's cookies as Playwright's `addCookies` takes them: a leading dot means "and subdomains".
 * `SameSite=None` without `Secure` is left to the browser's default (Lax): Chromium would drop the cookie. Pure.
 */
export function browserCookies(cookies: readonly CookieInput[]): Parameters<BrowserContext['addCookies']>[0] {
    return cookies.map((c) => {
        const bare = c.domain.replace(/^\./, '');
        return {
            name: c.name,
            value: c.value,
            domain: c.hostOnly ? bare : `.${bare}`,
            path: c.path,
            expires: c.expires ?? -1,
            ...(c.httpOnly !== undefined && { httpOnly: c.httpOnly }),
            ...(c.secure !== undefined && { secure: c.secure }),
            // Chromium drops a SameSite=None cookie that is not Secure; exports of http sites carry such.
            ...(c.sameSite && (c.sameSite !== 'None' || c.secure) && { sameSite: c.sameSite }),
        };
    });
}

/** The sites the input's `headers` go to: those of the start URLs and of remote URL lists' entries. */
export const startSites = (requests: readonly StartRequest[]): string[] => [
    ...new Set(
        requests
            .map((r) => hostOf(r.url))
            .filter((h): h is string => h !== undefined)
            .map(siteOf),
    ),
];

/**
 * Headers for a request the crawler itself makes for a start URL (a playlist, a video file, an image):
 * the input's `headers` (the URL is on a start site by definition), the source's own, and a Cookie header
 * from the matching cookies. Pure.
 */
export function directHeaders(url: string, own: HeaderMap, input: Pick<CrawlInput, 'cookies' | 'headers'>): HeaderMap {
    const headers: HeaderMap = { ...input.headers, ...own };
    const cookies = cookiesFor(url, input.cookies);
    if (cookies.length) headers.cookie = cookieHeader(cookies);
    return headers;
}

/**
 * Reads the start URLs through Crawlee's `RequestList` (remote lists are fetched here: a list that cannot
 * be fetched is a crawl error, not invalid input) and gives each its headers.
 */
export async function openStartRequests(
    input: Pick<CrawlInput, 'startUrls'>,
    proxyConfiguration?: ProxyConfiguration,
): Promise<StartRequest[]> {
    const sources = input.startUrls.map((s) => ({ ...s, headers: { ...s.headers } }));
    const list = await RequestList.open(null, sources, { proxyConfiguration });
    const out: StartRequest[] = [];
    for (let r = await list.fetchNextRequest(); r; r = await list.fetchNextRequest()) {
        // A remote list yields whatever its text holds: only http(s) URLs are crawled.
        if (/^https?:/i.test(r.url)) out.push({ url: r.url, headers: { ...r.headers } });
        await list.markRequestHandled(r);
    }
    // Crawlee only warns about a remote list with no URLs (a 404 page has none): here there is nothing to do.
    if (!out.length)
        throw new Error('the start URLs gave no http(s) URL to crawl (is a remote URL list empty or gone?)');
    return out;
}

/**
 * Headers the browser adds to one of a page's requests: the input's `headers` on the start sites, the
 * page's own source headers on the page's site. Pure.
 */
export function pageRequestHeaders(
    requestUrl: string,
    page: { url: string; headers: HeaderMap },
    global: HeaderMap,
    sites: readonly string[],
): HeaderMap {
    const pageHost = hostOf(page.url);
    return {
        ...(onSites(requestUrl, sites) ? global : {}),
        ...(pageHost && onSites(requestUrl, [siteOf(pageHost)]) ? page.headers : {}),
    };
}

/**
 * Media a page led to, with the headers the input gives their URLs added: the browser's own request
 * headers already carry them, but a URL found in the DOM or the page source was never fetched by the
 * browser and has only the page's Referer, User-Agent and cookies. The browser's headers win. Pure.
 */
export function withSiteHeaders<T extends { url: string; headers: HeaderMap }>(
    found: readonly T[],
    page: { url: string; headers: HeaderMap },
    access: Pick<SiteAccess, 'headers' | 'sites'>,
): T[] {
    return found.map((f) => ({
        ...f,
        headers: { ...pageRequestHeaders(f.url, page, access.headers, access.sites), ...f.headers },
    }));
}

export interface SiteAccess {
    cookies: readonly CookieInput[];
    headers: HeaderMap;
    sites: readonly string[];
    /** A start source's own headers, kept in memory: queued requests carry none (they are storage records). */
    ownHeaders?(pageUrl: string): HeaderMap;
}

const withCookies = new WeakSet<BrowserContext>();

/**
 * Before a page's navigation: the input's cookies into the browser context (once per context), and the
 * extra headers on the page's requests that should carry them. A route, not `setExtraHTTPHeaders`,
 * because the latter sends them to every host the page touches. The browser's own request headers then
 * include them, so the media the page leads to are fetched with them too (capture.ts forwards those).
 */
export async function applySiteAccess(
    page: Page,
    request: { url: string; headers?: HeaderMap },
    access: SiteAccess,
): Promise<void> {
    const context = page.context();
    if (access.cookies.length && !withCookies.has(context)) {
        withCookies.add(context);
        await context.addCookies(browserCookies(access.cookies));
    }
    // The start source's headers ride on Crawlee's Request; a followed link has none.
    const own: HeaderMap = {};
    const given = access.ownHeaders?.(request.url) ?? {};
    for (const [name, value] of Object.entries({ ...given, ...request.headers })) own[name.toLowerCase()] = value;
    if (!Object.keys(access.headers).length && !Object.keys(own).length) return;
    const target = { url: request.url, headers: own };
    const extra = (url: string) => pageRequestHeaders(url, target, access.headers, access.sites);
    await page.route(
        (url) => Object.keys(extra(url.href)).length > 0,
        // fallback, not continue: routes registered later (hooks, players stopped) still see the request.
        (route) => route.fallback({ headers: { ...route.request().headers(), ...extra(route.request().url()) } }),
    );
}
