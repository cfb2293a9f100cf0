/**
 * Following a player until its main content plays. A `<video>` that starts with something short (a
 * pre-roll, an intro, an ad break) changes its source when that ends; what it plays once its source
 * settles is the page's video, and what played before and was replaced is reported, never stored.
 *
 * Short sources are fast-forwarded (seeked to their last moments at 16x) rather than waited out: a
 * 30 s advert would otherwise outlast `pageWaitSecs`. Only sources the page fetched by URL are
 * followed: a MediaSource capture (hooks.ts) needs the page to play its video as it is.
 *
 * A source is followed only when the page gives a reason to think it is not the main content: the
 * player or what is around it says "advert" (classes and ids of the ad SDK conventions, an "Ad 1 of
 * 2", "Skip ad", "Werbung" text or aria-label), or the page names a media URL it has neither played
 * nor fetched (in the player's attributes, its `<source>`s, its containers' data attributes, or the
 * page's inline scripts: an intro's page names the main video it plays next). A short source alone is
 * no reason: following every source of 30 s or less fast-forwarded every demo video (5-6 s) in the
 * crawl bench and held each play page ~0.4-3.6 s past its last media request (median 1.06 s vs
 * 0.60 s without following; plyr's plain file 3.6 s).
 */
import type { Page } from 'playwright';
import { delay } from '../time/delay.js';
import { normalizeUrl } from '../urls.js';
import { FAST_FORWARD, videoStates, type VideoState } from './video-states.js';

/** A source at most this long, before any longer one played, may be a pre-roll or an intro. */
export const PREROLL_MAX_SECS = 30;
/**
 * How long a source's duration (or a source at all) is waited for before it is taken as it is. A
 * source still loading its metadata (the element says so) is waited for past this, as long as the
 * page's deadline and FOLLOW_STALL_MS allow: on two busy cores a pre-roll's metadata came later than
 * 1.2 s and the pre-roll was stored as the page's video (CI, two test files at once).
 */
export const METADATA_WAIT_MS = 1200;
/**
 * After a short source ended, how long what follows it has to start: the next source is set in the
 * `ended` handler (a bare page, videojs-contrib-ads' `endLinearAdMode`), seen at the next poll. Both
 * this long and ENDED_GRACE_POLLS of our looks at the page: each look is a turn of the page's own event
 * loop, so on a busy machine the grace stretches with the page (~0.3 s of looks on a quiet one).
 */
export const ENDED_GRACE_MS = 400;
export const ENDED_GRACE_POLLS = 3;
/**
 * Following ends once nothing has moved for this long: no player changed or ended its source, and no
 * source being fast-forwarded advanced (and at the page's deadline in any case). A short source
 * fast-forwarded on a local server ends within ~1 s; one that never moves (a player that ignores the
 * seek and does not play) must not hold the page for its whole `pageWaitSecs`. It was a fixed 3 s
 * from the start of following: with two test files at once on 2 cores, a pre-roll page was still
 * switching to its main video when that cap ended, and the pre-roll was stored as the page's video.
 */
export const FOLLOW_STALL_MS = 3000;
/** A media request belongs to the source seen within this long after it (sources are polled). */
const POLL_SLACK_MS = 300;
const POLL_MS = 80;
/** After pressing play, how long the player has to show what it plays. */
const PRESS_ANSWER_MS = 700;

export interface SourceObservation {
    src: string;
    firstSeen: number;
    /** Seconds; NaN while unknown, Infinity for a live stream. */
    duration: number;
    ended: boolean;
    endedAt?: number;
    /** Looks at the page since it ended, after the one that saw it end. */
    endedPolls?: number;
    /** The element is fetching and has no metadata yet (networkState LOADING, readyState HAVE_NOTHING). */
    loading?: boolean;
    loop: boolean;
    /** It played (not only preloaded its metadata). */
    played?: boolean;
    /** The player or its container says it plays an advert (class or id tokens, an "Ad"/"Skip ad" text). */
    adHint: boolean;
    /** While it was current, the page named a media URL that had been neither a source nor fetched. */
    namesOther?: boolean;
}

export interface ElementHistory {
    key: string;
    sources: SourceObservation[];
}

