/**
 * What an MP4 holds, read from its index (`moov`) instead of by ffprobe: its streams, their samples,
 * its duration, and whether every sample the index names lies inside the file's media data.
 *
 * For the MP4 the live remux wrote (live-remux.ts), which is verified while the hash is read. ffprobe
 * reads the same index, but as a process: on the bench's 93 MB video its 0.07-0.09 s start and run
 * competed with the hash and the preview frame for the 2 cores, and the item waited ~0.17 s for it.
 * This reading takes a few milliseconds, and it checks more than ffprobe's summary did: a sample table
 * that does not add up, or a sample past the end of `mdat` (a cut file), is a problem. mp4box.js reads
 * indexes too, but it builds every sample's record first (68 ms for this video, on the main thread,
 * beside the hash) and does not check where the samples lie.
 *
 * Only regular MP4s (ISO/IEC 14496-12 sample tables); a fragmented one, whose samples are in `moof`
 * boxes, is a problem here, as are 64-bit-less oddities ffmpeg never writes (`stz2`).
 */
import { open } from 'node:fs/promises';
import { topBoxes, type TopBox } from './faststart.js';
import type { MediaInfo, StreamInfo } from './probe.js';

export interface IndexTrack {
    /** `hdlr` handler type: `vide`, `soun`, `text`, `sbtl`, … */
    handler: string;
    /** The first sample entry's four-character code (`avc1`, `hvc1`, `mp4a`, `tx3g`, …). */
    codec: string;
    width?: number;
    height?: number;
    /** ISO 639-2 language of the track (`mdhd`), when not `und`. */
    lang?: string;
    samples: number;
    /** The track's media duration (`mdhd`). */
    secs: number;
    /** Why its sample tables are not those of a complete track, if they are not. */
    problem?: string;
    /** Where its samples' bytes lie: the lowest start and the highest end. */
    dataStart?: number;
    dataEnd?: number;
}

export interface Mp4Index {
    /** The movie's duration (`mvhd`), what ffprobe reports as the file's. */
    durationSecs: number;
    tracks: IndexTrack[];
    /** An `mvex` box: the samples are in fragments after the index, which names none of them. */
    fragmented: boolean;
}

interface Box {
    type: string;
    /** The payload: after the header (and its 64-bit size). */
    body: Buffer;
}

/** The boxes in `data`, in order; throws on a size that runs past it. Pure. */
function boxes(data: Buffer): Box[] {
    const out: Box[] = [];
    for (let at = 0; at + 8 <= data.length;) {
        let size = data.readUInt32BE(at);
        let header = 8;
        if (size === 1) {
            if (at + 16 > data.length) throw new Error(`a truncated box header at ${at}`);
            size = Number(data.readBigUInt64BE(at + 8));
            header = 16;
        } else if (size === 0) size = data.length - at;
        if (size < header || at + size > data.length) throw new Error(`a box of ${size} bytes at ${at}`);
        out.push({ type: data.toString('latin1', at + 4, at + 8), body: data.subarray(at + header, at + size) });
        at += size;
    }
    return out;
}

const child = (parent: Buffer, type: string): Buffer | undefined => boxes(parent).find((b) => b.type === type)?.body;

/** `mvhd`/`mdhd` (full boxes): timescale and duration, by version; `mdhd`'s language too. Pure. */
function timing(body: Buffer): { timescale: number; duration: number; lang?: string } {
    const v1 = body[0] === 1;
    const at = v1 ? 4 + 16 : 4 + 8;
    const timescale = body.readUInt32BE(at);
    const duration = v1 ? Number(body.readBigUInt64BE(at + 4)) : body.readUInt32BE(at + 4);
    const langAt = at + (v1 ? 12 : 8);
    let lang: string | undefined;
    if (body.length >= langAt + 2) {
        const packed = body.readUInt16BE(langAt);
        const code = [10, 5, 0].map((shift) => String.fromCharCode(((packed >> shift) & 0x1f) + 0x60)).join('');
        if (/^[a-z]{3}$/.test(code) && code !== 'und') lang = code;
    }
    return { timescale, duration, lang };
}

