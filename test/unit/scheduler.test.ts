/**
 * The download scheduler on the real VideoJobs (Crawlee's local storage): which unit a request takes
 * next, across videos; what a failed unit leaves held for the request's retry; what a final failure
 * and a video-fatal error settle. The unit fetch is a function given to the scheduler (the network
 * part is the unit fetcher's, exercised by the e2e tests); here it records the order and can fail.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/actor.js';
import { KeyError, MediaError, UnitsFailedError } from '../../src/errors.js';
import { unitName, type UnitsTask, type UnitTask, type VideoJob } from '../../src/model.js';

const dir = await tempDir('scheduler');
process.env.CRAWLEE_STORAGE_DIR = path.join(dir, 'storage');
const { KeyValueStore } = await import('@crawlee/core');
const { VideoJobs } = await import('../../src/download/jobs.js');
const { DownloadScheduler } = await import('../../src/download/scheduler.js');
const { connectionLimit } = await import('../../src/download/connections.js');
type Connection = import('../../src/download/connections.js').Connection;

const units = (id: string, n: number): UnitTask[] =>
    Array.from({ length: n }, (_, i) => ({ unit: unitName('v', 'seg', i), url: `https://cdn.test/${id}/${i}.ts` }));

const job = (id: string, n: number): VideoJob => ({
    id,
    format: 'hls',
    pageUrl: `https://site.test/${id}`,
    url: `https://cdn.test/${id}/index.m3u8`,
    variantUrl: `https://cdn.test/${id}/index.m3u8`,
    headers: {},
    durationSecs: n,
    live: false,
    tracks: [
        {
            name: 'v',
            sourceUrl: `https://cdn.test/${id}/index.m3u8`,
            segments: n,
            inits: 0,
            firstSeq: 0,
            bytes: 'segments',
        },
    ],
    delivery: 'remux',
    status: 'downloading',
});

const task = (videoId: string, run: UnitTask[]): UnitsTask => ({ kind: 'units', videoId, units: run });

async function setup(
    name: string,
    videos: Record<string, number>,
    options: {
        lanes?: number;
        connection?: Connection;
        takeBudgetMs?: number;
        requeue?: (request: unknown) => Promise<void>;
    } = {},
) {
    const jobs = new VideoJobs(await KeyValueStore.open(`state-${name}`), path.join(dir, name));
    const settled: string[] = [];
    const committed: string[] = [];
    const scheduler = new DownloadScheduler({
        jobs,
        onUnitCommitted: (id, unit) => committed.push(`${id}/${unit}`),
        onVideoSettled: (id) => settled.push(id),
        requeue: async () => assert.fail('nothing is handed back within the time budget'),
        ...options,
    });
    for (const [id, n] of Object.entries(videos)) await jobs.add(job(id, n), units(id, n));
    return { jobs, scheduler, settled, committed };
}

test('a request takes its own video first, then any other video, oldest first; later requests find nothing', async () => {
    const { scheduler, settled, committed } = await setup('steal', { A: 3, B: 2 });
    const fetched: string[] = [];
    const fetch = async (j: VideoJob, u: UnitTask): Promise<number> => {
        fetched.push(`${j.id}/${u.unit}`);
        return 10;
    };
    // The request of B's run goes first: B's units, then A's (the oldest video).
    assert.equal(await scheduler.run(task('B', units('B', 2)), 'B:0', fetch), 50);
    assert.deepEqual(fetched, [
        'B/v-seg-000000.bin',
        'B/v-seg-000001.bin',
        'A/v-seg-000000.bin',
        'A/v-seg-000001.bin',
        'A/v-seg-000002.bin',
    ]);
    assert.deepEqual(committed, fetched, 'every stored unit is committed once, in order, with its video');
    assert.deepEqual(settled, ['B', 'A']);
    assert.equal(await scheduler.run(task('A', units('A', 3)), 'A:0', fetch), 0, "A's own request: all taken");
    assert.equal(fetched.length, 5, 'nothing fetched twice');
});

test('two requests at once share a video unit by unit, nothing twice', async () => {
    const { scheduler, settled } = await setup('share', { V: 6 });
    const by: Record<string, string[]> = { r1: [], r2: [] };
    const fetcher =
        (holder: string) =>
        async (_j: VideoJob, u: UnitTask): Promise<number> => {
            by[holder]!.push(u.unit);
            await new Promise((resolve) => setTimeout(resolve, holder === 'r1' ? 5 : 12));
            return 1;
        };
    const [a, b] = await Promise.all([
        scheduler.run(task('V', units('V', 3)), 'r1', fetcher('r1')),
        scheduler.run(task('V', units('V', 6).slice(3)), 'r2', fetcher('r2')),
    ]);
    assert.equal(a + b, 6);
    assert.ok(by.r1!.length > by.r2!.length, 'the faster connection took more units');
    assert.deepEqual(
        [...by.r1!, ...by.r2!].sort(),
        units('V', 6).map((u) => u.unit),
    );
    assert.deepEqual(settled, ['V']);
});

test('a request keeps its lanes busy, units in playback order; the connection limit holds across requests', async () => {
    const { scheduler, settled, committed } = await setup(
        'lanes',
        { W: 24 },
        { lanes: 3, connection: connectionLimit(4) },
    );
    let active = 0;
    let peak = 0;
    const started: string[] = [];
    const fetch = async (_j: VideoJob, u: UnitTask): Promise<number> => {
        started.push(u.unit);
        peak = Math.max(peak, ++active);
        await new Promise((resolve) => setTimeout(resolve, 5));
        active--;
        return 10;
    };
    // Two requests of three lanes each: six lanes, four connections.
    const [a, b] = await Promise.all([
        scheduler.run(task('W', units('W', 12)), 'w1', fetch),
        scheduler.run(task('W', units('W', 24).slice(12)), 'w2', fetch),
    ]);
    assert.equal(a + b, 240);
    assert.equal(peak, 4, 'four fetches at once, never more');
    assert.deepEqual(
        started,
        units('W', 24).map((u) => u.unit),
        'each unit once, taken in playback order',
    );
    assert.equal(committed.length, 24);
    assert.deepEqual(settled, ['W']);

    // One request alone, no limit: its three lanes run at once.
    const alone = await setup('lanes-alone', { X: 9 }, { lanes: 3 });
    active = 0;
    peak = 0;
    assert.equal(await alone.scheduler.run(task('X', units('X', 9)), 'x', fetch), 90);
    assert.equal(peak, 3);
});

test('a unit failing in one lane leaves the other lanes going; the request fails after them, holding it', async () => {
    const { scheduler, jobs } = await setup('lane-fail', { Y: 6 }, { lanes: 2 });
    const fetch = async (_j: VideoJob, u: UnitTask): Promise<number> => {
        await new Promise((resolve) => setTimeout(resolve, 2));
        if (u.unit === 'v-seg-000001.bin') throw new MediaError('NETWORK', 'reset');
        return 1;
    };
    await assert.rejects(scheduler.run(task('Y', units('Y', 6)), 'y', fetch), /1 of 6 units failed, first: reset/);
    assert.equal(jobs.counts('Y').done, 5);
    assert.equal(scheduler.leases.holder('Y', 'v-seg-000001.bin'), 'y');
});

test('a request out of time hands its run back once, whatever its lanes; a hand-back that fails fails the request after every lane ended', async () => {
    const handedBack: unknown[] = [];
    const timed = await setup(
        'lanes-time',
        { T: 8 },
        { lanes: 4, takeBudgetMs: -1, requeue: async (r) => void handedBack.push(r) },
    );
    const none = async (): Promise<number> => assert.fail('no unit is taken once the time is up');
    assert.equal(await timed.scheduler.run(task('T', units('T', 8)), 't', none), 0);
    assert.equal(handedBack.length, 1, 'one hand-back, not one per lane');

    let running = 0;
    const failing = await setup(
        'lanes-requeue',
        { U: 8 },
        {
            lanes: 4,
            takeBudgetMs: 20,
            requeue: async () => {
                throw new Error('queue unavailable');
            },
        },
    );
    const slow = async (): Promise<number> => {
        running++;
        await new Promise((resolve) => setTimeout(resolve, 30));
        running--;
        return 1;
    };
    await assert.rejects(failing.scheduler.run(task('U', units('U', 8)), 'u', slow), /queue unavailable/);
    assert.equal(running, 0, 'no lane still fetching when the request has failed');
});

test('a failed unit stays held: no other request takes it, the retry fetches it first', async () => {
    const { scheduler, jobs, settled } = await setup('retry', { R: 3 });
    let failures = 1;
    const fetched: string[] = [];
    const fetch = async (_j: VideoJob, u: UnitTask): Promise<number> => {
        fetched.push(u.unit);
        if (u.unit === 'v-seg-000001.bin' && failures-- > 0) throw new MediaError('NETWORK', 'connection reset');
        return 1;
    };
    await assert.rejects(scheduler.run(task('R', units('R', 3)), 'r', fetch), (e: unknown) => {
        assert.ok(e instanceof UnitsFailedError);
        assert.match(e.message, /1 of 3 units failed, first: connection reset/);
        return true;
    });
    assert.equal(scheduler.leases.holder('R', 'v-seg-000001.bin'), 'r');
    assert.equal(await scheduler.run(task('R', []), 'other', fetch), 0, 'another request leaves it alone');
    assert.equal(await scheduler.run(task('R', units('R', 3)), 'r', fetch), 1, 'the retry fetches it');
    assert.deepEqual(fetched, ['v-seg-000000.bin', 'v-seg-000001.bin', 'v-seg-000002.bin', 'v-seg-000001.bin']);
    assert.equal(jobs.counts('R').done, 3);
    assert.deepEqual(settled, ['R']);
});

test("a request's final failure fails what it holds, each with its own error, across videos", async () => {
    const { scheduler, jobs, settled } = await setup('fail', { F: 1, G: 1 });
    const fetch = async (j: VideoJob): Promise<number> => {
        throw new MediaError('NETWORK', `${j.id} timed out`);
    };
    const t = task('F', units('F', 1));
    const error = await scheduler.run(t, 'f', fetch).catch((e: Error) => e);
    assert.ok(error instanceof UnitsFailedError);
    scheduler.failRequest(t, 'f', error);
    assert.equal(jobs.failures('F').get('v-seg-000000.bin'), 'v-seg-000000.bin: F timed out');
    assert.equal(jobs.failures('G').get('v-seg-000000.bin'), 'v-seg-000000.bin: G timed out');
    assert.deepEqual(settled.sort(), ['F', 'G']);
});

test('a video-fatal error settles its video at once; the request goes on with other videos', async () => {
    const { scheduler, jobs, settled } = await setup('fatal', { K: 4, L: 2 });
    const fetched: string[] = [];
    const fetch = async (j: VideoJob, u: UnitTask): Promise<number> => {
        fetched.push(`${j.id}/${u.unit}`);
        if (j.id === 'K' && u.unit === 'v-seg-000001.bin')
            throw new KeyError('the key at https://cdn.test/k is 0 bytes');
        return 1;
    };
    assert.equal(await scheduler.run(task('K', units('K', 4)), 'k', fetch), 3);
    assert.deepEqual(fetched, ['K/v-seg-000000.bin', 'K/v-seg-000001.bin', 'L/v-seg-000000.bin', 'L/v-seg-000001.bin']);
    assert.match(jobs.fatal('K')?.message ?? '', /0 bytes/);
    assert.deepEqual(settled, ['K', 'L']);
});
