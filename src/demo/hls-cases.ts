/**
 * HLS as real sites serve it, for the demo site and the tests: AES-128 with key rotation, fMP4,
 * byte ranges, discontinuities, a separate audio rendition, segments disguised as PNG, live
 * windows, DRM and broken keys. Built from plain ffmpeg output; encryption is done here with
 * node:crypto so every key, IV and method switch is under the fixture's control.
 */
import { execFile } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ffmpegPath } from '../merge/tools.js';
import type { HlsVideo } from './hls-video.js';

const run = promisify(execFile);
const ff = (args: string[]): Promise<unknown> =>
    run(ffmpegPath, ['-hide_banner', '-loglevel', 'error', '-y', ...args], { maxBuffer: 16 * 1024 * 1024 });

/** Deterministic 16-byte keys: the same fixture every run. */
export const fixtureKey = (name: string): Buffer => createHash('sha256').update(name).digest().subarray(0, 16);

/** A 1×1 PNG: the fake header of disguised segments. */
const PNG_1X1 = Buffer.from(
    '89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
        '1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082',
    'hex',
);

const encrypt = (data: Buffer, key: Buffer, iv: Buffer): Buffer => {
    const c = createCipheriv('aes-128-cbc', key, iv);
    return Buffer.concat([c.update(data), c.final()]);
};

const seqIv = (seq: number): Buffer => {
    const iv = Buffer.alloc(16);
    iv.writeUInt32BE(seq, 12);
    return iv;
};

async function segmentsOf(video: HlsVideo): Promise<{ name: string; secs: number }[]> {
    const text = await readFile(video.playlist, 'utf8');
    const out: { name: string; secs: number }[] = [];
    let secs = 0;
    for (const line of text.split('\n')) {
        if (line.startsWith('#EXTINF:')) secs = Number.parseFloat(line.slice(8));
        else if (line.endsWith('.ts')) out.push({ name: line.trim(), secs });
    }
    return out;
}

const header = (target: number, extra = ''): string =>
    `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:${target}\n#EXT-X-MEDIA-SEQUENCE:0\n${extra}`;

/**
 * Encrypted copy of `video` in `dir`: segments 0-1 under key A with no IV attribute (IV = sequence
 * number), 2-3 under key B with an explicit IV, 4 in the clear (METHOD=NONE), the rest under a
 * key given as a data: URI.
 */
export async function makeEncrypted(video: HlsVideo, dir: string, keyPrefix: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    const a = fixtureKey(`${keyPrefix}-a`);
    const b = fixtureKey(`${keyPrefix}-b`);
    const c = fixtureKey(`${keyPrefix}-c`);
    const explicitIv = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
    await writeFile(path.join(dir, 'a.key'), a);
    await writeFile(path.join(dir, 'b.key'), b);
    const lines = [header(2)];
    const segs = await segmentsOf(video);
    for (const [i, s] of segs.entries()) {
        let data: Buffer = await readFile(path.join(video.dir, s.name));
        if (i === 0) lines.push('#EXT-X-KEY:METHOD=AES-128,URI="a.key"');
        if (i === 2) lines.push(`#EXT-X-KEY:METHOD=AES-128,URI="b.key",IV=0x${explicitIv.toString('hex')}`);
        if (i === 4) lines.push('#EXT-X-KEY:METHOD=NONE');
        if (i === 5)
            lines.push(`#EXT-X-KEY:METHOD=AES-128,URI="data:application/octet-stream;base64,${c.toString('base64')}"`);
        if (i < 2) data = encrypt(data, a, seqIv(i));
        else if (i < 4) data = encrypt(data, b, explicitIv);
        else if (i >= 5) data = encrypt(data, c, seqIv(i));
        await writeFile(path.join(dir, `e${i}.ts`), data);
        lines.push(`#EXTINF:${s.secs.toFixed(6)},`, `e${i}.ts`);
    }
    lines.push('#EXT-X-ENDLIST');
    await writeFile(path.join(dir, 'index.m3u8'), `${lines.join('\n')}\n`);
}

