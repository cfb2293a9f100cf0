/**
 * Issue 2 end to end: the actor renders the fixture play pages in a real Chromium, downloads their
 * HLS from a real local server and stores MP4s whose decoded frames equal the source's.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startDemoServer, type DemoServer } from '../src/demo/server.js';
import { runActor, tempDir, type ActorRun } from './helpers/actor.js';
import { frameHashes, mediaInfo, sha256 } from './helpers/media.js';
import { demoMedia } from './helpers/fixture-cache.js';
import { faultFor } from './fixtures/faults.js';

let server: DemoServer;
let media: Awaited<ReturnType<typeof demoMedia>>;

before(async () => {
    const dir = await tempDir('media');
    media = await demoMedia(dir);
    server = await startDemoServer({ mediaDir: dir, faults: faultFor });
});
after(() => server?.close());

const CONTRACT_FIELDS = [
    'type',
    'status',
    'pageUrl',
    'url',
    'title',
    'key',
    'contentType',
    'bytes',
    'sha256',
    'width',
    'height',
    'durationSecs',
    'segments',
] as const;

async function assertVideo(run: ActorRun, pageUrl: string, source: string, size: [number, number]): Promise<void> {
    const item = run.items.find((i) => i.pageUrl === pageUrl && i.type === 'video');
    assert.ok(item, `no video item for ${pageUrl}\n${run.output.slice(-3000)}`);
    assert.equal(item.status, 'ok', item.error);
    for (const field of CONTRACT_FIELDS) assert.notEqual(item[field], undefined, `item misses ${field}`);
    assert.equal(item.contentType, 'video/mp4');
    assert.deepEqual([item.width, item.height], size);
    const file = path.join(run.kvDir, `${item.key}.mp4`);
    assert.equal((await stat(file)).size, item.bytes);
    assert.equal(await sha256(file), item.sha256);
    const [got, want] = await Promise.all([frameHashes(file), frameHashes(source)]);
    assert.ok(want.length > 50);
    assert.deepEqual(got, want, 'decoded frames differ from the source variant');
    const info = await mediaInfo(file);
    assert.ok(
        info.streams.some((s) => s.type === 'audio' && s.codec === 'aac'),
        'audio missing',
    );
    assert.ok(Math.abs((info.durationSecs ?? 0) - item.durationSecs!) < 0.01);
}

test('three fixture play pages yield three verified MP4s', async () => {
    const { api, iframe, seed } = server.pages;
    const run = await runActor({ startUrls: [api, iframe, seed].map((url) => ({ url })), pageWaitSecs: 15 });
    assert.equal(run.code, 0, run.output.slice(-3000));
    await assertVideo(run, api, media.api.source, [640, 360]);
    await assertVideo(run, iframe, media.iframe.high!.source, [640, 360]);
    await assertVideo(run, seed, media.seed.source, [480, 270]);
    assert.equal(run.items.length, 3, JSON.stringify(run.items, null, 1));
    // The playlists the players received are planned from the browser's copies, not fetched a second time.
    assert.equal(server.hits.get('/media/api/index.m3u8'), 1, 'the playlist of the api page was fetched again');
    assert.equal(
        server.hits.get('/media/iframe-enc/master.m3u8'),
        1,
        'the master of the iframe page was fetched again',
    );
    const iframeItem = run.items.find((i) => i.pageUrl === iframe)!;
    assert.match(iframeItem.url, /master\.m3u8$/, 'the captured URL is the master playlist');
    assert.equal(iframeItem.title, 'Iframe Episode 1');
    assert.equal(iframeItem.key, 'video-Iframe-Episode-1');
});

test('videoQuality "lowest" takes the small variant of the master', async () => {
    const run = await runActor({ startUrls: [{ url: server.pages.iframe }], videoQuality: 'lowest', pageWaitSecs: 15 });
    assert.equal(run.code, 0, run.output.slice(-3000));
    await assertVideo(run, server.pages.iframe, media.iframe.low!.source, [320, 180]);
});

test('a page without video, a 404 page and an HTML "playlist" become failed items; the crawl exits 0', async () => {
    const { noVideo, missing, htmlPlaylist, seed } = server.pages;
    const run = await runActor({
        startUrls: [noVideo, missing, htmlPlaylist, seed].map((url) => ({ url })),
        pageWaitSecs: 3,
        maxRequestRetries: 1,
    });
    assert.equal(run.code, 0, run.output.slice(-3000));
    const by = (url: string) => run.items.filter((i) => i.pageUrl === url);
    assert.deepEqual(
        by(noVideo).map((i) => [i.type, i.status]),
        [['page', 'failed']],
    );
    assert.match(by(noVideo)[0]!.error!, /no video or image found/);
    assert.deepEqual(
        by(missing).map((i) => [i.type, i.status]),
        [['page', 'failed']],
    );
    assert.match(by(missing)[0]!.error!, /HTTP 404/);
    assert.deepEqual(
        by(htmlPlaylist).map((i) => [i.type, i.status]),
        [['video', 'failed']],
    );
    assert.match(by(htmlPlaylist)[0]!.error!, /not an HLS playlist \(text\/html/);
    // The good page in the same crawl still delivers.
    assert.equal(by(seed)[0]?.status, 'ok');
});

test('the same video on two pages is downloaded once; the other page says so', async () => {
    const { seed } = server.pages;
    const player = server.videoPage('/media/seed/index.m3u8');
    const run = await runActor({ startUrls: [seed, player].map((url) => ({ url })), pageWaitSecs: 10 });
    assert.equal(run.code, 0, run.output.slice(-3000));
    const statuses = run.items.map((i) => i.status).sort();
    assert.deepEqual(statuses, ['ok', 'skipped'], JSON.stringify(run.items, null, 1));
    const ok = run.items.find((i) => i.status === 'ok')!;
    assert.match(
        run.items.find((i) => i.status === 'skipped')!.error!,
        new RegExp(`the same video as on ${ok.pageUrl.replace(/[?.]/g, '\\$&')}`),
    );
});

/**
 * A browser that leaves a mark when it is started (and then fails): CHROMIUM_PATH, the first variable
 * src/pages/browser-paths.ts reads, points the actor at it.
 */
