/**
 * Sites behind a login: the input's `cookies` and `headers` and a start URL's own `headers` reach the
 * pages and the media that need them, in the browser and in the crawler's own requests, and never a
 * host outside the start URLs' sites.
 */
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { HlsVideo } from '../src/demo/media.js';
import { runActor, tempDir } from './helpers/actor.js';
import { frameHashes } from './helpers/media.js';
import { galleryImages, hlsVideo } from './helpers/fixture-cache.js';

let server: Server;
let port: number;
let video: HlsVideo;
let imagesDir: string;
/** Headers every request to the third-party host (`localhost`, another site than 127.0.0.1) carried. */
const thirdParty: IncomingHttpHeaders[] = [];
const refused: string[] = [];

const loggedIn = (h: IncomingHttpHeaders): boolean => /(^|; )sid=abc(;|$)/.test(h.cookie ?? '') && h['x-token'] === 't';

before(async () => {
    const dir = await tempDir('login');
    video = await hlsVideo(path.join(dir, 'v'), { width: 320, height: 180, secs: 4, segSecs: 1, toneHz: 500 });
    imagesDir = path.join(dir, 'images');
    await galleryImages(imagesDir);
    server = createServer((req, res) => {
        const url = new URL(req.url!, 'http://x');
        const host = req.headers.host ?? '';
        if (host.startsWith('localhost')) {
            thirdParty.push(req.headers);
            return void createReadStream(path.join(imagesDir, 'g2.jpg')).pipe(
                res.writeHead(200, { 'content-type': 'image/jpeg' }),
            );
        }
        const p = url.pathname;
        // The direct playlist needs its own start URL header besides the login.
        const ok = loggedIn(req.headers) && (!p.startsWith('/direct/') || req.headers['x-direct'] === 'd');
        if (!ok) {
            refused.push(`${p} cookie=${req.headers.cookie ?? ''} token=${req.headers['x-token'] ?? ''}`);
            return void res.writeHead(403, { 'content-type': 'text/plain' }).end('log in first');
        }
        if (p === '/members/page.html') {
            const html = `<!doctype html><html><head><title>Members only</title></head><body>
<h1>Members only</h1><video src="/members/v/index.m3u8" controls></video>
<img src="/members/photo.jpg" alt="member photo"><img src="http://localhost:${port}/tracker/pixel.jpg" alt="ad">
</body></html>`;
            return void res.writeHead(200, { 'content-type': 'text/html' }).end(html);
        }
        if (p === '/members/photo.jpg') {
            return void createReadStream(path.join(imagesDir, 'g1.jpg')).pipe(
                res.writeHead(200, { 'content-type': 'image/jpeg' }),
            );
        }
        const media = /^\/(members|direct)\/v\/([\w.]+)$/.exec(p)?.[2];
        if (media) {
            const type = media.endsWith('.m3u8') ? 'application/vnd.apple.mpegurl' : 'video/mp2t';
            return void createReadStream(path.join(video.dir, media)).pipe(
                res.writeHead(200, { 'content-type': type }),
            );
        }
        res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
});
after(() => server?.close());

test('cookies, headers reach a members-only page, its video and image, a direct playlist, no other site', async () => {
    const origin = `http://127.0.0.1:${port}`;
    const run = await runActor({
        startUrls: [
            { url: `${origin}/members/page.html` },
            { url: `${origin}/direct/v/index.m3u8`, headers: { 'X-Direct': 'd' } },
        ],
        cookies: [
            { name: 'sid', value: 'abc', domain: '127.0.0.1', hostOnly: true, path: '/', sameSite: 'no_restriction' },
        ],
        headers: { 'X-Token': 't' },
        pageWaitSecs: 5,
        minImageWidth: 1,
        minImageHeight: 1,
    });
    assert.equal(run.code, 0, run.output.slice(-3000));
    const ok = run.items.filter((i) => i.status === 'ok');
    const summary = JSON.stringify(run.items, null, 1);
    assert.deepEqual(refused, [], `requests refused for want of the login: ${summary}`);
    const videos = ok.filter((i) => i.type === 'video');
    assert.equal(videos.length, 2, summary);
    for (const v of videos) {
        assert.deepEqual(await frameHashes(path.join(run.kvDir, `${v.key}.mp4`)), await frameHashes(video.source));
    }
    assert.ok(
        ok.some((i) => i.type === 'image' && i.url.endsWith('/members/photo.jpg')),
        summary,
    );
    assert.ok(thirdParty.length > 0, 'the page did load its third-party image');
    for (const h of thirdParty) {
        assert.equal(h['x-token'], undefined, 'the token went to another site');
        assert.equal(h['x-direct'], undefined);
        assert.doesNotMatch(h.cookie ?? '', /sid=/, 'the cookie went to another site');
    }
});