/** Rewrites a plain playlist's segments behind a PNG header, served as `.png`. */
async function makeDisguised(video: HlsVideo, dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    const lines = [header(2)];
    for (const [i, s] of (await segmentsOf(video)).entries()) {
        await writeFile(
            path.join(dir, `frame${i}.png`),
            Buffer.concat([PNG_1X1, await readFile(path.join(video.dir, s.name))]),
        );
        lines.push(`#EXTINF:${s.secs.toFixed(6)},`, `frame${i}.png`);
    }
    await writeFile(path.join(dir, 'index.m3u8'), `${[...lines, '#EXT-X-ENDLIST'].join('\n')}\n`);
}

/** Two different videos joined by EXT-X-DISCONTINUITY: timestamps restart in the middle. */
async function makeDiscontinuity(first: HlsVideo, second: HlsVideo, dir: string): Promise<void> {
    const lines = [header(2)];
    for (const v of [first, second]) {
        if (v === second) lines.push('#EXT-X-DISCONTINUITY');
        for (const s of await segmentsOf(v))
            lines.push(`#EXTINF:${s.secs.toFixed(6)},`, `${path.relative(dir, v.dir)}/${s.name}`);
    }
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'index.m3u8'), `${[...lines, '#EXT-X-ENDLIST'].join('\n')}\n`);
}

async function writePlaylistVariant(
    video: HlsVideo,
    dir: string,
    transform: (text: string) => string,
    name: string,
): Promise<void> {
    await mkdir(dir, { recursive: true });
    const text = await readFile(video.playlist, 'utf8');
    await writeFile(
        path.join(dir, name),
        transform(text.replace(/^(seg_\d+\.ts)$/gm, `../${path.basename(video.dir)}/$1`)),
    );
}

export interface HlsCases {
    /** Sources whose frames the downloads must reproduce. */
    sources: { plain: string; low: string; high: string; seed: string; fmp4: string; range: string; altAudio: string };
}

/** Builds every case under `root` (next to the plain demo media made by makeDemoMedia). */
export async function makeHlsCases(
    root: string,
    plain: HlsVideo,
    low: HlsVideo,
    high: HlsVideo,
    seed: HlsVideo,
): Promise<HlsCases> {
    const done = path.join(root, 'cases.done');
    const fmp4Src = path.join(root, 'fmp4', 'source.mp4');
    const rangeSrc = path.join(root, 'range', 'source.mp4');
    const altSrc = path.join(root, 'alt-audio', 'source.mp4');
    const result: HlsCases = {
        sources: {
            plain: plain.source,
            low: low.source,
            high: high.source,
            seed: seed.source,
            fmp4: fmp4Src,
            range: rangeSrc,
            altAudio: altSrc,
        },
    };
    if (existsSync(done)) return result;

    await makeEncryptedCases(root, plain, low, high);
    await makeRewrittenCases(root, plain, high);

    // fMP4 (EXT-X-MAP) and a single-file playlist with byte ranges, straight from ffmpeg's muxer.
    for (const d of ['fmp4', 'range', 'alt-audio']) await mkdir(path.join(root, d), { recursive: true });
    await makeFmp4(root, fmp4Src);
    await makeByteRanges(root, rangeSrc);
    await makeAltAudio(root, altSrc);
    if (!(await readdir(path.join(root, 'fmp4'))).includes('init.mp4'))
        throw new Error('ffmpeg made no fMP4 init segment');
    await writeFile(done, new Date().toISOString());
    return result;
}

/** AES-128 cases: the plain video, and the demo's iframe player. */
async function makeEncryptedCases(root: string, plain: HlsVideo, low: HlsVideo, high: HlsVideo): Promise<void> {
    await makeEncrypted(plain, path.join(root, 'enc'), 'plain');
    // The demo's iframe player: an encrypted master with two variants.
    await makeEncrypted(low, path.join(root, 'iframe-enc', 'low'), 'low');
    await makeEncrypted(high, path.join(root, 'iframe-enc', 'high'), 'high');
    await writeFile(
        path.join(root, 'iframe-enc', 'master.m3u8'),
        '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=300000,RESOLUTION=320x180\nlow/index.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=640x360\nhigh/index.m3u8\n',
    );
}

