/**
 * Matching a video's units to a fresh look at their source (signed URLs that expired): the same
 * segment, at its new URL. Pure.
 */
import { unitName, type FreshUnit, type SegmentPlan, type TrackJob, type TrackPlan } from '../model.js';

/**
 * The fresh segment for each of a track's `count` segments (media sequence `firstSeq + i`). By media
 * sequence (HLS) or segment number (DASH) wherever the fresh list shares any: a live window that slid
 * leaves the segments that fell out of it unmatched. A list that shares none but has as many segments
 * is matched by position (a server that numbers from 0 on every request); anything else matches nothing.
 */
export function matchSegments<T extends Pick<SegmentPlan, 'seq'>>(
    count: number,
    firstSeq: number,
    fresh: readonly T[],
): (T | undefined)[] {
    const bySeq = new Map(fresh.map((s) => [s.seq, s]));
    const matched = Array.from({ length: count }, (_, i) => bySeq.get(firstSeq + i));
    if (matched.some(Boolean)) return matched;
    return fresh.length === count ? [...fresh] : matched;
}

const fresh = (u: { url: string; key?: { uri: string } }): FreshUnit =>
    u.key ? { url: u.url, keyUri: u.key.uri } : { url: u.url };

/**
 * The fresh URLs of a track's units from a fresh plan of it, added to `into`; the number of its
 * segments that found no match.
 */
export function addFreshUnits(track: TrackJob, plan: TrackPlan, into: Map<string, FreshUnit>): number {
    const matched = matchSegments(track.segments, track.firstSeq, plan.segments);
    matched.forEach((s, i) => s && into.set(unitName(track.name, 'seg', i), fresh(s)));
    // Init sections are few and listed in order of first use, in the old look as in the fresh one.
    plan.inits.slice(0, track.inits).forEach((m, i) => into.set(unitName(track.name, 'init', i), fresh(m)));
    return matched.filter((s) => !s).length;
}
