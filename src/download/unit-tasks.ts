/**
 * The download requests of one video job. Each queued request carries a run of consecutive units
 * (segments, init sections, ranges of a file) that one connection fetches one after another, and then helps
 * with the units of this and other videos nobody has leased (see `scheduler.ts`, `unit-leases.ts`).
 *
 * Why not one request per segment: every queued request costs the queue a lock, a read and a write
 * (on the platform, billed API calls; locally, files behind a lock file). On a 330-segment video that
 * bookkeeping, not the network, set the pace: the local queue hands out 25 locked requests per
 * refill and a refill took 200–400 ms while segments streamed in, so at most ~80 segments a second
 * started however many connections were allowed. Grouping units cuts that cost by the group size,
 * and a unit stays the unit of progress: a retried or resumed request skips units already on disk.
 */
import type { RequestOptions } from '@crawlee/core';
import {
    unitName,
    type SegmentPlan,
    type TrackJob,
    type TrackPlan,
    type UnitSource,
    type UnitTask,
    type UnitsTask,
    type VideoPlan,
} from '../model.js';

/** The router label of unit requests (`routes.ts`); image requests carry none (the default route). */
export const UNITS_LABEL = 'units';

/**
 * Longest run of units in one request. A run is what the request answers for if nobody else takes
 * it, and it is stored with the request: the bound keeps queued requests small.
 */
export const MAX_UNITS_PER_REQUEST = 128;

/** Requests of a video queued before its download starts; the rest follow in the background. */
export const FIRST_BATCH = 16;

/**
 * Connections one queued request of a video keeps busy at once (its lanes, `DownloadScheduler.run`).
 * Pure. Enough that a video's requests fit in the first batch: with Crawlee's local queue, a refill
 * hands out at most 25 requests and reads every request still locked from disk before it reaches a
 * free one. With one lane per request, the 66 requests of the 330-segment bench video started 41 in the
 * first 0.3 s and the third refill, past those 41, took 2.3 s while they downloaded (2 cores): the
 * video downloaded over 41 connections instead of 64.
 */
export function lanesPerRequest(maxConcurrency: number): number {
    return Math.max(1, Math.ceil(maxConcurrency / FIRST_BATCH));
}

/**
 * Units per queued request for a video of `units` units. Pure. About one request per
 * `lanesPerRequest` allowed connections (rounding down, so never fewer): a request takes the video's
 * earliest free units whatever its run (`DownloadScheduler`), so more requests than that would only pass
 * through the queue with nothing left to do, and on 3,600 segments those took ~0.8 s at the end.
 */
export function unitsPerRequest(units: number, maxConcurrency: number): number {
    const requests = Math.ceil(Math.max(1, maxConcurrency) / lanesPerRequest(maxConcurrency));
    return Math.max(1, Math.min(MAX_UNITS_PER_REQUEST, Math.floor(units / requests)));
}

/** What the job keeps of a track: counts and the init/section layout, not the unit list. Pure. */
export function trackJob(plan: TrackPlan): TrackJob {
    const multipleInits = plan.inits.length > 1;
    return {
        name: plan.name,
        sourceUrl: plan.sourceUrl,
        segments: plan.segments.length,
        inits: plan.inits.length,
        segmentInit: plan.inits.length ? plan.segments.map((s) => (multipleInits ? (s.init ?? null) : 0)) : undefined,
        firstSeq: plan.segments[0]?.seq ?? 0,
        lastSeq: plan.segments.at(-1)?.seq,
        discontinuities: plan.segments.flatMap((s, i) => (i > 0 && s.discontinuity ? [i] : [])),
        bytes: plan.bytes,
        lang: plan.lang,
        label: plan.label,
        subtitles: plan.subtitles,
    };
}

/** A unit whose bytes the page stage already holds keeps its file (see `UnitSource.localFile`). */
const local = (u: UnitSource): { localFile?: string } => (u.localFile ? { localFile: u.localFile } : {});

function* trackUnits(plan: TrackPlan): Generator<UnitTask> {
    const raw = plan.bytes === 'segments' ? {} : { raw: true };
    for (const [i, m] of plan.inits.entries()) {
        yield { unit: unitName(plan.name, 'init', i), url: m.url, range: m.range, key: m.key, ...raw, ...local(m) };
    }
    for (const [i, s] of plan.segments.entries()) {
        yield { unit: unitName(plan.name, 'seg', i), url: s.url, range: s.range, key: s.key, ...raw, ...local(s) };
    }
}

