/**
 * The index's room at the front (src/merge/moov-reserve.ts): its size from a first segment's counted
 * samples, and the check that ffmpeg's index fitted it, on real ffmpeg remuxes of MPEG-TS; and the
 * file hash (src/merge/file-hash.ts).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { topBoxes } from '../../src/merge/faststart.js';
import { sha256File } from '../../src/merge/file-hash.js';
import { mappedStreams, probeWith, type StreamInfo } from '../../src/merge/probe.js';
import { firstUnitTracks, fragmentSamples, indexRoom, moofSamples } from '../../src/merge/index-room.js';
import {
    moovReserve,
    reservedLayoutOk,
    samplesFromFirstUnit,
    subtitleMuxRoom,
    withSubtitleRoom,
} from '../../src/merge/moov-reserve.js';
import { muxSubtitles } from '../../src/merge/subtitle-files.js';
import { ffmpegPath, ffprobePath } from '../../src/merge/tools.js';

const run = promisify(execFile);
let dir: string;
let whole: string;
let first: string;

/** 25 fps H.264 with B-frames and AAC, ~1 MB a second (the room is refused beyond 2 % of the file). */
const clip = (out: string, secs: number): Promise<unknown> =>
    run(ffmpegPath, [
        ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-f', 'lavfi', '-i', 'sine'],
        ...['-t', String(secs), '-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '2', '-g', '50', '-c:a', 'aac'],
        ...['-f', 'mpegts', out],
    ]);

before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'moov-reserve-test-'));
    whole = path.join(dir, 'whole.ts');
    first = path.join(dir, 'first.ts');
    await Promise.all([clip(whole, 12), clip(first, 2)]);
});
after(() => rm(dir, { recursive: true, force: true }));

const remux = (out: string, flags: string[]): Promise<unknown> =>
    run(ffmpegPath, ['-v', 'error', '-y', '-i', whole, '-c', 'copy', '-bsf:a', 'aac_adtstoasc', ...flags, out]);

/** Every packet of every stream, with its timestamps and checksum: equal lists are the same media. */
const packets = async (file: string): Promise<string> =>
    (await run(ffmpegPath, ['-v', 'error', '-i', file, '-map', '0', '-c', 'copy', '-f', 'framemd5', '-'])).stdout
        .split('\n')
        .filter((l) => !l.startsWith('#'))
        .join('\n');

test('the room counted from the first segment holds the index, and the media is what +faststart gives', async (t) => {
    if (!ffprobePath) return t.skip('samples are counted by ffprobe');
    const probed = await probeWith({ ffmpeg: ffmpegPath, ffprobe: ffprobePath }, first, 'mpegts', {
        countPackets: true,
    });
    const streams = mappedStreams(probed.streams);
    assert.deepEqual(
        streams.map((s) => s.type),
        ['video', 'audio'],
    );
    assert.ok(streams.every((s) => (s.packets ?? 0) > 0));
    const unit = { secs: probed.durationSecs ?? 0, plannedSecs: 12, units: 6 };
    const reserve = moovReserve(firstUnitTracks(streams, unit), (await stat(first)).size * 6);
    assert.ok(reserve);
    const reserved = path.join(dir, 'reserved.mp4');
    const front = path.join(dir, 'front.mp4');
    await Promise.all([remux(reserved, ['-moov_size', String(reserve)]), remux(front, ['-movflags', '+faststart'])]);
    const boxes = await topBoxes(reserved);
    assert.ok(reservedLayoutOk(boxes, reserve, (await stat(reserved)).size), boxes.map((b) => b.type).join(' '));
    const moov = boxes[1]!.size;
    // Room for the index with a margin, not a multiple of it.
    assert.ok(reserve >= moov && reserve < 3 * moov + 32 * 1024, `${reserve} bytes reserved for ${moov}`);
    assert.equal(await packets(reserved), await packets(front));
});