async function markingBrowser(): Promise<{ env: Record<string, string>; started: () => boolean }> {
    const dir = await tempDir('browser');
    const mark = path.join(dir, 'started');
    const bin = path.join(dir, 'chromium');
    await writeFile(bin, `#!/bin/sh\necho "$@" > '${mark}'\nexit 1\n`, { mode: 0o755 });
    return { env: { CHROMIUM_PATH: bin }, started: () => existsSync(mark) };
}

test('invalid input fails fast, naming the field, before any browser starts and before the purge', async () => {
    const started = Date.now();
    const browser = await markingBrowser();
    // An item of an earlier run: Actor.init() purges the default dataset, so it survives only when the
    // input is refused before.
    const storage = await tempDir('run');
    const earlier = path.join(storage, 'datasets', 'default', '000000001.json');
    await mkdir(path.dirname(earlier), { recursive: true });
    await writeFile(earlier, '{"type":"video","status":"ok"}');
    const run = await runActor({ startUrls: [{ url: 'not-a-url' }] }, { storage, env: browser.env });
    assert.notEqual(run.code, 0);
    assert.match(run.output, /startUrls\[0\]\.url/);
    assert.equal(browser.started(), false, 'no browser was started');
    assert.ok(existsSync(earlier), "the earlier run's dataset was not purged");
    assert.ok(Date.now() - started < 30_000);
    const run2 = await runActor({ startUrls: [{ url: server.pages.seed }], videoQuality: 'best' });
    assert.notEqual(run2.code, 0);
    assert.match(run2.output, /videoQuality/);
});
