/**
 * Credentials go only where a browser would send them, and no secret is at rest: a members-only page
 * that sets its own cookie, its images and video partly on another host (127.0.0.2, "a CDN") that
 * records every Cookie and secret header it receives, redirects between the two hosts, and a run killed
 * mid-download and resumed (CRAWLEE_PURGE_ON_START=0), so the named queues and state are scanned too.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { HlsVideo } from '../src/demo/media.js';
import { runActor, spawnActor, tempDir, type ActorRun } from './helpers/actor.js';
import { frameHashes } from './helpers/media.js';
import { galleryImages, hlsVideo } from './helpers/fixture-cache.js';

const secret = (label: string): string => `${label}${randomBytes(12).toString('hex')}`;
const INPUT_COOKIE = secret('ck');
const INPUT_HEADER = secret('hd');
const SOURCE_HEADER = secret('sh');
const PAGE_COOKIE = secret('pc');
const SECRETS = { INPUT_COOKIE, INPUT_HEADER, SOURCE_HEADER, PAGE_COOKIE };

let site: Server;
let cdn: Server;
let port: number;
let video: HlsVideo;
let imagesDir: string;
/** Every request the other host received: path, and the headers that must never reach it. */
const atCdn: { path: string; headers: IncomingHttpHeaders }[] = [];
const refused: string[] = [];
let segmentRequests = 0;
let firstSegment!: () => void;
const firstSegmentAsked = new Promise<void>((resolve) => (firstSegment = resolve));

const has = (h: IncomingHttpHeaders, cookie: string, value: string): boolean =>
    new RegExp(`(^|; )${cookie}=${value}(;|$)`).test(h.cookie ?? '');
const image = (res: import('node:http').ServerResponse, name: string): void =>
    void createReadStream(path.join(imagesDir, name)).pipe(res.writeHead(200, { 'content-type': 'image/jpeg' }));

