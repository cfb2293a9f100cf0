/**
 * `workers: 2` on the Apify platform, end to end against the fake platform (helpers/platform.ts): the run
 * is worker 0 and the coordinator; it starts worker 1 as another run of the same actor through the API
 * (`Actor.start`), which the fake platform runs as another process of the real actor with that run's env.
 * Both render pages from the shared page queue; every item lands once in the coordinator's dataset and
 * every file in its key-value store, the same as a one-worker run on the platform; the shared named
 * queues and every worker's named storages are gone at the end. A worker run that fails at start is
 * started again by the coordinator, and the crawl completes the same. An aborted coordinator aborts its
 * worker run through the API and, even when that run does not stop, reports and drops the shared queues
 * before the platform would kill it.
 *
 * Every run has the platform's default "limited permissions": its token is refused another run's storages
 * unless they come in an input field the input schema declares as a resource (helpers/platform.ts), so
 * the worker runs must get the coordinator's dataset, store and queues that way. A worker run the account's
 * memory limit refuses is reported, and the crawl goes on with the runs that started.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Ajv } from 'ajv';
import type { DemoServer } from '../src/demo/server.js';
import type { MediaItem } from '../src/model.js';
import type { WorkerRole } from '../src/run/role.js';
import { spawnActor, tempDir, type ActorRun } from './helpers/actor.js';
import { startFakePlatform, type FakePlatform, type StartRun } from './helpers/platform.js';
import { COPIES, outcome, startWorkersSite, workersInput } from './helpers/workers-site.js';

let server: DemoServer;
let platform: FakePlatform;
/** The coordinator's run timeout: worker runs inherit what is left of it. */
const RUN_TIMEOUT_SECS = 600;

before(async () => {
    server = await startWorkersSite(await tempDir('platform-workers'));
    platform = await startFakePlatform();
});
after(async () => {
    await platform?.close();
    await server?.close();
});

const input = (workers: number): Record<string, unknown> => ({ ...workersInput(server), workers });

// The platform validates pushed items against the dataset schema's `fields`: so does this test.
const datasetSchema = JSON.parse(
    readFileSync(path.join(import.meta.dirname, '..', '.actor', 'dataset_schema.json'), 'utf8'),
);
const validItem = new Ajv({ strict: false }).compile(datasetSchema.fields);

async function items(runId: string): Promise<MediaItem[]> {
    const all = (await platform.storage.dataset(`ds-${runId}`).listItems()).items as unknown as MediaItem[];
    for (const item of all) assert.ok(validItem(item), `${JSON.stringify(item)}: ${JSON.stringify(validItem.errors)}`);
    return all;
}

async function keys(runId: string): Promise<string[]> {
    const list = await platform.storage.keyValueStore(`kvs-${runId}`).listKeys({ limit: 1000 });
    return list.items.map((k) => k.key).sort();
}

async function record(runId: string, key: string): Promise<Buffer | undefined> {
    const r = await platform.storage.keyValueStore(`kvs-${runId}`).getRecord(key, { buffer: true });
    return r?.value as Buffer | undefined;
}

/**
 * Named storages the crawl of coordinator run `runId` makes and must drop: the shared queues, and each
 * worker's download queue and state (all named after the coordinator's run, lowercased).
 */
async function crawlStorages(runId: string): Promise<string[]> {
    const { queues, stores, datasets } = await platform.storageNames();
    const scope = runId.toLowerCase();
    return [...queues, ...stores, ...datasets]
        .filter((n) => /^(pages|claims|downloads|state)-/.test(n) && n.includes(scope))
        .sort();
}

const pagesDone = (output: string): string[] => [...output.matchAll(/Page done in .*?: (\S+)/g)].map((m) => m[1]!);

/** Worker runs started through the API run the real actor, each in its own work folder; their output is kept. */
const workerRuns = new Map<string, Promise<ActorRun>>();
const spawnWorkerRun: StartRun = async ({ id, env }) => {
    const { child, done } = await spawnActor(undefined, { env, timeoutMs: 170_000 });
    workerRuns.set(id, done);
    return child;
};

