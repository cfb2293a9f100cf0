/**
 * A captured HLS playlist URL → the video's plan: master → chosen variant (→ its audio rendition).
 */
import HLS, { type types } from 'hls-parser';
import { ManifestError } from '../../errors.js';
import type { VideoQuality } from '../../input/input.js';
import type { ManifestFetcher, SubtitleFormat, TrackName, TrackPlan, VideoPlan } from '../../model.js';
import { resolveUrl } from '../../urls.js';
import { chooseVariant } from '../variant.js';
import { planTrack } from './plan.js';

HLS.setOptions({ silent: true });

const MAX_MASTER_DEPTH = 4;

export const looksLikeHls = (text: string): boolean =>
    text
        .replace(/^\uFEFF/, '')
        .trimStart()
        .startsWith('#EXTM3U');

export function parsePlaylist(text: string, contentType: string): types.MasterPlaylist | types.MediaPlaylist {
    const body = text.replace(/^\uFEFF/, '').trimStart();
    if (!body.startsWith('#EXTM3U')) {
        const what = contentType ? contentType.split(';')[0] : 'unknown content type';
        const preview = body.slice(0, 40).replace(/\s+/g, ' ');
        throw new ManifestError(`not an HLS playlist (${what}, starts with ${JSON.stringify(preview)})`);
    }
    try {
        return HLS.parse(body);
    } catch (error) {
        throw new ManifestError(`unparseable playlist: ${(error as Error).message}`, { cause: error });
    }
}

/** Codecs of audio (RFC 6381 sample entries and the names HLS playlists use for them). */
const AUDIO_CODEC = /^(mp4a|ac-3|ec-3|ac-4|opus|flac|alac|mp3|dts[a-z]?)\b/i;

/**
 * A variant whose CODECS name audio alone: a radio stream, or the audio-only fallback Apple's
 * authoring rules ask video streams to offer. Without CODECS nothing is assumed. Pure.
 */
export function isAudioOnlyVariant(v: Pick<types.Variant, 'codecs' | 'resolution'>): boolean {
    const codecs = (v.codecs ?? '')
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean);
    return !v.resolution && codecs.length > 0 && codecs.every((c) => AUDIO_CODEC.test(c));
}

/** The variants a quality is chosen among: audio-only ones only when no variant has a picture. Pure. */
export function withPictureFirst<T extends Pick<types.Variant, 'codecs' | 'resolution'>>(variants: readonly T[]): T[] {
    const video = variants.filter((v) => !isAudioOnlyVariant(v));
    return video.length ? video : [...variants];
}

/** The audio rendition to fetch separately, or undefined when the variant carries its own audio. */
export function chooseAudioRendition(variant: types.Variant): types.Rendition | undefined {
    const withUri = variant.audio.filter((r) => r.uri);
    return withUri.find((r) => r.isDefault) ?? withUri.find((r) => r.autoselect) ?? withUri[0];
}

function checkedTrack(playlist: types.MediaPlaylist, url: string, maxSegments: number, name: TrackName): TrackPlan {
    if (playlist.segments.length === 0) throw new ManifestError('playlist has no segments');
    if (playlist.segments.length > maxSegments) {
        throw new ManifestError(
            `playlist has ${playlist.segments.length} segments, more than maxSegmentsPerVideo (${maxSegments})`,
        );
    }
    return planTrack(playlist, url, name);
}

async function mediaTrack(
    url: string,
    fetcher: ManifestFetcher,
    maxSegments: number,
    name: TrackName,
): Promise<TrackPlan> {
    const res = await fetcher.text(url);
    const playlist = parsePlaylist(res.text, res.contentType);
    if (playlist.isMasterPlaylist) throw new ManifestError('a rendition playlist turned out to be a master playlist');
    return checkedTrack(playlist, res.url, maxSegments, name);
}

/**
 * The variant's subtitle renditions, one track per language (the default or autoselect one first
 * when a language is offered twice, e.g. forced and full). Segmented WebVTT; a rendition whose
 * playlist cannot be read is left out rather than costing the video.
 */