/** Plain segments behind rewritten playlists: disguised as PNG, a discontinuity, live, DRM, a broken key. */
async function makeRewrittenCases(root: string, plain: HlsVideo, high: HlsVideo): Promise<void> {
    await makeDisguised(plain, path.join(root, 'disguised'));
    await makeDiscontinuity(plain, high, path.join(root, 'disc'));
    await writePlaylistVariant(
        plain,
        path.join(root, 'live'),
        (t) => t.replace('#EXT-X-ENDLIST\n', '').replace('#EXT-X-PLAYLIST-TYPE:VOD\n', '#EXT-X-PLAYLIST-TYPE:EVENT\n'),
        'index.m3u8',
    );
    await writePlaylistVariant(
        plain,
        path.join(root, 'drm'),
        (t) =>
            t.replace(
                '#EXTINF',
                '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://fairplay-key",KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"\n#EXTINF',
            ),
        'index.m3u8',
    );
    await writePlaylistVariant(
        plain,
        path.join(root, 'badkey'),
        (t) => t.replace('#EXTINF', '#EXT-X-KEY:METHOD=AES-128,URI="/broken/key.html"\n#EXTINF'),
        'index.m3u8',
    );
}

/** The muxer cases' source: a 5 s test pattern and tone, a keyframe every second. */
const SOURCE_SPEC = [
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=480x270:rate=25:duration=5',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=880:duration=5',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-g',
    '25',
    '-keyint_min',
    '25',
    '-sc_threshold',
    '0',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-b:a',
    '64k',
    '-shortest',
];

/** fMP4 segments (EXT-X-MAP) from ffmpeg's HLS muxer. */
async function makeFmp4(root: string, fmp4Src: string): Promise<void> {
    await ff([...SOURCE_SPEC, fmp4Src]);
    await ff([
        '-i',
        fmp4Src,
        '-c',
        'copy',
        '-f',
        'hls',
        '-hls_time',
        '1',
        '-hls_list_size',
        '0',
        '-hls_playlist_type',
        'vod',
        '-hls_segment_type',
        'fmp4',
        '-hls_fmp4_init_filename',
        'init.mp4',
        '-hls_segment_filename',
        path.join(root, 'fmp4', 'part%03d.m4s'),
        path.join(root, 'fmp4', 'index.m3u8'),
    ]);
}

/** One file addressed by EXT-X-BYTERANGE (ffmpeg's single_file flag). */
async function makeByteRanges(root: string, rangeSrc: string): Promise<void> {
    await ff([...SOURCE_SPEC, rangeSrc]);
    await ff([
        '-i',
        rangeSrc,
        '-c',
        'copy',
        '-f',
        'hls',
        '-hls_time',
        '1',
        '-hls_list_size',
        '0',
        '-hls_playlist_type',
        'vod',
        '-hls_flags',
        'single_file',
        path.join(root, 'range', 'index.m3u8'),
    ]);
}

/** A video-only variant and an audio-only rendition, joined by the master's EXT-X-MEDIA. */
async function makeAltAudio(root: string, altSrc: string): Promise<void> {
    await ff([...SOURCE_SPEC, altSrc]);
    await ff([
        '-i',
        altSrc,
        '-map',
        '0:v',
        '-c',
        'copy',
        '-f',
        'hls',
        '-hls_time',
        '1',
        '-hls_list_size',
        '0',
        '-hls_playlist_type',
        'vod',
        '-hls_segment_filename',
        path.join(root, 'alt-audio', 'v%03d.ts'),
        path.join(root, 'alt-audio', 'video.m3u8'),
    ]);
    await ff([
        '-i',
        altSrc,
        '-map',
        '0:a',
        '-c',
        'copy',
        '-f',
        'hls',
        '-hls_time',
        '1',
        '-hls_list_size',
        '0',
        '-hls_playlist_type',
        'vod',
        '-hls_segment_filename',
        path.join(root, 'alt-audio', 'a%03d.ts'),
        path.join(root, 'alt-audio', 'audio.m3u8'),
    ]);
    await writeFile(
        path.join(root, 'alt-audio', 'master.m3u8'),
        '#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,URI="audio.m3u8"\n' +
            '#EXT-X-STREAM-INF:BANDWIDTH=600000,RESOLUTION=480x270,CODECS="avc1.42c01e,mp4a.40.2",AUDIO="aud"\nvideo.m3u8\n',
    );
}
