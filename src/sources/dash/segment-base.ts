/**
 * A SegmentBase representation (one fMP4 file, the "on-demand" profile) cut into byte-range segments:
 * its index range fetched, its `sidx` read (sidx.ts) and, when hierarchical, its child boxes fetched
 * and read in turn. The requests of resolving a DASH source beyond the MPD itself are all here.
 */
import { ManifestError } from '../../errors.js';
import type { ManifestFetcher } from '../../model.js';
import type { Representation } from './mpd.js';
import { tooManySegments, type RawSegment, type RepresentationSegments } from './segments.js';
import { boxAt, readSidx, type SidxReference } from './sidx.js';

/** Hierarchical sidx: how deep references to further sidx boxes are followed. */
const MAX_SIDX_DEPTH = 4;
/** A child sidx is fetched with this many bytes first: enough for ~340 references. */
const SIDX_PROBE = 4096;

/** The child sidx box a hierarchical reference points at; not the media after it, which the reference also spans. */
async function childSidx(fetcher: ManifestFetcher, url: string, ref: SidxReference): Promise<Buffer> {
    const head = await fetcher.range(url, { offset: ref.offset, length: Math.min(ref.length, SIDX_PROBE) });
    const { type, size } = boxAt(head, 0);
    if (type !== 'sidx') {
        throw new ManifestError(`DASH index: a hierarchical reference points at a "${type}" box, not a sidx`);
    }
    if (size > ref.length) throw new ManifestError('DASH index: a child sidx is larger than its reference');
    return size <= head.length ? head : fetcher.range(url, { offset: ref.offset, length: size });
}

async function mediaReferences(
    refs: SidxReference[],
    url: string,
    fetcher: ManifestFetcher,
    depth: number,
    limit: (n: number) => void,
): Promise<SidxReference[]> {
    const out: SidxReference[] = [];
    for (const ref of refs) {
        if (!ref.hierarchical) {
            out.push(ref);
        } else if (depth >= MAX_SIDX_DEPTH) {
            throw new ManifestError(`DASH index: sidx boxes nested more than ${MAX_SIDX_DEPTH} deep`);
        } else {
            const child = readSidx(await childSidx(fetcher, url, ref), ref.offset);
            out.push(...(await mediaReferences(child, url, fetcher, depth + 1, (n) => limit(out.length + n))));
        }
        limit(out.length);
    }
    return out;
}

/** SegmentBase: the index range fetched, its sidx read (and followed when hierarchical) into ranges. */
export async function segmentsOf(
    found: RepresentationSegments,
    rep: Representation,
    fetcher: ManifestFetcher,
    maxSegments: number,
): Promise<RawSegment[]> {
    if (found.kind === 'list') return found.segments;
    const box = await fetcher.range(found.url, found.indexRange);
    const limit = (n: number) => {
        if (n > maxSegments) throw tooManySegments(rep.id, n, maxSegments);
    };
    const refs = await mediaReferences(readSidx(box, found.indexRange.offset), found.url, fetcher, 1, limit);
    return refs.map((r, i) => ({
        url: found.url,
        range: { offset: r.offset, length: r.length },
        durationSecs: r.durationSecs,
        number: i + 1,
        ...(found.init ? { init: found.init } : {}),
    }));
}
