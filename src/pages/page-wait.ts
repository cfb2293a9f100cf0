/**
 * How long the page stage stays on a page and what it does there meanwhile: it waits for players and
 * playlists, clicks what a person would (invitations.ts) and follows a player until its main content plays
 * (source-follow.ts), until the page is quiet and nothing is left to do, within `pageWaitSecs`.
 */
import type { PlaywrightCrawlingContext } from '@crawlee/playwright';
import type { Page } from 'playwright';
import type { SourceFormat, VideoCandidate } from '../model.js';
import { delay } from '../time/delay.js';
import { resolveUrl } from '../urls.js';
import { activityOf } from './activity.js';
import { isVideoFileUrl, manifestFormat, type NetworkCapture } from './capture.js';
import { findManifestUrls, SCAN_FRAME, type FrameScan } from './dom-scan.js';
import type { PageHooks } from './hooks.js';
import { chooseInvitation, clickInvitation, listInvitations, type Invitation } from './invitations.js';
import { keepOnPage } from './page-guard.js';
import { followSources, type ReplacedSource } from './source-follow.js';
import type { WaitSummary } from './wait-outcome.js';

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

export async function scanFrames(page: Page): Promise<FrameScan[]> {
    const frames = page.frames().filter((f) => !f.url().startsWith('chrome-error:'));
    const scans = await Promise.all(frames.map((f) => f.evaluate<FrameScan>(SCAN_FRAME).catch(() => undefined)));
    return scans.filter((s): s is FrameScan => s !== undefined);
}

/**
 * Candidates from the DOM (`video`/`source` elements: manifests, files, or a URL whose first bytes
 * will tell) and from page source text (manifests only).
 */
export function sourceCandidates(scans: FrameScan[]): SourceCandidate[] {
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
export async function waitForMedia(
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
    let followed = false;
    // Only sources with a URL are followed: a MediaSource capture needs the page's playback untouched.
    // Media seen only once the wait ended counts too: on a busy machine a player's first response can
    // come after the page went quiet (a pre-roll page was left unfollowed, and its pre-roll stored).
    if (capture.media.length > 0) {
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
        const follow = await followSources(page, () => capture.media, capture.media[0]!.at, deadline, pressPlay);
        await capture.settle();
        replaced = follow.replaced;
        followed = true;
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
    // Decided on a scan of the DOM as it still is: no second scan (each serialises every frame). After
    // following, the players may show other sources than the last scan saw.
    const fresh = decided && !followed && scannedChange === activity.lastChangeAt && lastScan > 0;
    return { scans: fresh ? scans : await scanFrames(page), replaced, summary };
}