/** Starts a coordinator run on the fake platform, with a run timeout as on the platform. */
async function startPlatformRun(runId: string, workers: number): ReturnType<typeof spawnActor> {
    await platform.createRun(runId, input(workers));
    const now = Date.now();
    const env = {
        ...platform.env(runId),
        ACTOR_STARTED_AT: new Date(now).toISOString(),
        ACTOR_TIMEOUT_AT: new Date(now + RUN_TIMEOUT_SECS * 1000).toISOString(),
    };
    return spawnActor(undefined, { env, timeoutMs: 170_000 });
}

const platformRun = async (runId: string, workers: number): Promise<ActorRun> =>
    (await startPlatformRun(runId, workers)).done;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await ok())) {
        if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
        await sleep(100);
    }
}

/** The worker role a started run was given in its input. */
const roleOf = (input: unknown): WorkerRole => (input as { _worker: WorkerRole })._worker;

let reference: MediaItem[];
let referencePages: number;

test('one worker on the platform: the reference crawl', async () => {
    platform.startRun = spawnWorkerRun;
    const run = await platformRun('RefRun0000000001', 1);
    assert.equal(run.code, 0, run.output.slice(-3000));
    assert.equal(platform.startedRuns.length, 0, 'one worker starts no other run');
    reference = await items('RefRun0000000001');
    referencePages = pagesDone(run.output).length;
    assert.equal(referencePages, 5 + COPIES + 2, 'the start pages and the two gallery pages followed');
    const videos = reference.filter((i) => i.type === 'video');
    assert.equal(videos.filter((i) => i.status === 'ok').length, 4, JSON.stringify(videos, null, 1));
    assert.equal(videos.filter((i) => i.status === 'skipped').length, COPIES - 1);
    assert.ok(
        reference.some((i) => i.pageUrl.endsWith('/gallery/page3.html')),
        'links were not followed',
    );
    console.log(`one worker: ${run.ms} ms`);
});

