/**
 * Captured MPD URL → the VideoPlan to download: the chosen video Representation (and its separate
 * audio) of every Period, joined in order, SegmentBase indexes fetched and read.
 */
import { ManifestError } from '../../errors.js';
import type { VideoQuality } from '../../input/input.js';
import type {
    ManifestFetcher,
    SegmentPlan,
    SubtitleFormat,
    TrackName,
    TrackPlan,
    UnitSource,
    VideoPlan,
} from '../../model.js';
import { looksLikeMpd, notAnMpd, parseMpd, type ParsedMpd, type Representation } from './mpd.js';
import { chooseAudio, chooseVideo, refuseDrm } from './select.js';
import { segmentsOf } from './segment-base.js';
import { representationSegments, tooManySegments, type RawSegment } from './segments.js';

export { looksLikeMpd } from './mpd.js';
export { parseSidx } from './sidx.js';

export interface DashOptions {
    maxSegments: number;
    /** Plan the MPD's text tracks (WebVTT, TTML sidecar files or segments) too. */
    subtitles?: boolean;
    /** The page's language (`<html lang>`): breaks a tie between audio tracks. */
    preferredLang?: string;
}

interface Pick {
    /** The video, or for media with no video in any Period (a radio show, a podcast) the audio. */
    main: Representation;
    audio?: Representation;
}

/**
 * One pick per Period that has video; Periods without any media (empty, text only) are skipped.
 * An MPD with audio and no video in any Period is audio alone: its audio is the main track.
 */
function pickTracks(periods: Representation[][], quality: VideoQuality, preferredLang?: string): Pick[] {
    const picks: Pick[] = [];
    const audioPicks: Pick[] = [];
    let audioOnly: number | undefined;
    for (const [p, reps] of periods.entries()) {
        const video = chooseVideo(reps, quality);
        const audio = video?.muxedAudio ? undefined : chooseAudio(reps, preferredLang);
        refuseDrm([reps], [audio]);
        if (video) picks.push({ main: video, audio });
        else if (audio) {
            audioOnly ??= p;
            audioPicks.push({ main: audio });
        }
    }
    if (picks.length === 0 && audioPicks.length > 0) return audioPicks;
    if (picks.length === 0) {
        const kinds = periods.flat().map((r) => r.kind);
        const count = (k: string) => kinds.filter((x) => x === k).length;
        throw new ManifestError(
            `DASH MPD has no playable video (${count('audio')} audio, ${count('other')} other representations)`,
        );
    }
    // The tracks are joined Period by Period: a gap in one of them would shift the other.
    if (audioOnly !== undefined) throw new ManifestError(`DASH period ${audioOnly + 1} has audio but no video`);
    const withAudio = picks.filter((p) => p.audio).length;
    if (withAudio > 0 && withAudio < picks.length) {
        throw new ManifestError('DASH MPD has separate audio in some periods only');
    }
    return picks;
}

const unitKey = (u: UnitSource): string => `${u.url}#${u.range ? `${u.range.offset}-${u.range.length}` : ''}`;

/**
 * One Period's segments after another. `seq` counts on from the first segment's number without a
 * break (merge/ reports a failed unit as firstSeq + its index); a Period after the first starts a
 * discontinuity; each distinct init section is listed once.
 */
export function joinPeriods(parts: RawSegment[][]): { segments: SegmentPlan[]; inits: UnitSource[] } {
    const inits: UnitSource[] = [];
    const initIndex = new Map<string, number>();
    const segments: SegmentPlan[] = [];
    for (const part of parts) {
        part.forEach((s, i) => {
            let init: number | undefined;
            if (s.init) {
                const key = unitKey(s.init);
                init = initIndex.get(key);
                if (init === undefined) {
                    init = inits.push(s.init) - 1;
                    initIndex.set(key, init);
                }
            }
            const first = segments[0]?.seq ?? s.number;
            segments.push({
                url: s.url,
                ...(s.range ? { range: s.range } : {}),
                seq: first + segments.length,
                durationSecs: s.durationSecs,
                ...(init !== undefined ? { init } : {}),
                discontinuity: i === 0 && segments.length > 0,
            });
        });
    }
    return { segments, inits };
}

/** The subtitle format of a text representation we can read, if any (TTML inside MP4, `stpp`, is not). */
function textFormat(rep: Representation): SubtitleFormat | undefined {
    const mime = (rep.info.attributes.mimeType ?? '').toLowerCase();
    const codecs = (rep.codecs ?? '').toLowerCase();
    if (rep.kind !== 'other') return undefined;
    if (mime === 'text/vtt' || (codecs === 'wvtt' && !mime.includes('mp4'))) return 'webvtt';
    if (mime === 'application/ttml+xml' || (codecs.startsWith('stpp') && !mime.includes('mp4'))) return 'ttml';
    return undefined;
}

/**
 * One subtitle track per language from the first Period's text representations. Subtitles of a
 * multi-Period MPD are left out: their times restart per Period and sidecar files rarely do.
 * A text track that cannot be planned costs nothing but itself.
 */
async function textTracks(periods: Representation[][], ctx: Parameters<typeof track>[2]): Promise<TrackPlan[]> {
    if (periods.length !== 1) return [];
    const byLang = new Map<string, { rep: Representation; format: SubtitleFormat }>();
    for (const rep of periods[0]!) {
        const format = textFormat(rep);
        const lang = (rep.lang ?? 'und').toLowerCase();
        if (format && !byLang.has(lang)) byLang.set(lang, { rep, format });
    }
    // Planned at once (an index each to read when they are SegmentBase); named s0, s1, … below, in this
    // order, once it is known which could be planned.
    const planned = await Promise.all(
        [...byLang].map(([lang, { rep, format }]) =>
            track('s0', [rep], ctx).then(
                (t) => {
                    const raw = rep.info.attributes.label;
                    const label = typeof raw === 'string' && raw.trim() ? raw.trim() : undefined;
                    return { ...t, bytes: 'text' as const, subtitles: format, lang, ...(label ? { label } : {}) };
                },
                () => undefined,
            ),
        ),
    );
    return planned.filter((t) => t !== undefined).map((t, i) => ({ ...t, name: `s${i}` as const }));
}

