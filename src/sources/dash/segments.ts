/**
 * One Representation of one Period → its segments as fetches. mpd-parser expands the templates;
 * this module counts first (a hostile or merely long-running live MPD can imply millions of
 * segments, which the library would build in memory), then checks every URL and byte range.
 */
import { toPlaylists, type MpdByteRange, type MpdUri, type RepresentationInfo, type TimelineEntry } from 'mpd-parser';
import { ManifestError } from '../../errors.js';
import type { ByteRange, UnitSource } from '../../model.js';
import { resolveUrl } from '../../urls.js';
import { library, type Representation } from './mpd.js';

export interface RawSegment extends UnitSource {
    durationSecs: number;
    /** The DASH segment number (sidx entries: their index from 1). */
    number: number;
    init?: UnitSource;
}

/** Segments listed in the MPD, or a SegmentBase index still to be fetched and read. */
export type RepresentationSegments =
    { kind: 'list'; segments: RawSegment[] } | { kind: 'sidx'; url: string; indexRange: ByteRange; init?: UnitSource };

type Attributes = Record<string, unknown>;

const num = (value: unknown, fallback = 0): number =>
    typeof value === 'number' && Number.isFinite(value) ? value : fallback;

/** Segments of a SegmentTimeline, counted the way mpd-parser's parseByTimeline will build them. */
function timelineCount(a: Attributes, timeline: TimelineEntry[]): number {
    const timescale = num(a.timescale, 1) || 1;
    let time = -1;
    let count = 0;
    timeline.forEach((s, i) => {
        const d = num(s.d);
        if (d <= 0) throw new ManifestError('DASH SegmentTimeline has an S without a positive @d');
        const t = num(s.t);
        if (time < 0 || (t && t > time)) time = t;
        let n: number;
        const r = num(s.r);
        if (r >= 0) n = r + 1;
        else if (i + 1 < timeline.length) n = (num(timeline[i + 1]!.t) - time) / d;
        else if (
            a.type === 'dynamic' &&
            num(a.minimumUpdatePeriod) > 0 &&
            String(a.media ?? '').indexOf('$Number$') > 0
        ) {
            n = (liveSeconds(a) * timescale - time) / d;
        } else n = (num(a.sourceDuration) * timescale - time) / d;
        // NaN (a live timeline without @availabilityStartTime): the library builds nothing either.
        n = Number.isFinite(n) ? Math.max(0, Math.ceil(n)) : 0;
        count += n;
        time += n * d;
    });
    return count;
}

/** How far a live period reaches by the next MPD update (mpd-parser's own formula). */
function liveSeconds(a: Attributes): number {
    return sinceStart(a) + num(a.minimumUpdatePeriod);
}

/** Seconds from the Period's start to now; NaN without @availabilityStartTime (the library lists nothing then). */
function sinceStart(a: Attributes): number {
    const now = (num(a.NOW) + num(a.clientOffset)) / 1000;
    return now - (num(a.availabilityStartTime, Number.NaN) + num(a.periodStart));
}

/** Segments of a @duration template or list, counted the way mpd-parser's parseByDuration will. */
function durationCount(a: Attributes): number {
    const timescale = num(a.timescale, 1) || 1;
    const segment = num(a.duration) / timescale;
    if (!(segment > 0)) throw new ManifestError('DASH segment @duration is not positive');
    const endNumber = Number.parseInt(String(a.endNumber ?? ''), 10);
    if (a.type !== 'dynamic') {
        if (Number.isFinite(endNumber)) return Math.max(0, endNumber);
        const section = num(a.periodDuration, num(a.sourceDuration));
        // The library would fail on this one with a TypeError.
        if (!(section > 0)) throw new ManifestError('DASH MPD has @duration segments but no Period or MPD duration');
        return Math.ceil(section / segment);
    }
    const elapsed = sinceStart(a);
    const depth = num(a.timeShiftBufferDepth, Infinity);
    const start = Math.max(0, Math.floor((elapsed - depth) / segment));
    const end = Number.isFinite(endNumber)
        ? endNumber
        : Math.min(Math.ceil(liveSeconds(a) / segment), Math.floor(elapsed / segment));
    return Number.isFinite(end - start) ? Math.max(0, Math.ceil(end - start)) : 0;
}

