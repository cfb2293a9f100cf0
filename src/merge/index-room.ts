/**
 * How many bytes to reserve at the front of an MP4 for its index (moov-reserve.ts): its streams'
 * samples, counted where that is exact and cheap (the `trun` boxes of fragmented MP4, reading only
 * the fragments' headers), else estimated from the packets of the track's first unit (ffprobe).
 */
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { unitName, type TrackJob } from '../model.js';
import { topBoxes } from './faststart.js';
import { mappedStreams, probe, type InputFormat, type MediaInfo, type StreamInfo } from './probe.js';
import { moovReserve, samplesFromFirstUnit, type TrackSamples } from './moov-reserve.js';

/**
 * Below this, a track that must be counted by ffprobe is not: its start (0.14–0.15 s, 0.14 CPU s with
 * Debian's ffprobe on a bench segment) costs about what moving the index of a ~37 MB MP4 does
 * (0.37–0.39 s measured on 93 MB).
 */
const MIN_PROBED_BYTES = 64 * 1024 * 1024;

/** A `moof` larger than this is not read (ffmpeg's and packagers' hold a few KB). */
const MAX_MOOF_BYTES = 16 * 1024 * 1024;

/** Child boxes of `box` between `from` and `to`: [type, start, size]. */
function children(box: Buffer, from: number, to: number): [string, number, number][] {
    const out: [string, number, number][] = [];
    for (let at = from; at + 8 <= to;) {
        const size = box.readUInt32BE(at);
        if (size < 8 || at + size > to) break;
        out.push([box.toString('latin1', at + 4, at + 8), at, size]);
        at += size;
    }
    return out;
}

/** Samples in a `moof` box (header included): the `sample_count` of each `trun` of each `traf`. Pure. */
export function moofSamples(moof: Buffer): number {
    let samples = 0;
    for (const [type, start, size] of children(moof, 8, moof.length)) {
        if (type !== 'traf') continue;
        for (const [inner, at, length] of children(moof, start + 8, start + size)) {
            // A full box: version and flags (4 bytes), then sample_count.
            if (inner === 'trun' && length >= 16) samples += moof.readUInt32BE(at + 12);
        }
    }
    return samples;
}

/** Samples in every fragment of these fragmented MP4 files; undefined when one has no fragment. */
export async function fragmentSamples(files: readonly string[]): Promise<number | undefined> {
    let samples = 0;
    for (const file of files) {
        const moofs = (await topBoxes(file)).filter((b) => b.type === 'moof');
        if (!moofs.length || moofs.some((m) => m.size > MAX_MOOF_BYTES)) return undefined;
        const fh = await open(file, 'r');
        try {
            for (const m of moofs) {
                const moof = Buffer.alloc(m.size);
                await fh.read(moof, 0, m.size, m.start);
                samples += moofSamples(moof);
            }
        } finally {
            await fh.close();
        }
    }
    return samples;
}

/** The streams the MP4 takes from one input, and the samples of each: 0 (no room) for a stream neither video nor audio, or uncounted. */
function tracksOf(streams: readonly StreamInfo[], samples: (s: StreamInfo) => number | undefined): TrackSamples[] {
    return streams.map((s) => {
        const n = s.type === 'other' ? undefined : samples(s);
        return { type: s.type === 'video' ? 'video' : 'audio', samples: n ?? 0 };
    });
}

/** The first unit's streams (the ones the MP4 takes, packets counted) → the whole video's. */
export function firstUnitTracks(
    streams: readonly StreamInfo[],
    unit: { secs: number; plannedSecs: number; units: number },
): TrackSamples[] {
    return tracksOf(streams, (s) => samplesFromFirstUnit(s.packets, unit));
}

/** One input of a merge after the download: a track's joined section files. */
export interface JoinedInput {
    track: TrackJob;
    files: readonly string[];
    format: InputFormat;
    /** The input's streams, as probed in its first file. */
    streams: readonly StreamInfo[];
    /** Which of them the MP4 takes (`chooseStreams`). */
    pick(streams: readonly StreamInfo[]): StreamInfo[];
}

/**
 * The room for the index of an MP4 remuxed from joined tracks, or undefined (the index is then moved
 * to the front after the remux): fMP4 tracks' samples counted in their fragments, other tracks'
 * estimated from their first segment, which is still in `workDir` (from 64 MiB of input on).
 */
export async function indexRoom(
    inputs: readonly JoinedInput[],
    workDir: string,
    plannedSecs: number,
    minProbedBytes = MIN_PROBED_BYTES,
): Promise<number | undefined> {
    const tracks: TrackSamples[] = [];
    let bytes = 0;
    for (const file of inputs.flatMap((i) => i.files)) bytes += (await stat(file)).size;
    if (bytes < minProbedBytes && inputs.some((i) => i.format !== 'mov')) return undefined;
    for (const input of inputs) {
        if (input.format === 'mov') {
            const samples = await fragmentSamples(input.files);
            if (samples === undefined) return undefined;
            // Several streams in one input share its count: an upper bound for each.
            tracks.push(...tracksOf(input.pick(input.streams), () => samples));
            continue;
        }
        const unit = path.join(workDir, unitName(input.track.name, 'seg', 0));
        const probed = await probe(unit, input.format, { countPackets: true }).catch(() => undefined);
        if (!probed?.durationSecs) return undefined;
        const at = { secs: probed.durationSecs, plannedSecs, units: input.track.segments };
        tracks.push(...firstUnitTracks(input.pick(probed.streams), at));
    }
    return moovReserve(tracks, bytes);
}

/**
 * The room for the index of an MPEG-TS track remuxed while it downloads: its first segment's packets
 * (`probed` with `countPackets`), for the plan's duration or its segments, whichever is more.
 */
export function segmentRoom(
    probed: MediaInfo,
    unitBytes: number,
    segments: number,
    plannedSecs: number,
): number | undefined {
    if (!probed.durationSecs) return undefined;
    const unit = { secs: probed.durationSecs, plannedSecs, units: segments };
    const expectedBytes = unitBytes * Math.max(unit.units, unit.plannedSecs / unit.secs);
    return moovReserve(firstUnitTracks(mappedStreams(probed.streams), unit), expectedBytes);
}

/**
 * The room for the index of an fMP4 track remuxed while it downloads: its first fragment's samples
 * (`trun`, every stream's together, an upper bound for each) for each of its fragments, at the plan's
 * mean duration. Without it the index was written last and moved to the front after the last byte:
 * 0.4-0.6 s on the bench's 93 MB video as fMP4. A first fragment much shorter than the rest can make
 * the room too small: the live remux's layout check then sends the video to the merge after the
 * download, slower but exact.
 */
export async function fragmentRoom(
    fragment: string,
    streams: readonly StreamInfo[],
    segments: number,
    plannedSecs: number,
): Promise<number | undefined> {
    if (!segments || !(plannedSecs > 0)) return undefined;
    const [samples, { size }] = await Promise.all([fragmentSamples([fragment]), stat(fragment)]);
    if (!samples) return undefined;
    const unit = { secs: plannedSecs / segments, plannedSecs, units: segments };
    const counted = mappedStreams(streams).map((s) => ({ ...s, packets: samples }));
    return moovReserve(firstUnitTracks(counted, unit), size * segments);
}
