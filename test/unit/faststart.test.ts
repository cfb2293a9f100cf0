/**
 * The faststart shift (src/merge/faststart.ts) against ffmpeg's own `+faststart`: the same bytes, the
 * hash of what was written, and the index growing to 64-bit offsets where ffmpeg's would.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { faststartInPlace, faststartPlan, frontMoov, topBoxes } from '../../src/merge/faststart.js';
import { ffmpegPath } from '../../src/merge/tools.js';

const run = promisify(execFile);
let dir: string;
let ts: string;

before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'faststart-test-'));
    ts = path.join(dir, 'clip.ts');
    const sources = ['-f', 'lavfi', '-i', 'testsrc=size=160x90:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440'];
    // B-frames: the index then has composition offsets too.
    const codecs = ['-t', '3', '-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '2', '-g', '25', '-c:a', 'aac'];
    await run(ffmpegPath, ['-v', 'error', '-y', ...sources, ...codecs, '-f', 'mpegts', ts]);
});
after(() => rm(dir, { recursive: true, force: true }));

const remux = (out: string, flags: string[]): Promise<unknown> =>
    run(ffmpegPath, ['-v', 'error', '-y', '-i', ts, '-c', 'copy', '-bsf:a', 'aac_adtstoasc', ...flags, out]);

test('the shift is byte for byte what ffmpeg +faststart writes, and its hash is that of the file', async () => {
    const last = path.join(dir, 'last.mp4');
    const ffmpegFront = path.join(dir, 'ffmpeg-front.mp4');
    const ours = path.join(dir, 'ours.mp4');
    await remux(last, []);
    await remux(ffmpegFront, ['-movflags', '+faststart']);
    assert.deepEqual(
        (await topBoxes(last)).map((b) => b.type),
        ['ftyp', 'free', 'mdat', 'moov'],
    );
    const moovSize = (await topBoxes(last)).at(-1)!.size;
    // Pieces smaller than the index, about its size, and the whole file at once.
    for (const chunk of [1000, moovSize + 1, 4 * 1024 * 1024]) {
        await copyFile(last, ours);
        const copied = await faststartInPlace(ours, chunk);
        assert.ok(copied);
        const bytes = await readFile(ours);
        assert.ok(bytes.equals(await readFile(ffmpegFront)), `the same bytes as +faststart, ${chunk}-byte pieces`);
        assert.equal(copied.sha256, createHash('sha256').update(bytes).digest('hex'));
        assert.equal(copied.bytes, bytes.length);
    }
});

test('a file with another layout is left alone', async () => {
    const front = path.join(dir, 'front.mp4');
    await remux(front, ['-movflags', '+faststart']);
    const before = await readFile(front);
    assert.equal(await faststartInPlace(front), undefined);
    assert.ok((await readFile(front)).equals(before), 'the file is untouched');
    assert.equal(faststartPlan([{ type: 'ftyp', start: 0, size: 32 }]), undefined);
    const odd = [
        { type: 'ftyp', start: 0, size: 32 },
        { type: 'mdat', start: 32, size: 100 },
        { type: 'uuid', start: 132, size: 20 },
        { type: 'moov', start: 152, size: 50 },
    ];
    assert.equal(faststartPlan(odd), undefined, 'an unknown box between the media and the index');
    assert.deepEqual(faststartPlan([odd[0]!, odd[1]!, odd[3]!]), { insertAt: 32, moov: odd[3] });
});

/** A box: a 4-byte size, a type and a body. */
const box = (type: string, ...body: Buffer[]): Buffer => {
    const size = 8 + body.reduce((n, b) => n + b.length, 0);
    const h = Buffer.alloc(8);
    h.writeUInt32BE(size);
    h.write(type, 4, 'latin1');
    return Buffer.concat([h, ...body]);
};
const stco = (offsets: number[]): Buffer => {
    const body = Buffer.alloc(8 + 4 * offsets.length);
    body.writeUInt32BE(offsets.length, 4);
    offsets.forEach((o, i) => body.writeUInt32BE(o, 8 + 4 * i));
    return box('stco', body);
};
const moovWith = (table: Buffer): Buffer =>
    box('moov', box('mvhd', Buffer.alloc(100)), box('trak', box('mdia', box('minf', box('stbl', table)))));

/** Every chunk offset of the index, in order. */
function offsetsOf(moov: Buffer): { type: string; offsets: number[] } {
    for (const type of ['stco', 'co64']) {
        const at = moov.indexOf(type, 0, 'latin1');
        if (at < 0) continue;
        const count = moov.readUInt32BE(at + 8);
        const wide = type === 'co64';
        const offsets = Array.from({ length: count }, (_, i) =>
            wide ? Number(moov.readBigUInt64BE(at + 12 + 8 * i)) : moov.readUInt32BE(at + 12 + 4 * i),
        );
        return { type, offsets };
    }
    throw new Error('no chunk offset table');
}

test('chunk offsets move by the size of the index; 64-bit ones when they no longer fit, as ffmpeg does', () => {
    const small = moovWith(stco([40, 5000, 90_000]));
    const front = frontMoov(small);
    assert.equal(front.length, small.length);
    assert.deepEqual(offsetsOf(front), { type: 'stco', offsets: [40, 5000, 90_000].map((o) => o + small.length) });
    // The last chunk just below 4 GiB: shifted, it needs 64 bits, the table grows, and the shift with it.
    const near = moovWith(stco([40, 0xffffffff - 10]));
    const grown = frontMoov(near);
    assert.equal(grown.length, near.length + 2 * 4);
    assert.equal(grown.readUInt32BE(0), grown.length, 'the moov size is rewritten');
    assert.deepEqual(offsetsOf(grown), { type: 'co64', offsets: [40 + grown.length, 0xffffffff - 10 + grown.length] });
});
