/** The download requests of one video job: one per segment and per init section. */
import type { RequestOptions } from '@crawlee/core';
import type { ResolvedVideo } from '../hls/resolve.js';
import type { ByteRange, SegmentKey, TrackPlan } from '../hls/plan.js';
import { unitName, type TrackJob, type TrackName } from './jobs.js';

export interface SegmentTask {
    kind: 'segment';
    videoId: string;
    unit: string;
    range?: ByteRange;
    key?: SegmentKey;
    proxySession?: string;
}

export function trackJob(name: TrackName, plan: TrackPlan): TrackJob {
    const multipleMaps = plan.maps.length > 1;
    return {
        name,
        playlistUrl: plan.playlistUrl,
        segments: plan.segments.length,
        maps: plan.maps.length,
        segmentMap: plan.maps.length ? plan.segments.map((s) => (multipleMaps ? (s.map ?? null) : 0)) : undefined,
        firstSeq: plan.segments[0]?.seq ?? 0,
        discontinuities: plan.segments.flatMap((s, i) => (i > 0 && s.discontinuity ? [i] : [])),
    };
}

// The page's headers live once in the video job, not in each of thousands of queued requests.
function* trackRequests(videoId: string, name: TrackName, plan: TrackPlan, proxySession?: string): Generator<RequestOptions<SegmentTask>> {
    const request = (uri: string, unit: string, range?: ByteRange, key?: SegmentKey): RequestOptions<SegmentTask> => ({
        url: uri,
        uniqueKey: `${videoId}:${unit}`,
        skipNavigation: true,
        userData: { kind: 'segment', videoId, unit, range, key, proxySession },
    });
    for (const [i, m] of plan.maps.entries()) yield request(m.uri, unitName(name, 'init', i), m.range, m.key);
    for (const [i, s] of plan.segments.entries()) yield request(s.uri, unitName(name, 'seg', i), s.range, s.key);
}

export function segmentRequests(videoId: string, video: ResolvedVideo, proxySession?: string): RequestOptions<SegmentTask>[] {
    const all = [...trackRequests(videoId, 'v', video.main, proxySession)];
    if (video.audio) all.push(...trackRequests(videoId, 'a', video.audio, proxySession));
    return all;
}
