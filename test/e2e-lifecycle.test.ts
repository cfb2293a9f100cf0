/**
 * The run on the platform: the actor runs "at home" (APIFY_IS_AT_HOME) against a fake Apify API and events
 * socket on loopback (helpers/platform.ts), and the test sends it the platform's `aborting` and `migrating`
 * events and gives it a run timeout. What a user of the platform would see is checked: the status messages
 * (one writer, a terminal summary), REPORT.html in the run's key-value store, and which named storages are
 * left (none after an abort, a timeout or a finished run; both after a migration, and the resumed run uses
 * them). The resumed run also meets an upload that fails halfway and is sent again.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Ajv } from 'ajv';
import type { HlsVideo } from '../src/demo/media.js';
import { startDemoServer, type DemoServer } from '../src/demo/server.js';
import type { MediaItem } from '../src/model.js';
import { runActor, spawnActor, tempDir } from './helpers/actor.js';
import { frameHashes } from './helpers/media.js';
import { startFakePlatform, type FakePlatform } from './helpers/platform.js';
import { galleryImages, hlsVideo } from './helpers/fixture-cache.js';

let server: DemoServer;
let platform: FakePlatform;
let long: HlsVideo;
let longUrl: string;
/** A live window of 10 s segments: the recorder waits 10 s (the target duration) between two looks. */
let liveUrl: string;

before(async () => {
    const dir = await tempDir('lifecycle');
    await galleryImages(path.join(dir, 'images'));
    // 120 one-second segments of ~40 KB at 100 KB/s per connection: ~30 s at two connections, long enough
    // to be caught in the middle.
    long = await hlsVideo(path.join(dir, 'long'), {
        width: 160,
        height: 90,
        secs: 120,
        segSecs: 1,
        fps: 10,
        videoKbps: 300,
        noise: true,
    });
    await hlsVideo(path.join(dir, 'live10'), { width: 160, height: 90, secs: 60, segSecs: 10, fps: 10 });
    server = await startDemoServer({
        mediaDir: dir,
        imagesDir: path.join(dir, 'images'),
        ttfbMs: 60,
        bytesPerSec: 100_000,
    });
    longUrl = `${server.origin}/media/long/index.m3u8`;
    liveUrl = `${server.origin}/live/window.m3u8?dir=live10&s=abort-live&window=3`;
    platform = await startFakePlatform();
});
after(async () => {
    await platform?.close();
    await server?.close();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await ok())) {
        if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
        await sleep(100);
    }
}

const segmentHits = (): number =>
    [...server.hits].filter(([p]) => p.startsWith('/media/long/') && p.endsWith('.ts')).reduce((n, [, c]) => n + c, 0);

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

async function record(runId: string, key: string): Promise<Buffer | undefined> {
    const r = await platform.storage.keyValueStore(`kvs-${runId}`).getRecord(key, { buffer: true });
    return r?.value as Buffer | undefined;
}

async function runStorages(runId: string): Promise<string[]> {
    const { queues, stores } = await platform.storageNames();
    return [...queues, ...stores].filter((n) => n.endsWith(runId) && !/^(kvs|rq|ds)-/.test(n)).sort();
}

/** Crawlee's own status messages (crawlee 3.18 basic-crawler.js): none may reach the run. */
const CRAWLEE_STATUS = /^(Starting the crawler|Crawled \d+|Finished! Total|Experiencing problems)/;

function assertOneWriter(runId: string, last: RegExp): void {
    const messages = platform.statusMessages.filter((m) => m.runId === runId);
    assert.ok(messages.length >= 2, `routine updates and a summary: ${JSON.stringify(messages)}`);
    for (const m of messages) assert.doesNotMatch(m.message, CRAWLEE_STATUS, 'a Crawlee crawler wrote the status');
    assert.deepEqual(
        messages.map((m) => m.terminal),
        [...messages.slice(1).map(() => false), true],
        'exactly one terminal message, the last',
    );
    assert.match(messages.at(-1)!.message, last);
}

