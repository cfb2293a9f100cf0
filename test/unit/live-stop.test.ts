/**
 * A live recording ends at once when the run stops: its wait for the next look (the playlist's target
 * duration, up to 10 s) is cut short by the run's stop signal, and by stop(). Before, the wait ran out
 * first, past the run's wind-down. Drives the real LiveRecorder and VideoJobs on Crawlee's local storage;
 * the source is a live track whose target duration is 10 s and which brings nothing new.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/actor.js';
import type { ManifestFetcher, TrackPlan, VideoJob } from '../../src/model.js';

const dir = await tempDir('live-stop');
process.env.CRAWLEE_STORAGE_DIR = path.join(dir, 'storage');
const { KeyValueStore, RequestQueue } = await import('@crawlee/core');
const { VideoJobs } = await import('../../src/download/jobs.js');
const { LiveRecorder } = await import('../../src/live/recorder.js');
const { delay } = await import('../../src/time/delay.js');

const URL = 'https://live.site.test/stream/index.m3u8';
const plan: TrackPlan = {
    name: 'v',
    sourceUrl: URL,
    segments: [{ url: `${URL}/seg0.ts`, seq: 0, durationSecs: 10, discontinuity: false }] as TrackPlan['segments'],
    inits: [],
    durationSecs: 10,
    live: true,
    endless: true,
    refreshSecs: 10,
    bytes: 'segments',
};

async function recording(id: string, signal?: AbortSignal) {
    const jobs = new VideoJobs(await KeyValueStore.open(`state-${id}`), path.join(dir, 'work'));
    const job: VideoJob = {
        id,
        format: 'hls',
        pageUrl: `https://site.test/live/${id}.html`,
        url: URL,
        variantUrl: URL,
        headers: {},
        durationSecs: 10,
        live: true,
        liveOpen: true,
        liveEndless: true,
        liveRefreshSecs: 10,
        tracks: [{ name: 'v', sourceUrl: URL, segments: 1, inits: 0, firstSeq: 0, lastSeq: 0, bytes: 'segments' }],
        delivery: 'remux',
        status: 'downloading',
    };
    await jobs.add(job, []);
    let looks = 0;
    const settled: string[] = [];
    const recorder = new LiveRecorder({
        jobs,
        queue: await RequestQueue.open(`downloads-${id}`),
        maxLiveSecs: 600,
        retries: 3,
        client: () => ({}) as ManifestFetcher,
        poll: async () => (looks++, plan),
        onSettled: (jobId) => settled.push(jobId),
        onQueued: () => undefined,
        signal,
    });
    recorder.follow(job);
    return { recorder, settled, looks: () => looks };
}

// delay() itself is tested in test/unit/time.test.ts.
test("the run's stop ends a live recording at once, without starting its merge", async () => {
    const run = new AbortController();
    const { recorder, settled, looks } = await recording('by-signal', run.signal);
    await delay(200);
    const stoppedAt = Date.now();
    run.abort('aborting');
    for (let i = 0; i < 60 && recorder.active() > 0; i++) await delay(50);
    assert.equal(recorder.active(), 0, 'the recording still runs 3 s after the stop');
    assert.ok(Date.now() - stoppedAt < 1_000, `ended ${Date.now() - stoppedAt} ms after the stop`);
    assert.equal(looks(), 0, 'no look after the stop');
    assert.deepEqual(settled, [], 'a stopped recording is reported as it stands, not merged');
});

test('stop() ends a recording that waits for its next look at once', async () => {
    const { recorder } = await recording('by-stop');
    await delay(200);
    const started = Date.now();
    await recorder.stop();
    assert.ok(Date.now() - started < 1_000, `stop() took ${Date.now() - started} ms`);
});
