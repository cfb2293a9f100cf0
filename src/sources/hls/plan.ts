/**
 * Turns a parsed media playlist into the list of byte fetches a video needs. Pure: no I/O, so every
 * rule (IV derivation, byte ranges, DRM refusal, URL safety) is unit-tested on playlist text.
 */
import type { types } from 'hls-parser';
import { resolveUrl } from '../../urls.js';

export class DrmError extends Error {
    override readonly name = 'DrmError' as const;
    constructor(detail: string) {
        super(`DRM-protected (${detail}): the stream cannot be decrypted without a licence, nothing was downloaded`);
    }
}

export interface ByteRange {
    offset: number;
    length: number;
}

export interface SegmentKey {
    uri: string;
    /** 32 hex digits. */
    iv: string;
}

export interface SegmentPlan {
    /** Media sequence number: the order of the video, never the file name. */
    seq: number;
    uri: string;
    durationSecs: number;
    range?: ByteRange;
    key?: SegmentKey;
    /** Index into `TrackPlan.maps` of the fMP4 init section this segment needs. */
    map?: number;
    discontinuity: boolean;
}

export interface InitSection {
    uri: string;
    range?: ByteRange;
    key?: SegmentKey;
}

export interface TrackPlan {
    playlistUrl: string;
    segments: SegmentPlan[];
    maps: InitSection[];
    durationSecs: number;
    /** No EXT-X-ENDLIST: the playlist is a live/event window. */
    live: boolean;
}

/** RFC 8216 §5.2: with no IV attribute the IV is the media sequence number, 16 bytes big-endian. */
export function ivForSegment(ivAttribute: ArrayBuffer | Uint8Array | undefined, seq: number): string {
    if (ivAttribute) {
        const bytes = Buffer.from(ivAttribute instanceof Uint8Array ? ivAttribute : new Uint8Array(ivAttribute));
        if (bytes.length !== 16) throw new Error(`EXT-X-KEY IV must be 16 bytes, got ${bytes.length}`);
        return bytes.toString('hex');
    }
    const iv = Buffer.alloc(16);
    iv.writeBigUInt64BE(BigInt(seq), 8);
    return iv.toString('hex');
}

const DRM_METHODS = new Set(['SAMPLE-AES', 'SAMPLE-AES-CTR', 'SAMPLE-AES-CENC', 'ISO-23001-7']);

/** `undefined` for clear media, the AES-128 key otherwise; throws `DrmError` for anything else. */
export function segmentKey(key: types.Key | undefined, seq: number, playlistUrl: string): SegmentKey | undefined {
    if (!key || key.method === 'NONE') return undefined;
    const format = key.format?.toLowerCase();
    if (DRM_METHODS.has(key.method) || (format && format !== 'identity') || key.uri?.startsWith('skd:')) {
        throw new DrmError(`${key.method}${key.format ? `, KEYFORMAT=${key.format}` : ''}`);
    }
    if (key.method !== 'AES-128') throw new DrmError(`unknown METHOD=${key.method}`);
    if (!key.uri) throw new Error('EXT-X-KEY METHOD=AES-128 has no URI');
    return { uri: resolveUrl(key.uri, playlistUrl, { allowData: true }), iv: ivForSegment(key.iv, seq) };
}

function range(br: types.Byterange | undefined): ByteRange | undefined {
    return br && br.length > 0 ? { offset: Math.max(0, br.offset), length: br.length } : undefined;
}

export function planTrack(playlist: types.MediaPlaylist, playlistUrl: string): TrackPlan {
    const maps: InitSection[] = [];
    const mapIndex = new Map<string, number>();
    const segments = playlist.segments.map((s): SegmentPlan => {
        const seq = s.mediaSequenceNumber;
        const key = segmentKey(s.key, seq, playlistUrl);
        let map: number | undefined;
        if (s.map) {
            const init: InitSection = { uri: resolveUrl(s.map.uri, playlistUrl), range: range(s.map.byterange) };
            // An init section is encrypted with the key in force where its EXT-X-MAP appears (RFC 8216 §4.3.2.5).
            if (key) init.key = key;
            const id = `${init.uri}#${init.range?.offset ?? ''}-${init.range?.length ?? ''}`;
            map = mapIndex.get(id);
            if (map === undefined) {
                map = maps.push(init) - 1;
                mapIndex.set(id, map);
            }
        }
        return {
            seq,
            uri: resolveUrl(s.uri, playlistUrl),
            durationSecs: s.duration,
            range: range(s.byterange),
            key,
            map,
            discontinuity: Boolean(s.discontinuity),
        };
    });
    return {
        playlistUrl,
        segments,
        maps,
        durationSecs: segments.reduce((sum, s) => sum + s.durationSecs, 0),
        live: !playlist.endlist,
    };
}
