/**
 * The index's room at the front (src/merge/moov-reserve.ts): its size from a first segment's counted
 * samples, and the check that ffmpeg's index fitted it, on real ffmpeg remuxes of MPEG-TS; and the
 * file hash (src/merge/file-hash.ts).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { topBoxes } from '../../src/merge/faststart.js';
import { sha256File } from '../../src/merge/file-hash.js';
import { mappedStreams, probeWith } from '../../src/merge/ffmpeg.js';
import { moovReserve, reservedLayoutOk } from '../../src/merge/moov-reserve.js';
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
    const reserve = moovReserve({
        streams,
        unitSecs: probed.durationSecs ?? 0,
        unitBytes: (await stat(first)).size,
        plannedSecs: 12,
        units: 6,
    });
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
    const streams = [
        { type: 'video', packets: 50 },
        { type: 'audio', packets: 94 },
    ] as const;
    const input = { streams, unitSecs: 2, unitBytes: 500_000, plannedSecs: 600, units: 300 };
    // 600 s × 1.1: video 51/2 × 660 = 16,830 samples × 24; audio 95/2 × 660 = 31,350 × 20; + 16 + 2 × 4 KiB.
    assert.equal(moovReserve(input), Math.ceil((16_384 + 8192 + 16_830 * 24 + 31_350 * 20) / 1024) * 1024);
    // A playlist that says less than its units play: the units count.
    assert.ok(moovReserve({ ...input, plannedSecs: 60 })! === moovReserve(input));
    assert.equal(moovReserve({ ...input, streams: [{ type: 'video' }] }), undefined);
    assert.equal(moovReserve({ ...input, streams: [{ type: 'other', packets: 5 }] }), undefined);
    assert.equal(moovReserve({ ...input, unitSecs: 0 }), undefined);
    // 2 % of the expected 150 MB is 3 MB; 25,000 packets a segment would need far more.
    assert.equal(moovReserve({ ...input, streams: [{ type: 'video', packets: 25_000 }] }), undefined);
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
