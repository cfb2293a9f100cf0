/**
 * ffmpeg and ffprobe: which binaries the environment picks, ffprobe's JSON as `MediaInfo`, and the
 * two probe paths (ffprobe's JSON, the `ffmpeg -i` table) agreeing on a file made here.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { MergeError as ErrorsMergeError } from '../../src/errors.js';
import { MergeError, remux, thumbnail } from '../../src/merge/ffmpeg.js';
import {
    containerOf,
    mediaInfoFromFfprobe,
    parseMediaInfo,
    probe,
    probeWith,
    type InputFormat,
    type MediaInfo,
} from '../../src/merge/probe.js';
import {
    bundledFfmpeg,
    ffmpegLibavformat,
    ffmpegPath,
    ffprobePath,
    findOnPath,
    isExecutable,
    libavformatMajor,
    resolveTools,
    toolVersions,
} from '../../src/merge/tools.js';

const run = promisify(execFile);

test('resolveTools: the bundled ffmpeg by default, FFMPEG_PATH and FFPROBE_PATH when set', () => {
    const files = new Set(['/opt/ff/ffmpeg', '/opt/ff/ffprobe', '/usr/bin/ffprobe', '/x/ffmpeg-7', '/x/ffprobe-7']);
    const exists = (f: string): boolean => files.has(f);
    const bundled = (): string => '/bundled/ffmpeg';
    const resolve = (env: NodeJS.ProcessEnv) => resolveTools(env, exists, bundled);

    assert.deepEqual(resolve({}), { ffmpeg: '/bundled/ffmpeg', ffprobe: undefined });
    assert.deepEqual(resolve({ FFMPEG_PATH: '  ', FFPROBE_PATH: '' }), {
        ffmpeg: '/bundled/ffmpeg',
        ffprobe: undefined,
    });
    // An ffprobe next to FFMPEG_PATH is used; none there means the ffmpeg -i table.
    assert.deepEqual(resolve({ FFMPEG_PATH: '/opt/ff/ffmpeg' }), {
        ffmpeg: '/opt/ff/ffmpeg',
        ffprobe: '/opt/ff/ffprobe',
    });
    assert.deepEqual(resolve({ FFMPEG_PATH: '/x/ffmpeg-7' }), { ffmpeg: '/x/ffmpeg-7', ffprobe: '/x/ffprobe-7' });
    files.delete('/opt/ff/ffprobe');
    assert.deepEqual(resolve({ FFMPEG_PATH: '/opt/ff/ffmpeg' }), { ffmpeg: '/opt/ff/ffmpeg', ffprobe: undefined });
    // FFPROBE_PATH alone: the bundled ffmpeg remuxes, that ffprobe probes.
    assert.deepEqual(resolve({ FFPROBE_PATH: '/usr/bin/ffprobe' }), {
        ffmpeg: '/bundled/ffmpeg',
        ffprobe: '/usr/bin/ffprobe',
    });
    assert.deepEqual(resolve({ FFMPEG_PATH: '/opt/ff/ffmpeg', FFPROBE_PATH: '/usr/bin/ffprobe' }), {
        ffmpeg: '/opt/ff/ffmpeg',
        ffprobe: '/usr/bin/ffprobe',
    });
    // A variable naming nothing is an error, never a silent fall back to the 2018 build.
    assert.throws(() => resolve({ FFMPEG_PATH: '/nope/ffmpeg' }), /FFMPEG_PATH=\/nope\/ffmpeg/);
    assert.throws(() => resolve({ FFPROBE_PATH: '/nope/ffprobe' }), /FFPROBE_PATH=\/nope\/ffprobe/);
    // No bundled binary for this platform: FFMPEG_PATH is enough, nothing at all is an error.
    assert.deepEqual(
        resolveTools({ FFMPEG_PATH: '/opt/ff/ffmpeg' }, exists, () => undefined),
        {
            ffmpeg: '/opt/ff/ffmpeg',
            ffprobe: undefined,
        },
    );
    assert.throws(() => resolveTools({}, exists, () => undefined), /set FFMPEG_PATH/);
});

test('resolveTools: FFMPEG_PATH, then ffmpeg on PATH, then the bundled build', () => {
    const files = new Set(['/usr/local/bin/ffmpeg', '/usr/local/bin/ffprobe', '/opt/ff/ffmpeg', '/usr/bin/ffprobe']);
    const exists = (f: string): boolean => files.has(f);
    const bundled = (): string => '/bundled/ffmpeg';
    const PATH = '/home/me/bin:/usr/local/bin:/usr/bin';
    assert.deepEqual(resolveTools({ PATH }, exists, bundled, 'linux'), {
        ffmpeg: '/usr/local/bin/ffmpeg',
        ffprobe: '/usr/local/bin/ffprobe',
    });
    // The variable wins over PATH; its own sibling ffprobe wins over PATH's.
    files.add('/opt/ff/ffprobe');
    assert.deepEqual(resolveTools({ PATH, FFMPEG_PATH: '/opt/ff/ffmpeg' }, exists, bundled, 'linux'), {
        ffmpeg: '/opt/ff/ffmpeg',
        ffprobe: '/opt/ff/ffprobe',
    });
    // No ffmpeg on PATH: the bundled build, with an ffprobe from PATH when there is one.
    files.delete('/usr/local/bin/ffmpeg');
    assert.deepEqual(resolveTools({ PATH }, exists, bundled, 'linux'), {
        ffmpeg: '/bundled/ffmpeg',
        ffprobe: '/usr/local/bin/ffprobe',
    });
    assert.deepEqual(resolveTools({ PATH: '/home/me/bin' }, exists, bundled, 'linux'), {
        ffmpeg: '/bundled/ffmpeg',
        ffprobe: undefined,
    });
    // Windows: PATHEXT names the file, `;` separates the folders.
    const win = new Set(['C:\\ffmpeg\\bin\\ffmpeg.exe', 'C:\\ffmpeg\\bin\\ffprobe.exe']);
    const winEnv = { Path: 'C:\\Windows;"C:\\ffmpeg\\bin"', PATHEXT: '.COM;.EXE;.BAT' };
    assert.deepEqual(
        resolveTools(winEnv, (f) => win.has(f), bundled, 'win32'),
        { ffmpeg: 'C:\\ffmpeg\\bin\\ffmpeg.exe', ffprobe: 'C:\\ffmpeg\\bin\\ffprobe.exe' },
    );
    assert.equal(
        findOnPath('ffmpeg', { PATH: '/usr/bin' }, () => false, 'linux'),
        undefined,
    );
});

test('isExecutable: an executable file, not a folder (FFMPEG_PATH=/opt/ffmpeg/ is refused, not run)', async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'exec-'));
    const script = path.join(folder, 'ffmpeg');
    await writeFile(script, '#!/bin/sh\n', { mode: 0o755 });
    const plain = path.join(folder, 'notes.txt');
    await writeFile(plain, 'x', { mode: 0o644 });
    try {
        assert.equal(isExecutable(script), true);
        assert.equal(isExecutable(folder), false);
        assert.equal(isExecutable(path.join(folder, 'missing')), false);
        if (process.platform !== 'win32') assert.equal(isExecutable(plain), false);
        assert.throws(
            () => resolveTools({ FFMPEG_PATH: folder }, isExecutable, () => undefined),
            new RegExp(`FFMPEG_PATH=${folder} is set, but no executable is there`),
        );
    } finally {
        await rm(folder, { recursive: true, force: true });
    }
});

test('ffprobe JSON maps to the MediaInfo that the ffmpeg -i table gives', () => {
    const json = JSON.stringify({
        streams: [
            {
                index: 0,
                codec_name: 'h264',
                codec_type: 'video',
                width: 640,
                height: 360,
                duration: '65.040000',
                tags: { language: 'und', handler_name: 'VideoHandler' },
            },
            { index: 1, codec_name: 'aac', codec_type: 'audio', sample_rate: '44100', tags: { language: 'eng' } },
            { index: 2, codec_name: 'timed_id3', codec_type: 'data' },
            { index: 3, codec_name: 'mov_text', codec_type: 'subtitle', tags: { language: 'fra' } },
        ],
        format: {
            format_name: 'mov,mp4,m4a,3gp,3g2,mj2',
            duration: '65.040000',
            start_time: '0.000000',
            size: '2064384',
        },
    });
    const fromJson = mediaInfoFromFfprobe(json);
    assert.deepEqual(fromJson, {
        durationSecs: 65.04,
        startSecs: 0,
        streams: [
            { type: 'video', codec: 'h264', width: 640, height: 360 },
            { type: 'audio', codec: 'aac', lang: 'eng' },
            { type: 'other', codec: 'timed_id3' },
            { type: 'other', codec: 'mov_text', lang: 'fra' },
        ],
    });
    const table = parseMediaInfo(`Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'x.mp4':
  Duration: 00:01:05.04, start: 0.000000, bitrate: 254 kb/s
    Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p, 640x360 [SAR 1:1 DAR 16:9], 25 fps
    Stream #0:1(eng): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, mono, fltp, 64 kb/s
    Stream #0:2: Data: timed_id3 (ID3  / 0x20334449)
    Stream #0:3(fra): Subtitle: mov_text (tx3g / 0x67337874), 0 kb/s`);
    assert.deepEqual(table, fromJson);

    // No container duration (raw streams): the longest stream's; none at all stays undefined.
    const noFormat = mediaInfoFromFfprobe({
        streams: [
            { codec_type: 'audio', codec_name: 'aac', duration: '4.2' },
            { codec_type: 'video', codec_name: 'h264', width: 0, height: 0, duration: '4.0' },
        ],
        format: { duration: 'N/A' },
    });
    assert.deepEqual(noFormat, {
        durationSecs: 4.2,
        streams: [
            { type: 'audio', codec: 'aac' },
            { type: 'video', codec: 'h264' },
        ],
    });
    assert.deepEqual(mediaInfoFromFfprobe('{}'), { durationSecs: undefined, streams: [] });
    assert.throws(() => mediaInfoFromFfprobe('not json'));
});

test('MergeError is the one from src/errors.ts', () => {
    assert.equal(MergeError, ErrorsMergeError);
});

// Real binaries: the configured ffmpeg makes a small TS and MP4, then every probe path reads them.
const SYSTEM_FFPROBE = ffprobePath ?? (existsSync('/usr/bin/ffprobe') ? '/usr/bin/ffprobe' : undefined);
const noFfprobe = SYSTEM_FFPROBE
    ? false
    : 'no ffprobe: /usr/bin/ffprobe is absent and FFPROBE_PATH unset (apt-get install ffmpeg)';
let dir: string;
let ts: string;
let mp4: string;

before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ffmpeg-test-'));
    ts = path.join(dir, 'clip.ts');
    mp4 = path.join(dir, 'clip.mp4');
    const ff = (args: string[]) => run(ffmpegPath, ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
    const sources = ['-f', 'lavfi', '-i', 'testsrc=size=160x90:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440'];
    const codecs = ['-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-c:a', 'aac', '-b:a', '64k'];
    await ff([...sources, ...codecs, '-metadata:s:a:0', 'language=eng', '-f', 'mpegts', ts]);
    await ff(['-i', ts, '-c', 'copy', '-bsf:a', 'aac_adtstoasc', '-movflags', '+faststart', mp4]);
});
after(() => rm(dir, { recursive: true, force: true }));

const close = (a: MediaInfo, b: MediaInfo, what: string): void => {
    // `ffmpeg -i` prints the duration to the centisecond; ffprobe to the microsecond.
    assert.ok(
        Math.abs((a.durationSecs ?? NaN) - (b.durationSecs ?? NaN)) < 0.02,
        `${what}: ${a.durationSecs} vs ${b.durationSecs}`,
    );
    assert.deepEqual(a.streams, b.streams, what);
};

test('probe reads a file made here: 2 s, h264 160x90 and AAC', async () => {
    for (const [file, format] of [
        [ts, 'mpegts'],
        [mp4, 'mov'],
    ] as const) {
        const info = await probe(file, format);
        assert.ok(Math.abs(info.durationSecs! - 2) < 0.1, `${file}: ${info.durationSecs}`);
        assert.deepEqual(
            info.streams.map((s) => [s.type, s.codec, s.width, s.height]),
            [
                ['video', 'h264', 160, 90],
                ['audio', 'aac', undefined, undefined],
            ],
        );
        assert.deepEqual(await probe(file), info, 'the format hint changes nothing for a well-formed file');
    }
    assert.equal((await probe(ts, 'mpegts')).streams[1]?.lang, 'eng');
});

test('ffprobe JSON and the ffmpeg -i table agree on real files', { skip: noFfprobe }, async () => {
    const viaTable = { ffmpeg: ffmpegPath, ffprobe: undefined };
    const viaJson = { ffmpeg: ffmpegPath, ffprobe: SYSTEM_FFPROBE };
    for (const [file, format] of [
        [ts, 'mpegts'],
        [mp4, 'mov'],
    ] as const) {
        const table = await probeWith(viaTable, file, format);
        const json = await probeWith(viaJson, file, format);
        close(table, json, `${path.basename(file)}: ${ffmpegPath} -i vs ${SYSTEM_FFPROBE}`);
        // The bundled 2018 build (the laptop fallback) reads the same table, whichever ffmpeg is in use.
        const bundled = bundledFfmpeg();
        if (bundled) {
            close(await probeWith({ ffmpeg: bundled, ffprobe: undefined }, file, format), json, 'bundled ffmpeg -i');
        }
        // Debian's ffmpeg reads the same table as the bundled 2018 build.
        if (existsSync('/usr/bin/ffmpeg')) {
            close(
                await probeWith({ ffmpeg: '/usr/bin/ffmpeg', ffprobe: undefined }, file, format),
                json,
                'Debian ffmpeg -i',
            );
        }
    }
});

test('probing something that is not media rejects with a MergeError on both paths', async () => {
    const junk = path.join(dir, 'junk.ts');
    await writeFile(junk, '<html>not a video</html>\n');
    await assert.rejects(probeWith({ ffmpeg: ffmpegPath, ffprobe: undefined }, junk), MergeError);
    if (SYSTEM_FFPROBE)
        await assert.rejects(probeWith({ ffmpeg: ffmpegPath, ffprobe: SYSTEM_FFPROBE }, junk), MergeError);
});

test('commands run without fluent-ffmpeg asking -formats and -encoders; a format ffmpeg lacks fails with its own message', async () => {
    const out = path.join(dir, 'remuxed.mp4');
    const streams = { kind: 'video' as const, maps: ['-map', '0:v:0', '-map', '0:a:0'], aac: true };
    await remux({ file: ts, format: 'mpegts' }, undefined, out, streams);
    close(await probe(out), await probe(mp4), 'remuxed TS');
    const png = path.join(dir, 'frame.png');
    await thumbnail(mp4, png, 1);
    assert.equal((await probe(png)).streams[0]?.codec, 'png');
    // fluent-ffmpeg's own check would have said "Input format nosuchformat is not available".
    await assert.rejects(
        remux({ file: ts, format: 'nosuchformat' as InputFormat }, undefined, path.join(dir, 'x.mp4'), streams),
        (error: Error) =>
            error instanceof MergeError &&
            /nosuchformat/.test(error.message) &&
            !/is not available/.test(error.message),
    );
});

test('toolVersions names the binaries in use', async () => {
    const versions = await toolVersions();
    assert.match(versions.ffmpeg, /^ffmpeg version /);
    assert.ok(versions.ffmpeg.includes(ffmpegPath));
    assert.equal(versions.ffprobe === undefined, ffprobePath === undefined);
});

/** `packets` MPEG-TS packets: sync byte 0x47 every 188 bytes. */
const tsPackets = (packets: number): Buffer => {
    const b = Buffer.alloc(188 * packets, 0xaa);
    for (let i = 0; i < packets; i++) b[i * 188] = 0x47;
    return b;
};