/** A full box's entries of `width` 32-bit words after its version, flags and entry count. Pure. */
function table(body: Buffer, width: number, name: string): { count: number; at: (i: number, w?: number) => number } {
    const count = body.readUInt32BE(4);
    if (8 + count * width * 4 > body.length) throw new Error(`${name} names ${count} entries it does not hold`);
    return { count, at: (i, w = 0) => body.readUInt32BE(8 + (i * width + w) * 4) };
}

/** A track's sample tables: its sample count, and where its bytes lie, or why the tables do not add up. Pure. */
function sampleTables(stbl: Buffer): Pick<IndexTrack, 'samples' | 'problem' | 'dataStart' | 'dataEnd'> {
    const stts = child(stbl, 'stts');
    const stsz = child(stbl, 'stsz');
    const stsc = child(stbl, 'stsc');
    const stco = child(stbl, 'stco');
    const co64 = child(stbl, 'co64');
    if (!stts || !stsz || !stsc || !(stco || co64)) return { samples: 0, problem: 'a sample table is missing' };
    const times = table(stts, 2, 'stts');
    let timed = 0;
    for (let i = 0; i < times.count; i++) timed += times.at(i, 0);
    const fixedSize = stsz.readUInt32BE(4);
    const samples = stsz.readUInt32BE(8);
    if (!fixedSize && 12 + samples * 4 > stsz.length)
        return { samples, problem: `stsz names ${samples} sizes it does not hold` };
    const sizeOf = (i: number): number => fixedSize || stsz.readUInt32BE(12 + i * 4);
    if (timed !== samples) return { samples, problem: `stts times ${timed} samples, stsz sizes ${samples}` };
    const chunks = co64 ? co64.readUInt32BE(4) : stco!.readUInt32BE(4);
    const offsetTable = co64 ?? stco!;
    if (8 + chunks * (co64 ? 8 : 4) > offsetTable.length)
        return { samples, problem: `the chunk table names ${chunks} offsets it does not hold` };
    const offset = (c: number): number =>
        co64 ? Number(co64.readBigUInt64BE(8 + c * 8)) : stco!.readUInt32BE(8 + c * 4);
    const runs = table(stsc, 3, 'stsc');
    let sample = 0;
    let dataStart = Infinity;
    let dataEnd = 0;
    for (let r = 0; r < runs.count; r++) {
        const first = runs.at(r, 0) - 1;
        const last = r + 1 < runs.count ? runs.at(r + 1, 0) - 1 : chunks;
        const perChunk = runs.at(r, 1);
        if (first < 0 || last > chunks || last < first)
            return { samples, problem: `stsc run ${r} names chunks ${first + 1}-${last}` };
        for (let c = first; c < last; c++) {
            let at = offset(c);
            if (perChunk && at < dataStart) dataStart = at;
            for (let k = 0; k < perChunk && sample < samples; k++) at += sizeOf(sample++);
            if (at > dataEnd) dataEnd = at;
        }
    }
    if (sample !== samples) return { samples, problem: `its chunks hold ${sample} of ${samples} samples` };
    return samples ? { samples, dataStart, dataEnd } : { samples };
}

/** One `trak`: what it holds and how long it lasts, from its media header, handler and sample tables. Pure. */
function track(trak: Buffer): IndexTrack {
    const mdia = child(trak, 'mdia');
    const mdhd = mdia && child(mdia, 'mdhd');
    const hdlr = mdia && child(mdia, 'hdlr');
    const stbl = mdia && child(child(mdia, 'minf') ?? Buffer.alloc(0), 'stbl');
    if (!mdhd || !hdlr || !stbl)
        return { handler: '', codec: '', samples: 0, secs: 0, problem: 'a track without its media boxes' };
    const { timescale, duration, lang } = timing(mdhd);
    const handler = hdlr.toString('latin1', 8, 12);
    const stsd = child(stbl, 'stsd');
    // The first sample entry: size, format, 6 reserved, data reference index; a visual one then has
    // 16 bytes of pre-defined and reserved fields before its width and height.
    const entry = stsd && stsd.length >= 16 ? stsd.subarray(8) : undefined;
    const codec = entry ? entry.toString('latin1', 4, 8) : '';
    const visual = handler === 'vide' && entry && entry.length >= 36;
    return {
        handler,
        codec,
        ...(visual ? { width: entry.readUInt16BE(32), height: entry.readUInt16BE(34) } : {}),
        ...(lang ? { lang } : {}),
        secs: timescale ? duration / timescale : 0,
        ...sampleTables(stbl),
    };
}

