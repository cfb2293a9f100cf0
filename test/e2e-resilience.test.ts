/**
 * Issue 5 end to end: hostile pages and playlists, expired tokens, scheduled re-runs with an
 * archive, and a run killed with SIGKILL that is started again and finishes.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { HlsVideo } from '../src/demo/media.js';
import { startDemoServer, type DemoServer } from '../src/demo/server.js';
import type { MediaItem } from '../src/results/output.js';
import { outputFileName } from '../src/names.js';
import { runActor, spawnActor, tempDir, type ActorRun } from './helpers/actor.js';
import { frameHashes, sha256 } from './helpers/media.js';
import { demoMedia, galleryImages, hlsVideo } from './helpers/fixture-cache.js';
import { hostileRoute } from './fixtures/hostile.js';

let server: DemoServer;
let media: Awaited<ReturnType<typeof demoMedia>>;
let long: HlsVideo;

before(async () => {
    const dir = await tempDir('resilience');
    media = await demoMedia(dir);
    await galleryImages(path.join(dir, 'images'));
    long = await hlsVideo(path.join(dir, 'long'), {
        width: 160,
        height: 90,
        secs: 600,
        segSecs: 1,
        fps: 10,
        videoKbps: 300,
        noise: true,
    });
    server = await startDemoServer({
        mediaDir: dir,
        imagesDir: path.join(dir, 'images'),
        ttfbMs: 60,
        bytesPerSec: 400_000,
        routes: [hostileRoute],
    });
});
after(() => server?.close());

const one = (run: ActorRun, url: string): MediaItem => {
    const items = run.items.filter((i) => i.url === url || i.pageUrl === url);
    assert.ok(
        items.length >= 1,
        `no item for ${url}\n${JSON.stringify(
            run.items.map((i) => [i.url, i.status, i.error]),
            null,
            1,
        )}`,
    );
    return items[0]!;
};

test('hostile pages and playlists become failed items with reasons; nothing outside the store', async () => {
    const h = (p: string): string => `${server.origin}/hostile/${p}`;
    const urls = {
        dns: 'http://no-such-host.invalid/play.html',
        refused: 'http://127.0.0.1:9/play.html',
        hang: h('hang.html'),
        fileImage: h('file-image.html'),
        title: h('title.html'),
        fileSegment: h('file-segment.m3u8'),
        fileKey: h('file-key.m3u8'),
        json: h('json.m3u8'),
        empty: h('empty.m3u8'),
        loop: h('self-master.m3u8'),
        huge: h('huge.m3u8'),
        zero: h('zero.m3u8'),
    };
    const run = await runActor({
        startUrls: Object.values(urls).map((url) => ({ url })),
        pageWaitSecs: 3,
        maxRequestRetries: 0,
        maxSegmentsPerVideo: 5000,
    });
    assert.equal(run.code, 0, run.output.slice(-3000));
    const failed = (url: string, type: string, reason: RegExp): void => {
        const item = one(run, url);
        assert.equal(item.type, type, `${url}: ${JSON.stringify(item)}`);
        assert.equal(item.status, 'failed', `${url}: ${JSON.stringify(item)}`);
        assert.match(item.error ?? '', reason, url);
    };
    failed(urls.dns, 'page', /could not be rendered/);
    failed(urls.refused, 'page', /could not be rendered/);
    failed(urls.hang, 'page', /could not be rendered.*(timeout|Timeout)/);
    failed(urls.fileSegment, 'video', /refused to fetch "file:\/\/\/etc\/passwd"/);
    failed(urls.fileKey, 'video', /refused to fetch "file:\/\/\/etc\/passwd"/);
    failed(urls.json, 'video', /not an HLS playlist \(application\/json/);
    failed(urls.empty, 'video', /no segments/);
    failed(urls.loop, 'video', /loop/);
    failed(urls.huge, 'video', /100000 segments, more than maxSegmentsPerVideo \(5000\)/);
    failed(urls.zero, 'video', /empty/);
    const refusedImages = run.items.filter((i) => i.pageUrl === urls.fileImage);
    assert.deepEqual(
        refusedImages.map((i) => [i.type, i.status, i.url]),
        [
            ['image', 'failed', 'file:///etc/passwd'],
            ['image', 'failed', 'ftp://example.invalid/x.jpg'],
        ],
    );
    assert.ok(refusedImages.every((i) => /refused to fetch/.test(i.error ?? '')));

    const titled = one(run, urls.title);
    assert.equal(titled.status, 'ok', titled.error);
    assert.match(titled.key!, /^[a-zA-Z0-9!_.'()-]{1,120}$/);
    const files = await readdir(run.kvDir);
    assert.ok(files.includes(`${titled.key}.mp4`));
    const everything = (await readdir(run.storage, { recursive: true })).map(String);
    const mp4s = everything.filter((f) => f.endsWith('.mp4'));
    // The store, and the output folder (the test helper puts it inside the run's storage): nowhere else.
    // There the file keeps its title, path characters and control characters replaced, within 255 bytes.
    const named = outputFileName(titled.title, 'mp4', '');
    assert.ok(!named.includes('/') && !/[\u0000-\u001f]/.test(named) && Buffer.byteLength(named) <= 255, named);
    assert.deepEqual(
        mp4s.sort(),
        [path.join('downloads', named), path.join('key_value_stores', 'default', `${titled.key}.mp4`)],
        'the only files written are in the store and the output folder',
    );
});

test('an expired segment token is refreshed from the playlist once', async () => {
    const url = `${server.origin}/token/index.m3u8`;
    const run = await runActor({ startUrls: [{ url }], maxRequestRetries: 0 });
    assert.equal(run.code, 0, run.output.slice(-3000));
    const item = one(run, url);
    assert.equal(item.status, 'ok', item.error);
    assert.deepEqual(await frameHashes(path.join(run.kvDir, `${item.key}.mp4`)), await frameHashes(media.api.source));
    assert.doesNotMatch(run.output, /tokA|tokB/, 'segment tokens never reach the log');
});

test('a scheduled re-run with the same archiveName stores nothing twice', async () => {
    const storage = await tempDir('archive');
    const input = {
        startUrls: [{ url: server.pages.seed }, { url: server.pages.gallerySeed }],
        archiveName: 'test-archive',
        pageWaitSecs: 5,
    };
    const first = await runActor(input, { storage });
    assert.equal(first.code, 0, first.output.slice(-3000));
    const firstOk = first.items.filter((i) => i.status === 'ok');
    assert.ok(
        firstOk.some((i) => i.type === 'video') && firstOk.filter((i) => i.type === 'image').length === 4,
        JSON.stringify(first.items, null, 1),
    );

    const second = await runActor(input, { storage });
    assert.equal(second.code, 0, second.output.slice(-3000));
    assert.deepEqual(
        second.items.filter((i) => i.status === 'ok'),
        [],
        'nothing stored again',
    );
    for (const ok of firstOk) {
        const again = second.items.find((i) => i.url === ok.url);
        assert.equal(again?.status, 'skipped', `${ok.url} not reported again`);
        assert.match(again!.error!, /already downloaded/);
    }
    const stored = (await readdir(second.kvDir)).filter(
        (f) => !f.startsWith('INPUT') && !f.startsWith('SDK_') && !f.startsWith('REPORT'),
    );
    assert.deepEqual(stored, []);
});

test('a run killed with SIGKILL halfway finishes when started again, refetching almost nothing', async () => {
    const storage = await tempDir('resume');
    const url = `${server.origin}/media/long/index.m3u8`;
    const segmentHits = (): number =>
        [...server.hits]
            .filter(([p]) => p.startsWith('/media/long/') && p.endsWith('.ts'))
            .reduce((n, [, c]) => n + c, 0);
    const input = { startUrls: [{ url }], maxConcurrency: 16 };
    const { child, done } = await spawnActor(input, { storage });
    while (segmentHits() < long.segments / 2) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    const killed = await done;
    assert.notEqual(killed.code, 0);
    const atKill = segmentHits();
    const requestedBefore = new Map(
        [...server.hits].filter(([p]) => p.startsWith('/media/long/') && p.endsWith('.ts')),
    );
    const finished = await finishedUnits(storage);
    // A kill during an item's write leaves it cut off (src/run/dataset-repair.ts; seen once in CI): as if
    // this one had landed on the video's item, the resumed run must still read its dataset and end whole.
    const datasetDir = path.join(storage, 'datasets', 'default');
    await mkdir(datasetDir, { recursive: true });
    const items = (await readdir(datasetDir)).filter((f) => /^\d+\.json$/.test(f)).length;
    await writeFile(path.join(datasetDir, `${String(items + 1).padStart(9, '0')}.json`), '{\n\t"type": "vid');

    const resumed = await runActor(input, { storage, env: { CRAWLEE_PURGE_ON_START: '0' } });
    assert.equal(resumed.code, 0, resumed.output.slice(-3000));
    assert.match(resumed.output, /item\(s\) cut off by the last run's end/);
    assert.equal((await readdir(path.join(storage, 'damaged-items'))).length, 1, 'the cut-off file is kept');
    const item = one(resumed, url);
    assert.equal(item.status, 'ok', item.error);
    const file = path.join(resumed.kvDir, `${item.key}.mp4`);
    assert.deepEqual(await frameHashes(file), await frameHashes(long.source));
    // Hashed while the resumed run wrote it (src/merge/faststart.ts): the stored file's hash.
    assert.equal(item.sha256, await sha256(file));
    const total = segmentHits();
    console.log(`resume: ${atKill} segment requests before the kill, ${total} in all for ${long.segments} segments`);
    assert.ok(total <= long.segments * 1.05, `${total - long.segments} segments fetched twice`);
    // Of the segments asked for before the kill, those not on disk then were in flight and must be fetched
    // again; any other one asked for again was a finished segment fetched twice.
    const again = [...requestedBefore].filter(([p, n]) => (server.hits.get(p) ?? 0) > n).length;
    const refetched = Math.max(0, again - (requestedBefore.size - finished));
    const share = (100 * refetched) / Math.max(1, finished);
    console.log(
        `resume: ${finished} segments finished at the kill, ${refetched} of them fetched again (${share.toFixed(1)} %)`,
    );
    assert.ok(share <= 2, `${refetched} of ${finished} finished segments fetched again`);
});

/** Units a killed run had finished: their files in the work folder (download/jobs.ts counts them so). */
async function finishedUnits(storage: string): Promise<number> {
    const root = path.join(storage, 'work');
    const files = await readdir(root, { recursive: true }).catch(() => [] as string[]);
    return files.filter((f) => f.endsWith('.bin')).length;
}

