/**
 * The bundled ffmpeg binary behind fluent-ffmpeg. ffmpeg is only ever given files this program
 * wrote (`-protocol_whitelist file`), never a playlist text from the web.
 *
 * There is no ffprobe: @ffmpeg-installer ships none, and @ffprobe-installer's static build
 * segfaults on this machine's kind. `ffmpeg -i` prints the same stream table, parsed here.
 */
import { execFile } from 'node:child_process';
import type { Readable } from 'node:stream';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import ffmpeg from 'fluent-ffmpeg';

export const ffmpegPath: string = ffmpegInstaller.path;

export class MergeError extends Error {
    override readonly name = 'MergeError' as const;
}

export type InputFormat = 'mpegts' | 'aac' | 'mov' | 'mp3';

/** Container of a track from its first bytes; ffmpeg is told it rather than left to guess. */
export function containerOf(head: Buffer): InputFormat {
    if (head[0] === 0x47) return 'mpegts';
    const box = head.toString('latin1', 4, 8);
    if (['ftyp', 'styp', 'moof', 'sidx', 'moov'].includes(box)) return 'mov';
    if (head.toString('latin1', 0, 3) === 'ID3' || (head[0] === 0xff && ((head[1] ?? 0) & 0xf6) === 0xf0)) return 'aac';
    if (head[0] === 0xff && ((head[1] ?? 0) & 0xe0) === 0xe0) return 'mp3';
    return 'mpegts';
}

export interface StreamInfo {
    type: 'video' | 'audio' | 'other';
    codec: string;
    width?: number;
    height?: number;
}

export interface MediaInfo {
    durationSecs?: number;
    streams: StreamInfo[];
}

/** The input table ffmpeg prints for `-i FILE` (its "Duration:" and "Stream #0:N" lines). Pure. */
export function parseMediaInfo(stderr: string): MediaInfo {
    const d = /Duration: (\d+):(\d+):(\d+(?:\.\d+)?)/.exec(stderr);
    const durationSecs = d ? Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3]) : undefined;
    const streams: StreamInfo[] = [];
    for (const m of stderr.matchAll(/Stream #\d+:\d+[^:]*: (Video|Audio|Data|Subtitle|Attachment): ([\w-]+)([^\n]*)/g)) {
        const kind = m[1] === 'Video' ? 'video' : m[1] === 'Audio' ? 'audio' : 'other';
        const size = kind === 'video' ? /, (\d{2,5})x(\d{2,5})[\s,[]/.exec(m[3] ?? '') : null;
        streams.push({ type: kind, codec: m[2] ?? '', width: size ? Number(size[1]) : undefined, height: size ? Number(size[2]) : undefined });
    }
    return { durationSecs, streams };
}

export function probe(file: string, format?: InputFormat): Promise<MediaInfo> {
    const args = ['-hide_banner', '-protocol_whitelist', 'file', ...(format ? ['-f', format] : []), '-i', file];
    return new Promise((resolve, reject) => {
        // Without an output ffmpeg exits 1 after printing the input table; that is the expected path.
        execFile(ffmpegPath, args, { maxBuffer: 4 * 1024 * 1024 }, (_error, _stdout, stderr) => {
            const info = parseMediaInfo(stderr);
            if (info.streams.length === 0) reject(new MergeError(`ffmpeg found no streams in ${file}: ${stderr.split('\n').slice(-2).join(' ').slice(0, 200)}`));
            else resolve(info);
        });
    });
}

/** Whether a source's audio is AAC, which `remux` must be told (ADTS headers need converting for MP4). */
export async function hasAacAudio(file: string, format: InputFormat): Promise<boolean> {
    return (await probe(file, format)).streams.some((s) => s.type === 'audio' && s.codec === 'aac');
}

const firstLine = (error: Error): string => error.message.split('\n').filter(Boolean).slice(-2).join(' ').slice(0, 300);

export interface RemuxInput {
    /** A local file, or a stream of the track's bytes (fed while the video downloads). */
    file: string | Readable;
    /** `concat`: `file` is a list of local section files for ffmpeg's concat demuxer. */
    format: InputFormat | 'concat';
}

const inputOptions = (input: RemuxInput): string[] =>
    input.format === 'concat'
        ? ['-f', 'concat', '-safe', '0', '-protocol_whitelist', 'file']
        : ['-protocol_whitelist', typeof input.file === 'string' ? 'file' : 'pipe', '-f', input.format];

/**
 * `-c copy` into MP4: video from the first input, audio from the second if given, else the first.
 * `signal` kills ffmpeg (the promise then rejects).
 */
export function remux(video: RemuxInput, audio: RemuxInput | undefined, out: string, audioIsAac: boolean, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
        const cmd = ffmpeg().setFfmpegPath(ffmpegPath);
        cmd.input(video.file).inputOptions(inputOptions(video));
        if (audio) cmd.input(audio.file).inputOptions(inputOptions(audio));
        const options = ['-map', '0:v:0', '-map', audio ? '1:a:0' : '0:a?', '-c', 'copy', '-movflags', '+faststart'];
        // ADTS AAC (TS, packed audio) needs its headers turned into an AudioSpecificConfig for MP4.
        if (audioIsAac) options.push('-bsf:a', 'aac_adtstoasc');
        cmd.outputOptions(options)
            .format('mp4')
            .on('error', (error: Error) => reject(new MergeError(`ffmpeg remux failed: ${firstLine(error)}`)))
            .on('end', () => resolve())
            .save(out);
        signal?.addEventListener('abort', () => cmd.kill('SIGKILL'), { once: true });
    });
}

/** One PNG frame from `secs` into the video (run report thumbnails). */
export function thumbnail(file: string, out: string, secs: number): Promise<void> {
    return new Promise((resolve, reject) => {
        ffmpeg(file)
            .setFfmpegPath(ffmpegPath)
            .inputOptions(['-protocol_whitelist', 'file'])
            .seekInput(secs)
            .outputOptions(['-frames:v', '1', '-vf', 'scale=320:-2'])
            .on('error', (error: Error) => reject(new MergeError(`thumbnail failed: ${firstLine(error)}`)))
            .on('end', () => resolve())
            .save(out);
    });
}
