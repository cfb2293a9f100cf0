/**
 * The page stage: renders play and gallery pages in Chromium and reports what media they hold.
 * It knows nothing of downloading: it hands a `FoundPage` to whoever wired it.
 */
import { log, NonRetryableError, type ProxyConfiguration, type RequestProvider } from '@crawlee/core';
import { PlaywrightCrawler, type PlaywrightCrawlingContext } from '@crawlee/playwright';
import type { Page } from 'playwright';
import type { CrawlInput } from '../input/input.js';
import type { FoundVideos, PageSubtitle, VideoCandidate } from '../model.js';
import { credentials } from '../net/credentials.js';
import type { Headers } from '../net/headers.js';
import { MANIFEST_MAX_BYTES } from '../net/media-client.js';
import { activityOf, trackActivity } from './activity.js';
import { NetworkCapture } from './capture.js';
import type { FrameScan } from './dom-scan.js';
import { describeWait } from './wait-outcome.js';
import { scanFrames, sourceCandidates, waitForMedia } from './page-wait.js';
import { pageContextProxy, pageLaunchContext } from './early-browser.js';
import { gatherImages, type PageImage } from './gather-images.js';
import { withHiddenSources } from './hidden-sources.js';
import { tolerateClosedPageRaces } from './playwright-races.js';
import { installHooks, prepareContext, type PageHooks } from './hooks.js';
import { guardPage, refusedMediaOf, type RefusedMedia } from './network-guard.js';
import { MSE_MAX_EXTRA_SECS } from './mse-rules.js';
import { resolveUrl } from '../urls.js';
import { applySiteAccess, type SiteAccess } from '../net/site-access.js';

export { startBrowser } from './early-browser.js';

export interface FoundImages {
    pageUrl: string;
    images: PageImage[];
    /** Image references that will not be fetched (file: and other non-http schemes). */
    refusedImages: string[];
    /** Images found and not taken (placeholders, smaller srcset candidates, …): once per URL, with the reason. */
    skippedImages: { url: string; reason: string; alt?: string }[];
    proxySession?: string;
}

export interface PageCrawlerOptions {
    input: CrawlInput;
    executablePath: string;
    proxyConfiguration?: ProxyConfiguration;
    /** The input's cookies and headers for the start URLs' sites (sites behind a login). */
    access?: SiteAccess;
    /** The page queue, when the crawl is split across workers: shared by all of them. */
    requestQueue?: RequestProvider;
    /** This worker's index, when the crawl is split across workers (run/role.ts). */
    worker?: number;
    /**
     * A crawler beside the run's own (a page rendered again, app/page-again.ts): it persists neither sessions
     * nor statistics, which would otherwise go under the run's own keys (`SDK_SESSION_POOL_STATE`) and be
     * loaded by the main crawler after a resume.
     */
    ephemeral?: boolean;
    /** Returns how many videos were taken on (found on the page and accepted). */
    onVideos(found: FoundVideos): Promise<number>;
    onImages(found: FoundImages): Promise<void>;
    /** Media requests of the page the network policy refused (net/address-policy.ts). */
    onRefusedMedia(pageUrl: string, refused: RefusedMedia[]): Promise<void>;
    /** `why`: what the page stage did there, in words (wait-outcome.ts). */
    onNothingFound(pageUrl: string, title: string | undefined, why?: string): Promise<void>;
    onPageFailed(pageUrl: string, reason: string): Promise<void>;
}

/** navigator.userAgent per browser: asking a busy page took 0.1 s in the crawl bench, and it is one per browser. */
const userAgents = new WeakMap<object, Promise<string>>();

async function userAgentOf(page: Page): Promise<string> {
    const browser = page.context().browser();
    const known = browser && userAgents.get(browser);
    if (known) return known;
    const asked = page.evaluate('navigator.userAgent') as Promise<string>;
    if (browser) {
        userAgents.set(browser, asked);
        // A page closed mid-question: the next page asks again.
        asked.catch(() => userAgents.get(browser) === asked && userAgents.delete(browser));
    }
    return asked;
}

/**
 * The headers media found on the page go with: Referer and User-Agent. Cookies never travel in headers:
 * the browser's are put in the credential jar, which gives each request (each redirect hop) the cookies a
 * browser would send to its host (net/credentials.ts); a Cookie header copied from the page went to CDNs.
 */
