/**
 * ffmpeg's `-movflags +faststart`, done here so that the pass it needs also computes the sha256.
 *
 * An MP4 with its index (`moov`) in front must be written twice: ffmpeg learns the index only at the
 * end, so with `+faststart` it writes `ftyp, free, mdat, moov` and then shifts the whole file in place
 * to make room for `moov` after `ftyp` (a read and a write of every byte, in moov-sized pieces), and
 * the finisher then read it a third time for its hash. Here ffmpeg writes the index last and this
 * shift makes it `ftyp, moov, free, mdat` with the chunk offsets moved by the index's size: the same
 * bytes ffmpeg's shift gives (checked in test/unit/faststart.test.ts), in one read and one write,
 * hashed on the way. ffmpeg's output itself cannot be hashed as it is written: it patches its header
 * at the end, and the index must come first.
 */
import { createHash } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { MergeError } from '../errors.js';

export interface TopBox {
    type: string;
    start: number;
    size: number;
}

/** The boxes on the way from `moov` to the chunk offset tables. */
const PATH_TO_OFFSETS = new Set(['trak', 'mdia', 'minf', 'stbl']);
const U32_MAX = 0xffffffff;

/** The top-level boxes of an MP4, reading only their headers. */
export async function topBoxes(file: string): Promise<TopBox[]> {
    const fh = await open(file, 'r');
    try {
        const { size: fileSize } = await fh.stat();
        const boxes: TopBox[] = [];
        const head = Buffer.alloc(16);
        for (let at = 0; at < fileSize;) {
            const { bytesRead } = await fh.read(head, 0, 16, at);
            if (bytesRead < 8) throw new MergeError(`a truncated box header at byte ${at}`);
            let size = head.readUInt32BE(0);
            if (size === 1) size = Number(head.readBigUInt64BE(8));
            else if (size === 0) size = fileSize - at;
            if (size < 8 || at + size > fileSize) throw new MergeError(`a box of ${size} bytes at byte ${at}`);
            boxes.push({ type: head.toString('latin1', 4, 8), start: at, size });
            at += size;
        }
        return boxes;
    } finally {
        await fh.close();
    }
}

/**
 * Where the index goes and what follows it, for a file ffmpeg wrote without `+faststart`: `ftyp`
 * (and whatever else precedes the media), then `free`/`mdat` up to a last `moov`. Undefined for any
 * other layout (the caller then has no faststart copy to make). Pure.
 */
export function faststartPlan(boxes: readonly TopBox[]): { insertAt: number; moov: TopBox } | undefined {
    const moov = boxes.at(-1);
    if (moov?.type !== 'moov' || boxes[0]?.type !== 'ftyp') return undefined;
    const first = boxes.findIndex((b) => b.type === 'free' || b.type === 'mdat');
    if (first < 1 || boxes.slice(first, -1).some((b) => b.type !== 'free' && b.type !== 'mdat')) return undefined;
    return { insertAt: boxes[first]!.start, moov };
}

function header(type: string, size: number): Buffer {
    const h = Buffer.alloc(8);
    h.writeUInt32BE(size, 0);
    h.write(type, 4, 'latin1');
    return h;
}

/** A chunk offset table (`stco`/`co64`) with every entry moved by `shift`; `co64` when an entry needs 64 bits. */
function shiftOffsets(box: Buffer, shift: number): Buffer {
    const wide = box.toString('latin1', 4, 8) === 'co64';
    const count = box.readUInt32BE(12);
    const offsets: number[] = [];
    for (let i = 0; i < count; i++) {
        offsets.push((wide ? Number(box.readBigUInt64BE(16 + 8 * i)) : box.readUInt32BE(16 + 4 * i)) + shift);
    }
    // ffmpeg's rule (movenc.c, co64_required): 64 bits when the last chunk's offset needs them.
    const co64 = (offsets.at(-1) ?? 0) > U32_MAX;
    const out = Buffer.alloc(16 + count * (co64 ? 8 : 4));
    header(co64 ? 'co64' : 'stco', out.length).copy(out);
    box.copy(out, 8, 8, 16); // version, flags, entry count
    offsets.forEach((o, i) => (co64 ? out.writeBigUInt64BE(BigInt(o), 16 + 8 * i) : out.writeUInt32BE(o, 16 + 4 * i)));
    return out;
}

