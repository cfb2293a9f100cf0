/**
 * The `sidx` box (ISO/IEC 14496-12 §8.16.3): how a SegmentBase representation (one fMP4 file, the
 * "on-demand" profile) is cut into byte-range segments. mpd-parser only says where the index is
 * (@indexRange); VHS parses the box with mux.js, so this part is ours. Pure: bytes in, ranges out.
 */
import { ManifestError } from '../../errors.js';

/** One entry of the index: `hierarchical` ones point at another `sidx`, not at media. */
export interface SidxReference {
    hierarchical: boolean;
    /** Absolute position in the file. */
    offset: number;
    length: number;
    durationSecs: number;
}

const FULL_BOX_HEADER = 12;

/** Size and header length of the box at `pos` (64-bit sizes included; 0 means "to the end"). */
export function boxAt(buf: Buffer, pos: number): { type: string; size: number; header: number } {
    if (pos + 8 > buf.length) throw new ManifestError(`DASH index: box header cut short at byte ${pos}`);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    let size = buf.readUInt32BE(pos);
    let header = 8;
    if (size === 1) {
        if (pos + 16 > buf.length) throw new ManifestError(`DASH index: box header cut short at byte ${pos}`);
        size = safe(buf.readBigUInt64BE(pos + 8), 'box size');
        header = 16;
    } else if (size === 0) {
        size = buf.length - pos;
    }
    if (size < header) throw new ManifestError(`DASH index: "${type}" box has an impossible size ${size}`);
    return { type, size, header };
}

function safe(value: bigint, what: string): number {
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ManifestError(`DASH index: ${what} ${value} is too large`);
    return Number(value);
}

/**
 * Every reference of the first `sidx` box in `box`, which holds file bytes from `boxOffsetInFile`
 * on (an @indexRange may also cover a `styp` or `ssix` before or after it).
 */
export function readSidx(box: Buffer, boxOffsetInFile: number): SidxReference[] {
    let pos = 0;
    for (;;) {
        const { type, size, header } = boxAt(box, pos);
        if (type === 'sidx') {
            if (pos + size > box.length) {
                throw new ManifestError(
                    `DASH index: sidx box needs ${size} bytes, the index range holds ${box.length - pos}`,
                );
            }
            return references(box.subarray(pos + header, pos + size), boxOffsetInFile + pos + size);
        }
        pos += size;
        if (pos >= box.length) throw new ManifestError('DASH index: the index range holds no sidx box');
    }
}

/** `body`: the sidx box after its size/type; `boxEnd`: file position of the byte after the box. */
function references(body: Buffer, boxEnd: number): SidxReference[] {
    const need = (n: number) => {
        if (n > body.length) throw new ManifestError('DASH index: sidx box cut short');
    };
    need(FULL_BOX_HEADER);
    const version = body[0];
    const timescale = body.readUInt32BE(8);
    if (timescale === 0) throw new ManifestError('DASH index: sidx timescale is 0');
    let pos = FULL_BOX_HEADER;
    let firstOffset: number;
    if (version === 0) {
        need(pos + 8);
        firstOffset = body.readUInt32BE(pos + 4);
        pos += 8;
    } else {
        need(pos + 16);
        firstOffset = safe(body.readBigUInt64BE(pos + 8), 'first_offset');
        pos += 16;
    }
    const count = body.readUInt16BE(pos + 2); // after 16 reserved bits
    pos += 4;
    need(pos + count * 12);
    // §8.16.3.3: the first referenced byte is first_offset past the end of the sidx box itself.
    let offset = boxEnd + firstOffset;
    const refs: SidxReference[] = [];
    for (let i = 0; i < count; i++, pos += 12) {
        const word = body.readUInt32BE(pos);
        const length = word & 0x7fffffff;
        const durationSecs = body.readUInt32BE(pos + 4) / timescale;
        refs.push({ hierarchical: word >>> 31 === 1, offset, length, durationSecs });
        offset += length;
    }
    return refs;
}

/**
 * The media ranges of a one-level index. A hierarchical index (reference_type 1) is refused here:
 * resolving it needs more fetches, which resolve.ts does with `readSidx`.
 */
export function parseSidx(
    box: Buffer,
    boxOffsetInFile: number,
): { offset: number; length: number; durationSecs: number }[] {
    return readSidx(box, boxOffsetInFile).map(({ hierarchical, ...ref }) => {
        if (hierarchical) {
            throw new ManifestError('DASH index: hierarchical sidx (reference_type 1) needs the referenced sidx boxes');
        }
        return ref;
    });
}
