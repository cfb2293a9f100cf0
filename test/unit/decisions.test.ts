import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { findBrowser, BrowserNotFoundError } from '../../src/pages/browser.js';
import { isPlaylistContentType, isPlaylistUrl } from '../../src/pages/capture.js';
import { findManifestUrls } from '../../src/pages/dom-scan.js';
import { keyFromText, uniqueKey } from '../../src/output.js';
import { isRetryableStatus, retryDelayMs, RETRY_CAP_MS } from '../../src/net/retry.js';
import { forwardableHeaders, redactHeaders } from '../../src/net/headers.js';
import { redactUrl } from '../../src/net/fetch.js';
import { CorruptUnitError } from '../../src/errors.js';
import { imageHeaderKind, rangeSlicer, SegmentInspector, tsPayloadOffset } from '../../src/download/segment-bytes.js';
import { checkKey, KeyError } from '../../src/download/keys.js';
import { concatOrder, sections } from '../../src/merge/concat.js';
import { missingSequences } from '../../src/merge/finish.js';
import { containerOf, parseMediaInfo } from '../../src/merge/ffmpeg.js';
import type { VideoJob } from '../../src/model.js';
import {
    continuationRequest,
    MAX_UNITS_PER_REQUEST,
    unitRequests,
    unitsPerRequest,
} from '../../src/download/unit-tasks.js';
import type { SegmentPlan, TrackPlan, VideoPlan } from '../../src/model.js';

test('key naming: safe characters, stable fallback, unique suffixes', () => {
    assert.equal(keyFromText('Big Buck Bunny: Episode 1 (HD)', 'video', 'u'), 'Big-Buck-Bunny-Episode-1-(HD)');
    assert.equal(keyFromText('Crème brûlée', 'video', 'u'), 'Creme-brulee');
    assert.equal(keyFromText('../../etc/passwd', 'video', 'u'), 'etc-passwd');
    // Text with nothing to transliterate (names.test.ts has the scripts that have): a stable hash.
    const emoji = keyFromText('🎬🍿', 'video', 'https://a.test/1');
    assert.match(emoji, /^video-[0-9a-f]{10}$/);
    assert.equal(keyFromText('🎬🍿', 'video', 'https://a.test/1'), emoji);
    assert.notEqual(keyFromText('🎬🍿', 'video', 'https://a.test/2'), emoji);
    const long = keyFromText('x'.repeat(500) + '\u0000\u001f😀', 'video', 'u');
    assert.ok(long.length <= 120 && /^[a-zA-Z0-9!_.'()-]+$/.test(long));
    const taken = new Set(['a', 'a-2']);
    assert.equal(
        uniqueKey('a', (k) => taken.has(k)),
        'a-3',
    );
    assert.equal(
        uniqueKey('b', (k) => taken.has(k)),
        'b',
    );
});

test('retry delay: exponential, capped, honours Retry-After', () => {
    assert.equal(retryDelayMs(1), 400);
    assert.equal(retryDelayMs(2), 800);
    assert.equal(retryDelayMs(30), RETRY_CAP_MS);
    assert.equal(retryDelayMs(1, '3'), 3000);
    assert.equal(retryDelayMs(1, new Date(10_000).toUTCString(), 5_000), 5000);
    assert.equal(retryDelayMs(1, '99999'), 60_000);
    assert.equal(retryDelayMs(2, 'garbage'), 800);
    assert.ok(isRetryableStatus(503) && isRetryableStatus(429) && !isRetryableStatus(404) && !isRetryableStatus(403));
});

test('playlist detection by URL and content type', () => {
    assert.ok(isPlaylistUrl('https://cdn.test/a/index.m3u8?token=1'));
    assert.ok(!isPlaylistUrl('https://cdn.test/a/index.m3u8.jpg'));
    assert.ok(!isPlaylistUrl('file:///x.m3u8'));
    assert.ok(isPlaylistContentType('application/vnd.apple.mpegurl; charset=utf-8'));
    assert.ok(isPlaylistContentType('application/x-mpegURL'));
    assert.ok(!isPlaylistContentType('text/html'));
});

test('playlist URLs in page source: quoted, relative, JSON-escaped, never non-http', () => {
    const html = `<script>var now="https://ikcdn01.test/20221015/ecMSO74h/index.m3u8";
var cfg = {"src":"https:\\/\\/cdn.test\\/v\\/master.m3u8?sig=a&amp;e=1"};
player.load('/rel/path/video.m3u8'); var bad = "file:///etc/x.m3u8"; var notme = "/a.mp4";</script>`;
    assert.deepEqual(findManifestUrls(html, 'http://site.test/play/1.html'), [
        'https://ikcdn01.test/20221015/ecMSO74h/index.m3u8',
        'https://cdn.test/v/master.m3u8?sig=a&e=1',
        'http://site.test/rel/path/video.m3u8',
    ]);
});

test('headers: hop-by-hop dropped, secrets redacted, URLs without tokens', () => {
    const h = forwardableHeaders({
        ':authority': 'x',
        Host: 'a',
        Referer: 'http://p',
        'User-Agent': 'UA',
        Cookie: 'sid=1',
        Range: 'bytes=0-1',
        accept: ['a', 'b'],
    });
    assert.deepEqual(h, { referer: 'http://p', 'user-agent': 'UA', cookie: 'sid=1', accept: 'a, b' });
    assert.equal(redactHeaders(h).cookie, '<redacted>');
    assert.equal(redactUrl('https://user:pw@cdn.test/a.m3u8?token=secret'), 'https://cdn.test/a.m3u8?…');
});

test('browser lookup order: env variable, then system paths, else a clear error', () => {
    assert.equal(
        findBrowser({ CHROMIUM_PATH: '/opt/c' }, (p) => p === '/opt/c' || p === '/usr/bin/chromium'),
        '/opt/c',
    );
    assert.equal(
        findBrowser({}, (p) => p === '/usr/bin/chromium-browser'),
        '/usr/bin/chromium-browser',
    );
    assert.throws(() => findBrowser({}, () => false), BrowserNotFoundError);
});

const ts = (packets: number): Buffer => {
    const b = Buffer.alloc(188 * packets, 0xaa);
    for (let i = 0; i < packets; i++) b[i * 188] = 0x47;
    return b;
};

test('segment de-disguising: TS behind PNG/JPEG/GIF/BMP headers', () => {
    assert.equal(tsPayloadOffset(ts(4)), 0);
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(100, 1), ts(4)]);
    assert.equal(imageHeaderKind(png), 'png');
    assert.equal(tsPayloadOffset(png), 116);
    const gif = Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(30, 0), ts(3)]);
    assert.equal(tsPayloadOffset(gif), 36);
    const bmp = Buffer.concat([Buffer.from('BM'), Buffer.alloc(52, 0), ts(3)]);
    assert.equal(tsPayloadOffset(bmp), 54);
    assert.equal(tsPayloadOffset(Buffer.from('....ftypisom')), undefined);
});