export interface Verdict {
    settled: boolean;
    /** Elements whose short source is to be played through quickly. */
    fastForward: string[];
}

const known = (d: number): boolean => Number.isFinite(d) && d > 0;

const sameUrl = (a: string, b: string): boolean => {
    try {
        return normalizeUrl(a) === normalizeUrl(b);
    } catch {
        return a === b;
    }
};

/** The page gave a reason to think this source is not its main content. Pure. */
export const suspect = (s: SourceObservation): boolean => s.adHint || !!s.namesOther;

/** Whether the i-th source of an element may be something played before the main video. Pure. */
export function isLeadIn(sources: readonly SourceObservation[], i: number): boolean {
    const s = sources[i];
    if (!s) return false;
    if (s.adHint) return true;
    if (s.loop || !known(s.duration) || s.duration > PREROLL_MAX_SECS || !s.namesOther) return false;
    // After a long source played, a short one is a post-roll or the next item: not followed.
    for (let j = 0; j < i; j++) if (sources[j]!.played !== false && !isLeadIn(sources, j)) return false;
    return true;
}

/**
 * Whether every player's source has settled, and which to fast-forward meanwhile. `since` is when
 * the first media request was seen; `fetched`, the URLs of the media requests seen so far. Pure.
 */
export function sourceVerdict(
    histories: readonly ElementHistory[],
    now: number,
    since: number,
    fetched: readonly string[],
): Verdict {
    const fastForward: string[] = [];
    let settled = true;
    for (const h of histories) {
        const cur = h.sources[h.sources.length - 1];
        if (!cur || !cur.src) {
            if (now - since < METADATA_WAIT_MS) settled = false;
            continue;
        }
        // What replaced a lead-in is the page's video: its request is waited for, or the page would be
        // left with only the replaced source captured (seen in CI with two test files at once).
        const replacedLeadIn = h.sources.slice(0, -1).some((_, i) => isLeadIn(h.sources, i));
        if (replacedLeadIn && !cur.src.startsWith('blob:') && !fetched.some((f) => sameUrl(f, cur.src))) {
            settled = false;
            continue;
        }
        if (!known(cur.duration) && cur.duration !== Infinity && !cur.ended) {
            // Its duration matters only to a source that may be followed.
            if (suspect(cur) && (cur.loading || now - cur.firstSeen < METADATA_WAIT_MS)) settled = false;
            continue;
        }
        if (!isLeadIn(h.sources, h.sources.length - 1)) continue;
        if (!cur.ended) {
            settled = false;
            fastForward.push(h.key);
        } else if (now - (cur.endedAt ?? now) < ENDED_GRACE_MS || (cur.endedPolls ?? 0) < ENDED_GRACE_POLLS)
            settled = false;
    }
    return { settled, fastForward };
}

export interface ReplacedSource {
    url: string;
    reason: string;
}

export const REPLACED_REASON = 'played before the main video (an advert or intro), then replaced by it';

/**
 * The media requests that belong to sources a player replaced by its final one. A source with a
 * URL is matched by it; one fed through a MediaSource (`blob:`) by time: a request belongs to the
 * source seen last before it (within the polling slack). Requests of the final sources never
 * count. Pure.
 */
export function replacedMedia(
    histories: readonly ElementHistory[],
    media: readonly { url: string; at: number }[],
): ReplacedSource[] {
    const finals = histories.map((h) => h.sources[h.sources.length - 1]?.src).filter((s): s is string => !!s);
    const replaced = new Map<string, ReplacedSource>();
    for (const h of histories) {
        const n = h.sources.length;
        for (let i = 0; i < n - 1; i++) {
            const s = h.sources[i]!;
            if (!s.src || finals.some((f) => sameUrl(f, s.src))) continue;
            const next = h.sources[i + 1]!;
            for (const m of media) {
                if (finals.some((f) => sameUrl(f, m.url))) continue;
                const byUrl = !s.src.startsWith('blob:') && sameUrl(m.url, s.src);
                const byTime =
                    s.src.startsWith('blob:') &&
                    m.at + POLL_SLACK_MS >= s.firstSeen &&
                    m.at + POLL_SLACK_MS < next.firstSeen;
                if (byUrl || byTime) replaced.set(m.url, { url: m.url, reason: REPLACED_REASON });
            }
        }
    }
    return [...replaced.values()];
}

