/**
 * The page stage: renders play and gallery pages in Chromium and reports what media they hold.
 * It knows nothing of downloading: it hands a `FoundPage` to whoever wired it.
 */
import { log, NonRetryableError, type ProxyConfiguration, type RequestProvider } from '@crawlee/core';
import { PlaywrightCrawler, type PlaywrightCrawlingContext } from '@crawlee/playwright';
import type { Page } from 'playwright';
import type { CrawlInput } from '../input/input.js';
import type { FoundVideos, PageSubtitle, SourceFormat, VideoCandidate } from '../model.js';
import { credentials } from '../net/credentials.js';
import type { Headers } from '../net/headers.js';
import { delay } from '../time/delay.js';
import { activityOf, trackActivity } from './activity.js';
import { isVideoFileUrl, manifestFormat, NetworkCapture } from './capture.js';
import { findManifestUrls, SCAN_FRAME, type FrameScan } from './dom-scan.js';
import { chooseInvitation, clickInvitation, listInvitations, type Invitation } from './invitations.js';
import { keepOnPage } from './page-guard.js';
import { followSources, type ReplacedSource } from './source-follow.js';
import { describeWait, type WaitSummary } from './wait-outcome.js';
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

/*
 * The waits end when the page is quiet (activity.ts: no new request, nothing in flight that can add
 * content, no DOM change for 0.4 s) and nothing is left to click (invitations.ts). These only bound
 * pages that never go quiet (the fixed waits they were: a page with no player waited 4 s, the seed's
 * kind 1.5 s, a click came after 2.5 s).
 */
/** A page with a playlist only in its source (no player) is given at most this long. */
const SOURCE_ONLY_GRACE_MS = 1500;
/** A page that is not quiet by then is clicked anyway (a player whose page keeps loading). */
const CLICK_AFTER_MS = 2500;
/** A page with no player element and no playlist in its source is not waited on longer than this. */
const NO_PLAYER_GIVE_UP_MS = 4000;
/** How often the waits look at the page (the old loop's 200 ms cost ~0.1 s per page on average). */
const POLL_MS = 50;

type SourceCandidate = Omit<VideoCandidate, 'headers'>;

async function scanFrames(page: Page): Promise<FrameScan[]> {
    const frames = page.frames().filter((f) => !f.url().startsWith('chrome-error:'));
    const scans = await Promise.all(frames.map((f) => f.evaluate<FrameScan>(SCAN_FRAME).catch(() => undefined)));
    return scans.filter((s): s is FrameScan => s !== undefined);
}

/**
 * Candidates from the DOM (`video`/`source` elements: manifests, files, or a URL whose first bytes
 * will tell) and from page source text (manifests only).
 */
function sourceCandidates(scans: FrameScan[]): SourceCandidate[] {
    const out: SourceCandidate[] = [];
    for (const scan of scans) {
        for (const src of scan.mediaSrcs) {
            let url: string;
            try {
                url = resolveUrl(src, scan.url);
            } catch {
                continue; // non-http media source: never fetched
            }
            const format: SourceFormat | undefined = manifestFormat(url) ?? (isVideoFileUrl(url) ? 'file' : undefined);
            out.push({ url, source: 'dom', format });
        }
        for (const url of findManifestUrls(scan.html, scan.url))
            out.push({ url, source: 'html', format: manifestFormat(url) });
    }
    return out;
}

/** Clicks a page may spend on its invitations (invitations.ts): a player, its modal, a second try. */
const CLICK_BUDGET = 6;
/** After a click the page is given at least this long to answer before the next click or leaving. */
const AFTER_CLICK_MS = 700;
/** A click that brought no new request may be repeated this long after (a control not wired up yet). */
const CLICK_RETRY_MS = 1800;

export interface PageWait {
    scans: FrameScan[];
    /** Media a player played before its main video and replaced by it (pre-rolls, intros). */
    replaced: ReplacedSource[];
    /** What the wait did, for the message of a page that yielded nothing. */
    summary: WaitSummary;
}

/**
 * Waits until the page's player requests a manifest or file, trying what a person would click
 * (play controls, posters, tiles that open a player) within a click budget; a page is left once
 * it is quiet and nothing is left to click. A player that starts with a short source is followed
 * until its main video plays (source-follow.ts).
 */