async function inspect(input: Buffer, chunk = 1000): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (let i = 0; i < input.length; i += chunk) parts.push(input.subarray(i, i + chunk));
    const out: Buffer[] = [];
    await pipeline(Readable.from(parts), new SegmentInspector(), async function* (src) {
        for await (const c of src) out.push(c as Buffer);
    });
    return Buffer.concat(out);
}

test('segment inspector strips disguises and rejects truncated or corrupt TS', async () => {
    const body = ts(400);
    assert.deepEqual(
        await inspect(Buffer.concat([Buffer.from('ffd8ffe000104a464946', 'hex'), Buffer.alloc(200), body])),
        body,
    );
    assert.deepEqual(await inspect(body, 7), body);
    await assert.rejects(inspect(body.subarray(0, body.length - 10)), CorruptUnitError);
    const broken = Buffer.from(body);
    broken[188 * 300] = 0;
    await assert.rejects(inspect(broken), /sync byte missing at offset 56400/);
    await assert.rejects(inspect(Buffer.alloc(0)), /empty/);
    const mp4 = Buffer.concat([Buffer.from('00000018', 'hex'), Buffer.from('ftypiso5'), Buffer.alloc(1001, 3)]);
    assert.deepEqual(await inspect(mp4), mp4);
});

test('range slicer cuts a part out of a full body', async () => {
    const out: Buffer[] = [];
    await pipeline(
        Readable.from([Buffer.from('0123456789'), Buffer.from('abcdef')]),
        rangeSlicer(8, 5),
        async function* (src) {
            for await (const c of src) out.push(c as Buffer);
        },
    );
    assert.equal(Buffer.concat(out).toString(), '89abc');
});

test('AES keys must be 16 bytes', () => {
    assert.equal(checkKey(Buffer.alloc(16), 'application/octet-stream', 'http://k').length, 16);
    assert.throws(
        () => checkKey(Buffer.from('<html>nope</html>'), 'text/html', 'http://k/key?t=1'),
        (e: Error) => e instanceof KeyError && /17 bytes \(text\/html\)/.test(e.message),
    );
});

const job = (tracks: VideoJob['tracks']): VideoJob => ({
    id: 'j',
    format: 'hls',
    pageUrl: 'p',
    url: 'u',
    variantUrl: 'u',
    headers: {},
    durationSecs: 1,
    live: false,
    tracks,
    delivery: 'remux',
    status: 'downloading',
});

