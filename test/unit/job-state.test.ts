/**
 * The job state machine: the table of allowed status changes (pure), and the registry that is the only
 * place a status changes (VideoJobs.transition), its write to the state store that a resumed run reads,
 * its end-of-crawl promise and the copies it hands out. The registry runs on Crawlee's local storage in a
 * temp folder.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/actor.js';
import type { JobStatus, VideoJob } from '../../src/model.js';
import {
    canTransition,
    IllegalTransitionError,
    isTerminal,
    JOB_EDGES,
    nextStatus,
} from '../../src/download/job-state.js';

const dir = await tempDir('job-state');
// Crawlee reads its storage folder when it first opens a storage: set before anything opens one.
process.env.CRAWLEE_STORAGE_DIR = path.join(dir, 'storage');
const { KeyValueStore } = await import('@crawlee/core');
const { VideoJobs } = await import('../../src/download/jobs.js');

const STATUSES: JobStatus[] = ['downloading', 'merging', 'done', 'failed'];

test('the table lists exactly the edges of the job life cycle', () => {
    const allowed = STATUSES.flatMap((from) =>
        STATUSES.filter((to) => canTransition(from, to)).map((to) => `${from}>${to}`),
    );
    assert.deepEqual(allowed.sort(), [
        'downloading>failed',
        'downloading>merging',
        'merging>done',
        'merging>downloading',
        'merging>failed',
    ]);
    assert.equal(JOB_EDGES.length, allowed.length, 'no edge listed twice');
});

test('done and failed are final: nothing leaves them, not even to themselves', () => {
    for (const from of STATUSES.filter(isTerminal)) {
        for (const to of STATUSES) assert.equal(canTransition(from, to), false, `${from} -> ${to}`);
    }
    assert.deepEqual(STATUSES.filter(isTerminal), ['done', 'failed']);
});

test('an illegal edge is refused with an error that names the job, both states and what is allowed', () => {
    assert.equal(nextStatus('v1', 'downloading', 'merging'), 'merging');
    assert.throws(
        () => nextStatus('v1', 'downloading', 'done'),
        (e: unknown) =>
            e instanceof IllegalTransitionError &&
            e.message ===
                'video job v1 cannot go from "downloading" to "done" (allowed from "downloading": "merging", "failed")',
    );
    assert.throws(
        () => nextStatus('v2', 'done', 'failed'),
        /cannot go from "done" to "failed" \(allowed from "done": none, it is final\)/,
    );
    assert.throws(() => nextStatus('v3', 'merging', 'merging'), IllegalTransitionError);
});

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

test('the registry changes a status only along the table, and saves it for a resumed run', async () => {
    const store = await KeyValueStore.open('state-transitions');
    const jobs = new VideoJobs(store, path.join(dir, 'work'));
    await jobs.add(newJob('a'), []);
    assert.throws(() => jobs.transition('a', 'done'), IllegalTransitionError);
    assert.equal(jobs.get('a')!.status, 'downloading', 'a refused edge changes nothing');
    const saving = jobs.transition('a', 'merging');
    assert.equal(jobs.get('a')!.status, 'merging', 'the change is made before anything is awaited');
    await saving;
    assert.equal((await store.getValue<VideoJob>('job-a'))!.status, 'merging');
    // A run killed while merging: the next one redoes the merge from the units.
    const resumed = new VideoJobs(store, path.join(dir, 'work'));
    const loaded = await resumed.load();
    assert.deepEqual(
        loaded.map((j) => [j.id, j.status]),
        [['a', 'downloading']],
    );
    assert.equal((await store.getValue<VideoJob>('job-a'))!.status, 'downloading');
});

test('allFinished resolves with the transition that finishes the last job, not before', async () => {
    const jobs = new VideoJobs(await KeyValueStore.open('state-finished'), path.join(dir, 'work'));
    await jobs.allFinished(); // no job: at once
    await jobs.add(newJob('x'), []);
    await jobs.add(newJob('y'), []);
    let finished = false;
    const all = jobs.allFinished().then(() => (finished = true));
    await jobs.transition('x', 'failed');
    await jobs.transition('y', 'merging');
    await new Promise((r) => setImmediate(r));
    assert.equal(finished, false, 'y is still merging');
    await jobs.transition('y', 'done');
    await all;
    assert.equal(finished, true);
    assert.deepEqual(jobs.unfinished(), []);
});

test('failures() is a copy: changing it changes nothing in the registry', async () => {
    const jobs = new VideoJobs(await KeyValueStore.open('state-failures'), path.join(dir, 'work'));
    await jobs.add(newJob('f'), []);
    jobs.unitFailed('f', 'v-seg-000000.bin', 'HTTP 404');
    const copy = jobs.failures('f');
    copy.clear();
    assert.deepEqual([...jobs.failures('f')], [['v-seg-000000.bin', 'HTTP 404']]);
    assert.deepEqual(jobs.counts('f'), { done: 0, failed: 1, total: 1 });
});

test('a live recording grows and ends only through the registry, and the store sees it', async () => {
    const store = await KeyValueStore.open('state-live');
    const jobs = new VideoJobs(store, path.join(dir, 'work'));
    await jobs.add({ ...newJob('l'), live: true, liveOpen: true, gaps: 0 }, []);
    const track = { ...jobs.get('l')!.tracks[0]!, segments: 3 };
    const units = [1, 2].map((i) => ({ unit: `v-seg-00000${i}.bin`, url: `https://cdn.site.test/l/${i}.ts` }));
    await jobs.extendTrack('l', track, units, { durationSecs: 4, gaps: 1 });
    jobs.setLiveRefresh('l', 2);
    await jobs.endLive('l', 'the stream ended');
    const saved = (await store.getValue<VideoJob>('job-l'))!;
    assert.deepEqual(
        [
            saved.tracks[0]!.segments,
            saved.durationSecs,
            saved.gaps,
            saved.liveRefreshSecs,
            saved.liveOpen,
            saved.liveEnd,
        ],
        [3, 6, 1, 2, false, 'the stream ended'],
    );
    assert.deepEqual(jobs.counts('l'), { done: 0, failed: 0, total: 3 });
});