test('two workers: a second run started through the API; one dataset, one store, the same items', async () => {
    const runId = 'CoordRun00000001';
    const startsBefore = platform.startedRuns.length;
    platform.startRun = spawnWorkerRun;
    const run = await platformRun(runId, 2);
    assert.equal(run.code, 0, run.output.slice(-3000));

    // The worker run: one start of this actor, same build and memory, the time left of this run, its role.
    const starts = platform.startedRuns.slice(startsBefore);
    assert.equal(starts.length, 1, 'one worker run started');
    const [worker] = starts as [(typeof starts)[0]];
    assert.equal(worker.actorId, platform.actorId);
    assert.equal(worker.build, platform.env(runId).ACTOR_BUILD_NUMBER, 'the same build');
    assert.equal(worker.memory, Number(platform.env(runId).ACTOR_MEMORY_MBYTES), 'the same memory');
    assert.ok(
        worker.timeout !== undefined && worker.timeout > 0 && worker.timeout <= RUN_TIMEOUT_SECS,
        `the worker run inherits what is left of the run timeout, in seconds: ${worker.timeout}`,
    );
    const role = roleOf(worker.input);
    assert.deepEqual([role.index, role.count, role.resumed], [1, 2, false]);
    assert.equal((worker.input as { workers: number }).workers, 1);
    assert.equal((await platform.finished(worker.id)).status, 'SUCCEEDED');
    const workerRun = await workerRuns.get(worker.id)!;
    assert.equal(workerRun.code, 0, workerRun.output.slice(-3000));

    // Both runs rendered pages; each page once.
    const own = pagesDone(run.output);
    const theirs = pagesDone(workerRun.output);
    const story = `coordinator:\n${own.join('\n')}\nworker run:\n${theirs.join('\n')}`;
    assert.ok(own.length > 0 && theirs.length > 0, `both runs rendered pages\n${story}`);
    // The log shortens query strings: count the pages rather than compare them.
    assert.equal(own.length + theirs.length, referencePages, `each page rendered once\n${story}`);
    console.log(
        `two workers: ${run.ms} ms; pages rendered: ${own.length} by the coordinator, ${theirs.length} by the worker run`,
    );

    // Every item once, in the coordinator's dataset; the same as one worker; the shared video stored once.
    const all = await items(runId);
    assert.deepEqual(outcome(all), outcome(reference), story);
    assert.equal(all.length, reference.length);
    const shared = all.filter((i) => i.type === 'video' && i.pageUrl.includes('/play/video.html'));
    assert.equal(shared.filter((i) => i.status === 'ok').length, 1, JSON.stringify(shared, null, 1));
    assert.equal(shared.filter((i) => i.status === 'skipped').length, COPIES - 1);
    assert.deepEqual(await items(worker.id), [], "nothing in the worker run's own dataset");

    // Every stored file in the coordinator's store, byte for byte; one report; nothing in the worker run's store.
    const stored = await keys(runId);
    for (const item of all.filter((i) => i.status === 'ok')) {
        const bytes = await record(runId, item.key!);
        assert.ok(bytes, `${item.key} is stored`);
        assert.equal(createHash('sha256').update(bytes).digest('hex'), item.sha256, item.key);
        if (item.thumbnailKey) assert.ok(stored.includes(item.thumbnailKey), `${item.thumbnailKey} is stored`);
    }
    // The worker run's own store: its input, its summary for the coordinator and Crawlee's state; no file.
    const workerKeys = await keys(worker.id);
    assert.ok(workerKeys.includes('OUTPUT'), workerKeys.join(' '));
    const fileKeys = new Set(all.flatMap((i) => [i.key, i.thumbnailKey]).filter(Boolean));
    assert.deepEqual(
        workerKeys.filter((k) => fileKeys.has(k) || /^(video|image|thumb)-|^REPORT$/.test(k)),
        [],
    );
    assert.ok(stored.includes('REPORT'));
    assert.equal(
        (await Promise.all([runId, worker.id].map(keys))).flat().filter((k) => k === 'REPORT').length,
        1,
        'one report',
    );
    assert.ok(!stored.includes('WORKER_RUNS'), 'the list of worker runs is cleared');
    const report = (await record(runId, 'REPORT'))!.toString('utf8');
    assert.equal(report.match(/data-item="/g)?.length, all.length, 'every dataset item is on the report');

    assert.deepEqual(await crawlStorages(runId), [], 'no shared queue, download queue or state left');
    assert.match(run.output, new RegExp(`Worker 1 started: run ${worker.id}`));

    // Under limited permissions: nothing was refused, and the worker run's token is refused what its input
    // does not name (the reference run's store) while it may read the coordinator's, which its input declares.
    assert.equal(platform.permissionLevel, 'LIMITED_PERMISSIONS');
    assert.deepEqual(platform.refused, [], 'no storage call refused');
    const asWorker = (store: string) =>
        fetch(`${platform.apiUrl}/v2/key-value-stores/${store}/records/REPORT`, {
            headers: { authorization: `Bearer ${worker.env.APIFY_TOKEN}` },
        });
    assert.equal((await asWorker(`kvs-${runId}`)).status, 200);
    assert.equal((await asWorker('kvs-RefRun0000000001')).status, 403, 'another run’s store is refused');
    platform.refused.length = 0;
    const workerStatus = platform.statusMessages.filter((m) => m.runId === worker.id && m.terminal);
    assert.match(workerStatus.at(-1)?.message ?? '', /^Worker 1 of 2 done: \d+ pages/);
});

test('a worker run that fails at start is started again; the crawl completes the same, without hanging', async () => {
    const runId = 'CoordRun00000002';
    const startsBefore = platform.startedRuns.length;
    let crashes = 1;
    platform.startRun = async (run) => {
        if (crashes-- > 0) return spawn(process.execPath, ['-e', 'process.exit(1)'], { stdio: 'ignore' });
        return spawnWorkerRun(run);
    };
    const run = await platformRun(runId, 2);
    assert.equal(run.code, 0, run.output.slice(-3000));
    console.log(`two workers, the first worker run failing at start: ${run.ms} ms`);
    assert.ok(run.ms < 120_000, `the run took ${run.ms} ms`);

    const starts = platform.startedRuns.slice(startsBefore);
    assert.equal(starts.length, 2, 'the worker run started twice');
    const [failed, again] = starts as [(typeof starts)[0], (typeof starts)[0]];
    assert.deepEqual([failed.status, failed.exitCode], ['FAILED', 1]);
    assert.equal(again.status, 'SUCCEEDED');
    assert.deepEqual(
        [roleOf(failed.input).resumed, roleOf(again.input).resumed],
        [false, true],
        'the second start resumes',
    );
    assert.equal(roleOf(again.input).scope, roleOf(failed.input).scope, 'in the same storages');
    assert.match(
        run.output,
        new RegExp(`Worker 1 \\(run ${failed.id}\\) ended FAILED; starting it again \\(1 of 3\\)`),
    );
    assert.match(run.output, new RegExp(`Worker 1 restarted: run ${again.id}`));
    const workerRun = await workerRuns.get(again.id)!;
    assert.equal(workerRun.code, 0, workerRun.output.slice(-3000));

    const all = await items(runId);
    assert.deepEqual(outcome(all), outcome(reference));
    assert.ok((await keys(runId)).includes('REPORT'));
    assert.deepEqual(await crawlStorages(runId), [], 'no shared queue, download queue or state left');
});

test('a worker run refused for the account’s memory limit is reported; the crawl goes on with the others', async () => {
    const runId = 'CoordRun00000005';
    const startsBefore = platform.startedRuns.length;
    platform.startRun = spawnWorkerRun;
    // A Free plan: 8 GB for all runs; this run and one more worker run of 4 GB fill it, the third is refused.
    platform.accountMemoryMbytes = 8192;
    let run: ActorRun;
    try {
        run = await platformRun(runId, 3);
    } finally {
        platform.accountMemoryMbytes = undefined;
    }
    assert.equal(run.code, 0, run.output.slice(-3000));
    const starts = platform.startedRuns.slice(startsBefore);
    assert.deepEqual(
        starts.map((r) => roleOf(r.input).index),
        [1],
        'worker 1 started; worker 2 was refused',
    );
    assert.equal((await platform.finished(starts[0]!.id)).status, 'SUCCEEDED');
    assert.match(
        run.output,
        /Worker 2 could not start: By launching this job you will exceed the memory limit of 8192MB.*The crawl goes on without it/,
    );
    // The crawl is the whole crawl all the same, reported with the refusal.
    const all = await items(runId);
    assert.deepEqual(outcome(all), outcome(reference));
    const report = (await record(runId, 'REPORT'))?.toString('utf8') ?? '';
    assert.match(report, /Worker run 2 of 3 could not start: By launching this job you will exceed the memory limit/);
    assert.equal(report.match(/data-item="/g)?.length, all.length, 'every item is on the report');
    assert.deepEqual(await crawlStorages(runId), [], 'no shared queue, download queue or state left');
    assert.deepEqual(platform.refused, [], 'no storage call refused');
});

test('the coordinator aborted: it aborts the worker run gracefully through the API; both stop, nothing is left', async () => {
    const runId = 'CoordRun00000003';
    const startsBefore = platform.startedRuns.length;
    platform.startRun = spawnWorkerRun;
    const { done } = await startPlatformRun(runId, 2);
    await until('the worker run connected', () => {
        const worker = platform.startedRuns[startsBefore];
        return worker !== undefined && platform.connections(worker.id) > 0;
    });
    const worker = platform.startedRuns[startsBefore]!;
    // The crawl under way: the worker run is up, some items are stored.
    await until('the crawl under way', async () => (await items(runId)).length >= 3);
    const sentAt = Date.now();
    // The platform tells the coordinator run only; the worker run hears of it from the coordinator.
    platform.send('aborting', undefined, runId);
    platform.send('persistState', { isMigrating: false }, runId);
    const run = await done;
    const stopSecs = (Date.now() - sentAt) / 1000;
    console.log(`abort: the coordinator exited ${stopSecs.toFixed(1)} s after the event`);
    // A crash while stopping (Playwright's dispatcher errors among them) is a failure, never a skip.
    assert.equal(run.code, 0, run.output.slice(-3000));
    assert.ok(stopSecs < 20, `the platform kills 30 s after aborting; the run took ${stopSecs} s`);

    assert.equal(platform.startedRuns.length, startsBefore + 1, 'no worker run started again');
    assert.deepEqual(worker.aborts, [true], 'the worker run was aborted once, gracefully');
    const workerRun = await workerRuns.get(worker.id)!;
    assert.equal((await platform.finished(worker.id)).status, 'ABORTED');
    assert.match(workerRun.output, /The run is being aborted: stopping the crawl/);
    assert.equal(workerRun.code, 0, workerRun.output.slice(-3000));
    assert.match(run.output, new RegExp(`Worker 1 \\(run ${worker.id}\\) ended ABORTED; given up`));

    const report = (await record(runId, 'REPORT'))?.toString('utf8') ?? '';
    assert.match(report, /The run was aborted/);
    assert.equal(report.match(/data-item="/g)?.length, (await items(runId)).length, 'every item is on the report');
    assert.deepEqual(await crawlStorages(runId), [], 'no shared queue, download queue or state left');
});

test('a worker run that does not stop when aborted: the coordinator does not wait past its wind-down', async () => {
    const runId = 'CoordRun00000004';
    const startsBefore = platform.startedRuns.length;
    // A container that neither connects nor ends by itself: the platform kills it 30 s after the abort.
    platform.startRun = () => spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const { child, done } = await startPlatformRun(runId, 2);
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    await until('the worker run started', () => platform.startedRuns.length > startsBefore);
    const worker = platform.startedRuns[startsBefore]!;
    // The coordinator has crawled everything itself and waits for the worker run (up to 60 s a request);
    // it watches its worker runs from their start, so its own log says when its part is done.
    await until('the coordinator done with its part', () => /part of the crawl is done: waiting/.test(output), 150_000);
    await until('the coordinator waiting for the worker run', () => platform.waits.some((w) => w.runId === worker.id));
    const sentAt = Date.now();
    platform.send('aborting', undefined, runId);
    platform.send('persistState', { isMigrating: false }, runId);
    const run = await done;
    const stopSecs = (Date.now() - sentAt) / 1000;
    console.log(`abort, the worker run stuck: the coordinator exited ${stopSecs.toFixed(1)} s after the event`);
    try {
        assert.equal(run.code, 0, run.output.slice(-3000));
        assert.ok(stopSecs < 20, `the platform kills 30 s after aborting; the run took ${stopSecs} s`);
        assert.deepEqual(worker.aborts, [true]);
        assert.equal(worker.status, 'ABORTING', 'still stopping when the coordinator ended');
        assert.deepEqual(outcome(await items(runId)), outcome(reference), 'the crawl was done before the abort');
        assert.match((await record(runId, 'REPORT'))?.toString('utf8') ?? '', /The run was aborted/);
        assert.deepEqual(await crawlStorages(runId), [], 'the shared queues are dropped all the same');
        assert.match(run.output, new RegExp(`Worker 1 \\(run ${worker.id}\\) is still stopping; not waited for`));
    } finally {
        worker.child?.kill('SIGKILL');
    }
    assert.equal((await platform.finished(worker.id)).status, 'ABORTED');
});