test('concat order: media sequence order with init sections where they change', () => {
    assert.deepEqual(concatOrder({ name: 'v', sourceUrl: '', bytes: 'segments', segments: 3, inits: 0, firstSeq: 0 }), [
        'v-seg-000000.bin',
        'v-seg-000001.bin',
        'v-seg-000002.bin',
    ]);
    assert.deepEqual(
        concatOrder({
            name: 'v',
            sourceUrl: '',
            bytes: 'segments',
            segments: 3,
            inits: 2,
            segmentInit: [0, 0, 1],
            firstSeq: 0,
        }),
        ['v-init-000000.bin', 'v-seg-000000.bin', 'v-seg-000001.bin', 'v-init-000001.bin', 'v-seg-000002.bin'],
    );
    assert.deepEqual(
        sections({
            name: 'v',
            sourceUrl: '',
            bytes: 'segments',
            segments: 10,
            inits: 0,
            firstSeq: 0,
            discontinuities: [4, 7],
        }),
        [
            [0, 4],
            [4, 7],
            [7, 10],
        ],
    );
    assert.deepEqual(sections({ name: 'v', sourceUrl: '', bytes: 'segments', segments: 3, inits: 0, firstSeq: 0 }), [
        [0, 3],
    ]);
    assert.deepEqual(
        concatOrder(
            {
                name: 'a',
                sourceUrl: '',
                bytes: 'segments',
                segments: 4,
                inits: 1,
                segmentInit: [0, 0, 0, 0],
                firstSeq: 0,
            },
            2,
            4,
        ),
        ['a-init-000000.bin', 'a-seg-000002.bin', 'a-seg-000003.bin'],
    );
    assert.deepEqual(
        missingSequences(
            job([{ name: 'v', sourceUrl: '', bytes: 'segments', segments: 20, inits: 0, firstSeq: 100 }]),
            ['v-seg-000012.bin', 'v-seg-000003.bin'],
        ),
        [103, 112],
    );
});

test('ffmpeg input table parsing and container sniffing', () => {
    const info = parseMediaInfo(`Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'x.mp4':
  Duration: 00:01:05.04, start: 0.000000, bitrate: 254 kb/s
    Stream #0:0(und): Video: h264 (Constrained Baseline) (avc1 / 0x31637661), yuv420p, 640x360 [SAR 1:1 DAR 16:9], 185 kb/s, 25 fps
    Stream #0:1(und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, mono, fltp, 64 kb/s
    Stream #0:2: Data: timed_id3 (ID3  / 0x20334449)`);
    assert.equal(info.durationSecs, 65.04);
    assert.deepEqual(
        info.streams.map((s) => [s.type, s.codec, s.width, s.height]),
        [
            ['video', 'h264', 640, 360],
            ['audio', 'aac', undefined, undefined],
            ['other', 'timed_id3', undefined, undefined],
        ],
    );
    assert.equal(containerOf(ts(2)), 'mpegts');
    assert.equal(containerOf(Buffer.from('\0\0\0\x18ftypiso5')), 'mov');
    assert.equal(containerOf(Buffer.from('ID3\x04\0')), 'aac');
    assert.equal(containerOf(Buffer.from([0xff, 0xf1, 0x50])), 'aac');
});

test('progress line and ETA', async () => {
    const { formatEta, progressLine } = await import('../../src/progress.js');
    assert.equal(formatEta(125), '2:05');
    assert.equal(formatEta(Number.NaN), '–');
    assert.equal(
        progressLine(2, [{ title: 'A video', done: 10, total: 110 }], 12.34, 50),
        'pages 2 · videos in progress 1 (A video 10/110) · 12.3 MB/s · ETA 0:02',
    );
    assert.match(progressLine(0, [], 0, 0), /ETA –$/);
});

test('report escapes what pages control and links every stored file', async () => {
    const { renderReport } = await import('../../src/report.js');
    const html = renderReport(
        [
            {
                type: 'video',
                status: 'ok',
                pageUrl: 'http://p',
                url: 'http://u',
                title: '<script>x</script>',
                key: 'v1',
                contentType: 'video/mp4',
                bytes: 2_500_000,
                durationSecs: 65,
                width: 640,
                height: 360,
                thumbnailKey: 'v1-thumb',
            },
            { type: 'page', status: 'failed', pageUrl: 'http://p2', url: 'http://p2', error: 'HTTP 404 "quoted"' },
        ],
        (key, ct) => `${key}.${ct === 'video/mp4' ? 'mp4' : 'png'}`,
    );
    assert.ok(!html.includes('<script>x'));
    assert.match(html, /href="v1\.mp4"/);
    assert.match(html, /src="v1-thumb\.png"/);
    assert.match(html, /1:05 · 640×360 · 2\.5 MB/);
    assert.match(html, /data-item="1"/);
});

