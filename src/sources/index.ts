/**
 * The source stage's one entry: a captured URL (manifest or file) → the format-neutral plan.
 * Each format is a small module beside this one; nothing downstream knows which one made a plan.
 */
import { ManifestError } from '../errors.js';
import { formatFromContentType, formatFromUrl } from '../formats.js';
import type { VideoQuality } from '../input/input.js';
import type {
    FetchedText,
    ManifestFetcher,
    PageSubtitle,
    SourceFormat,
    SubtitleFormat,
    TrackJob,
    TrackPlan,
    VideoCandidate,
    VideoJob,
    VideoPlan,
} from '../model.js';
import { looksLikeMpd, pollDashTrack, resolveDash } from './dash/resolve.js';
import { resolveFile } from './file/resolve.js';
import { pollHlsTrack } from './hls/refresh.js';
import { looksLikeHls, resolveHls } from './hls/resolve.js';
import { planMse } from './mse/plan.js';

// Where a URL or a content type names a format: shared with the page stage (src/formats.ts).
export { formatFromContentType, formatFromUrl } from '../formats.js';

export interface PlanOptions {
    quality: VideoQuality;
    maxSegments: number;
    maxConcurrency: number;
    /** The page's language (`<html lang>`), for the audio track of a DASH video. */
    preferredLang?: string;
    /** Plan subtitle tracks too. */
    subtitles?: boolean;
}

/** A look at a live source lists at most this many segments per track (a long DVR window). */
const MAX_LIVE_SEGMENTS = 100_000;

/** What the first bytes of a URL with no telling name or type are. */
async function sniffFormat(url: string, fetcher: ManifestFetcher): Promise<SourceFormat> {
    const head = await fetcher.sniff(url, 4096);
    const text = head.body.toString('utf8');
    if (looksLikeHls(text)) return 'hls';
    if (looksLikeMpd(text, head.contentType)) return 'dash';
    return formatFromContentType(head.contentType) ?? 'file';
}

/**
 * A manifest the page built (`blob:` / `data:` URL): its own URL reads as the captured text, with
 * `baseUrl` (the page) as the URL its relative references resolve against; everything else it
 * names goes to the real fetcher. The `blob:` URL itself is never fetched (`resolveUrl` refuses it).
 * (hls.js resolves a blob playlist's relative URIs against the `blob:` URL, which yields URLs it
 * cannot load: pages that play such playlists list absolute URIs, which resolve the same here.)
 */
export function inlineFetcher(
    url: string,
    inline: { text: string; baseUrl: string },
    format: SourceFormat,
    fetcher: ManifestFetcher,
): ManifestFetcher {
    const contentType = format === 'dash' ? 'application/dash+xml' : 'application/vnd.apple.mpegurl';
    return {
        text: async (u) => (u === url ? { text: inline.text, url: inline.baseUrl, contentType } : fetcher.text(u)),
        range: (u, r) => fetcher.range(u, r),
        sniff: (u, n) => fetcher.sniff(u, n),
    };
}

/**
 * The page's own copy of a manifest first (what its player received), else a fetch. Each received copy is
 * used once: what is asked again (a live playlist looked at later) is fetched fresh.
 */
export function withReceived(
    fetcher: ManifestFetcher,
    received: ((url: string) => Promise<FetchedText | undefined>) | undefined,
): ManifestFetcher {
    if (!received) return fetcher;
    const used = new Set<string>();
    return {
        text: async (u) => {
            const copy = used.has(u) ? undefined : await received(u);
            used.add(u);
            return copy ?? fetcher.text(u);
        },
        range: (u, r) => fetcher.range(u, r),
        sniff: (u, n) => fetcher.sniff(u, n),
    };
}

/** An inline manifest's plan names the page-built URL, not the page it resolved against. Pure. */
function namedInline(plan: VideoPlan, url: string, baseUrl: string): VideoPlan {
    const own = (u: string): string => (u === baseUrl ? url : u);
    const tracks = plan.tracks.map((t) => ({ ...t, sourceUrl: own(t.sourceUrl) }));
    return { ...plan, variantUrl: own(plan.variantUrl), tracks };
}

export async function resolvePlan(
    candidate: Pick<VideoCandidate, 'url' | 'format' | 'inline' | 'mse'>,
    fetcher: ManifestFetcher,
    options: PlanOptions,
): Promise<VideoPlan> {
    const { inline } = candidate;
    if (inline) {
        const format = candidate.format ?? (looksLikeHls(inline.text) ? 'hls' : 'dash');
        const fetch = inlineFetcher(candidate.url, inline, format, fetcher);
        const plan = await resolvePlan({ url: candidate.url, format }, fetch, options);
        return namedInline(plan, candidate.url, inline.baseUrl);
    }
    const format = candidate.format ?? formatFromUrl(candidate.url) ?? (await sniffFormat(candidate.url, fetcher));
    switch (format) {
        case 'hls':
            return resolveHls(candidate.url, fetcher, options.quality, options.maxSegments, {
                subtitles: options.subtitles,
            });
        case 'dash':
            return resolveDash(candidate.url, fetcher, options.quality, {
                maxSegments: options.maxSegments,
                preferredLang: options.preferredLang,
                subtitles: options.subtitles,
            });
        case 'file':
            return resolveFile(candidate.url, fetcher, options.maxConcurrency);
        case 'mse':
            if (!candidate.mse) throw new ManifestError('a MediaSource video needs its captured appends');
            return planMse(candidate.url, candidate.mse);
    }
}

/**
 * Subtitle files a page's `<track>` elements name, as tracks of its video: one text unit each,
 * after the tracks the manifest already has (a language the manifest covers is not added twice).
 */
export function withPageSubtitles(plan: VideoPlan, subtitles: readonly PageSubtitle[]): VideoPlan {
    const langs = new Set(plan.tracks.filter((t) => t.subtitles).map((t) => t.lang));
    let n = plan.tracks.filter((t) => t.subtitles).length;
    const added: TrackPlan[] = [];
    for (const s of subtitles) {
        if (langs.has(s.lang)) continue;
        langs.add(s.lang);
        const format: SubtitleFormat = /\.(ttml|dfxp|xml)(\?|$)/i.test(s.url) ? 'ttml' : 'webvtt';
        added.push({
            name: `s${n++}`,
            sourceUrl: s.url,
            segments: [{ seq: 0, url: s.url, durationSecs: 0, discontinuity: false }],
            inits: [],
            durationSecs: 0,
            live: false,
            bytes: 'text',
            subtitles: format,
            lang: s.lang,
            label: s.label,
        });
    }
    return added.length ? { ...plan, tracks: [...plan.tracks, ...added] } : plan;
}

/**
 * A fresh look at one track of a live video: its current window as a plan. HLS media playlists
 * are fetched again; so is a dynamic MPD, the track's Representation planned as it stands now.
 */
export async function pollTrack(job: VideoJob, track: TrackJob, fetcher: ManifestFetcher): Promise<TrackPlan> {
    if (job.format === 'hls') return pollHlsTrack(track, fetcher);
    if (job.format === 'dash') return pollDashTrack(job.url, track.sourceUrl, track.name, fetcher, MAX_LIVE_SEGMENTS);
    throw new ManifestError(`following a live ${job.format} source is not supported`);
}

// Fresh URLs after signed ones expired (src/sources/renew.ts).
export { refreshUnitUrls } from './renew.js';
