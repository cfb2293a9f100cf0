/**
 * A fresh look at a live track against what was already taken. Pure: the recorder's decisions
 * (what is new, what was lost, whether the source ended) are unit-tested on plans.
 */
import type { SegmentPlan, TrackPlan } from '../model.js';

export interface WindowUpdate {
    /** Segments after the last one taken, in order; the first after a gap starts a new section. */
    fresh: SegmentPlan[];
    /** Segments that left the window between two looks: never fetched, never hidden. */
    gaps: number;
    /** The source says no more will come (ENDLIST, a static MPD). */
    ended: boolean;
}

/**
 * `lastSeq`: the sequence number of the last segment already taken. Segments are matched by
 * sequence number, never by URL (tokens and CDNs change URLs), so none is taken twice.
 */
export function windowUpdate(lastSeq: number, current: TrackPlan): WindowUpdate {
    const fresh = current.segments.filter((s) => s.seq > lastSeq).map((s) => ({ ...s }));
    const first = fresh[0];
    const gaps = first && first.seq > lastSeq + 1 ? first.seq - lastSeq - 1 : 0;
    // Timestamps run on across the missing segments: the join must not wait for them.
    if (first && gaps > 0) first.discontinuity = true;
    return { fresh, gaps, ended: !current.live };
}

/** How long to wait before the next look (RFC 8216 §6.3.4: the target duration). Pure. */
export function refreshDelayMs(refreshSecs: number | undefined): number {
    const secs = refreshSecs && Number.isFinite(refreshSecs) ? refreshSecs : 2;
    return Math.round(Math.min(10, Math.max(0.5, secs)) * 1000);
}

/** A source that brought nothing new for this long has stopped, whatever its playlist says. Pure. */
export function stallLimitMs(refreshMs: number): number {
    return Math.max(30_000, 6 * refreshMs);
}