async function pageHeaders(page: Page): Promise<Headers> {
    const [userAgent] = await Promise.all([userAgentOf(page), rememberCookies(page)]);
    return { referer: page.url(), 'user-agent': userAgent };
}

/** The browser context's cookies (the input's and what pages set) into this process's jar. */
async function rememberCookies(page: Page): Promise<void> {
    credentials.addBrowserCookies(await page.context().cookies());
}

/**
 * `<track>` subtitle files of the page's players, one per language, http(s) only: those in the page when
 * it was scanned, then those the in-page hooks saw added (`added`, absolute URLs), which a player may
 * have taken out since.
 */
function pageSubtitles(
    scans: FrameScan[],
    added: Iterable<{ src: string; lang: string; label: string }> = [],
): PageSubtitle[] {
    const byLang = new Map<string, PageSubtitle>();
    const found = scans.flatMap((scan) => (scan.tracks ?? []).map((t) => ({ ...t, base: scan.url })));
    for (const t of [...found, ...[...added].map((a) => ({ ...a, base: a.src }))]) {
        try {
            const url = resolveUrl(t.src, t.base);
            const lang = (t.lang || 'und').toLowerCase();
            if (!byLang.has(lang)) byLang.set(lang, { url, lang, label: t.label || undefined });
        } catch {
            // a non-http track source is never fetched
        }
    }
    return [...byLang.values()];
}

async function videoCandidates(page: Page, capture: NetworkCapture, scans: FrameScan[]): Promise<VideoCandidate[]> {
    const candidates: VideoCandidate[] = capture.media.map((m) => ({
        url: m.url,
        headers: m.headers,
        source: 'network',
        format: m.format,
    }));
    const fromSource = sourceCandidates(scans);
    const headers = fromSource.length ? await pageHeaders(page) : {};
    const seen = new Set(candidates.map((c) => c.url));
    // What the player fetched is the video, and so is a file a `<video>`/`<source>` element names
    // (a second player may not have fetched yet when the first one did). URLs merely mentioned in
    // the source text (fallbacks, other episodes, ads) count only when nothing else was found.
    const fromDom = fromSource.filter((c) => c.source === 'dom' && c.format === 'file' && !seen.has(c.url));
    if (candidates.length) return [...candidates, ...new Map(fromDom.map((c) => [c.url, { ...c, headers }])).values()];
    return [...new Map(fromSource.map((c) => [c.url, { ...c, headers }])).values()];
}

/**
 * Once we have the playlist the page's own player is competition: it keeps buffering segments (and
 * decoding them) on the CPU and bandwidth our downloads need. Pause it and refuse its segment fetches.
 */
async function stopPlayers(page: Page): Promise<void> {
    const media = /\.(ts|m4s|m4a|m4v|aac|mp4|webm|flv|mov|mkv|mp3|ogg|oga|opus|flac|wav)(\?|$)/i;
    await page.route(media, (route) => route.abort()).catch(() => undefined);
    await Promise.all(
        page
            .frames()
            .map((f) =>
                f
                    .evaluate('document.querySelectorAll("video, audio").forEach((v) => v.pause())')
                    .catch(() => undefined),
            ),
    );
}

/** Pages one crawler renders at once (tabs of its Chromium). */
export const PAGES_AT_ONCE = 4;

/**
 * How long the plan waits for a manifest answer the page is still receiving before it fetches the
 * manifest itself. The page asked first, so its answer comes no later than a second request's would;
 * only an answer held open (a live playlist's blocking reload, up to three target durations) is not
 * waited out. On the play-page bench (100 ms to first byte) the plan asked 0.02-0.14 s before the page's
 * answer came, and read it 0.03-0.13 s after; its own fetch of the playlist had taken 0.2-0.45 s.
 */
const RECEIVED_WAIT_MS = 2000;

/** The pages' per-crawler state: each page's network capture and in-page hooks, set before it navigates. */
interface PageState {
    captures: WeakMap<Page, NetworkCapture>;
    hookSets: WeakMap<Page, PageHooks>;
}

/**
 * One page: waits as a person would, hands the videos over, gathers the images, and reports what the
 * network policy refused or that nothing was found.
 */