test('log redaction: query tokens, URL credentials, cookies', async () => {
    const { redactData, redactText } = await import('../../src/net/redact-log.js');
    assert.equal(
        redactText('failed http://user:pw@cdn.test/a/seg1.ts?token=SECRET after 3 tries'),
        'failed http://cdn.test/a/seg1.ts?… after 3 tries',
    );
    const data = redactData({
        url: 'https://cdn.test/x.m3u8?sig=abc',
        headers: { cookie: 'sid=1', referer: 'https://p.test/' },
        nested: { proxyUrl: 'http://u:p@proxy:8000' },
    });
    // The whole result: secrets replaced, everything else kept (a result that dropped the data would
    // also hold no secret).
    assert.deepEqual(data, {
        url: 'https://cdn.test/x.m3u8?…',
        headers: { cookie: '<redacted>', referer: 'https://p.test/' },
        nested: { proxyUrl: '<redacted>' },
    });
});

test('download requests: about one per allowed connection, never fewer, in playback order', () => {
    assert.equal(unitsPerRequest(10, 64), 1, 'short videos: one unit per request');
    assert.equal(unitsPerRequest(330, 64), 5, 'rounded down: 66 requests for 64 connections');
    assert.equal(unitsPerRequest(127, 64), 1, 'never fewer requests than connections');
    assert.equal(unitsPerRequest(3600, 64), 56, '65 requests for 64 connections');
    assert.equal(unitsPerRequest(100_000, 64), MAX_UNITS_PER_REQUEST, 'queued requests stay small');
    assert.equal(unitsPerRequest(330, 1), MAX_UNITS_PER_REQUEST);
    assert.equal(unitsPerRequest(0, 64), 1);

    const seg = (i: number): SegmentPlan => ({
        seq: 100 + i,
        url: `https://cdn.example/v/${i}.m4s`,
        durationSecs: 2,
        discontinuity: false,
        init: 0,
    });
    const segments = Array.from({ length: 7 }, (_, i) => seg(i));
    const inits = [{ url: 'https://cdn.example/v/init.mp4' }];
    const main: TrackPlan = {
        name: 'v',
        sourceUrl: 'https://cdn.example/v.m3u8',
        segments,
        inits,
        durationSecs: 14,
        live: false,
        bytes: 'segments',
    };
    const audio: TrackPlan = {
        ...main,
        name: 'a',
        sourceUrl: 'https://cdn.example/a.m3u8',
        inits: [],
        segments: [seg(0), seg(1)],
    };
    const video: VideoPlan = {
        format: 'hls',
        url: main.sourceUrl,
        variantUrl: main.sourceUrl,
        tracks: [main, audio],
        delivery: 'remux',
        relatedUrls: [],
    };
    // 8 video units + 2 audio units, ⌊10 / 3⌋ → 3 per request.
    const requests = unitRequests('vid', video, 3, 'sess');
    assert.deepEqual(
        requests.map((r) => r.userData?.units.map((u) => u.unit)),
        [
            ['v-init-000000.bin', 'v-seg-000000.bin', 'v-seg-000001.bin'],
            ['v-seg-000002.bin', 'v-seg-000003.bin', 'v-seg-000004.bin'],
            ['v-seg-000005.bin', 'v-seg-000006.bin', 'a-seg-000000.bin'],
            ['a-seg-000001.bin'],
        ],
    );
    assert.equal(new Set(requests.map((r) => r.uniqueKey)).size, requests.length, 'unique keys');
    assert.ok(
        requests.every(
            (r) => r.url === r.userData?.units[0]?.url && r.userData.proxySession === 'sess' && r.skipNavigation,
        ),
    );
});

test('a request out of time hands back only what nobody stored or holds, as one new request', () => {
    const unit = (i: number) => ({ unit: `v-seg-00000${i}.bin`, url: `https://cdn.example/${i}.ts` });
    const task = { kind: 'units' as const, videoId: 'vid', units: [0, 1, 2, 3, 4].map(unit), proxySession: 'sess' };
    const stored = new Set(['v-seg-000000.bin']);
    const holders = new Map([
        ['v-seg-000001.bin', 'other'],
        ['v-seg-000003.bin', 'me'],
    ]);
    const request = continuationRequest(
        task,
        'me',
        (u) => stored.has(u),
        (u) => holders.get(u),
    );
    assert.deepEqual(
        request?.userData?.units.map((u) => u.unit),
        ['v-seg-000002.bin', 'v-seg-000004.bin'],
    );
    assert.equal(request?.url, 'https://cdn.example/2.ts');
    assert.equal(request?.userData?.proxySession, 'sess');
    assert.notEqual(
        request?.uniqueKey,
        continuationRequest(
            task,
            'another',
            (u) => stored.has(u),
            (u) => holders.get(u),
        )?.uniqueKey,
        'a key per request that hands back',
    );
    assert.equal(
        continuationRequest(
            task,
            'me',
            () => true,
            () => undefined,
        ),
        undefined,
        'all stored: nothing to queue',
    );
});
