/**
 * Turns a parsed media playlist into the list of byte fetches a video needs. Pure: no I/O, so every
 * rule (IV derivation, byte ranges, DRM refusal, URL safety) is unit-tested on playlist text.
 */
import type { types } from 'hls-parser';
import { DrmError, ManifestError } from '../../errors.js';
import type { ByteRange, SegmentPlan, TrackName, TrackPlan, UnitKey, UnitSource } from '../../model.js';
import { resolveUrl } from '../../urls.js';

export { DrmError };

/** RFC 8216 §5.2: with no IV attribute the IV is the media sequence number, 16 bytes big-endian. */
export function ivForSegment(ivAttribute: ArrayBuffer | Uint8Array | undefined, seq: number): string {
    if (ivAttribute) {
        const bytes = Buffer.from(ivAttribute instanceof Uint8Array ? ivAttribute : new Uint8Array(ivAttribute));
        if (bytes.length !== 16) throw new ManifestError(`EXT-X-KEY IV must be 16 bytes, got ${bytes.length}`);
        return bytes.toString('hex');
    }
    const iv = Buffer.alloc(16);
    iv.writeBigUInt64BE(BigInt(seq), 8);
    return iv.toString('hex');
}

const DRM_METHODS = new Set(['SAMPLE-AES', 'SAMPLE-AES-CTR', 'SAMPLE-AES-CENC', 'ISO-23001-7']);

/** `undefined` for clear media, the AES-128 key otherwise; throws `DrmError` for anything else. */
export function segmentKey(key: types.Key | undefined, seq: number, playlistUrl: string): UnitKey | undefined {
    if (!key || key.method === 'NONE') return undefined;
    const format = key.format?.toLowerCase();
    if (DRM_METHODS.has(key.method) || (format && format !== 'identity') || key.uri?.startsWith('skd:')) {
        throw new DrmError(`${key.method}${key.format ? `, KEYFORMAT=${key.format}` : ''}`);
    }
    if (key.method !== 'AES-128') throw new DrmError(`unknown METHOD=${key.method}`);
    if (!key.uri) throw new ManifestError('EXT-X-KEY METHOD=AES-128 has no URI');
    return { uri: resolveUrl(key.uri, playlistUrl, { allowData: true }), iv: ivForSegment(key.iv, seq) };
}

function range(br: types.Byterange | undefined): ByteRange | undefined {
    return br && br.length > 0 ? { offset: Math.max(0, br.offset), length: br.length } : undefined;
}

/** A media playlist → the track's units, in media sequence order. Pure. */
export function planTrack(playlist: types.MediaPlaylist, playlistUrl: string, name: TrackName = 'v'): TrackPlan {
    const inits: UnitSource[] = [];
    const initIndex = new Map<string, number>();
    const segments = playlist.segments.map((s): SegmentPlan => {
        const seq = s.mediaSequenceNumber;
        const key = segmentKey(s.key, seq, playlistUrl);
        let init: number | undefined;
        if (s.map) {
            const section: UnitSource = { url: resolveUrl(s.map.uri, playlistUrl), range: range(s.map.byterange) };
            // An init section is encrypted with the key in force where its EXT-X-MAP appears (RFC 8216 §4.3.2.5).
            if (key) section.key = key;
            const id = `${section.url}#${section.range?.offset ?? ''}-${section.range?.length ?? ''}`;
            init = initIndex.get(id);
            if (init === undefined) {
                init = inits.push(section) - 1;
                initIndex.set(id, init);
            }
        }
        return {
            seq,
            url: resolveUrl(s.uri, playlistUrl),
            durationSecs: s.duration,
            range: range(s.byterange),
            key,
            init,
            discontinuity: Boolean(s.discontinuity),
        };
    });
    return {
        name,
        sourceUrl: playlistUrl,
        segments,
        inits,
        durationSecs: segments.reduce((sum, s) => sum + s.durationSecs, 0),
        live: !playlist.endlist,
        // An EVENT playlist only grows and will end; anything else without ENDLIST is a sliding window.
        endless: !playlist.endlist && playlist.playlistType !== 'EVENT',
        refreshSecs: playlist.targetDuration || undefined,
        bytes: 'segments',
    };
}