async function handlePage(
    ctx: PlaywrightCrawlingContext,
    options: PageCrawlerOptions,
    state: PageState,
): Promise<void> {
    const { input } = options;
    const { captures, hookSets } = state;
    const { page, request, response, enqueueLinks } = ctx;
    const status = response?.status() ?? 200;
    if (status >= 400) {
        const message = `the page answered HTTP ${status}`;
        if (status >= 500 || status === 429) throw new Error(message);
        throw new NonRetryableError(message);
    }
    const capture = captures.get(page) ?? new NetworkCapture();
    const deadline = Date.now() + input.pageWaitSecs * 1000;
    const proxySession = options.proxyConfiguration ? ctx.session?.id : undefined;
    const hooks = hookSets.get(page);
    const waited = input.downloadVideos ? await waitForMedia(ctx, capture, input.pageWaitSecs, hooks) : undefined;
    const scans = waited ? waited.scans : await scanFrames(page);
    const replaced = waited?.replaced ?? [];
    const main = scans[0];
    const title = main?.title || main?.heading || undefined;
    // What a player replaced by its main video is reported, never taken (source-follow.ts).
    const isReplaced = (url: string): boolean => replaced.some((r) => r.url === url);
    let candidates = input.downloadVideos
        ? (await videoCandidates(page, capture, scans)).filter((c) => !isReplaced(c.url))
        : [];
    // Sources with no URL: page-built manifests, else (nothing found at all) the MediaSource's appends.
    if (input.downloadVideos && hooks) {
        const hardDeadline = deadline + (60 + MSE_MAX_EXTRA_SECS) * 1000;
        const { pageWaitSecs } = input;
        const headers = () => pageHeaders(page);
        const hidden = { pageUrl: request.url, pageWaitSecs, hardDeadline, headers };
        candidates = await withHiddenSources(page, hooks, candidates, hidden);
    }
    const lang = main?.lang || undefined;
    const subtitles =
        input.downloadVideos && input.subtitles ? pageSubtitles(scans, hooks?.subtitleTracks.values()) : [];
    // Videos are handed over (manifests fetched, downloads queued) first, and while the players are
    // stopped and the images gathered: one after the other these added ~0.3 s per play page in the
    // crawl bench, and the page's own requests came ~0.4 s before ours on the play-page bench.
    // The manifests are fetched at once: with the cookies the page has by now (a player's own requests
    // are captured without them; net/credentials.ts adds each host's).
    if (candidates.length) await rememberCookies(page);
    const handing = options.onVideos({
        pageUrl: request.url,
        title,
        lang,
        candidates,
        subtitles,
        proxySession,
        ...(replaced.length ? { replaced } : {}),
        received: (url) => capture.received(url, RECEIVED_WAIT_MS, MANIFEST_MAX_BYTES),
    });
    handing.catch(() => undefined); // awaited below; meanwhile a failure is not "unhandled"
    if (candidates.length) await stopPlayers(page);
    const headers = input.downloadImages ? await pageHeaders(page) : undefined;
    const noImages = { images: [], refused: [], skipped: [] };
    const [videos, { images, refused, skipped }] = await Promise.all([
        handing,
        headers
            ? gatherImages(page, capture, Math.max(deadline, Date.now() + 2000), headers, input.pageWaitSecs * 1000)
            : noImages,
    ]);
    // Cookies set while scrolling (lazy images, consent) count for the images' requests.
    if (images.length) await rememberCookies(page);
    if (images.length || refused.length || skipped.length)
        await options.onImages({
            pageUrl: request.url,
            images,
            refusedImages: refused,
            skippedImages: skipped,
            proxySession,
        });
    const refusedMedia = refusedMediaOf(page.context());
    if (refusedMedia.length) await options.onRefusedMedia(request.url, refusedMedia);
    if (input.linkGlobs.length) await enqueueLinks({ globs: input.linkGlobs });
    // What a user waits for per page beyond the page itself (`npm run bench -- --crawl` reads this line).
    // A page that yielded nothing says the same time in its item, from the same clock reading: taken
    // apart, on a busy CI machine, the item said 0.5 s where the log said 1.7 s.
    const activity = activityOf(page);
    const done = Date.now();
    const beyond = (done - (activity.lastNewMediaRequestAt || activity.startedAt)) / 1000;
    const secs = (done - activity.startedAt) / 1000;
    const nothing = !refused.length && !refusedMedia.length;
    if (videos === 0 && candidates.length === 0 && images.length === 0 && nothing)
        await options.onNothingFound(request.url, title, waited && describeWait({ ...waited.summary, secs }));
    log.info(
        `Page done in ${secs.toFixed(1)} s, ${beyond.toFixed(2)} s after its last new media request: ${request.url}`,
    );
}