/** An MP4's index, from the bytes of its `moov` box's payload. Throws on boxes that do not nest. Pure. */
export function parseMoov(moov: Buffer): Mp4Index {
    const mvhd = child(moov, 'mvhd');
    if (!mvhd) throw new Error('the index has no movie header');
    const { timescale, duration } = timing(mvhd);
    const tracks = boxes(moov)
        .filter((b) => b.type === 'trak')
        .map((b) => track(b.body));
    return { durationSecs: timescale ? duration / timescale : 0, tracks, fragmented: Boolean(child(moov, 'mvex')) };
}

/**
 * Why an index does not describe the media of its file, or undefined: a track whose tables do not add
 * up, or samples outside the `mdat` box (a file cut short keeps an index in front that names bytes it
 * no longer has). Pure.
 */
export function indexProblem(index: Mp4Index, top: readonly TopBox[]): string | undefined {
    if (!index.tracks.length) return 'the index names no track';
    if (index.fragmented) return 'a fragmented MP4: its index names none of its samples';
    const mdats = top.filter((b) => b.type === 'mdat');
    if (!mdats.length) return 'the file has no media data box';
    // ffmpeg writes one; a file with several is checked against the span from the first to the last.
    const mdat = { start: mdats[0]!.start, size: mdats.at(-1)!.start + mdats.at(-1)!.size - mdats[0]!.start };
    for (const [i, t] of index.tracks.entries()) {
        const name = `track ${i + 1} (${t.handler || '?'})`;
        if (t.problem) return `${name}: ${t.problem}`;
        if (t.dataStart === undefined || t.dataEnd === undefined) continue;
        if (t.dataStart < mdat.start + 8 || t.dataEnd > mdat.start + mdat.size)
            return `${name}: its samples lie at bytes ${t.dataStart}-${t.dataEnd}, the media data at ${mdat.start}-${mdat.start + mdat.size}`;
    }
    return undefined;
}

const STREAM_TYPE: Record<string, StreamInfo['type']> = { vide: 'video', soun: 'audio' };

/**
 * How long the video lasts: the movie's duration (`mvhd`), unless a text track makes it longer than its
 * video and audio (a page's captions file that runs on after the video ends): then the longest of those.
 * The duration is checked against the source's, which counts no captions. Pure.
 */
export function mediaDuration(index: Mp4Index): number {
    const media = index.tracks.filter((t) => STREAM_TYPE[t.handler]).map((t) => t.secs);
    const longest = media.length ? Math.max(...media) : 0;
    return longest > 0 && index.durationSecs > longest + 0.5 ? longest : index.durationSecs;
}

/**
 * What `probe` tells of a regular MP4, from its index: its streams (their `codec` is the sample entry's
 * four-character code) and its duration. Throws a plain error when the index is missing, does not
 * parse, or does not describe the file's media (`indexProblem`): the caller treats it as a failed check.
 */
export async function readMp4Index(file: string): Promise<MediaInfo> {
    const top = await topBoxes(file);
    const moov = top.find((b) => b.type === 'moov');
    if (!moov) throw new Error('the MP4 has no index');
    const fh = await open(file, 'r');
    let body: Buffer;
    try {
        body = Buffer.alloc(moov.size);
        const { bytesRead } = await fh.read(body, 0, moov.size, moov.start);
        if (bytesRead !== moov.size) throw new Error('the index is cut short');
    } finally {
        await fh.close();
    }
    const header = body.readUInt32BE(0) === 1 ? 16 : 8;
    const index = parseMoov(body.subarray(header));
    const problem = indexProblem(index, top);
    if (problem) throw new Error(problem);
    return {
        durationSecs: mediaDuration(index),
        streams: index.tracks.map((t) => ({
            type: STREAM_TYPE[t.handler] ?? 'other',
            codec: t.codec,
            ...(t.width !== undefined ? { width: t.width, height: t.height } : {}),
            ...(t.lang ? { lang: t.lang } : {}),
            packets: t.samples,
        })),
    };
}
