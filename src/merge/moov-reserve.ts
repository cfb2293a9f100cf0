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
/** Declared durations round (integer EXTINF) and frame rates wobble: the estimate counts 10 % more. */
const MARGIN = 1.1;
/** No reservation beyond this share of the expected file: an odd count must not bloat the file. */
const MAX_SHARE = 0.02;

export interface ReserveInput {
    /** The streams that go into the MP4 and their packets (samples) in the first unit. */
    streams: readonly { type: 'video' | 'audio' | 'other'; packets?: number }[];
    /** How long the first unit plays, and its size. */
    unitSecs: number;
    unitBytes: number;
    /** The whole video as planned: its duration and its number of units. */
    plannedSecs: number;
    units: number;
}

/**
 * Bytes to reserve for the index: the samples the whole video will hold, counted at the first unit's
 * rate over the longer of the planned duration and the first unit's duration times the units, at the
 * per-sample bound above. Undefined when a count is missing or the room would exceed 2 % of the
 * expected file (the index then goes in front the slower way). Pure.
 */
export function moovReserve(input: ReserveInput): number | undefined {
    const { streams, unitSecs, unitBytes, plannedSecs, units } = input;
    if (!(unitSecs > 0) || !(units > 0) || !(plannedSecs > 0) || !streams.length) return undefined;
    const secs = Math.max(plannedSecs, unitSecs * units) * MARGIN;
    let bytes = FIXED_BYTES;
    for (const s of streams) {
        if (s.type === 'other' || s.packets === undefined || !(s.packets > 0)) return undefined;
        // One packet more than counted: a unit cut mid-frame shows one packet fewer than it plays.
        const samples = Math.ceil(((s.packets + 1) / unitSecs) * secs);
        bytes += PER_TRACK_BYTES + samples * BYTES_PER_SAMPLE[s.type];
    }
    const expectedFile = unitBytes * Math.max(units, plannedSecs / unitSecs);
    return bytes <= expectedFile * MAX_SHARE ? Math.ceil(bytes / 1024) * 1024 : undefined;
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
