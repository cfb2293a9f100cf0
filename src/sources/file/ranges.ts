/**
 * Plain video files: what the first bytes say the file is, and how it is cut into ranges that
 * download in parallel. Pure.
 */
import type { ByteRange, Delivery } from '../../model.js';

/** No part smaller than this: below it, per-request latency eats the gain of parallel connections. */
export const MIN_RANGE_BYTES = 4 * 1024 * 1024;
/** At most this many parts: each is a queued unit with its own bookkeeping. */
export const MAX_RANGES = 4000;

/**
 * Ranges covering `[0, total)`: about one per allowed connection, each at least `MIN_RANGE_BYTES`
 * (the last may be shorter), never more than `MAX_RANGES`.
 */
export function planRanges(total: number, maxConcurrency: number): ByteRange[] {
    if (total <= 0) return [];
    const size = Math.max(
        MIN_RANGE_BYTES,
        Math.ceil(total / Math.max(1, maxConcurrency)),
        Math.ceil(total / MAX_RANGES),
    );
    const ranges: ByteRange[] = [];
    for (let offset = 0; offset < total; offset += size)
        ranges.push({ offset, length: Math.min(size, total - offset) });
    return ranges;
}

export interface VideoFileKind {
    contentType: string;
    delivery: Delivery;
}

/** Audio files (file-type's MIME types) stored as served, and the content type they are stored with. */
const AUDIO_AS_SERVED: Record<string, string> = {
    'audio/mpeg': 'audio/mpeg',
    'audio/mp4': 'audio/mp4',
    'audio/x-m4a': 'audio/mp4',
    'audio/aac': 'audio/aac',
    'audio/ogg': 'audio/ogg',
    'audio/ogg; codecs=opus': 'audio/ogg',
    'audio/flac': 'audio/flac',
    'audio/wav': 'audio/wav',
    'audio/x-matroska': 'audio/x-matroska',
};

/**
 * What to do with a file of the sniffed MIME type: MP4, MOV/M4V, WebM and Matroska are stored as
 * served; FLV is remuxed to MP4 (players and editors rarely take FLV), keeping the FLV when the
 * remux fails; MPEG-TS is remuxed to MP4 like an HLS segment would be. Audio files (MP3, M4A, AAC,
 * Ogg, FLAC, WAV) are stored as served too. Undefined: neither video nor audio.
 */
export function videoFileKind(mime: string | undefined): VideoFileKind | undefined {
    const audio = mime === undefined ? undefined : AUDIO_AS_SERVED[mime];
    if (audio) return { contentType: audio, delivery: 'as-served' };
    switch (mime) {
        case 'video/mp4':
        case 'video/quicktime':
        case 'video/x-m4v':
        case 'video/webm':
        case 'video/matroska':
        case 'video/x-matroska':
            return { contentType: mime === 'video/x-m4v' ? 'video/mp4' : mime, delivery: 'as-served' };
        case 'video/x-flv':
            return { contentType: mime, delivery: 'remux-or-as-served' };
        case 'video/mp2t':
            return { contentType: mime, delivery: 'remux' };
        default:
            return undefined;
    }
}
