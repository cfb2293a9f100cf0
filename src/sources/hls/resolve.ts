/**
 * Captured playlist URL → the tracks to download: master → chosen variant (→ its audio rendition).
 */
import HLS, { type types } from 'hls-parser';
import type { VideoQuality } from '../../input.js';
import { resolveUrl } from '../../urls.js';
import { chooseVariant } from '../variant.js';
import { planTrack, type TrackPlan } from './plan.js';

HLS.setOptions({ silent: true });

export class PlaylistError extends Error {
    override readonly name = 'PlaylistError' as const;
}

export type FetchText = (url: string) => Promise<{ text: string; url: string; contentType: string }>;

export interface ResolvedVideo {
    /** As captured: master or media playlist. */
    playlistUrl: string;
    variantUrl: string;
    width?: number;
    height?: number;
    bandwidth?: number;
    main: TrackPlan;
    /** A separate EXT-X-MEDIA audio rendition, muxed into the same MP4. */
    audio?: TrackPlan;
    /** Every playlist the masters listed: a player that fetched another variant found the same video. */
    relatedUrls: string[];
}

const MAX_MASTER_DEPTH = 4;

export function parsePlaylist(text: string, contentType: string): types.MasterPlaylist | types.MediaPlaylist {
    const body = text.replace(/^\uFEFF/, '').trimStart();
    if (!body.startsWith('#EXTM3U')) {
        const what = contentType ? contentType.split(';')[0] : 'unknown content type';
        const preview = body.slice(0, 40).replace(/\s+/g, ' ');
        throw new PlaylistError(`not an HLS playlist (${what}, starts with ${JSON.stringify(preview)})`);
    }
    try {
        return HLS.parse(body);
    } catch (error) {
        throw new PlaylistError(`unparseable playlist: ${(error as Error).message}`);
    }
}

/** The audio rendition to fetch separately, or undefined when the variant carries its own audio. */
export function chooseAudioRendition(variant: types.Variant): types.Rendition | undefined {
    const withUri = variant.audio.filter((r) => r.uri);
    return withUri.find((r) => r.isDefault) ?? withUri.find((r) => r.autoselect) ?? withUri[0];
}

async function mediaTrack(url: string, fetchText: FetchText, maxSegments: number): Promise<TrackPlan> {
    const res = await fetchText(url);
    const playlist = parsePlaylist(res.text, res.contentType);
    if (playlist.isMasterPlaylist) throw new PlaylistError('a rendition playlist turned out to be a master playlist');
    return checkedTrack(playlist, res.url, maxSegments);
}

function checkedTrack(playlist: types.MediaPlaylist, url: string, maxSegments: number): TrackPlan {
    if (playlist.segments.length === 0) throw new PlaylistError('playlist has no segments');
    if (playlist.segments.length > maxSegments) {
        throw new PlaylistError(`playlist has ${playlist.segments.length} segments, more than maxSegmentsPerVideo (${maxSegments})`);
    }
    return planTrack(playlist, url);
}

export async function resolveVideo(playlistUrl: string, fetchText: FetchText, quality: VideoQuality, maxSegments: number): Promise<ResolvedVideo> {
    const seen = new Set<string>();
    let url = playlistUrl;
    let chosen: types.Variant | undefined;
    let audio: TrackPlan | undefined;
    const relatedUrls: string[] = [];
    for (let depth = 0; depth <= MAX_MASTER_DEPTH; depth++) {
        if (seen.has(url)) throw new PlaylistError('master playlists refer to each other in a loop');
        seen.add(url);
        const res = await fetchText(url);
        const playlist = parsePlaylist(res.text, res.contentType);
        if (!playlist.isMasterPlaylist) {
            const main = checkedTrack(playlist, res.url, maxSegments);
            return {
                playlistUrl,
                variantUrl: res.url,
                width: chosen?.resolution?.width,
                height: chosen?.resolution?.height,
                bandwidth: chosen?.bandwidth,
                main,
                audio,
                relatedUrls,
            };
        }
        for (const v of playlist.variants) relatedUrls.push(resolveUrl(v.uri, res.url));
        for (const r of playlist.variants.flatMap((v) => [...v.audio, ...v.video])) if (r.uri) relatedUrls.push(resolveUrl(r.uri, res.url));
        chosen = chooseVariant(playlist.variants, quality);
        if (!chosen) throw new PlaylistError('master playlist lists no playable variant');
        const rendition = chooseAudioRendition(chosen);
        if (rendition?.uri) audio = await mediaTrack(resolveUrl(rendition.uri, res.url), fetchText, maxSegments);
        url = resolveUrl(chosen.uri, res.url);
    }
    throw new PlaylistError(`more than ${MAX_MASTER_DEPTH} nested master playlists`);
}
