/**
 * A plain video file URL → a plan of byte ranges of that one file. The first bytes tell what the
 * file is (by content, not by name or the server's content type) and whether the server takes
 * `Range`: then the file downloads in parallel ranges, each retried and resumed on its own, and
 * the joined ranges are the file byte for byte.
 */
import { fileTypeFromBuffer } from 'file-type';
import { NotAVideoError } from '../../errors.js';
import type { ManifestFetcher, SegmentPlan, VideoPlan } from '../../model.js';
import { planRanges, videoFileKind } from './ranges.js';

/** Enough for file-type to tell MP4 brands, EBML doc types and FLV apart. */
const SNIFF_BYTES = 64 * 1024;

export async function resolveFile(url: string, fetcher: ManifestFetcher, maxConcurrency: number): Promise<VideoPlan> {
    const head = await fetcher.sniff(url, SNIFF_BYTES);
    const sniffed = await fileTypeFromBuffer(head.body);
    const kind = videoFileKind(sniffed?.mime);
    if (!kind) {
        const what = sniffed?.mime ?? (head.contentType.split(';')[0] || 'unknown content');
        throw new NotAVideoError(`not a video or audio file (${what}, ${head.body.length} bytes looked at)`);
    }
    const total = head.totalBytes;
    const ranges = head.acceptsRanges && total !== undefined ? planRanges(total, maxConcurrency) : undefined;
    const segments: SegmentPlan[] = ranges
        ? ranges.map((range, i) => ({ seq: i, url: head.url, range, durationSecs: 0, discontinuity: false }))
        : [{ seq: 0, url: head.url, durationSecs: 0, discontinuity: false }];
    return {
        format: 'file',
        url,
        variantUrl: head.url,
        tracks: [
            { name: 'v', sourceUrl: head.url, segments, inits: [], durationSecs: 0, live: false, bytes: 'ranges' },
        ],
        delivery: kind.delivery,
        contentType: kind.contentType,
        expectedBytes: total,
        relatedUrls: head.url !== url ? [head.url] : [],
        ...(kind.contentType.startsWith('audio/') ? { audioOnly: true } : {}),
    };
}