test('Ctrl-C halfway: a report of what was stored, no failure, exit 130; CRAWLEE_PURGE_ON_START=0 resumes it', async () => {
    const storage = await tempDir('interrupt');
    const url = `${server.origin}/media/long/index.m3u8`;
    const segmentHits = (): number =>
        [...server.hits]
            .filter(([p]) => p.startsWith('/media/long/') && p.endsWith('.ts'))
            .reduce((n, [, c]) => n + c, 0);
    const before = segmentHits();
    const input = { startUrls: [{ url }], maxConcurrency: 16 };
    const { child, done } = await spawnActor(input, { storage });
    while (segmentHits() - before < long.segments / 2) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    const at = Date.now();
    const interrupted = await done;
    const exitSecs = (Date.now() - at) / 1000;
    console.log(`Ctrl-C: exit ${interrupted.code} ${exitSecs.toFixed(1)} s after the signal`);
    assert.equal(interrupted.code, 130, interrupted.output.slice(-3000));
    assert.ok(exitSecs < 15, `the run took ${exitSecs.toFixed(1)} s to end after Ctrl-C`);
    assert.match(interrupted.output, /Interrupted: stopping the crawl/);
    // The video in progress is not a failure: it is resumed.
    assert.deepEqual(
        interrupted.items.filter((i) => i.status === 'failed').map((i) => i.error),
        [],
        'no failed item after Ctrl-C',
    );
    const report = await readFile(path.join(interrupted.kvDir, 'REPORT.html'), 'utf8');
    assert.match(report, /interrupted/);
    const atStop = segmentHits() - before;

    const resumed = await runActor(input, { storage, env: { CRAWLEE_PURGE_ON_START: '0' } });
    assert.equal(resumed.code, 0, resumed.output.slice(-3000));
    const item = one(resumed, url);
    assert.equal(item.status, 'ok', item.error);
    const file = path.join(resumed.kvDir, `${item.key}.mp4`);
    assert.deepEqual(await frameHashes(file), await frameHashes(long.source));
    const total = segmentHits() - before;
    console.log(`Ctrl-C: ${atStop} segment requests before the stop, ${total} in all for ${long.segments} segments`);
    assert.ok(total <= long.segments * 1.05, `${total - long.segments} segments fetched twice`);
});