test('aborting: the crawl stops, REPORT.html shows what was stored, no named storage is left, one writer', async () => {
    const runId = 'run-abort';
    // Image URLs are queued before the page is rendered, so they are stored before the video's segments
    // take every connection (the download crawler gives a video one queued request per connection).
    const play = server.videoPage('/media/long/index.m3u8');
    const images = ['g1.jpg', 'g2.jpg'].map((name) => ({ url: `${server.origin}/img/${name}` }));
    await platform.createRun(runId, { startUrls: [...images, { url: play }], maxConcurrency: 2 });
    const hitsBefore = segmentHits();
    const { done } = await spawnActor(undefined, { env: platform.env(runId), timeoutMs: 180_000 });
    const stored = (): number =>
        platform.uploads.filter((u) => u.contentType.startsWith('image/') && u.status === 201).length;
    await until('images stored and the video under way', () => stored() >= 2 && segmentHits() - hitsBefore >= 20);
    assert.deepEqual(
        await runStorages(runId),
        [`downloads-${runId}`, `state-${runId}`],
        'the run keeps its state there',
    );

    const sentAt = Date.now();
    platform.send('aborting');
    platform.send('persistState', { isMigrating: false });
    const run = await done;
    const stopSecs = (Date.now() - sentAt) / 1000;
    const final = platform.statusMessages.find((m) => m.runId === runId && m.terminal);
    const finalSecs = ((final?.at ?? 0) - sentAt) / 1000;
    console.log(`abort: summary status ${finalSecs.toFixed(1)} s and exit ${stopSecs.toFixed(1)} s after the event`);
    assert.equal(run.code, 0, run.output.slice(-3000));
    assert.ok(stopSecs < 20, `the platform kills 30 s after aborting; the run took ${stopSecs} s`);

    assert.deepEqual(await runStorages(runId), [], 'no named storage outlives an aborted run');
    const all = await items(runId);
    const ok = all.filter((i) => i.status === 'ok');
    assert.ok(ok.length === 2 && ok.every((i) => i.type === 'image'), JSON.stringify(all, null, 1));
    const video = all.find((i) => i.type === 'video');
    const got = Number(/with (\d+) of 120 segments downloaded/.exec(video?.error ?? '')?.[1]);
    assert.ok(
        video?.status === 'failed' && got > 0 && got < 120,
        `the unfinished video is accounted for: ${video?.error}`,
    );
    const report = (await record(runId, 'REPORT'))?.toString('utf8') ?? '';
    assert.match(report, /The run was aborted/);
    assert.equal(report.match(/data-item="/g)?.length, all.length, 'every dataset item is on the report');
    for (const item of ok) assert.ok(report.includes(`/records/${item.key}`), `the report links ${item.key}`);
    assertOneWriter(runId, /^Aborted after \d+ s: \d+ stored/);
    assert.match(run.output, /The run is being aborted: stopping the crawl/);
});

test('aborting during a live recording: the wait for its next look ends at once, the run winds down in time', async () => {
    const runId = 'run-abort-live';
    await platform.createRun(runId, { startUrls: [{ url: liveUrl }], maxLiveSecs: 600 });
    const { child, done } = await spawnActor(undefined, { env: platform.env(runId), timeoutMs: 180_000 });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    await until('the recording under way', () => /Recording a live stream/.test(output));
    // A second into the recorder's 10 s wait for its next look (measured: before delay() the run exited 8.5 s
    // after the event, aborted 2 s into the wait; with it 1.4 s).
    await sleep(1_000);
    const sentAt = Date.now();
    platform.send('aborting', undefined, runId);
    platform.send('persistState', { isMigrating: false }, runId);
    const run = await done;
    const stopSecs = (Date.now() - sentAt) / 1000;
    console.log(`abort during a live recording: exit ${stopSecs.toFixed(1)} s after the event`);
    assert.equal(run.code, 0, run.output.slice(-3000));
    assert.doesNotMatch(run.output, /did not wind down in time/, 'the crawl wound down before WIND_DOWN_MS');
    assert.ok(stopSecs < 6, `the recording held the run ${stopSecs} s after the abort`);
    assert.match(run.output, /Live recording of \S+ stops: the crawl was stopped/);
    assert.deepEqual(await runStorages(runId), [], 'no named storage outlives an aborted run');
    const all = await items(runId);
    assert.equal(all.length, 1, JSON.stringify(all, null, 1));
    assert.equal(all[0]!.status, 'failed');
    assert.match(all[0]!.error ?? '', /the run was aborted with \d+ of \d+ segments downloaded/);
    assert.match((await record(runId, 'REPORT'))?.toString('utf8') ?? '', /The run was aborted/);
});

test('aborting during a Retry-After wait: the wait ends at once, the run winds down in time', async () => {
    const runId = 'run-abort-busy';
    // A CDN that refuses the manifest with 503 and asks for the longest wait the backoff takes (60 s).
    const refusals: number[] = [];
    const busy = http.createServer((_req, res) => {
        refusals.push(Date.now());
        res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '60' }).end('busy');
    });
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    try {
        const url = `http://127.0.0.1:${(busy.address() as AddressInfo).port}/busy/master.m3u8`;
        await platform.createRun(runId, { startUrls: [{ url }] });
        const { done } = await spawnActor(undefined, { env: platform.env(runId), timeoutMs: 180_000 });
        await until('the manifest refused', () => refusals.length > 0);
        // A second into the 60 s wait (measured: before the media client took the run's signal, the run exited
        // 10.4 s after the event, when the wind-down gave up on the crawl; with it 0.2 s).
        await sleep(1_000);
        const sentAt = Date.now();
        platform.send('aborting', undefined, runId);
        platform.send('persistState', { isMigrating: false }, runId);
        const run = await done;
        const stopSecs = (Date.now() - sentAt) / 1000;
        console.log(`abort during a Retry-After wait: exit ${stopSecs.toFixed(1)} s after the event`);
        assert.equal(run.code, 0, run.output.slice(-3000));
        assert.doesNotMatch(run.output, /did not wind down in time/, 'the crawl wound down before WIND_DOWN_MS');
        assert.ok(stopSecs < 6, `the Retry-After wait held the run ${stopSecs} s after the abort`);
        assert.equal(refusals.length, 1, 'no try after the abort');
        assert.deepEqual(await runStorages(runId), [], 'no named storage outlives an aborted run');
        const all = await items(runId);
        assert.equal(all.length, 1, JSON.stringify(all, null, 1));
        assert.equal(all[0]!.status, 'failed');
        assert.match(all[0]!.error ?? '', /^stopped: the run was aborted$/);
        assert.match((await record(runId, 'REPORT'))?.toString('utf8') ?? '', /The run was aborted/);
    } finally {
        busy.closeAllConnections();
        await new Promise((resolve) => busy.close(resolve));
    }
});