export const UNFINISHED_AD_REASON =
    "played before the main video (an advert or intro), still playing when the page's wait (pageWaitSecs) ended";

/**
 * The media of adverts still playing when following ended (the page's deadline came first): the
 * player marks them as adverts, so they are not the page's video even though no main video replaced
 * them yet. Only a short one beside another video the page fetched; a source that is a lead-in only
 * because the page names another URL stays: it may be the main video after all. Seen on a Video.js
 * page with two test files at once on 2 cores: its pre-roll still played at the 10 s deadline and was
 * stored beside the main video. Pure.
 */
export function unfinishedAdverts(
    histories: readonly ElementHistory[],
    media: readonly { url: string }[],
): ReplacedSource[] {
    const out: ReplacedSource[] = [];
    for (const h of histories) {
        const cur = h.sources[h.sources.length - 1];
        if (!cur?.adHint || cur.ended || cur.src.startsWith('blob:')) continue;
        // An advert is short; a live or long video under an "ad" class is more likely the main one.
        if (!known(cur.duration) || cur.duration > PREROLL_MAX_SECS || !isLeadIn(h.sources, h.sources.length - 1))
            continue;
        // Only beside another video the page fetched: else it is all the page has to show.
        if (!media.some((m) => !sameUrl(m.url, cur.src))) continue;
        for (const m of media)
            if (sameUrl(m.url, cur.src) && !out.some((o) => o.url === m.url))
                out.push({ url: m.url, reason: UNFINISHED_AD_REASON });
    }
    return out;
}

/**
 * Whether a page names a media URL that none of an element's sources was and no request fetched:
 * something it has yet to play. A MediaSource player (`blob:`) names the manifest it fetched itself,
 * and is not followed on this ground. Pure.
 */
export function namesUnplayed(
    named: readonly string[],
    sources: readonly { src: string }[],
    fetched: readonly string[],
): boolean {
    const cur = sources[sources.length - 1]?.src ?? '';
    if (!cur || cur.startsWith('blob:')) return false;
    return named.some((n) => !sources.some((s) => sameUrl(s.src, n)) && !fetched.some((f) => sameUrl(f, n)));
}

/**
 * Whether an ad hint seen now belongs to the element's current source. The source that follows an
 * advert is still under the advert's marks until it plays: videojs-contrib-ads keeps `vjs-ad-playing`
 * and `vjs-ad-content-resuming` on the player until the content can play and plays. Taken as the
 * content's own, they made the main video a lead-in, fast-forwarded to its end, in 13 of 16 runs of the
 * Video.js pre-roll page. So after a hinted source, a hint counts only while the new source plays: 1 run
 * in 10 after (a look between the content's first frames and the player's `playing` handler). Pure.
 */
export function adHintCounts(sources: readonly SourceObservation[], state: VideoState): boolean {
    const before = sources[sources.length - 2];
    return !before?.adHint || state.playing === true;
}

/** Folds one poll into the histories: a new entry when an element's source changed. */
export function observe(
    histories: Map<string, ElementHistory>,
    states: readonly VideoState[],
    now: number,
    /** URLs of the media requests seen so far. */
    fetched: readonly string[] = [],
): void {
    for (const s of states) {
        const h = histories.get(s.key) ?? { key: s.key, sources: [] };
        histories.set(s.key, h);
        const duration = s.duration === null ? NaN : s.duration >= 1e308 ? Infinity : s.duration;
        let cur = h.sources[h.sources.length - 1];
        if (!cur || cur.src !== s.src) {
            // An element emptied for a moment between two sources keeps the one it had.
            if (!s.src && cur) continue;
            cur = { src: s.src, firstSeen: now, duration, ended: false, loop: s.loop, adHint: false };
            h.sources.push(cur);
        }
        cur.duration = duration;
        cur.loop = s.loop;
        cur.played = cur.played || !s.unplayed;
        if (adHintCounts(h.sources, s)) cur.adHint ||= s.adHint;
        if (!cur.namesOther && s.named?.length) cur.namesOther = namesUnplayed(s.named, h.sources, fetched);
        cur.loading = s.loading === true;
        if (s.ended && !cur.ended) [cur.endedAt, cur.endedPolls] = [now, 0];
        else if (s.ended) cur.endedPolls = (cur.endedPolls ?? 0) + 1;
        cur.ended = s.ended;
    }
}

