/**
 * Real HLS media made with the bundled ffmpeg: a synthetic picture (testsrc) and tone (sine),
 * encoded once, then cut into HLS with `-c copy` so the segments hold exactly the source's frames.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ffmpegPath } from '../merge/tools.js';

const run = promisify(execFile);

export interface VideoSpec {
    width: number;
    height: number;
    secs: number;
    /** Target segment length; segments cut at keyframes, one per second of GOP. */
    segSecs: number;
    toneHz?: number;
    /** Video bitrate, to make long benchmark media heavy enough. */
    videoKbps?: number;
    fps?: number;
    /** Temporal noise over the picture: a test pattern alone compresses far below any target bitrate. */
    noise?: boolean;
}

export interface HlsVideo {
    dir: string;
    source: string;
    playlist: string;
    segments: number;
}

async function ffmpeg(args: string[]): Promise<void> {
    await run(ffmpegPath, ['-hide_banner', '-loglevel', 'error', '-y', ...args], { maxBuffer: 16 * 1024 * 1024 });
}

/** Encodes `source.mp4` and cuts it into `index.m3u8` + `seg_NNNNN.ts` in `dir`; reuses an earlier result. */
export async function makeHlsVideo(dir: string, spec: VideoSpec): Promise<HlsVideo> {
    const source = path.join(dir, 'source.mp4');
    const playlist = path.join(dir, 'index.m3u8');
    if (!existsSync(playlist)) {
        await mkdir(dir, { recursive: true });
        const fps = spec.fps ?? 25;
        const rate = spec.videoKbps
            ? ['-b:v', `${spec.videoKbps}k`, '-maxrate', `${spec.videoKbps}k`, '-bufsize', `${spec.videoKbps}k`]
            : ['-crf', '28'];
        await ffmpeg([
            '-f',
            'lavfi',
            '-i',
            `testsrc=size=${spec.width}x${spec.height}:rate=${fps}:duration=${spec.secs}${spec.noise ? ',noise=alls=40:allf=t' : ''}`,
            '-f',
            'lavfi',
            '-i',
            `sine=frequency=${spec.toneHz ?? 440}:duration=${spec.secs}`,
            '-c:v',
            'libx264',
            '-preset',
            'ultrafast',
            ...rate,
            '-g',
            String(fps * spec.segSecs),
            '-keyint_min',
            String(fps * spec.segSecs),
            '-sc_threshold',
            '0',
            '-pix_fmt',
            'yuv420p',
            '-c:a',
            'aac',
            '-b:a',
            '64k',
            '-ar',
            '44100',
            '-shortest',
            source,
        ]);
        await ffmpeg([
            '-i',
            source,
            '-c',
            'copy',
            '-f',
            'hls',
            '-hls_time',
            String(spec.segSecs),
            '-hls_list_size',
            '0',
            '-hls_playlist_type',
            'vod',
            '-hls_segment_filename',
            path.join(dir, 'seg_%05d.ts'),
            playlist,
        ]);
    }
    const segments = (await readdir(dir)).filter((f) => f.endsWith('.ts')).length;
    return { dir, source, playlist, segments };
}

export interface MasterVariant {
    name: string;
    spec: VideoSpec;
    bandwidth: number;
}

/** A master playlist over several variants in sub-folders. */
export async function makeMaster(dir: string, variants: MasterVariant[]): Promise<Record<string, HlsVideo>> {
    const made: Record<string, HlsVideo> = {};
    const lines = ['#EXTM3U', '#EXT-X-VERSION:3'];
    for (const v of variants) {
        made[v.name] = await makeHlsVideo(path.join(dir, v.name), v.spec);
        lines.push(
            `#EXT-X-STREAM-INF:BANDWIDTH=${v.bandwidth},RESOLUTION=${v.spec.width}x${v.spec.height},CODECS="avc1.42c01e,mp4a.40.2"`,
            `${v.name}/index.m3u8`,
        );
    }
    await writeFile(path.join(dir, 'master.m3u8'), `${lines.join('\n')}\n`);
    return made;
}