type TrackContext = Parameters<typeof track>[2];

function contextOf(
    mpdUrl: string,
    manifestUrl: string,
    fetcher: ManifestFetcher,
    maxSegments: number,
    mpd: ParsedMpd,
): TrackContext {
    const { dynamic: live, endless, refreshSecs } = mpd;
    return { mpdUrl, manifestUrl, fetcher, maxSegments, live, endless, refreshSecs };
}

const representationUrl = (mpdUrl: string, rep: Representation): string =>
    `${mpdUrl.replace(/#.*$/, '')}#${encodeURIComponent(rep.id)}`;

async function track(
    name: TrackName,
    reps: Representation[],
    ctx: {
        mpdUrl: string;
        manifestUrl: string;
        fetcher: ManifestFetcher;
        maxSegments: number;
        live: boolean;
        endless?: boolean;
        refreshSecs?: number;
    },
): Promise<TrackPlan> {
    const first = reps[0]!;
    const found = reps.map((rep) => representationSegments(rep, ctx.manifestUrl, ctx.maxSegments));
    const parts: RawSegment[][] = await Promise.all(
        found.map((f, i) => segmentsOf(f, reps[i]!, ctx.fetcher, ctx.maxSegments)),
    );
    const { segments, inits } = joinPeriods(parts);
    if (segments.length === 0) throw new ManifestError(`DASH representation ${first.id} lists no segments`);
    if (segments.length > ctx.maxSegments) throw tooManySegments(first.id, segments.length, ctx.maxSegments);
    return {
        name,
        sourceUrl: representationUrl(ctx.mpdUrl, first),
        segments,
        inits,
        durationSecs: segments.reduce((sum, s) => sum + s.durationSecs, 0),
        live: ctx.live,
        ...(ctx.live
            ? { endless: Boolean(ctx.endless), ...(ctx.refreshSecs ? { refreshSecs: ctx.refreshSecs } : {}) }
            : {}),
        bytes: 'segments',
        ...(first.lang ? { lang: first.lang } : {}),
        ...(first.codecs ? { codecs: first.codecs } : {}),
    };
}

/**
 * Fetches and plans an MPD. A dynamic MPD is planned as far as it lists segments now (tracks marked
 * `live`). Refuses DRM (`DrmError`), non-http(s) URLs (`UnsafeUrlError`) and anything unusable or
 * longer than `maxSegments` per track (`ManifestError`), before any media is fetched (a SegmentBase
 * index excepted: its segments are only known once it is read).
 */
export async function resolveDash(
    mpdUrl: string,
    fetcher: ManifestFetcher,
    quality: VideoQuality,
    options: DashOptions,
): Promise<VideoPlan> {
    const res = await fetcher.text(mpdUrl);
    if (!looksLikeMpd(res.text)) throw notAnMpd(res.text, res.contentType);
    const mpd = parseMpd(res.text, res.url);
    const picks = pickTracks(mpd.periods, quality, options.preferredLang);
    const ctx = contextOf(mpdUrl, res.url, fetcher, options.maxSegments, mpd);
    const video = picks[0]!.main;
    const audioOnly = video.kind === 'audio';
    // pickTracks made sure that either every Period has a separate audio or none has.
    const audios = picks.flatMap((p) => (p.audio ? [p.audio] : []));
    // The tracks are planned at once: a SegmentBase representation's index is a ranged request each,
    // one round trip for all of them instead of one after another. A video or audio track that cannot
    // be planned costs the video; a text track only itself.
    const [main, audio, texts] = await Promise.all([
        track(
            'v',
            picks.map((p) => p.main),
            ctx,
        ),
        audios.length > 0 ? track('a', audios, ctx) : undefined,
        options.subtitles ? textTracks(mpd.periods, ctx) : [],
    ]);
    const tracks = [main, ...(audio ? [audio] : []), ...texts];
    return {
        format: 'dash',
        url: mpdUrl,
        variantUrl: representationUrl(mpdUrl, video),
        ...(video.resolution ? { width: video.resolution.width, height: video.resolution.height } : {}),
        ...(video.bandwidth ? { bandwidth: video.bandwidth } : {}),
        tracks,
        delivery: 'remux',
        relatedUrls: [],
        ...(audioOnly ? { audioOnly } : {}),
    };
}

/**
 * A fresh look at one track of a dynamic MPD: the MPD fetched again and the same Representation
 * (by its id, which the track's source URL carries) planned as it stands now. `live` turns false
 * when the MPD has become static: the recording is then complete.
 */
export async function pollDashTrack(
    mpdUrl: string,
    trackSourceUrl: string,
    name: TrackName,
    fetcher: ManifestFetcher,
    maxSegments: number,
): Promise<TrackPlan> {
    const res = await fetcher.text(mpdUrl);
    if (!looksLikeMpd(res.text)) throw notAnMpd(res.text, res.contentType);
    const mpd = parseMpd(res.text, res.url);
    const id = decodeURIComponent(trackSourceUrl.replace(/^[^#]*#/, ''));
    const reps = mpd.periods.flatMap((period) => period.filter((r) => r.id === id));
    if (!reps.length) throw new ManifestError(`DASH representation ${id} is no longer in the MPD`);
    return track(name, reps, contextOf(mpdUrl, res.url, fetcher, maxSegments, mpd));
}
