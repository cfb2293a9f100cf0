/**
 * The network policy end to end, through a forward proxy on loopback that plays the internet
 * (test/fixtures/internet-proxy.ts), as a crawl on the platform goes through a proxy: one public
 * article page whose images, videos, frames, workers and scripts point into private networks, in
 * every written form, a public URL that redirects to the metadata address, and a public playlist
 * whose segments are on 10.0.0.9. No packet goes anywhere but loopback: private targets are
 * answered (and recorded) by the proxy itself.
 */
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { HlsVideo } from '../src/demo/media.js';
import { runActor, tempDir } from './helpers/actor.js';
import { frameHashes, sha256 } from './helpers/media.js';
import { CANARY, startInternetProxy, type InternetProxy } from './fixtures/internet-proxy.js';
import { galleryImages, hlsVideo } from './helpers/fixture-cache.js';

const PUBLIC = ['news.example', 'cdn.news.example'];
let origin: Server;
let originPort: number;
let proxy: InternetProxy;
let video: HlsVideo;
let imagesDir: string;
/** Requests that reached the origin server with a Host that is not one of the fake public hosts. */
const strays: string[] = [];

function articleHtml(): string {
    return `<!doctype html><html><head><title>Hostile article</title>
<link rel="preconnect" href="http://10.9.9.9"><link rel="dns-prefetch" href="http://metadata.internal">
</head><body><h1>Hostile article</h1>
<img src="http://news.example/photo.jpg" alt="public photo">
<img src="http://169.254.169.254/latest/meta-data/iam.png" alt="metadata">
<img src="http://10.1.2.3/photo.jpg" alt="ten">
<img src="http://2852039166/decimal.png" alt="decimal metadata">
<img src="http://[::ffff:a9fe:a9fe]/mapped.png" alt="mapped metadata">
<img src="http://localhost:${originPort}/local.png" alt="localhost">
<img src="http://news.example/go/metadata.png" alt="redirected">
<video src="http://cdn.news.example/good/index.m3u8"></video>
<video src="http://192.168.0.10/live/index.m3u8"></video>
<video src="http://cdn.news.example/bad/index.m3u8"></video>
<iframe src="http://10.1.2.3/admin"></iframe>
<a href="http://10.1.2.3/link">a link</a>
<script>
fetch('http://169.254.169.254/latest/meta-data/').catch(() => {});
new Worker('/worker.js');
if (navigator.serviceWorker) navigator.serviceWorker.register('/sw.js').catch(() => {});
try { new WebSocket('ws://10.1.2.3/socket'); } catch {}
</script>
</body></html>`;
}