before(async () => {
    const dir = await tempDir('secrets');
    video = await hlsVideo(path.join(dir, 'v'), { width: 320, height: 180, secs: 4, segSecs: 1, toneHz: 700 });
    imagesDir = path.join(dir, 'images');
    await galleryImages(imagesDir);
    const cdnOrigin = () => `http://127.0.0.2:${port}`;
    site = createServer((req, res) => {
        const p = new URL(req.url!, 'http://x').pathname;
        const h = req.headers;
        // The input's cookie and header on every request of the site; the page also its source's header.
        let ok = has(h, 'sid', INPUT_COOKIE) && h['x-api-key'] === INPUT_HEADER;
        if (p === '/secret/page.html') ok &&= h['x-source'] === SOURCE_HEADER;
        // The playlist needs the cookie the page set (the session a site hands out on its page).
        if (p.endsWith('.m3u8')) ok &&= has(h, 'pagesess', PAGE_COOKIE);
        if (!ok) {
            refused.push(
                `${p} cookie=${h.cookie ?? ''} key=${h['x-api-key'] ?? ''} ua=${h['user-agent']} ref=${h.referer}`,
            );
            return void res.writeHead(403).end('log in first');
        }
        if (p === '/secret/page.html') {
            const c = cdnOrigin();
            const html = `<!doctype html><html><head><title>Secret page</title></head><body>
<h1>Secret page</h1><video src="/secret/v/index.m3u8" controls></video>
<img src="/secret/photo.jpg" alt="own host">
<img src="${c}/cdn/small.jpg" srcset="${c}/cdn/small.jpg 100w, ${c}/cdn/big.jpg 1000w" sizes="100px" alt="cdn">
<img src="/secret/s.jpg" srcset="/secret/s.jpg 100w, /secret/hop.jpg 1000w" sizes="100px" alt="redirected">
</body></html>`;
            return void res
                .writeHead(200, {
                    'content-type': 'text/html',
                    'set-cookie': `pagesess=${PAGE_COOKIE}; Path=/; HttpOnly`,
                })
                .end(html);
        }
        if (p === '/secret/photo.jpg') return image(res, 'g1.jpg');
        if (p === '/secret/s.jpg') return image(res, 's-320.jpg');
        if (p === '/secret/back.jpg') return image(res, 'io-1.jpg');
        // Own host → CDN → own host: each hop must get its own host's credentials, and only those.
        if (p === '/secret/hop.jpg') return void res.writeHead(302, { location: `${cdnOrigin()}/cdn/hop.jpg` }).end();
        if (p === '/secret/v/index.m3u8') {
            const text = readFileSync(video.playlist, 'utf8').replace(/^(seg_\w+\.ts)$/gm, `${cdnOrigin()}/cdn/seg/$1`);
            return void res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' }).end(text);
        }
        res.writeHead(404).end();
    });
    cdn = createServer((req, res) => {
        const p = new URL(req.url!, 'http://x').pathname;
        atCdn.push({ path: p, headers: req.headers });
        if (p === '/cdn/small.jpg') return image(res, 'g4.webp');
        if (p === '/cdn/big.jpg') return image(res, 'g2.jpg');
        if (p === '/cdn/hop.jpg') {
            return void res.writeHead(302, { location: `http://127.0.0.1:${port}/secret/back.jpg` }).end();
        }
        const seg = /^\/cdn\/seg\/(seg_\w+\.ts)$/.exec(p)?.[1];
        if (seg) {
            segmentRequests++;
            firstSegment();
            // Slow enough that the first run is killed with the video half downloaded.
            return void setTimeout(
                () =>
                    createReadStream(path.join(video.dir, seg)).pipe(
                        res.writeHead(200, { 'content-type': 'video/mp2t' }),
                    ),
                2500,
            );
        }
        res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    port = (site.address() as AddressInfo).port;
    await new Promise<void>((resolve) => cdn.listen(port, '127.0.0.2', resolve));
});
after(() => {
    site?.close();
    cdn?.close();
});

/** Every file under `dir` (raw bytes) that holds one of the secrets, as `file: NAME`. */
async function secretsIn(dir: string, skip: (file: string) => boolean): Promise<string[]> {
    const found: string[] = [];
    const walk = async (d: string): Promise<void> => {
        for (const name of await readdir(d).catch(() => [] as string[])) {
            const file = path.join(d, name);
            const s = await stat(file).catch(() => undefined);
            if (!s) continue;
            if (s.isDirectory()) await walk(file);
            else if (s.isFile() && !skip(file)) {
                const bytes = await readFile(file).catch(() => Buffer.alloc(0));
                for (const [label, value] of Object.entries(SECRETS)) {
                    if (bytes.includes(value)) found.push(`${path.relative(dir, file)}: ${label}`);
                }
            }
        }
    };
    await walk(dir);
    return found;
}

test(
    'credentials only where a browser sends them; none at rest, killed and resumed',
    { timeout: 300_000 },
    async () => {
        const origin = `http://127.0.0.1:${port}`;
        const storage = await tempDir('secrets-run');
        const input = {
            startUrls: [{ url: `${origin}/secret/page.html`, headers: { 'X-Source': SOURCE_HEADER } }],
            cookies: [{ name: 'sid', value: INPUT_COOKIE, domain: '127.0.0.1', hostOnly: true, path: '/' }],
            headers: { 'X-Api-Key': INPUT_HEADER },
            pageWaitSecs: 4,
            minImageWidth: 1,
            minImageHeight: 1,
            maxConcurrency: 1,
            outputDir: path.join(storage, 'downloads'),
        };
        const inputFile = path.join(storage, 'key_value_stores', 'default', 'INPUT.json');
        // The input record is the user's own; everything else the runs write is scanned.
        const notInput = (file: string): boolean => file === inputFile;

        // Everything that went wrong, so a run shows all its leaks at once.
        const problems: string[] = [];
        const first = await spawnActor(input, { storage });
        await firstSegmentAsked;
        // Killed once the run's named download queue and state store are on disk, the video half downloaded.
        const onDisk = async (prefix: string, kind: string): Promise<boolean> => {
            const dirs = (await readdir(path.join(storage, kind)).catch(() => [] as string[])).filter((d) =>
                d.startsWith(prefix),
            );
            const files = await Promise.all(dirs.map((d) => readdir(path.join(storage, kind, d)).catch(() => [])));
            return files.some((f) => f.some((name) => name.endsWith('.json') && !name.startsWith('__')));
        };
        for (let waited = 0; waited < 20_000; waited += 200) {
            if ((await onDisk('state-', 'key_value_stores')) && (await onDisk('downloads-', 'request_queues'))) break;
            await new Promise((resolve) => setTimeout(resolve, 200));
        }
        first.child.kill('SIGKILL');
        const killed: ActorRun = await first.done;
        assert.ok(await onDisk('state-', 'key_value_stores'), 'the state store was on disk at the kill');
        assert.ok(await onDisk('downloads-', 'request_queues'), 'the download queue was on disk at the kill');
        assert.ok(segmentRequests < video.segments, `the first run was to be killed mid-download (${segmentRequests})`);
        for (const found of await secretsIn(storage, notInput)) problems.push(`at rest after the kill: ${found}`);

        const resumed = await (await spawnActor(undefined, { storage, env: { CRAWLEE_PURGE_ON_START: '0' } })).done;
        assert.equal(resumed.code, 0, resumed.output.slice(-3000));

        // The other host: never the input's cookie or headers, never the page's cookie, whoever asked.
        for (const { path: p, headers } of atCdn) {
            const sent = JSON.stringify(headers);
            for (const [label, value] of Object.entries(SECRETS))
                if (sent.includes(value)) problems.push(`${label} went to ${p}`);
            if (headers.cookie !== undefined) problems.push(`a Cookie header went to ${p}`);
        }
        for (const found of await secretsIn(storage, notInput))
            problems.push(`at rest after the resumed run: ${found}`);
        for (const [label, value] of Object.entries(SECRETS)) {
            if (killed.output.includes(value) || resumed.output.includes(value)) problems.push(`${label} in the log`);
        }
        for (const r of refused) problems.push(`the site refused a request without its login: ${r}`);
        assert.deepEqual(problems, []);

        const summary = JSON.stringify(resumed.items, null, 1);
        const ok = resumed.items.filter((i) => i.status === 'ok');
        const videos = ok.filter((i) => i.type === 'video');
        assert.equal(videos.length, 1, summary);
        const stored = path.join(resumed.kvDir, `${videos[0]!.key}.mp4`);
        assert.deepEqual(await frameHashes(stored), await frameHashes(video.source));
        for (const name of ['/secret/photo.jpg', '/cdn/big.jpg', '/secret/hop.jpg']) {
            assert.ok(
                ok.some((i) => i.type === 'image' && i.url.endsWith(name)),
                `${name} stored: ${summary}`,
            );
        }
        assert.ok(
            atCdn.some((r) => r.path === '/cdn/big.jpg'),
            'the downloader fetched the CDN image',
        );
        assert.ok(
            atCdn.some((r) => r.path === '/cdn/hop.jpg'),
            'the redirect went through the CDN',
        );
    },
);

test(
    'with local workers: the same, and each worker keeps the secrets in its own memory',
    { timeout: 300_000 },
    async () => {
        atCdn.length = 0;
        refused.length = 0;
        const origin = `http://127.0.0.1:${port}`;
        const storage = await tempDir('secrets-workers');
        const run = await runActor(
            {
                startUrls: [
                    { url: `${origin}/secret/page.html`, headers: { 'X-Source': SOURCE_HEADER } },
                    { url: `${origin}/secret/page.html?again`, headers: { 'X-Source': SOURCE_HEADER } },
                ],
                cookies: [{ name: 'sid', value: INPUT_COOKIE, domain: '127.0.0.1', hostOnly: true, path: '/' }],
                headers: { 'X-Api-Key': INPUT_HEADER },
                pageWaitSecs: 4,
                minImageWidth: 1,
                minImageHeight: 1,
                workers: 2,
                outputDir: path.join(storage, 'downloads'),
            },
            { storage },
        );
        assert.equal(run.code, 0, run.output.slice(-3000));
        const problems: string[] = [];
        for (const { path: p, headers } of atCdn) {
            const sent = JSON.stringify(headers);
            for (const [label, value] of Object.entries(SECRETS))
                if (sent.includes(value)) problems.push(`${label} went to ${p}`);
            if (headers.cookie !== undefined) problems.push(`a Cookie header went to ${p}`);
        }
        const inputFile = path.join(storage, 'key_value_stores', 'default', 'INPUT.json');
        for (const found of await secretsIn(storage, (f) => f === inputFile)) problems.push(`at rest: ${found}`);
        for (const [label, value] of Object.entries(SECRETS))
            if (run.output.includes(value)) problems.push(`${label} in the log`);
        for (const r of refused) problems.push(`the site refused a request without its login: ${r}`);
        assert.deepEqual(problems, []);
        const videos = run.items.filter((i) => i.status === 'ok' && i.type === 'video');
        assert.equal(videos.length, 1, JSON.stringify(run.items, null, 1));
        assert.ok(
            atCdn.some((r) => r.path === '/cdn/big.jpg'),
            'the downloader fetched the CDN image',
        );
    },
);
