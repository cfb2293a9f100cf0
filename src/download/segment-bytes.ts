/**
 * Byte-level rules for media segments: de-disguising (MPEG-TS hidden behind an image header) and
 * MPEG-TS integrity (a truncated or corrupted TS body must be retried, not merged).
 */
import { Transform, type TransformCallback } from 'node:stream';
import { CorruptUnitError } from '../errors.js';

const TS_PACKET = 188;
const SYNC = 0x47;
/** How far into a body we look for the real TS start behind a fake header. */
const SNIFF_LIMIT = 64 * 1024;

export function imageHeaderKind(buf: Buffer): 'png' | 'jpeg' | 'gif' | 'bmp' | undefined {
    if (buf.length >= 4 && buf[0] === 0x89 && buf[1] === 0x50 && buf[2] === 0x4e && buf[3] === 0x47) return 'png';
    if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'jpeg';
    if (buf.length >= 4 && buf.toString('latin1', 0, 4) === 'GIF8') return 'gif';
    if (buf.length >= 2 && buf[0] === 0x42 && buf[1] === 0x4d) return 'bmp';
    return undefined;
}

/** True when three consecutive TS packets start at `offset`. */
function tsAt(buf: Buffer, offset: number): boolean {
    return buf[offset] === SYNC && buf[offset + TS_PACKET] === SYNC && buf[offset + 2 * TS_PACKET] === SYNC;
}

/**
 * Where the MPEG-TS payload starts: 0 for plain TS, the offset behind a fake image header for a
 * disguised segment, `undefined` when the bytes are not (yet recognisably) TS, e.g. fMP4 or AAC.
 */
export function tsPayloadOffset(buf: Buffer): number | undefined {
    if (tsAt(buf, 0)) return 0;
    if (!imageHeaderKind(buf)) return undefined;
    const end = Math.min(buf.length, SNIFF_LIMIT) - 2 * TS_PACKET;
    for (let i = 1; i < end; i++) if (tsAt(buf, i)) return i;
    return undefined;
}

/**
 * Strips a disguise header and, for TS, checks the sync byte of every packet and that the body ends
 * on a packet boundary. Other formats (fMP4, raw audio) pass through untouched.
 */
export class SegmentInspector extends Transform {
    private head: Buffer[] = [];
    private headBytes = 0;
    private decided = false;
    private isTs = false;
    /** Bytes of TS emitted so far, to know where the next sync byte must be. */
    private emitted = 0;
    stripped = 0;
    /** Bytes that came in, before any disguise was stripped. */
    received = 0;

    override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
        this.received += chunk.length;
        if (!this.decided) {
            this.head.push(chunk);
            this.headBytes += chunk.length;
            if (!this.canDecide()) return done();
            this.decide();
            chunk = this.takeHead();
        }
        done(this.pass(chunk));
    }

    override _flush(done: TransformCallback): void {
        if (!this.decided) {
            this.decide();
            const error = this.pass(this.takeHead());
            if (error) return done(error);
        }
        this.finish(done);
    }

    private finish(done: TransformCallback): void {
        if (this.isTs && this.emitted % TS_PACKET !== 0) {
            return done(
                new CorruptUnitError(
                    `MPEG-TS body of ${this.emitted} bytes does not end on a 188-byte packet boundary (truncated?)`,
                ),
            );
        }
        if (this.emitted === 0) return done(new CorruptUnitError('segment body is empty'));
        done();
    }

    /**
     * Plain TS (and anything that is neither TS nor behind an image header) is recognised from its
     * first packets; only a disguise needs the longer look. Deciding early matters for memory: a
     * buffered head is copied once more, and on thousands of small segments those copies outlived
     * the young generation and grew the heap by ~20 KB per segment.
     */
    private canDecide(): boolean {
        if (this.headBytes >= SNIFF_LIMIT) return true;
        if (this.headBytes <= 2 * TS_PACKET) return false;
        const head = this.joinedHead();
        return tsAt(head, 0) || !imageHeaderKind(head);
    }

    private joinedHead(): Buffer {
        if (this.head.length !== 1) this.head = [Buffer.concat(this.head)];
        return this.head[0]!;
    }

    private decide(): void {
        const head = this.joinedHead();
        this.head = [head];
        const offset = tsPayloadOffset(head);
        this.decided = true;
        if (offset === undefined) return;
        this.isTs = true;
        this.stripped = offset;
        this.head = [head.subarray(offset)];
    }

    private takeHead(): Buffer {
        const out = this.head.length === 1 ? this.head[0]! : Buffer.concat(this.head);
        this.head = [];
        return out;
    }

    /** Checks and pushes a chunk; returns the error that stops the stream, if any. */
    private pass(chunk: Buffer): Error | null {
        if (this.isTs) {
            // The sync byte of every packet that starts inside this chunk.
            for (let pos = (TS_PACKET - (this.emitted % TS_PACKET)) % TS_PACKET; pos < chunk.length; pos += TS_PACKET) {
                if (chunk[pos] !== SYNC)
                    return new CorruptUnitError(`MPEG-TS sync byte missing at offset ${this.emitted + pos}`);
            }
        }
        this.emitted += chunk.length;
        if (chunk.length) this.push(chunk);
        return null;
    }
}

/** Passes bytes [offset, offset+length) of a full body: for servers that ignore the Range header. */
export function rangeSlicer(offset: number, length: number): Transform {
    let pos = 0;
    return new Transform({
        transform(chunk: Buffer, _enc, done) {
            const start = Math.max(0, offset - pos);
            const end = Math.min(chunk.length, offset + length - pos);
            pos += chunk.length;
            done(null, end > start ? chunk.subarray(start, end) : undefined);
        },
    });
}