export function createPageCrawler(options: PageCrawlerOptions): PlaywrightCrawler {
    tolerateClosedPageRaces();
    const { input } = options;
    const state: PageState = { captures: new WeakMap(), hookSets: new WeakMap() };
    const { captures, hookSets } = state;
    const { worker } = options;
    return new PlaywrightCrawler({
        requestQueue: options.requestQueue,
        // Workers share the default key-value store: each keeps its own sessions and loads no other's statistics.
        ...(options.ephemeral
            ? {
                  statisticsOptions: { persistenceOptions: { enable: false } },
                  sessionPoolOptions: { persistenceOptions: { enable: false } },
              }
            : worker !== undefined
              ? {
                    statisticsOptions: { persistenceOptions: { enable: false } },
                    sessionPoolOptions: { persistStateKey: `SDK_SESSION_POOL_STATE_W${worker}` },
                }
              : {}),
        proxyConfiguration: options.proxyConfiguration,
        // Crawlee would copy the context's cookies (the input's among them) into its sessions, and the session
        // pool persists those in plain text (SDK_SESSION_POOL_STATE). The context keeps its cookies anyway.
        persistCookiesPerSession: false,
        maxRequestsPerCrawl: input.maxPagesPerCrawl > 0 ? input.maxPagesPerCrawl : undefined,
        maxRequestRetries: input.maxRequestRetries,
        maxConcurrency: PAGES_AT_ONCE,
        // A page whose HTML never finishes must not hold a browser tab for minutes.
        navigationTimeoutSecs: Math.min(60, Math.max(15, input.pageWaitSecs * 3)),
        // A MediaSource-only video is played through on the page: up to its duration / 8 more.
        requestHandlerTimeoutSecs: input.pageWaitSecs + 90 + MSE_MAX_EXTRA_SECS,
        launchContext: pageLaunchContext(options.executablePath),
        // The browser's real User-Agent is what we forward to media hosts; a generated fingerprint would differ.
        browserPoolOptions: {
            useFingerprints: false,
            // The in-page hooks' binding, on each browser's context before its first page (hooks.ts).
            postLaunchHooks: [
                async (_id, controller) => void (await Promise.all(controller.browser.contexts().map(prepareContext))),
            ],
            // The browser-wide proxy stays the dead end of early-browser.ts (Crawlee would make it the run's
            // proxy); each page's context gets the run's proxy (Crawlee), else the policy proxy or a direct connection.
            preLaunchHooks: [async (_id, launchContext) => void (launchContext.proxyUrl = undefined)],
            prePageCreateHooks: [
                async (_id, _controller, pageOptions) => {
                    const options = pageOptions as { proxy?: unknown } | undefined;
                    if (options && !options.proxy) options.proxy = await pageContextProxy();
                },
            ],
            // The network policy on each page's context before it navigates (network-guard.ts).
            postPageCreateHooks: [async (page) => guardPage(page)],
        },
        preNavigationHooks: [
            // Cookies into the context, the start sites' headers onto this page's requests (site-access.ts).
            async ({ page, request }) => options.access && applySiteAccess(page, request, options.access),
            // Listeners must exist before navigation: a player's first XHRs are otherwise missed (crawlee #1611).
            async ({ page }, gotoOptions) => {
                // Our own waits follow (players, lazy content); the load event may never come on media pages.
                if (gotoOptions) gotoOptions.waitUntil = 'domcontentloaded';
                trackActivity(page);
                const capture = new NetworkCapture();
                capture.attach(page);
                captures.set(page, capture);
                hookSets.set(page, await installHooks(page, { mayNeedMse: () => capture.media.length === 0 }));
            },
        ],
        requestHandler: (ctx) => handlePage(ctx, options, state),
        async failedRequestHandler({ request }, error) {
            await options.onPageFailed(request.url, error.message.split('\n')[0] ?? String(error));
        },
    });
}