export interface FollowResult {
    replaced: ReplacedSource[];
    /** Sources fast-forwarded (short sources played through to see what follows). */
    fastForwarded: number;
}

/**
 * What following watches for progress: every player's source and whether it ended, and the position
 * of those being fast-forwarded. It changes while a pre-roll plays through or a player switches to
 * what follows, however slow the machine; a main video playing beside them does not count. Pure.
 */
export function progressMark(states: readonly VideoState[], forwarding: readonly string[]): string {
    return states
        .map((s) => `${s.key}|${s.src}|${s.ended}|${forwarding.includes(s.key) ? (s.time ?? 0).toFixed(1) : ''}`)
        .join(';');
}

/**
 * Watches the page's players until their sources settle, `deadline` passes or nothing has moved for
 * FOLLOW_STALL_MS, fast-forwarding short ones; then tells which captured media were replaced.
 */
export async function followSources(
    page: Page,
    media: () => readonly { url: string; at: number }[],
    since: number,
    deadline: number,
    /** Presses play once (a person would): a player that preloaded its video may play something else first. */
    pressPlay: () => Promise<boolean>,
): Promise<FollowResult> {
    const histories = new Map<string, ElementHistory>();
    let movedAt = Date.now();
    let mark = '';
    let forwarding: string[] = [];
    let pressedAt = 0;
    /** `key|src` → when it was last fast-forwarded (again after a while: a seek before the data came is lost). */
    const forwarded = new Map<string, number>();
    while (Date.now() < deadline && Date.now() - movedAt < FOLLOW_STALL_MS) {
        const states = await videoStates(page);
        if (states.length === 0) break; // no <video> to follow (a player that only fetched, or an iframe's)
        const seen = progressMark(states, forwarding);
        if (seen !== mark) [mark, movedAt] = [seen, Date.now()];
        observe(
            histories,
            states,
            Date.now(),
            media().map((m) => m.url),
        );
        // Media found, but no player has played: what it shows once played may be a pre-roll, when the
        // page gives a reason to think so (a plyr page without one waited 0.7 s for the press's answer).
        const reason = [...histories.values()].some((h) => h.sources.some(suspect));
        if (!pressedAt && states.every((s) => s.unplayed) && reason) {
            pressedAt = Date.now();
            if (!(await pressPlay())) pressedAt = -1;
            // The press is ours, not the page standing still: the player's answer is waited for from
            // when it ends. On two busy cores a press took over 3 s, following ended with no look after
            // it, and the pre-roll it started was stored beside the main video.
            else [pressedAt, movedAt] = [Date.now(), Date.now()];
            continue;
        }
        const verdict = sourceVerdict(
            [...histories.values()],
            Date.now(),
            since,
            media().map((m) => m.url),
        );
        if (verdict.settled && (pressedAt <= 0 || Date.now() - pressedAt >= PRESS_ANSWER_MS)) break;
        forwarding = verdict.fastForward;
        for (const key of verdict.fastForward) {
            const src = histories.get(key)?.sources.at(-1)?.src ?? '';
            const [frame, id] = key.split(':');
            const last = forwarded.get(`${key}|${src}`);
            if (last !== undefined && Date.now() - last < 600) continue;
            forwarded.set(`${key}|${src}`, Date.now());
            await page
                .frames()
                [Number(frame)]?.evaluate(`${FAST_FORWARD}(${JSON.stringify(id)})`)
                .catch(() => undefined);
        }
        // A page-local poll: short, within the page's deadline, ended with the page (its next look throws).
        await delay(POLL_MS);
    }
    const all = [...histories.values()];
    const replaced = replacedMedia(all, media());
    for (const ad of unfinishedAdverts(all, media())) if (!replaced.some((r) => r.url === ad.url)) replaced.push(ad);
    return { replaced, fastForwarded: forwarded.size };
}