before(async () => {
    const dir = await tempDir('netpolicy');
    video = await hlsVideo(path.join(dir, 'v'), { width: 320, height: 180, secs: 3, segSecs: 1, toneHz: 440 });
    imagesDir = path.join(dir, 'images');
    await galleryImages(imagesDir);
    origin = createServer((req, res) => {
        const host = (req.headers.host ?? '').replace(/:\d+$/, '');
        const p = new URL(req.url!, 'http://x').pathname;
        if (!PUBLIC.includes(host)) {
            strays.push(`${req.headers.host}${req.url}`);
            return void res.writeHead(200, { 'content-type': 'text/plain' }).end(CANARY);
        }
        const send = (type: string, body: string) => void res.writeHead(200, { 'content-type': type }).end(body);
        if (p === '/article.html') return send('text/html', articleHtml());
        if (p === '/photo.jpg')
            return void createReadStream(path.join(imagesDir, 'g1.jpg')).pipe(
                res.writeHead(200, { 'content-type': 'image/jpeg' }),
            );
        if (p === '/go/metadata.png')
            return void res
                .writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/redirected.png' })
                .end();
        if (p === '/worker.js') return send('text/javascript', "fetch('http://10.1.2.3/from-worker').catch(() => {});");
        if (p === '/sw.js') return send('text/javascript', "fetch('http://10.1.2.3/from-service-worker');");
        const m = /^\/(good|bad)\/([\w.]+)$/.exec(p);
        if (m?.[2] === 'index.m3u8') {
            return void readFile(video.playlist, 'utf8').then((text) =>
                send(
                    'application/vnd.apple.mpegurl',
                    m[1] === 'bad' ? text.replace(/^(seg_\d+\.ts)$/gm, 'http://10.0.0.9/$1') : text,
                ),
            );
        }
        if (m?.[1] === 'good')
            return void createReadStream(path.join(video.dir, m[2]!))
                .on('error', () => res.writeHead(404).end())
                .pipe(res.writeHead(200, { 'content-type': 'video/mp2t' }));
        res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    originPort = (origin.address() as AddressInfo).port;
    proxy = await startInternetProxy(PUBLIC, originPort);
});

after(async () => {
    await proxy?.close();
    await new Promise((resolve) => origin?.close(resolve));
});

test('a public page pointing into private networks: nothing private is requested or stored, every target says why', async () => {
    const run = await runActor(
        {
            startUrls: [{ url: 'http://news.example/article.html' }],
            proxyConfiguration: { useApifyProxy: false, proxyUrls: [proxy.url] },
            pageWaitSecs: 5,
            maxRequestRetries: 1,
        },
        { timeoutMs: 150_000 },
    );
    assert.equal(run.code, 0, run.output.slice(-3000));
    const notOrigin = proxy.requests.filter((r) => r.answer !== 'origin');
    // Nothing but the test's own hosts reached the proxy: no private target, no browser phoning home.
    assert.deepEqual(notOrigin, [], JSON.stringify(notOrigin, null, 1));
    assert.deepEqual(strays, [], 'requests that went around the proxy to a loopback port');

    const refused = run.items.filter((i) => i.errorCode === 'PRIVATE_NETWORK');
    for (const i of refused) {
        assert.equal(i.status, 'skipped', JSON.stringify(i));
        assert.match(i.error ?? '', /^refused: .+ \(the start URL is public\)/, JSON.stringify(i));
    }
    const targets: [string, RegExp][] = [
        ['metadata image', /^http:\/\/169\.254\.169\.254\/latest\/meta-data\/iam\.png$/],
        ['10.1.2.3 image', /^http:\/\/10\.1\.2\.3\/photo\.jpg$/],
        ['decimal metadata', /^http:\/\/(169\.254\.169\.254|2852039166)\/decimal\.png$/],
        ['mapped metadata', /^http:\/\/\[::ffff:(a9fe:a9fe|169\.254\.169\.254)\]\/mapped\.png$/],
        ['localhost', new RegExp(`^http://localhost:${originPort}/local\\.png$`)],
        ['redirect', /(news\.example\/go\/metadata\.png|169\.254\.169\.254\/latest\/meta-data\/redirected\.png)$/],
        ['private playlist', /^http:\/\/192\.168\.0\.10\/live\/index\.m3u8$/],
        ['public playlist, private segments', /^http:\/\/cdn\.news\.example\/bad\/index\.m3u8$/],
    ];
    for (const [what, url] of targets) {
        assert.ok(
            refused.some((i) => url.test(i.url)),
            `${what}: no PRIVATE_NETWORK item\n${JSON.stringify(run.items, null, 1)}`,
        );
    }
    const bad = refused.find((i) => i.url.endsWith('/bad/index.m3u8'));
    assert.match(bad?.error ?? '', /10\.0\.0\.9 is in a private network/);
    // Nothing stored from a private target, and the public media exact.
    const ok = run.items.filter((i) => i.status === 'ok');
    assert.deepEqual(ok.map((i) => i.url).sort(), [
        'http://cdn.news.example/good/index.m3u8',
        'http://news.example/photo.jpg',
    ]);
    const photo = ok.find((i) => i.type === 'image')!;
    assert.equal(photo.sha256, await sha256(path.join(imagesDir, 'g1.jpg')));
    const stored = ok.find((i) => i.type === 'video')!;
    assert.deepEqual(await frameHashes(path.join(run.kvDir, `${stored.key}.mp4`)), await frameHashes(video.source));
    // Refused page subresources are counted in the run summary and the report.
    assert.match(run.output, /page requests? refused by the network policy/);
    const report = await readFile(path.join(run.kvDir, 'REPORT.html'), 'utf8');
    assert.match(report, /\d+ page requests? refused \(private networks\)/);
});

test('allowPrivateNetwork lets the same page reach them (through the proxy, which answers them itself)', async () => {
    const before = proxy.requests.length;
    const run = await runActor(
        {
            startUrls: [{ url: 'http://news.example/article.html' }],
            proxyConfiguration: { useApifyProxy: false, proxyUrls: [proxy.url] },
            pageWaitSecs: 3,
            maxRequestRetries: 0,
            allowPrivateNetwork: true,
            downloadVideos: false,
        },
        { timeoutMs: 150_000 },
    );
    assert.equal(run.code, 0, run.output.slice(-3000));
    assert.equal(run.items.filter((i) => i.errorCode === 'PRIVATE_NETWORK').length, 0);
    const reached = proxy.requests.slice(before).filter((r) => r.answer === 'canary');
    assert.ok(
        reached.some((r) => r.host === '10.1.2.3'),
        JSON.stringify(reached),
    );
});
