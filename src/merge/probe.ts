/**
 * What an input holds, asked before ffmpeg writes anything: its container from its first bytes, its
 * duration and streams (with an ffprobe, its JSON; else the input table `ffmpeg -i` prints; which
 * binaries run is tools.ts's choice), and which of its streams go into the MP4.
 */
import { execFile } from 'node:child_process';
import { MergeError } from '../errors.js';
import { ffmpegPath, ffprobePath, type Tools } from './tools.js';

export type InputFormat = 'mpegts' | 'aac' | 'mov' | 'mp3' | 'flv';

/** Container of a track from its first bytes; ffmpeg is told it rather than left to guess. */
export function containerOf(head: Buffer): InputFormat {
    if (head[0] === 0x47) return 'mpegts';
    if (head.toString('latin1', 0, 3) === 'FLV') return 'flv';
    const box = head.toString('latin1', 4, 8);
    if (['ftyp', 'styp', 'moof', 'sidx', 'moov'].includes(box)) return 'mov';
    const adts = head[0] === 0xff && ((head[1] ?? 0) & 0xf6) === 0xf0;
    if (head.toString('latin1', 0, 3) === 'ID3' || adts) return 'aac';
    if (head[0] === 0xff && ((head[1] ?? 0) & 0xe0) === 0xe0) return 'mp3';
    return 'mpegts';
}

export interface StreamInfo {
    type: 'video' | 'audio' | 'other';
    codec: string;
    width?: number;
    height?: number;
    /** ISO 639 language tag of the stream, when the container names one (never "und"). */
    lang?: string;
    /** Packets in the file, when they were counted (`probe`'s `countPackets`, ffprobe only). */
    packets?: number;
}

export interface MediaInfo {
    durationSecs?: number;
    /** When the earliest stream starts (MPEG-TS from ffmpeg starts at 1.4 s): subtitles are placed against it. */
    startSecs?: number;
    streams: StreamInfo[];
}

const langOf = (tag: string | undefined): string | undefined => (tag && tag !== 'und' ? tag : undefined);

/** The input table ffmpeg prints for `-i FILE` (its "Duration:" and "Stream #0:N" lines). Pure. */
export function parseMediaInfo(stderr: string): MediaInfo {
    const d = /Duration: (\d+):(\d+):(\d+(?:\.\d+)?)/.exec(stderr);
    const durationSecs = d ? Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3]) : undefined;
    const streams: StreamInfo[] = [];
    const line =
        /Stream #\d+:\d+(?:\[\w+\])?(?:\((\w+)\))?[^:]*: (Video|Audio|Data|Subtitle|Attachment): ([\w-]+)([^\n]*)/g;
    for (const m of stderr.matchAll(line)) {
        const type = m[2] === 'Video' ? 'video' : m[2] === 'Audio' ? 'audio' : 'other';
        const size = type === 'video' ? /, (\d{2,5})x(\d{2,5})[\s,[]/.exec(m[4] ?? '') : null;
        const [width, height] = size ? [Number(size[1]), Number(size[2])] : [];
        streams.push(stream(type, m[3] ?? '', width, height, langOf(m[1])));
    }
    const start = /Duration: [^\n]*?, start: (-?\d+(?:\.\d+)?)/.exec(stderr);
    return { durationSecs, ...(start ? { startSecs: Number(start[1]) } : {}), streams };
}

function stream(type: StreamInfo['type'], codec: string, width?: number, height?: number, lang?: string): StreamInfo {
    const s: StreamInfo = { type, codec };
    if (width !== undefined && height !== undefined) Object.assign(s, { width, height });
    if (lang) s.lang = lang;
    return s;
}

interface FfprobeJson {
    format?: { duration?: string; start_time?: string };
    streams?: {
        codec_type?: string;
        codec_name?: string;
        width?: number;
        height?: number;
        duration?: string;
        nb_read_packets?: string;
        tags?: { language?: string };
    }[];
}

const seconds = (value: string | undefined): number | undefined => {
    const n = value === undefined ? NaN : Number(value);
    return Number.isFinite(n) && n >= 0 ? n : undefined;
};

/**
 * `ffprobe -print_format json -show_format -show_streams` output as `MediaInfo`, the shape
 * `parseMediaInfo` gives. The duration is the container's, as in ffmpeg's "Duration:" line. Pure.
 */
export function mediaInfoFromFfprobe(json: string | FfprobeJson): MediaInfo {
    const data: FfprobeJson = typeof json === 'string' ? (JSON.parse(json) as FfprobeJson) : json;
    const streams = (data.streams ?? []).map((s) => {
        const type = s.codec_type === 'video' ? 'video' : s.codec_type === 'audio' ? 'audio' : 'other';
        const sized = type === 'video' && s.width && s.height;
        const lang = langOf(s.tags?.language);
        const info = stream(
            type,
            s.codec_name ?? 'none',
            sized ? s.width : undefined,
            sized ? s.height : undefined,
            lang,
        );
        const packets = Number(s.nb_read_packets);
        if (s.nb_read_packets !== undefined && Number.isInteger(packets) && packets >= 0) info.packets = packets;
        return info;
    });
    const streamSecs = (data.streams ?? []).map((s) => seconds(s.duration)).filter((n) => n !== undefined);
    const durationSecs = seconds(data.format?.duration) ?? (streamSecs.length ? Math.max(...streamSecs) : undefined);
    const start = data.format?.start_time === undefined ? NaN : Number(data.format.start_time);
    return { durationSecs, ...(Number.isFinite(start) ? { startSecs: start } : {}), streams };
}