async function subtitleTracks(
    variant: types.Variant,
    base: string,
    fetcher: ManifestFetcher,
    maxSegments: number,
): Promise<TrackPlan[]> {
    const byLang = new Map<string, types.Rendition>();
    const ranked = [...variant.subtitles].sort(
        (a, b) => Number(b.isDefault) - Number(a.isDefault) || Number(b.autoselect) - Number(a.autoselect),
    );
    for (const r of ranked) {
        const lang = (r.language ?? r.name ?? 'und').toLowerCase();
        if (r.uri && !r.forced && !byLang.has(lang)) byLang.set(lang, r);
    }
    // Read at once: one round trip for all of them (a player reads only the one it shows).
    const read = await Promise.all(
        [...byLang].map(([lang, r]) =>
            // Named s0, s1, … below, in this order, once it is known which could be read.
            mediaTrack(resolveUrl(r.uri!, base), fetcher, maxSegments, 's0').then(
                (track) => ({ track, lang, label: r.name }),
                () => undefined,
            ),
        ),
    );
    const format: SubtitleFormat = 'webvtt';
    return read
        .filter((r) => r !== undefined)
        .map(({ track, lang, label }, i) => ({
            ...track,
            name: `s${i}` as const,
            bytes: 'text',
            subtitles: format,
            lang,
            label,
        }));
}

export async function resolveHls(
    playlistUrl: string,
    fetcher: ManifestFetcher,
    quality: VideoQuality,
    maxSegments: number,
    options: { subtitles?: boolean } = {},
): Promise<VideoPlan> {
    const seen = new Set<string>();
    let url = playlistUrl;
    let chosen: types.Variant | undefined;
    // The chosen variant's renditions are read while its own playlist is: on a CDN each playlist is a
    // round trip (100 ms on the bench's server), and a master with audio and subtitles in two
    // languages cost three of them one after the other before the first segment.
    let audio: Promise<TrackPlan | undefined> = Promise.resolve(undefined);
    let subtitles: Promise<TrackPlan[]> = Promise.resolve([]);
    const relatedUrls: string[] = [];
    for (let depth = 0; depth <= MAX_MASTER_DEPTH; depth++) {
        if (seen.has(url)) throw new ManifestError('master playlists refer to each other in a loop');
        seen.add(url);
        const res = await fetcher.text(url);
        const playlist = parsePlaylist(res.text, res.contentType);
        if (!playlist.isMasterPlaylist) {
            const main = checkedTrack(playlist, res.url, maxSegments, 'v');
            const [audioTrack, subtitleRenditions] = await Promise.all([audio, subtitles]);
            return {
                format: 'hls',
                url: playlistUrl,
                variantUrl: res.url,
                width: chosen?.resolution?.width,
                height: chosen?.resolution?.height,
                bandwidth: chosen?.bandwidth,
                tracks: [main, ...(audioTrack ? [audioTrack] : []), ...subtitleRenditions],
                delivery: 'remux',
                relatedUrls,
                ...(chosen && isAudioOnlyVariant(chosen) ? { audioOnly: true } : {}),
            };
        }
        for (const v of playlist.variants) relatedUrls.push(resolveUrl(v.uri, res.url));
        // Every rendition a player might fetch instead, subtitles included: none is a video of its own.
        const renditions = playlist.variants.flatMap((v) => [
            ...v.audio,
            ...v.video,
            ...v.subtitles,
            ...v.closedCaptions,
        ]);
        for (const r of renditions) if (r.uri) relatedUrls.push(resolveUrl(r.uri, res.url));
        // "lowest" must not mean the audio-only fallback of a video.
        chosen = chooseVariant(withPictureFirst(playlist.variants), quality);
        if (!chosen) throw new ManifestError('master playlist lists no playable variant');
        const rendition = chooseAudioRendition(chosen);
        audio = rendition?.uri
            ? mediaTrack(resolveUrl(rendition.uri, res.url), fetcher, maxSegments, 'a')
            : Promise.resolve(undefined);
        // Its failure costs the video, where it is awaited; until then it is no unhandled rejection.
        audio.catch(() => undefined);
        if (options.subtitles) subtitles = subtitleTracks(chosen, res.url, fetcher, maxSegments);
        url = resolveUrl(chosen.uri, res.url);
    }
    throw new ManifestError(`more than ${MAX_MASTER_DEPTH} nested master playlists`);
}