/** A container box with its children rebuilt: chunk offsets shifted, sizes recomputed. */
function rebuild(box: Buffer, shift: number): Buffer {
    const type = box.toString('latin1', 4, 8);
    if (type === 'stco' || type === 'co64') return shiftOffsets(box, shift);
    if (type !== 'moov' && !PATH_TO_OFFSETS.has(type)) return box;
    if (box.readUInt32BE(0) === 1) throw new MergeError(`a ${type} box with a 64-bit size`);
    const children: Buffer[] = [];
    for (let at = 8; at < box.length;) {
        const size = box.readUInt32BE(at);
        if (size < 8 || at + size > box.length) throw new MergeError(`a broken box inside ${type}`);
        children.push(rebuild(box.subarray(at, at + size), shift));
        at += size;
    }
    const size = 8 + children.reduce((n, c) => n + c.length, 0);
    return Buffer.concat([header(type, size), ...children], size);
}

/**
 * The `moov` box for the front of the file: every chunk offset moved by the size of the new `moov`
 * itself (which can grow when an offset then needs 64 bits, hence the loop, as in ffmpeg's
 * compute_moov_size). Pure.
 */
export function frontMoov(moov: Buffer): Buffer {
    let shift = moov.length;
    for (let i = 0; i < 4; i++) {
        const out = rebuild(moov, shift);
        if (out.length === shift) return out;
        shift = out.length;
    }
    throw new MergeError('the index does not settle on a size');
}

/** Bytes moved per read and write of the in-place shift. */
const SHIFT_CHUNK = 4 * 1024 * 1024;

/**
 * Moves a `moov`-last MP4 written by ffmpeg into the layout `+faststart` gives, in place, as ffmpeg's
 * own shift does (movenc.c shift_data): the media moves forward by the new index's size, read ahead
 * of where it is written, then the index goes in front. The bytes are hashed in file order as they
 * are written. Returns the sha256 and size, or undefined (the file untouched) for another layout.
 *
 * In place rather than into a new file: measured here on 940 MB with the disk shared by other runs,
 * a copy into a new file took ~30 s longer than ffmpeg's in-place shift (new blocks and twice the
 * dirty pages); in place it is the same writes as `+faststart`, and the hash needs no read of its own.
 */
export async function faststartInPlace(
    file: string,
    chunk = SHIFT_CHUNK,
): Promise<{ sha256: string; bytes: number } | undefined> {
    const plan = faststartPlan(await topBoxes(file));
    if (!plan) return undefined;
    const fh = await open(file, 'r+');
    try {
        const head = Buffer.alloc(plan.insertAt);
        await fh.read(head, 0, head.length, 0);
        const moov = Buffer.alloc(plan.moov.size);
        await fh.read(moov, 0, moov.length, plan.moov.start);
        const front = frontMoov(moov);
        const shift = front.length;
        const hash = createHash('sha256').update(head).update(front);
        // Old bytes [insertAt, moov.start) go to [insertAt + shift, moov.start + shift): a chunk may be
        // written only once every old byte under its new place has been read.
        const end = plan.moov.start;
        const pending: { at: number; bytes: Buffer }[] = [];
        let read = plan.insertAt;
        while (read < end || pending.length) {
            if (read < end) {
                const bytes = Buffer.allocUnsafe(Math.min(chunk, end - read));
                const { bytesRead } = await fh.read(bytes, 0, bytes.length, read);
                if (bytesRead !== bytes.length) throw new MergeError('the MP4 changed while its index was moved');
                pending.push({ at: read, bytes });
                read += bytes.length;
            }
            while (pending.length && (read >= end || pending[0]!.at + shift + pending[0]!.bytes.length <= read)) {
                const { at, bytes } = pending.shift()!;
                await fh.write(bytes, 0, bytes.length, at + shift);
                hash.update(bytes);
            }
        }
        await fh.write(front, 0, front.length, plan.insertAt);
        const bytes = end + shift;
        await fh.truncate(bytes);
        return { sha256: hash.digest('hex'), bytes };
    } finally {
        await fh.close();
    }
}

/**
 * An MP4 ffmpeg wrote with its index last → `out` with the index in front, and its sha256 (undefined
 * when the file had another layout: it is then moved to `out` as it is).
 */
export async function finishMoovLast(moovLast: string, out: string): Promise<string | undefined> {
    try {
        const done = await faststartInPlace(moovLast);
        await rename(moovLast, out);
        return done?.sha256;
    } finally {
        await rm(moovLast, { force: true });
    }
}