const tail = (stderr: string): string => stderr.split('\n').filter(Boolean).slice(-2).join(' ').slice(0, 200);

export interface ProbeOptions {
    /** Count each stream's packets (ffprobe reads the whole file); `ffmpeg -i` cannot, and leaves them out. */
    countPackets?: boolean;
}

function probeWithFfprobe(
    ffprobeBin: string,
    file: string,
    format?: InputFormat,
    { countPackets = false }: ProbeOptions = {},
): Promise<MediaInfo> {
    const args = ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams'];
    if (countPackets) args.push('-count_packets');
    args.push('-protocol_whitelist', 'file', ...(format ? ['-f', format] : []), file);
    return new Promise((resolve, reject) => {
        execFile(ffprobeBin, args, { maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
            let info: MediaInfo | undefined;
            try {
                info = error ? undefined : mediaInfoFromFfprobe(stdout);
            } catch {
                info = undefined;
            }
            if (info && info.streams.length > 0) resolve(info);
            else reject(new MergeError(`ffprobe found no streams in ${file}: ${tail(stderr) || error?.message}`));
        });
    });
}

function probeWithFfmpeg(ffmpegBin: string, file: string, format?: InputFormat): Promise<MediaInfo> {
    const args = ['-hide_banner', '-protocol_whitelist', 'file', ...(format ? ['-f', format] : []), '-i', file];
    return new Promise((resolve, reject) => {
        // Without an output ffmpeg exits 1 after printing the input table; that is the expected path.
        execFile(ffmpegBin, args, { maxBuffer: 4 * 1024 * 1024 }, (_error, _stdout, stderr) => {
            const info = parseMediaInfo(stderr);
            if (info.streams.length > 0) resolve(info);
            else reject(new MergeError(`ffmpeg found no streams in ${file}: ${tail(stderr)}`));
        });
    });
}

/** `probe` with the binaries given: ffprobe's JSON when there is an ffprobe, else the `ffmpeg -i` table. */
export function probeWith(bins: Tools, file: string, format?: InputFormat, options?: ProbeOptions): Promise<MediaInfo> {
    return bins.ffprobe
        ? probeWithFfprobe(bins.ffprobe, file, format, options)
        : probeWithFfmpeg(bins.ffmpeg, file, format);
}

/** Duration and streams of a local file, with the configured binaries (tools.ts). */
export function probe(file: string, format?: InputFormat, options?: ProbeOptions): Promise<MediaInfo> {
    return probeWith({ ffmpeg: ffmpegPath, ffprobe: ffprobePath }, file, format, options);
}

/**
 * Which streams go into the output, decided on what the inputs hold (probed first), never assumed:
 * a radio show or podcast has no video, a muted clip no audio. Input 0 is the main track, input 1
 * a separate audio track when there is one.
 */
export interface StreamChoice {
    /** What the output is: a video (with its audio, if any), or audio alone (stored as `.m4a`). */
    kind: 'video' | 'audio';
    /** `-map` options for ffmpeg. */
    maps: string[];
    /** The mapped audio is AAC: ADTS headers (MPEG-TS, packed audio) need converting for MP4. */
    aac: boolean;
}

/** What `chooseStreams` takes from a main track without separate audio: its first video and every audio stream. Pure. */
export function mappedStreams(main: readonly StreamInfo[]): StreamInfo[] {
    const video = main.find((s) => s.type === 'video');
    return [...(video ? [video] : []), ...main.filter((s) => s.type === 'audio')];
}

/**
 * The first video stream of the main track, if any; the separate audio track's first audio stream
 * when there is one, else every audio stream of the main track. A separate audio track without
 * audio, or inputs with neither video nor audio, cannot be merged. Pure.
 */
export function chooseStreams(main: readonly StreamInfo[], separateAudio?: readonly StreamInfo[]): StreamChoice {
    const hasVideo = main.some((s) => s.type === 'video');
    const maps = hasVideo ? ['-map', '0:v:0'] : [];
    let audio: StreamInfo[];
    if (separateAudio) {
        audio = separateAudio.filter((s) => s.type === 'audio').slice(0, 1);
        if (!audio.length) throw new MergeError('the separate audio track has no audio stream');
        maps.push('-map', '1:a:0');
    } else {
        audio = main.filter((s) => s.type === 'audio');
        if (audio.length) maps.push('-map', '0:a');
    }
    if (!hasVideo && !audio.length) throw new MergeError('the media has neither a video nor an audio stream');
    return { kind: hasVideo ? 'video' : 'audio', maps, aac: audio.some((s) => s.codec === 'aac') };
}

/** `chooseStreams` on the probed inputs: the main track's first bytes (as `format`) and the separate audio's. */
export async function probeStreams(
    main: { file: string; format: InputFormat },
    separateAudio?: { file: string; format: InputFormat },
): Promise<StreamChoice> {
    const [m, a] = await Promise.all([
        probe(main.file, main.format),
        separateAudio ? probe(separateAudio.file, separateAudio.format) : undefined,
    ]);
    return chooseStreams(m.streams, a?.streams);
}
