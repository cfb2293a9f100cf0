/**
 * Plain video files as sites serve them (one URL, the browser or a small player fetches it whole
 * or by ranges): MP4, WebM, MOV and FLV, plus a half-second "preview" clip of the kind video
 * lists loop on hover. Made with the bundled ffmpeg, which has every encoder these need.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ffmpegPath } from '../merge/tools.js';

const run = promisify(execFile);

/** Debian's ffmpeg 5.1 (CI installs it too): only for what the 2018 bundled build cannot write. */
export const SYSTEM_FFMPEG = '/usr/bin/ffmpeg';

export async function runFfmpeg(args: string[], bin = ffmpegPath): Promise<void> {
    await run(bin, ['-hide_banner', '-loglevel', 'error', '-y', ...args], { maxBuffer: 16 * 1024 * 1024 });
}

export interface ClipSpec {
    width: number;
    height: number;
    secs: number;
    toneHz: number;
    /** Temporal noise: a test pattern alone compresses far below any target bitrate. */
    noise?: boolean;
}

const FPS = 25;

/** testsrc + sine as ffmpeg inputs, 25 fps. */
export const testSignal = (spec: ClipSpec): string[] => [
    '-f',
    'lavfi',
    '-i',
    `testsrc=size=${spec.width}x${spec.height}:rate=${FPS}:duration=${spec.secs}` +
        (spec.noise ? ',noise=alls=40:allf=t' : ''),
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=${spec.toneHz}:duration=${spec.secs}`,
];

/** A keyframe every second, so DASH segments and ranged parts line up with seconds. */
export const GOP = ['-g', String(FPS), '-keyint_min', String(FPS), '-sc_threshold', '0'];

/** H.264 + AAC encoder options (`kbps` for a fixed heavy bitrate, else small CRF output). */
export const h264Aac = (kbps?: number): string[] => [
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    ...(kbps ? ['-b:v', `${kbps}k`, '-maxrate', `${kbps}k`, '-bufsize', `${kbps}k`] : ['-crf', '28']),
    ...GOP,
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-b:a',
    '64k',
    '-ar',
    '44100',
    '-shortest',
];

/** Encodes to `out` through a temporary name, so a half-written file is never taken as cached. */
export async function encode(out: string, args: string[], bin?: string): Promise<void> {
    if (existsSync(out)) return;
    await mkdir(path.dirname(out), { recursive: true });
    const tmp = `${out}.part${path.extname(out)}`;
    await runFfmpeg([...args, tmp], bin);
    await rename(tmp, out);
}

/**
 * Where the files live under the media root (served as /media/<path>). With `faults` the server
Xthe FLV's name gets a dropped connection,
 * which mpegts.js resumes with a Range request, never a 503, which it does not retry; the preview's
 * gets none, as a cut 16 kB clip never plays in Chromium and the page must show a playing preview.
 */
export const FILE_PATHS = {
    mp4: 'files/movie.mp4',
    webm: 'files/clip.webm',
    mov: 'files/clip.mov',
    flv: 'files/broadcast.flv',
    preview: 'files/preview-clip.mp4',
} as const;

export type FileMedia = Record<keyof typeof FILE_PATHS, string>;

/** Big enough that a downloader splitting files into ≥ 4 MiB ranged parts needs several. */
export const MP4_MIN_BYTES = 9 * 1024 * 1024;

export async function makeFileMedia(root: string): Promise<FileMedia> {
    const at = (key: keyof typeof FILE_PATHS): string => path.join(root, FILE_PATHS[key]);
    await Promise.all([
        // Not faststart (ffmpeg's default puts moov after mdat): a player must range-read the end first.
        encode(at('mp4'), [
            ...testSignal({ width: 1280, height: 720, secs: 5, toneHz: 330, noise: true }),
            ...h264Aac(16_000),
        ]),
        // VP9 + Opus, what sites serving WebM use today; realtime settings keep it to a second.
        encode(at('webm'), [
            ...testSignal({ width: 480, height: 270, secs: 5, toneHz: 392 }),
            '-c:v',
            'libvpx-vp9',
            '-deadline',
            'realtime',
            '-cpu-used',
            '8',
            '-b:v',
            '400k',
            ...GOP,
            '-pix_fmt',
            'yuv420p',
            '-c:a',
            'libopus',
            '-b:a',
            '64k',
            '-shortest',
        ]),
        encode(at('mov'), [
            ...testSignal({ width: 320, height: 240, secs: 4, toneHz: 523 }),
            ...h264Aac(),
            '-f',
            'mov',
        ]),
        // H.264 + AAC in FLV: the only FLV codecs mpegts.js plays through MSE.
        encode(at('flv'), [
            ...testSignal({ width: 400, height: 224, secs: 5, toneHz: 587 }),
            ...h264Aac(),
            '-f',
            'flv',
        ]),
        encode(at('preview'), [...testSignal({ width: 320, height: 180, secs: 0.5, toneHz: 659 }), ...h264Aac()]),
    ]);
    const size = (await stat(at('mp4'))).size;
    if (size < MP4_MIN_BYTES) throw new Error(`${at('mp4')} is only ${size} bytes; ranged downloads need ≥ 9 MiB`);
    return {
        mp4: at('mp4'),
        webm: at('webm'),
        mov: at('mov'),
        flv: at('flv'),
        preview: at('preview'),
    };
}
