/**
 * The end of the crawl (app/crawl-end.ts) on the real VideoJobs, VideoFinisher, LiveRecorder and a Crawlee
 * request queue in local storage: it resolves with the last job's transition, a stopped run ends the wait
 * at once, and a job whose units no request will bring is failed instead of holding the end forever.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/actor.js';
import type { VideoJob } from '../../src/model.js';

const dir = await tempDir('crawl-end');
// Crawlee reads its storage folder when it first opens a storage: set before anything opens one.
process.env.CRAWLEE_STORAGE_DIR = path.join(dir, 'storage');
const { KeyValueStore, RequestQueue } = await import('@crawlee/core');
const { VideoJobs } = await import('../../src/download/jobs.js');
const { VideoFinisher } = await import('../../src/merge/finish.js');
const { LiveRecorder } = await import('../../src/live/recorder.js');
const { Results } = await import('../../src/results/results.js');
const { downloadsOver } = await import('../../src/app/crawl-end.js');

function newJob(id: string): VideoJob {
    const url = `https://cdn.site.test/${id}.mp4`;
    return {
        id,
        format: 'file',
        pageUrl: `https://site.test/play/${id}.html`,
        url,
        variantUrl: url,
        headers: {},
        durationSecs: 2,
        live: false,
        tracks: [{ name: 'v', sourceUrl: url, segments: 1, inits: 0, firstSeq: 0, bytes: 'ranges' }],
        delivery: 'as-served',
        contentType: 'video/mp4',
        status: 'downloading',
    };
}

async function parts(name: string) {
    const jobs = new VideoJobs(await KeyValueStore.open(`state-${name}`), path.join(dir, 'work', name));
    const queue = await RequestQueue.open(`downloads-${name}`);
    const finisher = new VideoFinisher(jobs, await Results.open());
    const recorder = new LiveRecorder({
        jobs,
        queue,
        maxLiveSecs: 0,
        retries: 0,
        client: () => assert.fail('no recording here'),
        poll: () => assert.fail('no recording here'),
        onSettled: () => undefined,
        onQueued: () => undefined,
    });
    return { jobs, queue, finisher, recorder };
}

test('a stopped run ends the wait at once, even when it was stopped before the wait began', async () => {
    const p = await parts('stopped');
    await p.jobs.add(newJob('a'), []);
    const started = Date.now();
    await downloadsOver(p, AbortSignal.abort('aborting'));
    assert.ok(Date.now() - started < 1000, `${Date.now() - started} ms`);
    assert.equal(p.jobs.get('a')!.status, 'downloading', 'the caller abandons what is left');
});

test('the end comes with the transition that finishes the last job', async () => {
    const p = await parts('last');
    await p.jobs.add(newJob('b'), []);
    let over = false;
    const end = downloadsOver(p).then(() => (over = true));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(over, false, 'b still downloads (an empty queue is given 2 s before a job is judged stranded)');
    await p.jobs.transition('b', 'failed');
    const started = Date.now();
    await end;
    assert.ok(Date.now() - started < 1000, `${Date.now() - started} ms after the transition`);
});

test('a job whose units no queued request will bring becomes failed instead of holding the end', async () => {
    const p = await parts('stranded');
    await p.jobs.add(newJob('c'), []);
    await downloadsOver(p);
    await p.finisher.drain();
    assert.equal(p.jobs.get('c')!.status, 'failed');
    assert.deepEqual([...p.jobs.failures('c').values()], ['the download queue has no request left for it']);
});
