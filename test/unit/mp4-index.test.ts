/**
 * The MP4 index reader (src/merge/mp4-index.ts) on MP4s ffmpeg writes here: the streams, sample counts
 * and duration ffprobe reports, and a problem for every MP4 that does not hold what its index says.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { topBoxes } from '../../src/merge/faststart.js';
import { parseMoov, readMp4Index } from '../../src/merge/mp4-index.js';
import { probe } from '../../src/merge/probe.js';
import { ffmpegPath, ffprobePath } from '../../src/merge/tools.js';

const run = promisify(execFile);
let dir: string;
let ts: string;

before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mp4-index-test-'));
    ts = path.join(dir, 'clip.ts');
    const sources = ['-f', 'lavfi', '-i', 'testsrc=size=160x90:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440'];
    const codecs = ['-t', '4', '-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '2', '-g', '25', '-c:a', 'aac'];
    await run(ffmpegPath, [
        '-v',
        'error',
        '-y',
        ...sources,
        ...codecs,
        '-metadata:s:a:0',
        'language=deu',
        '-f',
        'mpegts',
        ts,
    ]);
});
after(() => rm(dir, { recursive: true, force: true }));

const mp4 = async (name: string, flags: string[], input = ts): Promise<string> => {
    const out = path.join(dir, name);
    await run(ffmpegPath, [
        '-v',
        'error',
        '-y',
        '-i',
        input,
        '-c',
        'copy',
        '-bsf:a',
        'aac_adtstoasc',
        ...flags,
        '-f',
        'mp4',
        out,
    ]);
    return out;
};

test('streams, samples and duration as ffmpeg wrote them, with the index in front or last', async () => {
    for (const flags of [['-movflags', '+faststart'], [], ['-moov_size', '65536']]) {
        const file = await mp4(`clip${flags.length}.mp4`, flags);
        const read = await readMp4Index(file);
        assert.deepEqual(
            read.streams.map((s) => [s.type, s.codec, s.width, s.height, s.lang]),
            [
                ['video', 'avc1', 160, 90, undefined],
                ['audio', 'mp4a', undefined, undefined, 'deu'],
            ],
        );
        assert.equal(read.streams[0]!.packets, 100, '4 s at 25 frames a second');
        // AAC: 1,024 samples a frame at 44.1 kHz (ffmpeg's encoder adds a priming frame).
        assert.ok(
            Math.abs(read.streams[1]!.packets! - (4 * 44100) / 1024) <= 2,
            `${read.streams[1]!.packets} AAC frames`,
        );
        assert.ok(Math.abs(read.durationSecs! - 4) < 0.1, `${read.durationSecs} s`);
        if (!ffprobePath) continue;
        // What ffprobe reports of the same file: its duration, stream types and sizes.
        const probed = await probe(file);
        assert.equal(read.durationSecs, probed.durationSecs);
        assert.deepEqual(
            read.streams.map((s) => [s.type, s.width, s.height]),
            probed.streams.map((s) => [s.type, s.width, s.height]),
        );
    }
});

test('audio alone, and a subtitle track, are what their handlers say', async () => {
    const audio = await mp4('audio.m4a', ['-vn', '-movflags', '+faststart']);
    assert.deepEqual(
        (await readMp4Index(audio)).streams.map((s) => s.type),
        ['audio'],
    );
    const vtt = path.join(dir, 'cues.vtt');
    // The second cue comes long after the 4-second video ends, as a page's captions file for a longer cut can.
    await writeFile(vtt, 'WEBVTT\n\n00:00:00.500 --> 00:00:02.000\nHello\n\n00:01:40.000 --> 00:01:41.000\nLate\n');
    const subbed = path.join(dir, 'subbed.mp4');
    await run(ffmpegPath, [
        '-v',
        'error',
        '-y',
        '-i',
        ts,
        '-i',
        vtt,
        '-map',
        '0',
        '-map',
        '1',
        '-c',
        'copy',
        '-c:s',
        'mov_text',
        subbed,
    ]);
    const read = await readMp4Index(subbed);
    assert.deepEqual(
        read.streams.map((s) => [s.type, s.codec]),
        [
            ['video', 'avc1'],
            ['audio', 'mp4a'],
            ['other', 'tx3g'],
        ],
    );
    // The movie lasts as long as its last cue; the video it holds, as long as its video and audio.
    assert.ok(Math.abs(read.durationSecs! - 4) < 0.1, `${read.durationSecs} s, not the captions' 101 s`);
});

test('an MP4 cut short, tables that do not add up and a fragmented MP4 are problems', async () => {
    const whole = await mp4('whole.mp4', ['-movflags', '+faststart']);
    const bytes = await readFile(whole);
    const top = await topBoxes(whole);
    const mdat = top.find((b) => b.type === 'mdat')!;
    const moov = top.find((b) => b.type === 'moov')!;

    // Cut short, with the media box's size saying "to the end of the file" (what a writer that died leaves):
    // the index in front still names the samples that are gone.
    const cut = Buffer.from(bytes.subarray(0, bytes.length - 20_000));
    cut.writeUInt32BE(0, mdat.start);
    await writeFile(path.join(dir, 'cut.mp4'), cut);
    await assert.rejects(readMp4Index(path.join(dir, 'cut.mp4')), /samples lie at bytes \d+-\d+, the media data at/);

    // One sample fewer in the size table than the time table counts.
    const tampered = Buffer.from(bytes);
    const stsz = tampered.indexOf('stsz', moov.start, 'latin1');
    tampered.writeUInt32BE(tampered.readUInt32BE(stsz + 12) - 1, stsz + 12);
    await writeFile(path.join(dir, 'tampered.mp4'), tampered);
    await assert.rejects(readMp4Index(path.join(dir, 'tampered.mp4')), /stts times \d+ samples, stsz sizes \d+/);

    const fragmented = await mp4('frag.mp4', ['-movflags', 'frag_keyframe+empty_moov']);
    await assert.rejects(readMp4Index(fragmented), /fragmented MP4/);

    // No index at all.
    const fh = await open(path.join(dir, 'noindex.mp4'), 'w');
    await fh.write(bytes.subarray(0, top[0]!.size));
    await fh.write(bytes.subarray(mdat.start, mdat.start + mdat.size));
    await fh.close();
    await assert.rejects(readMp4Index(path.join(dir, 'noindex.mp4')), /no index/);
    assert.throws(() => parseMoov(Buffer.from([0, 0, 0, 99, 0x6d, 0x76, 0x68, 0x64])), /box of 99 bytes/);
});
