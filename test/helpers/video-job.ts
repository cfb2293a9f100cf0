/**
 * A video job as the merge stage's tests need one: a finished HLS video of one MPEG-TS track, one
 * second a segment unless told otherwise; `track` and `job` change what a test is about.
 */
import type { TrackJob, VideoJob } from '../../src/model.js';

export function hlsJob(
    segments: number,
    durationSecs = segments,
    track: Partial<TrackJob> = {},
    job: Partial<VideoJob> = {},
): VideoJob {
    return {
        id: 'video',
        format: 'hls',
        delivery: 'remux',
        pageUrl: 'http://test/page',
        url: 'http://test/v.m3u8',
        variantUrl: 'http://test/v.m3u8',
        headers: {},
        durationSecs,
        live: false,
        status: 'downloading',
        tracks: [
            {
                name: 'v',
                sourceUrl: 'http://test/v.m3u8',
                segments,
                inits: 0,
                firstSeq: 0,
                bytes: 'segments',
                ...track,
            },
        ],
        ...job,
    };
}