test('ffmpeg input table parsing and container sniffing', () => {
    const info = parseMediaInfo(`Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'x.mp4':
  Duration: 00:01:05.04, start: 0.000000, bitrate: 254 kb/s
    Stream #0:0(und): Video: h264 (Constrained Baseline) (avc1 / 0x31637661), yuv420p, 640x360 [SAR 1:1 DAR 16:9], 185 kb/s, 25 fps
    Stream #0:1(und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, mono, fltp, 64 kb/s
    Stream #0:2: Data: timed_id3 (ID3  / 0x20334449)`);
    assert.equal(info.durationSecs, 65.04);
    assert.deepEqual(
        info.streams.map((s) => [s.type, s.codec, s.width, s.height]),
        [
            ['video', 'h264', 640, 360],
            ['audio', 'aac', undefined, undefined],
            ['other', 'timed_id3', undefined, undefined],
        ],
    );
    assert.equal(containerOf(tsPackets(2)), 'mpegts');
    assert.equal(containerOf(Buffer.from('\0\0\0\x18ftypiso5')), 'mov');
    assert.equal(containerOf(Buffer.from('ID3\x04\0')), 'aac');
    assert.equal(containerOf(Buffer.from([0xff, 0xf1, 0x50])), 'aac');
});

test('libavformat’s major version is read from `ffmpeg -version`', async () => {
    const debian =
        'ffmpeg version 5.1.8-0+deb12u1 Copyright (c) 2000-2025\nlibavutil      57. 28.100 / 57. 28.100\nlibavformat    59. 27.100 / 59. 27.100\n';
    assert.equal(libavformatMajor(debian), 59);
    assert.equal(
        libavformatMajor('ffmpeg version N-47683-g0e8eb07980-static\nlibavformat    58. 24.100 / 58. 24.100'),
        58,
    );
    assert.equal(libavformatMajor('not ffmpeg at all'), undefined);
    // The ffmpeg in use says one: the bundled build or the machine's.
    assert.ok((await ffmpegLibavformat())! >= 58);
});