test('an index larger than its room is caught: ffmpeg writes it over the media and still exits 0', async () => {
    const small = path.join(dir, 'small.mp4');
    // Should a later ffmpeg fail here instead, the file is still not taken.
    await remux(small, ['-moov_size', '1024']).catch(() => undefined);
    const size = await stat(small).then(
        (s) => s.size,
        () => 0,
    );
    const boxes = await topBoxes(small).catch(() => []);
    assert.equal(reservedLayoutOk(boxes, 1024, size), false);
});

test('the room: per sample at the first unit rate over the planned length, none without counts or when too big', () => {
    const unit = { secs: 2, plannedSecs: 600, units: 300 };
    // 600 s × 1.1: video 51/2 × 660 = 16,830 samples; audio 95/2 × 660 = 31,350.
    assert.equal(samplesFromFirstUnit(50, unit), 16_830);
    assert.equal(samplesFromFirstUnit(94, unit), 31_350);
    // A playlist that says less than its units play: the units count.
    assert.equal(samplesFromFirstUnit(50, { ...unit, plannedSecs: 60 }), 16_830);
    assert.equal(samplesFromFirstUnit(undefined, unit), undefined);
    assert.equal(samplesFromFirstUnit(50, { ...unit, secs: 0 }), undefined);
    const tracks = [
        { type: 'video', samples: 16_830 },
        { type: 'audio', samples: 31_350 },
    ] as const;
    // 24 bytes a video sample, 20 an audio one, 16 KiB and 4 KiB a track, in whole KiB.
    const expected = Math.ceil((16_384 + 8192 + 16_830 * 24 + 31_350 * 20) / 1024) * 1024;
    assert.equal(moovReserve(tracks, 150e6), expected);
    // Not beyond 2 % of the expected file.
    assert.equal(moovReserve(tracks, expected * 49), undefined);
    assert.equal(moovReserve(tracks, expected * 51), expected);
    assert.equal(moovReserve([], 150e6), undefined);
    assert.equal(moovReserve([{ type: 'video', samples: 0 }], 150e6), undefined);
    // A stream the MP4 takes but whose packets were not counted, or that is neither video nor audio: no room.
    const streams = [
        { type: 'video', codec: 'h264', packets: 50 },
        { type: 'audio', codec: 'aac' },
    ] as const;
    assert.equal(moovReserve(firstUnitTracks(streams, unit), 150e6), undefined);
    assert.equal(
        moovReserve(firstUnitTracks([{ type: 'other', codec: 'bin_data', packets: 9 }], unit), 150e6),
        undefined,
    );
});

test('fragmented MP4: its samples are counted in the fragments, exactly; a plain MP4 has none to count', async () => {
    const fmp4 = path.join(dir, 'frag.mp4');
    await remux(fmp4, ['-movflags', 'frag_keyframe+empty_moov+default_base_moof']);
    const counted = await run(ffmpegPath, [
        '-v',
        'error',
        '-i',
        fmp4,
        '-map',
        '0',
        '-c',
        'copy',
        '-f',
        'framecrc',
        '-',
    ]);
    const packetsInFile = counted.stdout.split('\n').filter((l) => /^\d+,/.test(l)).length;
    assert.ok(packetsInFile > 500);
    assert.equal(await fragmentSamples([fmp4]), packetsInFile);
    assert.equal(await fragmentSamples([fmp4, fmp4]), 2 * packetsInFile, 'sections add up');
    const plain = path.join(dir, 'plain.mp4');
    await remux(plain, []);
    assert.equal(await fragmentSamples([plain]), undefined);
    // A moof with two track fragments, one with two runs: 3 + 4 + 5 samples.
    const box = (type: string, ...body: Buffer[]): Buffer => {
        const size = Buffer.alloc(4);
        size.writeUInt32BE(8 + body.reduce((n, b) => n + b.length, 0));
        return Buffer.concat([size, Buffer.from(type, 'latin1'), ...body]);
    };
    const trun = (n: number): Buffer => {
        const body = Buffer.alloc(8);
        body.writeUInt32BE(n, 4);
        return box('trun', body);
    };
    const moof = box(
        'moof',
        box('mfhd', Buffer.alloc(8)),
        box('traf', box('tfhd', Buffer.alloc(8)), trun(3), trun(4)),
        box('traf', trun(5)),
    );
    assert.equal(moofSamples(moof), 12);
});

