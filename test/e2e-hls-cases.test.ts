/**
 * Issue 4 end to end: HLS as real sites serve it. Every downloaded MP4's decoded frames are
 * compared with the source the fixture was cut from.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startDemoServer, type DemoServer } from '../src/demo/server.js';
import type { MediaItem } from '../src/results/output.js';
import { runActor, tempDir, type ActorRun } from './helpers/actor.js';
import { topBoxes } from '../src/merge/faststart.js';
import { frameHashes, mediaInfo, sha256 } from './helpers/media.js';
import { demoMedia } from './helpers/fixture-cache.js';
import { faultFor } from './fixtures/faults.js';

let server: DemoServer;
let media: Awaited<ReturnType<typeof demoMedia>>;

before(async () => {
    const dir = await tempDir('cases');
    media = await demoMedia(dir);
    server = await startDemoServer({ mediaDir: dir, faults: faultFor });
});
after(() => server?.close());

const itemFor = (run: ActorRun, pageUrl: string): MediaItem => {
    const item = run.items.find((i) => i.pageUrl === pageUrl && i.type === 'video');
    assert.ok(item, `no item for ${pageUrl}\n${JSON.stringify(run.items, null, 1)}\n${run.output.slice(-2000)}`);
    return item;
};

async function assertFrames(run: ActorRun, pageUrl: string, sources: string[]): Promise<MediaItem> {
    const item = itemFor(run, pageUrl);
    assert.equal(item.status, 'ok', `${pageUrl}: ${item.error}`);
    const file = path.join(run.kvDir, `${item.key}.mp4`);
    const want = (await Promise.all(sources.map(frameHashes))).flat();
    assert.deepEqual(await frameHashes(file), want, `${pageUrl}: decoded frames differ from the source`);
    // The hash is computed while the MP4 is written (src/merge/faststart.ts): it must be the stored file's.
    assert.equal(item.sha256, await sha256(file), `${pageUrl}: the item's sha256 is not the stored file's`);
    const boxes = (await topBoxes(file)).map((b) => b.type);
    assert.deepEqual(boxes.slice(0, 2), ['ftyp', 'moov'], `${pageUrl}: the index is not in front: ${boxes.join(', ')}`);
    const info = await mediaInfo(file);
    assert.ok(
        info.streams.some((s) => s.type === 'audio'),
        `${pageUrl}: no audio`,
    );
    return item;
}

test('encryption, fMP4, byte ranges, discontinuities, audio renditions, disguises, click-to-play, hidden URLs, live', async () => {
    const s = media.cases.sources;
    const direct = (p: string): string => `${server.origin}/media/${p}`;
    const urls = {
        hidden: server.pages.hidden, // AES-128 with rotation, explicit and derived IVs, METHOD=NONE, data: key; URL built at run time
        iframe: server.pages.iframe, // encrypted master with two variants in a cross-origin iframe
        click: `${server.origin}/play/click.html?src=${encodeURIComponent('/media/disguised/index.m3u8')}`, // PNG-disguised segments behind a play button
        fmp4: direct('fmp4/index.m3u8'),
        range: direct('range/index.m3u8'),
        disc: direct('disc/index.m3u8'),
        altAudio: direct('alt-audio/master.m3u8'),
        live: direct('live/index.m3u8'),
    };
    const run = await runActor({ startUrls: Object.values(urls).map((url) => ({ url })), pageWaitSecs: 15 });
    assert.equal(run.code, 0, run.output.slice(-3000));
    await assertFrames(run, urls.hidden, [s.plain]);
    await assertFrames(run, urls.iframe, [s.high]);
    const click = await assertFrames(run, urls.click, [s.plain]);
    assert.match(click.url, /disguised\/index\.m3u8$/);
    await assertFrames(run, urls.fmp4, [s.fmp4]);
    // fMP4 (one init section, then fragments) is merged while it downloads, like plain MPEG-TS: remuxed live
    // when it gets one of the two live remuxes, else joined into its file. All the videos of this run download
    // at once (every connection busy from the start), so which ones get the remuxes depends on which first
    // units arrive first; test/live-remux.test.ts remuxes fMP4 stored out of order, frame-exact.
    const fmp4Line = run.output.split('\n').find((l) => l.includes('stored as') && l.includes(urls.fmp4));
    assert.match(fmp4Line ?? '', /(remuxed|joined) while it downloaded/, `fMP4 merged after the download: ${fmp4Line}`);
    // Sections (a discontinuity) are remuxed while they download too, a socket each (src/merge/section-sockets.ts),
    // or joined into their files when two other videos hold the live remuxes (src/merge/live-join.ts); a
    // separate audio rendition is always joined.
    const storedLine = (url: string): string =>
        run.output.split('\n').find((l) => l.includes('stored as') && l.includes(url)) ?? '';
    const discLine = storedLine(urls.disc);
    assert.match(discLine, /(remuxed|joined) while it downloaded/, `sections merged after the download: ${discLine}`);
    const altLine = storedLine(urls.altAudio);
    assert.match(altLine, /joined while it downloaded/, `audio rendition not joined while downloading: ${altLine}`);
    await assertFrames(run, urls.range, [s.range]);
    const disc = await assertFrames(run, urls.disc, [s.plain, s.high]);
    assert.ok(Math.abs(disc.durationSecs! - 11) < 0.5, `discontinuity video lasts ${disc.durationSecs}`);
    const alt = await assertFrames(run, urls.altAudio, [s.altAudio]);
    assert.equal(alt.hasAudio, true);
    const live = await assertFrames(run, urls.live, [s.plain]);
    assert.equal(live.live, true);
    assert.equal(
        run.items.length,
        8,
        JSON.stringify(
            run.items.map((i) => [i.pageUrl, i.url, i.status]),
            null,
            1,
        ),
    );
});

test('DRM, an HTML key, and a key refused without the page Referer fail with reasons', async () => {
    const direct = (p: string): string => `${server.origin}/media/${p}`;
    const urls = {
        drm: direct('drm/index.m3u8'),
        badkey: direct('badkey/index.m3u8'),
        noReferer: direct('enc/index.m3u8'),
    };
    const run = await runActor({ startUrls: Object.values(urls).map((url) => ({ url })), maxRequestRetries: 1 });
    assert.equal(run.code, 0, run.output.slice(-3000));
    assert.match(itemFor(run, urls.drm).error ?? '', /DRM-protected/);
    assert.match(itemFor(run, urls.badkey).error ?? '', /not a 16-byte AES-128 key/);
    assert.match(itemFor(run, urls.noReferer).error ?? JSON.stringify(itemFor(run, urls.noReferer)), /HTTP 403/);
    for (const item of run.items) assert.equal(item.status, 'failed');
    const stored = run.items.filter((i) => i.key);
    assert.deepEqual(stored, [], 'no garbage file is stored');
});