test('migrating: state kept, the run rebooted; the resumed run on an empty disk finishes and drops it', async () => {
    const runId = 'run-migrate';
    await platform.createRun(runId, { startUrls: [{ url: longUrl }], maxConcurrency: 2 });
    const hitsBefore = segmentHits();
    const first = await spawnActor(undefined, { env: platform.env(runId), timeoutMs: 180_000 });
    await until('the video a sixth downloaded', () => segmentHits() - hitsBefore >= 20);
    platform.send('migrating');
    await until('the reboot request', () => platform.reboots.includes(runId), 30_000);
    // The SDK waits to be stopped after asking for the reboot; the platform stops it.
    await sleep(500);
    assert.equal(first.child.exitCode, null, 'a migrating run does not end by itself');
    first.child.kill('SIGKILL');
    const firstRun = await first.done;
    assert.match(firstRun.output, /The run is migrating/);
    assert.deepEqual(await runStorages(runId), [`downloads-${runId}`, `state-${runId}`], 'kept for the resumed run');
    assert.ok(
        platform.statusMessages.filter((m) => m.runId === runId).every((m) => !m.terminal),
        'nothing final said',
    );

    // The resumed run: same run id and storages, another server (an empty local disk). Its MP4 upload
    // fails after the first chunk and is sent again from the start of the file.
    platform.failFirstUploadOf = /^video\/mp4/;
    const atResume = segmentHits() - hitsBefore;
    const run = await runActor(undefined, { env: platform.env(runId), timeoutMs: 180_000 });
    assert.equal(run.code, 0, run.output.slice(-3000));
    assert.match(run.output, /Resuming video/);
    const [item] = await items(runId);
    assert.equal(item?.status, 'ok', item?.error);
    assert.ok(item.thumbnailUrl?.endsWith(`/records/${item.thumbnailKey}`), 'the overview shows the thumbnail');
    assert.ok(await record(runId, item.thumbnailKey!), 'the thumbnail is stored');
    const mp4 = await record(runId, item.key!);
    assert.equal(mp4?.length, item.bytes);
    const file = path.join(await tempDir('migrated'), 'video.mp4');
    await writeFile(file, mp4!);
    assert.deepEqual(await frameHashes(file), await frameHashes(long.source), 'every frame, once');
    const videoUploads = platform.uploads.filter((u) => u.key === item.key);
    assert.deepEqual(
        videoUploads.map((u) => u.status),
        [503, 201],
    );
    assert.equal(videoUploads[1]!.bytes, item.bytes, 'the second attempt sent the whole file');
    assert.match(run.output, /Upload of .* failed .*attempt 2 of 5/);
    console.log(`migration: ${atResume} segment requests before, ${segmentHits() - hitsBefore} in all`);

    assert.deepEqual(await runStorages(runId), [], 'dropped once everything is delivered');
    assert.ok(await record(runId, 'REPORT'));
    assertOneWriter(runId, /^Done in \d+ s: 1 stored, 0 failed/);
    const progressLines = run.output.match(/Progress: /g)?.length ?? 0;
    assert.ok(progressLines <= Math.floor(run.ms / 30_000) + 1, `${progressLines} progress lines in ${run.ms} ms`);
});

test('the run timeout: the crawl stops a margin before it, reports, drops its storages', async () => {
    const runId = 'run-timeout';
    await platform.createRun(runId, { startUrls: [{ url: longUrl }], maxConcurrency: 1 });
    const startedAt = Date.now();
    // 24 s: the margin is 15 s (its floor), so the crawl stops ~9 s in, long before the video is done.
    const timeoutAt = startedAt + 24_000;
    const env = {
        ...platform.env(runId),
        ACTOR_STARTED_AT: new Date(startedAt).toISOString(),
        ACTOR_TIMEOUT_AT: new Date(timeoutAt).toISOString(),
    };
    const run = await runActor(undefined, { env, timeoutMs: 60_000 });
    const endedAt = Date.now();
    console.log(`timeout: stopped and exited ${((timeoutAt - endedAt) / 1000).toFixed(1)} s before the timeout`);
    assert.equal(run.code, 0, run.output.slice(-3000));
    assert.ok(endedAt < timeoutAt, 'done before the platform would kill it');
    assert.match(run.output, /The run timeout is near/);
    assert.deepEqual(await runStorages(runId), []);
    assert.match((await record(runId, 'REPORT'))?.toString('utf8') ?? '', /stopped before its timeout/);
    assertOneWriter(runId, /^Stopped after \d+ s, before the run timeout/);
});