test('the room of a merge after the download: fMP4 tracks counted, MPEG-TS ones from their first segment', async () => {
    const video = path.join(dir, 'dash-v.mp4');
    const audio = path.join(dir, 'dash-a.mp4');
    const frag = ['-movflags', 'frag_keyframe+empty_moov+default_base_moof'];
    await Promise.all([remux(video, ['-map', '0:v', ...frag]), remux(audio, ['-map', '0:a', ...frag])]);
    const probeOf = (file: string) => probeWith({ ffmpeg: ffmpegPath, ffprobe: ffprobePath }, file, 'mov');
    const [v, a] = await Promise.all([probeOf(video), probeOf(audio)]);
    const track = (name: 'v' | 'a') => ({
        name,
        sourceUrl: 'http://test/',
        segments: 6,
        inits: 1,
        firstSeq: 0,
        bytes: 'segments' as const,
    });
    const first = (s: readonly StreamInfo[]) => s.slice(0, 1);
    const room = await indexRoom(
        [
            { track: track('v'), files: [video], format: 'mov', streams: v.streams, pick: first },
            { track: track('a'), files: [audio], format: 'mov', streams: a.streams, pick: first },
        ],
        dir,
        12,
    );
    assert.ok(room, 'room for the index of a DASH video');
    const out = path.join(dir, 'dash.mp4');
    await run(ffmpegPath, [
        '-v',
        'error',
        '-y',
        '-i',
        video,
        '-i',
        audio,
        '-map',
        '0:v',
        '-map',
        '1:a',
        '-c',
        'copy',
        '-moov_size',
        String(room),
        out,
    ]);
    const boxes = await topBoxes(out);
    assert.ok(reservedLayoutOk(boxes, room, (await stat(out)).size), boxes.map((b) => b.type).join(' '));
    // Exact counts: the room is within the per-sample bound of the index, not a guess.
    assert.ok(room < 3 * boxes[1]!.size + 32 * 1024, `${room} bytes reserved for ${boxes[1]!.size}`);

    if (!ffprobePath) return;
    // MPEG-TS joined after the download: the first segment (unit v-seg-000000.bin) is still in the work folder.
    const work = path.join(dir, 'work');
    await mkdir(work, { recursive: true });
    await copyFile(path.join(dir, 'first.ts'), path.join(work, 'v-seg-000000.bin'));
    const ts = await probeWith({ ffmpeg: ffmpegPath, ffprobe: ffprobePath }, whole, 'mpegts');
    const tsInput = {
        track: { ...track('v'), inits: 0 },
        files: [whole],
        format: 'mpegts' as const,
        streams: ts.streams,
        pick: mappedStreams,
    };
    // Under 64 MiB, no ffprobe is started to count the first segment: the move costs about what it does.
    assert.equal(await indexRoom([tsInput], work, 12), undefined);
    const tsRoom = await indexRoom([tsInput], work, 12, 0);
    assert.ok(tsRoom);
    const reserved = path.join(dir, 'ts-reserved.mp4');
    await remux(reserved, ['-moov_size', String(tsRoom)]);
    assert.ok(reservedLayoutOk(await topBoxes(reserved), tsRoom, (await stat(reserved)).size));
});

