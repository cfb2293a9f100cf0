/**
 * Issue 20 item 4, issue 21 item 6: signed URLs that expire mid-download on a slow CDN, end to end
 * through the real actor. HLS (clear and AES-128), DASH and a plain file are renewed as often as
 * needed and stored frame-exact; a video whose source cannot be renewed fails with EXPIRED; a refused
 * key fails its video once with KEY; a look at the source that failed is tried again.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { MediaItem } from '../src/results/output.js';
import { runActor, tempDir, type ActorRun } from './helpers/actor.js';
import { frameHashes, sha256 } from './helpers/media.js';
import { startExpiringServer, type ExpiringMedia, type ExpiringServer } from './fixtures/expiring-server.js';
import { expiringMedia } from './helpers/fixture-cache.js';

let media: ExpiringMedia;
const servers: ExpiringServer[] = [];

before(async () => {
    media = await expiringMedia(await tempDir('expiring'));
});
after(async () => {
    for (const s of servers) await s.close();
});

async function server(options: Parameters<typeof startExpiringServer>[1]): Promise<ExpiringServer> {
    const s = await startExpiringServer(media, options);
    servers.push(s);
    return s;
}

const itemOf = (run: ActorRun, url: string): MediaItem => {
    const item = run.items.find((i) => i.type === 'video' && i.url === url);
    assert.ok(
        item,
        `no video item for ${url}\n${JSON.stringify(
            run.items.map((i) => [i.url, i.status, i.error]),
            null,
            1,
        )}`,
    );
    return item;
};

const slowCdn = { bytesPerSec: 150_000, slots: { hls: 2, enc: 2, dash: 2, master: 2, signed: 2, file: 1 } };

test('URLs that expire mid-download are renewed as often as needed: HLS (plain, AES-128, signed media playlist under a master), DASH and a file, frame-exact', async () => {
    // 42 segments of ~45 kB per video at 150 kB/s, two at a time per video: ~6 s, signatures live 2.5 s.
    const s = await server({ ...slowCdn, ttlMs: 2500 });
    // The file's ranges are 4 MB, served one at a time at 2 MB/s: a later range starts after its signature expired.
    const fileServer = await server({ ttlMs: 2500, bytesPerSec: 2_000_000, slots: { file: 1 } });
    const urls = {
        hls: `${s.origin}/hls/index.m3u8`,
        enc: `${s.origin}/enc/index.m3u8`,
        master: `${s.origin}/master/index.m3u8`,
        dash: `${s.origin}/dash/manifest.mpd`,
        file: `${fileServer.origin}/file/video.mp4`,
    };
    const run = await runActor({ startUrls: Object.values(urls).map((url) => ({ url })), maxConcurrency: 4 });
    assert.equal(run.code, 0, run.output.slice(-3000));
    const source = await frameHashes(media.hls.source);
    for (const kind of ['hls', 'enc', 'master', 'dash'] as const) {
        const item = itemOf(run, urls[kind]);
        assert.equal(item.status, 'ok', `${kind}: ${item.error}`);
        const stored = await frameHashes(path.join(run.kvDir, `${item.key}.mp4`));
        assert.equal(stored.length, source.length, `${kind}: every frame`);
        assert.deepEqual(stored, source, `${kind}: frame-exact`);
    }
    const file = itemOf(run, urls.file);
    assert.equal(file.status, 'ok', file.error);
    assert.equal(
        file.sha256,
        await sha256(media.file),
        'the file byte for byte, its ranges continued at the fresh URL',
    );
    assert.deepEqual(await frameHashes(path.join(run.kvDir, `${file.key}.mp4`)), await frameHashes(media.file));
    // The expiry did hit mid-download, more than once, and the sources were read again each time.
    assert.ok((s.counts.expired ?? 0) >= 3, `expired answers: ${s.counts.expired}`);
    assert.ok((s.counts.playlist ?? 0) >= 4, `playlist reads (2 first reads and renewals): ${s.counts.playlist}`);
    assert.ok((s.counts.mpd ?? 0) >= 2, `MPD reads: ${s.counts.mpd}`);
    assert.ok((s.counts.master ?? 0) >= 2, `a refused media playlist is found again in its master: ${s.counts.master}`);
    assert.ok((fileServer.counts.expired ?? 0) >= 1, `file ranges refused: ${fileServer.counts.expired}`);
    assert.ok((fileServer.counts.redirect ?? 0) >= 2, `the file URL derived again: ${fileServer.counts.redirect}`);
    assert.doesNotMatch(run.output, /sig=[0-9a-f]{8}/, 'signatures never reach the log');
});

test('a source that cannot be renewed fails with EXPIRED', async () => {
    const s = await server({ ...slowCdn, ttlMs: 3000 });
    const once = `${s.origin}/hls/once.m3u8`;
    const run = await runActor({ startUrls: [{ url: once }], maxConcurrency: 3 });
    assert.equal(run.code, 0, run.output.slice(-3000));
    const item = itemOf(run, once);
    assert.equal(item.status, 'failed');
    assert.equal(item.errorCode, 'EXPIRED', item.error);
    assert.match(item.error ?? '', /^the URLs expired and could not be renewed: the source was refused too/);
    assert.equal(run.items.filter((i) => i.url === once).length, 1, 'one item');
});

test('a refused key fails its video once with KEY, and is not asked for once per segment', async () => {
    const s = await server({ ...slowCdn, ttlMs: 60_000, keyStatus: 403 });
    const enc = `${s.origin}/enc/index.m3u8`;
    const run = await runActor({ startUrls: [{ url: enc }], maxConcurrency: 3 });
    assert.equal(run.code, 0, run.output.slice(-3000));
    const item = itemOf(run, enc);
    assert.equal(item.status, 'failed');
    assert.equal(item.errorCode, 'KEY', item.error);
    assert.match(item.error ?? '', /key .*403/);
    assert.equal(run.items.filter((i) => i.url === enc).length, 1, 'one item');
    // Asked once, and again at the fresh URLs of at most two looks at the playlist (the video had not
    // started: a key that expired while the video waited is told apart from a refused one so), never per segment.
    assert.ok((s.counts.key ?? 0) <= 3, `key requests: ${s.counts.key}`);
    assert.ok((s.counts.playlist ?? 0) <= 3, `playlist reads: ${s.counts.playlist}`);
});

test('a look at the source that fails is not kept: the next expiry reads it again', async () => {
    // The first signatures expire mid-download; the playlist then answers 503 twice, so the first renewal
    // fails (its 2 attempts at maxRequestRetries 1); the unit's request is retried and renews again, and
    // those signatures last to the end. A failed renewal kept for the run failed the video here.
    const s = await server({ ...slowCdn, ttlMs: 2500, laterTtlMs: 120_000, failPlaylistReads: 2 });
    const url = `${s.origin}/hls/index.m3u8`;
    const run = await runActor({ startUrls: [{ url }], maxConcurrency: 3, maxRequestRetries: 1 });
    assert.equal(run.code, 0, run.output.slice(-3000));
    const item = itemOf(run, url);
    assert.equal(item.status, 'ok', item.error);
    assert.deepEqual(await frameHashes(path.join(run.kvDir, `${item.key}.mp4`)), await frameHashes(media.hls.source));
    assert.equal(s.counts.playlist, 4, 'the first read, two failed reads of the first renewal, the second renewal');
    assert.ok((s.counts.expired ?? 0) >= 1, `expired answers: ${s.counts.expired}`);
});

test('a source whose own URL expired is taken again from its page, rendered again; a page that no longer shows it fails the video with EXPIRED', async () => {
    // The playlist's URL is signed into the page and answers 2 reads; its segments live 2.5 s and take ~13 s
    // one at a time: the second renewal finds the playlist's URL refused, and only the page gives a new one.
    const s = await server({ ...slowCdn, slots: { signed: 1 }, ttlMs: 2500, pageUrlReads: 2 });
    const s2 = await server({ ...slowCdn, slots: { signed: 1 }, ttlMs: 2500, pageUrlReads: 2 });
    const page = `${s.origin}/page/signed.html`;
    const gone = `${s2.origin}/page/gone.html`;
    const run = await runActor({ startUrls: [{ url: page }, { url: gone }], maxConcurrency: 4, pageWaitSecs: 5 });
    assert.equal(run.code, 0, run.output.slice(-3000));
    const videos = (pageUrl: string) => run.items.filter((i) => i.type === 'video' && i.pageUrl === pageUrl);
    const [ok] = videos(page);
    assert.equal(videos(page).length, 1, JSON.stringify(run.items, null, 1));
    assert.equal(ok!.status, 'ok', ok!.error);
    assert.deepEqual(await frameHashes(path.join(run.kvDir, `${ok!.key}.mp4`)), await frameHashes(media.hls.source));
    // Rendered once by the crawl, then again at least once; its playlist's URL was refused in between.
    assert.ok((s.counts.page ?? 0) >= 2, `page renders: ${s.counts.page}`);
    assert.ok((s.counts.expired ?? 0) >= 2, `expired answers: ${s.counts.expired}`);
    assert.ok((s2.counts.page ?? 0) >= 2, `the taken-down page rendered again: ${s2.counts.page}`);
    const [failed] = videos(gone);
    assert.equal(videos(gone).length, 1, JSON.stringify(run.items, null, 1));
    assert.equal(failed!.status, 'failed');
    assert.equal(failed!.errorCode, 'EXPIRED', failed!.error);
    assert.match(failed!.error ?? '', /the page, rendered again, no longer shows it/);
    assert.doesNotMatch(run.output, /sig=[0-9a-f]{8}/, 'signatures never reach the log');
});
