/**
 * The network policy (net/address-policy.ts) in the browser: every request of every page, frame
 * and dedicated worker of a context passes `context.route`, which refuses what the policy refuses
 * (as written, and without a proxy by what the host name resolves to).
 *
 * The route answers "may this page ask for this URL?" and turns refusals into `skipped` items. Where the
 * connection goes is checked once more below it, by the policy proxy (net/policy-proxy.ts) each page's
 * context uses when the run has no proxy: it resolves names itself and connects to the address it
 * checked, so rebinding (Chromium would resolve again after the route's lookup), redirect hops in forms
 * `Network.setBlockedURLs` patterns cannot express (`[::ffff:10.0.0.9]`) and the hops of out-of-process
 * iframes are refused too. Other gaps of a route alone, and what closes them:
 * - A route sees only the first URL of a redirect chain (Playwright's documented limit; measured:
 *   a 302 to localhost was fetched): each page also gets Chromium's `Network.setBlockedURLs` with
 *   patterns of the refused address forms, which Chromium applies to every hop (measured).
 * - `page.route`/`context.route` do not see a service worker's requests: service workers are blocked
 *   (`serviceWorkers: 'block'` in the context options, early-browser.ts). A page works without one.
 * - WebSockets are not routed requests: `routeWebSocket` closes those the policy refuses as written.
 * - With the run's own proxy, that proxy resolves names: only what the URL says is checked (as in the
 *   downloader, net/guard.ts).
 * - The browser's own requests (updates, time, safe browsing) are no page's: launch flags (browser.ts).
 */
import dns from 'node:dns';
import { isIP } from 'node:net';
import type { BrowserContext, Page } from 'playwright';
import { blockedUrlPatterns, hostClass, urlRefusal } from '../net/address-policy.js';
import { addressesRefusal, currentNetworkPolicy, isProxied, refusedPageRequests } from '../net/guard.js';

/** A media request the browser was refused: it becomes a `skipped` item of its page. */
export interface RefusedMedia {
    url: string;
    kind: 'image' | 'video';
    reason: string;
}

const refusedByContext = new WeakMap<BrowserContext, Map<string, RefusedMedia>>();

/** The media requests refused in a page's context so far (one context per page: incognito pages). */
export const refusedMediaOf = (context: BrowserContext): RefusedMedia[] => [
    ...(refusedByContext.get(context)?.values() ?? []),
];

const MEDIA_URL = /\.(m3u8|mpd|mp4|m4v|webm|mov|flv)(\?|#|$)/i;

/** What a host name resolved to, for a minute: one lookup per host, not per request. */
const resolved = new Map<string, { at: number; reason: Promise<string | undefined> }>();
const RESOLVED_TTL_MS = 60_000;

function nameRefusal(host: string): Promise<string | undefined> {
    const known = resolved.get(host);
    if (known && Date.now() - known.at < RESOLVED_TTL_MS) return known.reason;
    const reason = dns.promises.lookup(host, { all: true }).then(
        (list) =>
            addressesRefusal(
                host,
                list.map((a) => a.address),
            ),
        () => undefined,
    );
    resolved.set(host, { at: Date.now(), reason });
    return reason;
}

/** Why the browser may not request this URL, or undefined. */
async function browserRefusal(url: string): Promise<string | undefined> {
    const policy = currentNetworkPolicy();
    if (policy.all) return undefined;
    const asWritten = urlRefusal(policy, url);
    if (asWritten || isProxied()) return asWritten;
    let host: string;
    try {
        host = new URL(url).hostname;
    } catch {
        return undefined;
    }
    if (!/^(https?|wss?):$/.test(new URL(url).protocol) || hostClass(host) || isIP(host.replace(/^\[|\]$/g, '')))
        return undefined;
    return nameRefusal(host);
}

const guarded = new WeakSet<BrowserContext>();

/** The policy on a new page: its context's route (once per context) and the page's blocked URL patterns. */
export async function guardPage(page: Page): Promise<void> {
    const policy = currentNetworkPolicy();
    if (policy.all) return;
    await guardContext(page.context());
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setBlockedURLs', { urls: blockedUrlPatterns(policy) });
}

/** Puts the policy on a context before its first page navigates. */
export async function guardContext(context: BrowserContext): Promise<void> {
    if (guarded.has(context) || currentNetworkPolicy().all) return;
    guarded.add(context);
    const media = new Map<string, RefusedMedia>();
    refusedByContext.set(context, media);
    await context.route(
        () => true,
        async (route) => {
            const request = route.request();
            const url = request.url();
            const reason = await browserRefusal(url);
            if (!reason) return route.fallback();
            refusedPageRequests.count++;
            const type = request.resourceType();
            const kind = type === 'image' ? 'image' : type === 'media' || MEDIA_URL.test(url) ? 'video' : undefined;
            if (kind && !media.has(url)) media.set(url, { url, kind, reason });
            await route.abort('blockedbyclient').catch(() => undefined);
        },
    );
    await context.routeWebSocket(
        (url) => urlRefusal(currentNetworkPolicy(), url.href) !== undefined,
        (ws) => {
            refusedPageRequests.count++;
            void ws.close({ code: 1008, reason: 'refused by the network policy' }).catch(() => undefined);
        },
    );
}