/**
 * The video's requests, units in playback order (init sections first) so the earliest parts arrive
 * first; subtitle tracks before the rest, so the remux that runs while the video downloads can take
 * them in from its start (merge/live-remux.ts): kilobytes each, they add no bytes, only their requests
 * come sooner. The page's headers live once in the video job, not in each queued request.
 */
export function unitRequests(
    videoId: string,
    plan: VideoPlan,
    maxConcurrency: number,
    proxySession?: string,
): RequestOptions<UnitsTask>[] {
    const tracks = [...plan.tracks.filter((t) => t.subtitles), ...plan.tracks.filter((t) => !t.subtitles)];
    const units = tracks.flatMap((t) => [...trackUnits(t)]);
    return groupRequests(videoId, units, unitsPerRequest(units.length, maxConcurrency), proxySession);
}

/** Units in runs of `size`, one queued request per run. Pure. */
export function groupRequests(
    videoId: string,
    units: readonly UnitTask[],
    size: number,
    proxySession?: string,
): RequestOptions<UnitsTask>[] {
    const requests: RequestOptions<UnitsTask>[] = [];
    for (let i = 0; i < units.length; i += size) {
        const run = units.slice(i, i + size);
        requests.push({
            url: run[0]!.url,
            uniqueKey: `${videoId}:${run[0]!.unit}+${run.length}`,
            label: UNITS_LABEL,
            skipNavigation: true,
            userData: { kind: 'units', videoId, units: run, proxySession },
        });
    }
    return requests;
}

const initKey = (u: UnitSource): string => `${u.url}#${u.range ? `${u.range.offset}-${u.range.length}` : ''}`;

/**
 * A live track grows: `fresh` segments (of a newer look at the source, whose init sections are
 * `inits`) become units after the ones it has. Init sections already known (`knownInits`, init key
 * → index, updated here) are not fetched again; a segment after a gap starts a new section. Pure
 * but for `knownInits`.
 */
export function extendTrack(
    track: TrackJob,
    fresh: readonly SegmentPlan[],
    inits: readonly UnitSource[],
    knownInits: Map<string, number>,
): { track: TrackJob; units: UnitTask[]; durationSecs: number } {
    const next: TrackJob = {
        ...track,
        segmentInit: track.segmentInit ? [...track.segmentInit] : undefined,
        discontinuities: [...(track.discontinuities ?? [])],
    };
    const raw = track.bytes === 'segments' ? {} : { raw: true };
    const units: UnitTask[] = [];
    let durationSecs = 0;
    for (const s of fresh) {
        const index = next.segments++;
        if (s.init !== undefined && inits[s.init]) {
            const init = inits[s.init]!;
            let at = knownInits.get(initKey(init));
            if (at === undefined) {
                at = next.inits++;
                knownInits.set(initKey(init), at);
                units.push({
                    unit: unitName(track.name, 'init', at),
                    url: init.url,
                    range: init.range,
                    key: init.key,
                    ...raw,
                });
            }
            next.segmentInit ??= Array.from({ length: index }, () => (track.inits ? 0 : null));
            next.segmentInit[index] = at;
        } else if (next.segmentInit) {
            next.segmentInit[index] = null;
        }
        if (s.discontinuity && index > 0) next.discontinuities!.push(index);
        units.push({ unit: unitName(track.name, 'seg', index), url: s.url, range: s.range, key: s.key, ...raw });
        durationSecs += s.durationSecs;
        next.lastSeq = s.seq;
    }
    return { track: next, units, durationSecs };
}

/** Init key → index of the init units a track already has (from its saved requests). Pure. */
export function knownInitsOf(trackName: string, units: readonly UnitTask[]): Map<string, number> {
    const known = new Map<string, number>();
    const prefix = `${trackName}-init-`;
    for (const u of units)
        if (u.unit.startsWith(prefix)) known.set(initKey(u), Number(u.unit.slice(prefix.length, -4)));
    return known;
}

/**
 * When a request runs out of time (its slot is bounded), what of its run goes back to the queue:
 * the units neither stored nor held by any request, as one new request. Pure; undefined when
 * nothing is left behind.
 */
export function continuationRequest(
    task: UnitsTask,
    holder: string,
    isDone: (unit: string) => boolean,
    holderOf: (unit: string) => string | undefined,
): RequestOptions<UnitsTask> | undefined {
    const left = task.units.filter((u) => !isDone(u.unit) && holderOf(u.unit) === undefined);
    if (!left.length) return undefined;
    return {
        url: left[0]!.url,
        uniqueKey: `${task.videoId}:${left[0]!.unit}+${left.length}@${holder}`,
        label: UNITS_LABEL,
        skipNavigation: true,
        userData: { ...task, units: left },
    };
}