async function waitForMedia(
    ctx: PlaywrightCrawlingContext,
    capture: NetworkCapture,
    waitSecs: number,
    hooks?: PageHooks,
): Promise<PageWait> {
    const { page } = ctx;
    const activity = activityOf(page);
    const start = Date.now();
    const deadline = start + waitSecs * 1000;
    const clicks: WaitSummary['clicks'] = {};
    let clickCount = 0;
    let lastClickAt = 0;
    let scans: FrameScan[] = [];
    let invitations: Invitation[] = [];
    let lastScan = 0;
    let scannedChange = -1;
    let players = 0;
    let inSource = false;
    let decided = false;
    let found = false;
    while (Date.now() < deadline) {
        // A page-built manifest or a fed MediaSource is as telling as a manifest request (hooks.ts).
        if (capture.media.length > 0 || hooks?.ready()) {
            found = true;
            break;
        }
        const quiet = await activity.quiet(page);
        const now = Date.now();
        // Look at the page once it is quiet (again only when its DOM changed), and every second regardless.
        if ((quiet && scannedChange !== activity.lastChangeAt) || now - lastScan > 1000) {
            [scans, invitations] = await Promise.all([scanFrames(page), listInvitations(page)]);
            lastScan = Date.now();
            scannedChange = activity.lastChangeAt;
            // An <audio> is a player too (a radio show, a podcast).
            players = scans.reduce((n, s) => n + (s.html.match(/<(video|audio|iframe)\b/gi)?.length ?? 0), 0);
            inSource = sourceCandidates(scans).length > 0;
        }
        const sinceClick = now - lastClickAt;
        const answered = activity.lastNewRequestAt >= lastClickAt;
        const retryDue = lastClickAt > 0 && sinceClick >= CLICK_RETRY_MS && !answered;
        // Clicks wait for a quiet page, or not longer than CLICK_AFTER_MS (a page that never goes quiet).
        const mayAct = sinceClick >= AFTER_CLICK_MS && (quiet || now - Math.max(start, lastClickAt) > CLICK_AFTER_MS);
        if (mayAct) {
            // A page whose MediaSource is being fed plays already: a click could only pause it.
            const playing = (hooks?.firstAppendAt ?? 0) > 0;
            const budget = playing ? 0 : CLICK_BUDGET - clickCount;
            const next = chooseInvitation(invitations, { budget, retryDue });
            if (next) {
                await keepOnPage(page);
                clickCount++; // the budget counts tries; the message, clicks made
                lastClickAt = Date.now();
                if (await clickInvitation(page, next)) clicks[next.kind] = (clicks[next.kind] ?? 0) + 1;
                lastScan = 0; // what the click opened is looked at next
                continue;
            }
            const retryPending =
                lastClickAt > 0 && !answered && invitations.some((i) => i.clicks === 1) && clickCount < CLICK_BUDGET;
            // A `<video>` with no source yet is a player still loading (its source may come from a timer).
            const emptyPlayer = scans.some((sc) => /<video\b/i.test(sc.html) && sc.mediaSrcs.length === 0);
            const playerGrace = emptyPlayer && now - start < CLICK_AFTER_MS;
            if (quiet && !retryPending && !playerGrace) {
                decided = true;
                break;
            }
        }
        // A page that never goes quiet and offers nothing to click is not waited on for long.
        const giveUp = inSource ? SOURCE_ONLY_GRACE_MS : NO_PLAYER_GIVE_UP_MS;
        if (!players && !invitations.length && !clickCount && now - start > giveUp) {
            decided = true;
            break;
        }
        // A page-local poll: short, within the page's deadline, ended with the page (its next look throws).
        await delay(POLL_MS);
    }
    await capture.settle();
    let replaced: ReplacedSource[] = [];
    // Only sources with a URL are followed: a MediaSource capture needs the page's playback untouched.
    if (found && capture.media.length > 0) {
        const pressPlay = async (): Promise<boolean> => {
            const next = chooseInvitation(
                (await listInvitations(page)).filter((i) => i.kind !== 'tile'),
                { budget: CLICK_BUDGET - clickCount, retryDue: false },
            );
            if (!next) return false;
            await keepOnPage(page);
            clickCount++;
            const clicked = await clickInvitation(page, next);
            if (clicked) clicks[next.kind] = (clicks[next.kind] ?? 0) + 1;
            return clicked;
        };
        const followed = await followSources(page, () => capture.media, capture.media[0]!.at, deadline, pressPlay);
        await capture.settle();
        replaced = followed.replaced;
    }
    const summary: WaitSummary = {
        secs: (Date.now() - activity.startedAt) / 1000,
        timedOut: !decided && !found,
        waitSecs,
        players,
        mediaRequests: capture.media.length,
        clicks,
        leftToClick: clickCount >= CLICK_BUDGET ? invitations.filter((i) => i.clicks === 0).length : 0,
    };
    // Decided on a scan of the DOM as it still is: no second scan (each serialises every frame).
    const fresh = decided && scannedChange === activity.lastChangeAt && lastScan > 0;
    return { scans: fresh ? scans : await scanFrames(page), replaced, summary };
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

/** `<track>` subtitle files of the page's players, one per language, http(s) only. */
function pageSubtitles(scans: FrameScan[]): PageSubtitle[] {
    const byLang = new Map<string, PageSubtitle>();
    for (const scan of scans) {
        for (const t of scan.tracks ?? []) {
            try {
                const url = resolveUrl(t.src, scan.url);
                const lang = (t.lang || 'und').toLowerCase();
                if (!byLang.has(lang)) byLang.set(lang, { url, lang, label: t.label || undefined });
            } catch {
                // a non-http track source is never fetched
            }
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
    const subtitles = input.downloadVideos && input.subtitles ? pageSubtitles(scans) : [];
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
    const nothing = !refused.length && !refusedMedia.length;
    if (videos === 0 && candidates.length === 0 && images.length === 0 && nothing)
        await options.onNothingFound(request.url, title, waited && describeWait(waited.summary));
    // What a user waits for per page beyond the page itself (`npm run bench -- --crawl` reads this line).
    const activity = activityOf(page);
    const done = Date.now();
    const beyond = (done - (activity.lastNewMediaRequestAt || activity.startedAt)) / 1000;
    const secs = ((done - activity.startedAt) / 1000).toFixed(1);
    log.info(`Page done in ${secs} s, ${beyond.toFixed(2)} s after its last new media request: ${request.url}`);
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