/**
 * How many segments mpd-parser will build for this Representation (`built`, what it allocates) and
 * how many it will return (`listed`: a SegmentList keeps only the entries that have a SegmentURL).
 * A SegmentBase one counts as 1: its index is read later. Same precedence as the library:
 * template, then base, then list.
 */
export function estimateSegments(info: RepresentationInfo): { built: number; listed: number } {
    const { template, base, list, segmentTimeline } = info.segmentInfo;
    const source = template ?? base ?? list;
    if (!source || (base && !template)) return { built: 1, listed: 1 };
    const a: Attributes = { ...info.attributes, ...source };
    const urls = list?.segmentUrls?.length ?? 0;
    let built: number;
    if (segmentTimeline) built = timelineCount(a, segmentTimeline);
    else if (a.duration) built = durationCount(a);
    else built = template ? 1 : urls; // a template without timing is one segment
    return { built, listed: template ? built : Math.min(built, urls) };
}

export const tooManySegments = (id: string, count: number, max: number): ManifestError =>
    new ManifestError(`DASH representation ${id} has ${count} segments, more than maxSegmentsPerVideo (${max})`);

/** What the library may build even when a SegmentList keeps fewer: beyond this the MPD is absurd. */
const BUILD_LIMIT = 1_000_000;

function toRange(br: MpdByteRange | undefined, what: string): ByteRange | undefined {
    if (!br) return undefined;
    const offset = Number(br.offset);
    const length = Number(br.length);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length <= 0) {
        throw new ManifestError(
            `DASH ${what} has an unusable byte range (${String(br.offset)}, length ${String(br.length)})`,
        );
    }
    return { offset, length };
}

/**
 * The init section, if there is one. mpd-parser always fills `map`, and with neither a URL nor a
 * range it resolves to the BaseURL itself (often the MPD): that is "no init section", not one.
 */
function initOf(map: MpdUri | undefined, manifestUrl: string): UnitSource | undefined {
    if (!map || (!map.uri && !map.byterange)) return undefined;
    const range = toRange(map.byterange, 'Initialization');
    return { url: resolveUrl(map.resolvedUri, manifestUrl), ...(range ? { range } : {}) };
}

/**
 * The segments of one Representation of one Period; URLs resolved and checked (http(s) only).
 * Counted before they are built: more than `maxSegments` is refused without building them.
 */
export function representationSegments(
    rep: Representation,
    manifestUrl: string,
    maxSegments: number,
): RepresentationSegments {
    const { built, listed } = estimateSegments(rep.info);
    if (listed > maxSegments) throw tooManySegments(rep.id, listed, maxSegments);
    if (built > BUILD_LIMIT) {
        throw new ManifestError(`DASH representation ${rep.id}: its timing implies ${built} segments`);
    }
    const playlist = library(`representation ${rep.id}`, () => toPlaylists([rep.info])[0]);
    if (!playlist) throw new ManifestError(`DASH representation ${rep.id} produced nothing`);
    const { segmentInfo } = rep.info;
    if (playlist.sidx) {
        const url = resolveUrl(playlist.sidx.resolvedUri, manifestUrl);
        const indexRange = toRange(playlist.sidx.byterange, 'SegmentBase@indexRange')!;
        // Without an Initialization range the init section is taken as everything before the
        // index: the moov of an on-demand file precedes its sidx.
        const init =
            initOf(playlist.sidx.map, manifestUrl) ??
            (indexRange.offset > 0 ? { url, range: { offset: 0, length: indexRange.offset } } : undefined);
        return { kind: 'sidx', url, indexRange, init };
    }
    const baseUrl = playlist.attributes.baseUrl;
    const unindexedBase = Boolean(segmentInfo.base && !segmentInfo.template);
    if (baseUrl && (playlist.segments === undefined || unindexedBase)) {
        // A bare BaseURL or SegmentBase without an index: the file is the one segment, init included.
        const duration = num(playlist.attributes.periodDuration, num(playlist.attributes.sourceDuration));
        return {
            kind: 'list',
            segments: [{ url: resolveUrl(baseUrl, manifestUrl), durationSecs: duration, number: 1 }],
        };
    }
    const segments = (playlist.segments ?? []).map((s): RawSegment => ({
        url: resolveUrl(s.resolvedUri, manifestUrl),
        range: toRange(s.byterange, 'SegmentURL@mediaRange'),
        durationSecs: num(s.duration),
        number: num(s.number),
        init: initOf(s.map, manifestUrl),
    }));
    return { kind: 'list', segments };
}
