/**
 * Room for the MP4's index (`moov`) at the front, reserved before the media is written (ffmpeg's
 * `-moov_size`), so that a video remuxed while it downloads needs no move of its media afterwards.
 *
 * ffmpeg learns the index only at the end. faststart.ts moves the media forward by the index's size
 * (a read and a write of every byte); with the room reserved, ffmpeg writes the index into it and
 * pads the rest with a `free` box, and only the hash's read is left. Measured on the bench's 897 MB
 * video just written: the move with its hash took 1.9–2.1 s, the hash alone 0.54–0.56 s.
 *
 * The price is the unused room, a `free` box players skip: the estimate below is ~1.4–2× the index
 * (0.1–0.3 % of the file on the bench videos). Too little room is worse: ffmpeg 5.1 then writes the
 * index over the start of the media and still exits 0 ("reserved_moov_size is too small"), so the
 * layout is checked (`reservedLayoutOk`) and a file that fails it is merged again from its units.
 */
import type { TopBox } from './faststart.js';

/**
 * Index bytes per sample, over what ffmpeg's index holds per sample: its size (4), composition offset
 * (8, B-frames), duration (8 when durations vary), chunk offset and sample-to-chunk entries (4 + 12
 * when tracks interleave sample by sample), sync sample (4 per keyframe). Measured on ffmpeg 5.1
 * remuxes of MPEG-TS (H.264 with and without B-frames, HEVC, AAC, Opus, AC-3, 30–60 fps): video
 * 8.2–16.3 bytes a sample, audio 4.1–13.4.
 */
const BYTES_PER_SAMPLE = { video: 24, audio: 20 } as const;
/** The index's fixed part (movie and track headers, codec configuration): ~1 KB a track measured. */
const FIXED_BYTES = 16 * 1024;
const PER_TRACK_BYTES = 4 * 1024;
/** Declared durations round (integer EXTINF) and frame rates wobble: an estimate counts 10 % more. */
const MARGIN = 1.1;
/** No reservation beyond this share of the expected file: an odd count must not bloat the file. */
const MAX_SHARE = 0.02;

/** A stream of the MP4 to be written and how many samples it will hold (counted, or estimated). */
export interface TrackSamples {
    type: 'video' | 'audio';
    samples: number;
}

/**
 * The samples a stream of the whole video holds, from its packets in the first unit: at that unit's
 * rate over the longer of the planned duration and the unit's duration times the units, plus 10 %
 * and one packet (a unit cut mid-frame shows one fewer than it plays). Undefined without a count. Pure.
 */
export function samplesFromFirstUnit(
    packets: number | undefined,
    unit: { secs: number; plannedSecs: number; units: number },
): number | undefined {
    const { secs, plannedSecs, units } = unit;
    if (packets === undefined || !(packets > 0) || !(secs > 0) || !(units > 0) || !(plannedSecs >= 0)) return undefined;
    // Less a hair: 47.5 × 660 must give 31,350 samples, not the 31,351 its floating-point product rounds up to.
    return Math.ceil(((packets + 1) / secs) * Math.max(plannedSecs, secs * units) * MARGIN - 1e-6);
}

/**
 * Bytes to reserve for the index of an MP4 with these streams, at the per-sample bound above.
 * Undefined without a stream, or when the room would exceed 2 % of the expected file (the index then
 * goes in front the slower way). Pure.
 */
export function moovReserve(tracks: readonly TrackSamples[], expectedFileBytes: number): number | undefined {
    if (!tracks.length || tracks.some((t) => !(t.samples > 0))) return undefined;
    let bytes = FIXED_BYTES;
    for (const t of tracks) bytes += PER_TRACK_BYTES + t.samples * BYTES_PER_SAMPLE[t.type];
    return bytes <= expectedFileBytes * MAX_SHARE ? Math.ceil(bytes / 1024) * 1024 : undefined;
}

/** Index bytes of a subtitle cue: its sample (24) and the chunk entries it adds to the streams it splits (2 × 16). */
const BYTES_PER_CUE = 24 + 32;

/**
 * `reserve` grown by what subtitle streams add to the index: per cue (`BYTES_PER_CUE`) and per track,
 * in whole KiB. For the live remux, which writes them in with the video. Pure.
 */
export function withSubtitleRoom(reserve: number, cues: number, tracks: number): number {
    return Math.ceil((reserve + cues * BYTES_PER_CUE * MARGIN + tracks * PER_TRACK_BYTES) / 1024) * 1024;
}

/**
 * Room for the index of an MP4 copied with subtitle streams added: the copied MP4's index (+10 %), and
 * per cue its sample (24 bytes) and the chunk entries it adds to the streams it splits (2 × 16), in whole
 * KiB. Its video and audio keep their samples, so no cap: the room is about the index itself. Pure.
 */
export function subtitleMuxRoom(copiedIndexBytes: number, cues: number, tracks: number): number {
    const bytes = copiedIndexBytes * MARGIN + cues * BYTES_PER_CUE + tracks * PER_TRACK_BYTES + FIXED_BYTES;
    return Math.ceil(bytes / 1024) * 1024;
}

/**
 * Whether ffmpeg wrote the index into the room reserved for it: `ftyp`, then `moov` right after it and
 * no larger than the room less the 8-byte `free` header the rest needs, then only `free` up to the
 * `mdat` that ends the file, at the room's end (+8 when ffmpeg kept its 8-byte `free` for a 64-bit
 * size). Anything else (the index ran over the media) is not an MP4 to keep. Pure.
 */
export function reservedLayoutOk(boxes: readonly TopBox[], reserve: number, fileSize: number): boolean {
    const [ftyp, moov, ...rest] = boxes;
    const mdat = rest.at(-1);
    if (ftyp?.type !== 'ftyp' || moov?.type !== 'moov' || mdat?.type !== 'mdat') return false;
    const room = ftyp.start + ftyp.size;
    if (moov.start !== room || moov.size > reserve - 8) return false;
    if (rest.slice(0, -1).some((b) => b.type !== 'free')) return false;
    if (mdat.start !== room + reserve && mdat.start !== room + reserve + 8) return false;
    return mdat.start + mdat.size === fileSize;
}