test('the layout check', () => {
    const box = (type: string, start: number, size: number) => ({ type, start, size });
    const good = [
        box('ftyp', 0, 32),
        box('moov', 32, 900),
        box('free', 932, 100),
        box('free', 1032, 8),
        box('mdat', 1040, 5000),
    ];
    assert.ok(reservedLayoutOk(good, 1000, 6040));
    // ffmpeg used its 8-byte free for a 64-bit mdat size.
    assert.ok(reservedLayoutOk([...good.slice(0, 3), box('mdat', 1032, 5008)], 1000, 6040));
    assert.equal(reservedLayoutOk(good, 1000, 6041), false, 'bytes after the media');
    assert.equal(reservedLayoutOk(good, 900, 6040), false, 'an index larger than its room');
    assert.equal(reservedLayoutOk([good[0]!, good[2]!, ...good.slice(3)], 1000, 6040), false, 'no index');
    assert.equal(reservedLayoutOk([good[0]!, good[1]!, box('moof', 932, 100), ...good.slice(3)], 1000, 6040), false);
});

test('sha256File is the sha256 of the bytes, over several pieces and a short last one', async () => {
    const file = path.join(dir, 'bytes.bin');
    const bytes = Buffer.alloc(9 * 1024 * 1024 + 123);
    for (let i = 0; i < bytes.length; i += 997) bytes[i] = i % 251;
    await writeFile(file, bytes);
    assert.equal(
        await sha256File(file),
        createHash('sha256')
            .update(await readFile(file))
            .digest('hex'),
    );
    const empty = path.join(dir, 'empty.bin');
    await writeFile(empty, '');
    assert.equal(await sha256File(empty), createHash('sha256').digest('hex'));
});

test('subtitles muxed into an MP4: the copy writes its index into room sized from the copied one and the cues', async () => {
    assert.equal(subtitleMuxRoom(100_000, 10, 1), Math.ceil((110_000 + 560 + 4096 + 16_384) / 1024) * 1024);
    // The live remux's room, grown by two subtitle tracks of 330 cues each (56 bytes a cue, 10 % more).
    assert.equal(withSubtitleRoom(300 * 1024, 660, 2), Math.ceil((300 * 1024 + 660 * 56 * 1.1 + 8192) / 1024) * 1024);
    const mp4 = path.join(dir, 'to-subtitle.mp4');
    await remux(mp4, ['-movflags', '+faststart']);
    const cues = Array.from({ length: 300 }, (_, i) => {
        const at = (s: number): string =>
            `00:00:${String(Math.floor(s)).padStart(2, '0')}.${String(Math.round((s % 1) * 1000)).padStart(3, '0')}`;
        return `${at(i * 0.04)} --> ${at(i * 0.04 + 0.03)}\ncue ${i}`;
    });
    const vtt = path.join(dir, 'subs.vtt');
    await writeFile(vtt, `WEBVTT\n\n${cues.join('\n\n')}\n`);
    const merged = {
        kind: 'video' as const,
        file: mp4,
        contentType: 'video/mp4',
        bytes: (await stat(mp4)).size,
        durationSecs: 12,
        hasAudio: true,
    };
    const work = path.join(dir, 'subs-work');
    await mkdir(work, { recursive: true });
    const out = await muxSubtitles(merged, [{ file: vtt, lang: 'en' }], work);
    assert.notEqual(out.file, mp4, 'muxed');
    const boxes = await topBoxes(out.file);
    assert.deepEqual(
        boxes.slice(0, 3).map((b) => b.type),
        ['ftyp', 'moov', 'free'],
        'the index in its room',
    );
    const counted = await probeWith({ ffmpeg: ffmpegPath, ffprobe: ffprobePath }, out.file);
    assert.deepEqual(
        counted.streams.map((s) => s.type),
        ['video', 'audio', 'other'],
    );
    // The video and audio packets are those of the copied MP4.
    const av = async (file: string): Promise<string> =>
        (
            await run(ffmpegPath, [
                '-v',
                'error',
                '-i',
                file,
                '-map',
                '0:v',
                '-map',
                '0:a',
                '-c',
                'copy',
                '-f',
                'framemd5',
                '-',
            ])
        ).stdout
            .split('\n')
            .filter((l) => !l.startsWith('#'))
            .join('\n');
    assert.equal(await av(out.file), await av(mp4));
});
