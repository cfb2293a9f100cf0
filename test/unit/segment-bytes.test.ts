import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { CorruptUnitError } from '../../src/errors.js';
import { imageHeaderKind, rangeSlicer, SegmentInspector, tsPayloadOffset } from '../../src/download/segment-bytes.js';

const ts = (packets: number): Buffer => {
    const b = Buffer.alloc(188 * packets, 0xaa);
    for (let i = 0; i < packets; i++) b[i * 188] = 0x47;
    return b;
};

test('segment de-disguising: TS behind PNG/JPEG/GIF/BMP headers', () => {
    assert.equal(tsPayloadOffset(ts(4)), 0);
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(100, 1), ts(4)]);
    assert.equal(imageHeaderKind(png), 'png');
    assert.equal(tsPayloadOffset(png), 116);
    const gif = Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(30, 0), ts(3)]);
    assert.equal(tsPayloadOffset(gif), 36);
    const bmp = Buffer.concat([Buffer.from('BM'), Buffer.alloc(52, 0), ts(3)]);
    assert.equal(tsPayloadOffset(bmp), 54);
    assert.equal(tsPayloadOffset(Buffer.from('....ftypisom')), undefined);
});

async function inspect(input: Buffer, chunk = 1000): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (let i = 0; i < input.length; i += chunk) parts.push(input.subarray(i, i + chunk));
    const out: Buffer[] = [];
    await pipeline(Readable.from(parts), new SegmentInspector(), async function* (src) {
        for await (const c of src) out.push(c as Buffer);
    });
    return Buffer.concat(out);
}

test('segment inspector strips disguises and rejects truncated or corrupt TS', async () => {
    const body = ts(400);
    assert.deepEqual(
        await inspect(Buffer.concat([Buffer.from('ffd8ffe000104a464946', 'hex'), Buffer.alloc(200), body])),
        body,
    );
    assert.deepEqual(await inspect(body, 7), body);
    await assert.rejects(inspect(body.subarray(0, body.length - 10)), CorruptUnitError);
    const broken = Buffer.from(body);
    broken[188 * 300] = 0;
    await assert.rejects(inspect(broken), /sync byte missing at offset 56400/);
    await assert.rejects(inspect(Buffer.alloc(0)), /empty/);
    const mp4 = Buffer.concat([Buffer.from('00000018', 'hex'), Buffer.from('ftypiso5'), Buffer.alloc(1001, 3)]);
    assert.deepEqual(await inspect(mp4), mp4);
});

test('range slicer cuts a part out of a full body', async () => {
    const out: Buffer[] = [];
    await pipeline(
        Readable.from([Buffer.from('0123456789'), Buffer.from('abcdef')]),
        rangeSlicer(8, 5),
        async function* (src) {
            for await (const c of src) out.push(c as Buffer);
        },
    );
    assert.equal(Buffer.concat(out).toString(), '89abc');
});
