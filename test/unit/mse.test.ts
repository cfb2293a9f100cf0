/**
 * Sources with no URL, without a browser: the page script's hashing and box walking, the capture's
 * decisions (which responses stand for appends, when a capture is complete, its bound), the plan
 * of a MediaSource capture, page-built manifests through the source stage, and local units.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { moveLocalUnit } from '../../src/download/unit-fetcher.js';
import { unitRequests } from '../../src/download/unit-tasks.js';
import { ManifestError } from '../../src/errors.js';
import type { ByteRange, FetchedText, ManifestFetcher, MseCapture, SniffedHead } from '../../src/model.js';
import { BOXES_SOURCE, HOOK_SCRIPT, SHA256_SOURCE } from '../../src/pages/hook-script.js';
import { PageHooks } from '../../src/pages/hooks.js';
import { intersectRanges, mseUrl } from '../../src/pages/mse-capture.js';
import {
    coveredFromStart,
    coversDuration,
    decodeDataUrl,
    isDataManifestUrl,
    isInitAppend,
    manifestTextFormat,
    mseDeadline,
    MSE_MAX_EXTRA_SECS,
    mseVerdict,
    nudgeTarget,
    responseRange,
    reusableResponse,
    unionRanges,
} from '../../src/pages/mse-rules.js';
import { resolvePlan } from '../../src/sources/index.js';
import { bufferKind, planMse, type CapturedAppend } from '../../src/sources/mse/plan.js';

const pageSha256 = new Function(`${SHA256_SOURCE}; return mcaSha256;`)() as (b: Uint8Array) => string;
const pageBoxes = new Function(`${BOXES_SOURCE}; return mcaBoxes;`)() as (b: Uint8Array) => string[];
const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

test('the page script parses, and its SHA-256 (for pages without crypto.subtle) equals node:crypto', () => {
    assert.doesNotThrow(() => new Function(HOOK_SCRIPT));
    for (const n of [0, 1, 3, 55, 56, 63, 64, 65, 119, 120, 1000, 100_003]) {
        const bytes = randomBytes(n);
        assert.equal(pageSha256(new Uint8Array(bytes)), sha(bytes), `${n} bytes`);
    }
    assert.equal(pageSha256(new TextEncoder().encode('abc')), sha('abc'));
});

function box(type: string, payload = 0): Buffer {
    const b = Buffer.alloc(8 + payload);
    b.writeUInt32BE(8 + payload, 0);
    b.write(type, 4, 'latin1');
    return b;
}

test('top-level MP4 boxes of an append tell an init section from media', () => {
    const init = Buffer.concat([box('ftyp', 16), box('moov', 100)]);
    const media = Buffer.concat([box('styp', 4), box('moof', 40), box('mdat', 500)]);
    assert.deepEqual(pageBoxes(new Uint8Array(init)), ['ftyp', 'moov']);
    assert.deepEqual(pageBoxes(new Uint8Array(media)), ['styp', 'moof', 'mdat']);
    assert.deepEqual(pageBoxes(new Uint8Array([0x1a, 0x45, 0xdf, 0xa3, 0, 0, 0, 0])), [], 'WebM is no MP4');
    assert.ok(isInitAppend(['ftyp', 'moov'], init.toString('hex', 0, 16)));
    assert.ok(isInitAppend(['moov'], ''));
    assert.ok(!isInitAppend(['styp', 'moof', 'mdat'], media.toString('hex', 0, 16)));
    assert.ok(!isInitAppend(['ftyp', 'moov', 'moof', 'mdat'], ''), 'a whole fragmented file is media');
    assert.ok(isInitAppend([], '1a45dfa3010000000000001f4286'), 'a WebM stream starts with its EBML header');
    assert.ok(!isInitAppend([], '1f43b675'), 'a WebM cluster is media');
});

test('page-built manifests: by text, and data: URLs decoded', () => {
    assert.equal(manifestTextFormat('\uFEFF  #EXTM3U\n#EXT-X-VERSION:3'), 'hls');
    const mpd = '<?xml version="1.0"?>\n<!-- made by us -->\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011">';
    assert.equal(manifestTextFormat(mpd), 'dash');
    assert.equal(manifestTextFormat('{"segments":[]}'), undefined);
    const text = '#EXTM3U\n#EXTINF:1,\nhttps://cdn.test/a.ts\n';
    const b64 = `data:application/vnd.apple.mpegurl;base64,${Buffer.from(text).toString('base64')}`;
    assert.ok(isDataManifestUrl(b64));
    assert.equal(decodeDataUrl(b64), text);
    assert.equal(decodeDataUrl(`data:application/x-mpegURL,${encodeURIComponent(text)}`), text);
    assert.ok(!isDataManifestUrl('data:image/png;base64,AAAA'));
    assert.ok(!isDataManifestUrl('https://cdn.test/a.m3u8'));
});

test('PageHooks keep only manifests with a blob:/data: URL, a telling text and an http(s) page', () => {
    const hooks = new PageHooks();
    hooks.addManifest('blob:https://site.test/1', '#EXTM3U\n', 'https://site.test/watch');
    hooks.addManifest('blob:https://site.test/2', 'not a playlist', 'https://site.test/watch');
    hooks.addManifest('https://site.test/3.m3u8', '#EXTM3U\n', 'https://site.test/watch');
    hooks.addManifest('blob:null/4', '#EXTM3U\n', 'about:blank');
    hooks.addDataUrl(`data:application/dash+xml,${encodeURIComponent('<MPD></MPD>')}`, 'https://site.test/watch');
    assert.deepEqual(
        [...hooks.manifests.values()].map((m) => [m.url.slice(0, 25), m.format]),
        [
            ['blob:https://site.test/1', 'hls'],
            ['data:application/dash+xml', 'dash'],
        ],
    );
    const [c] = hooks.manifestCandidates({ referer: 'https://site.test/watch' });
    assert.deepEqual(c, {
        url: 'blob:https://site.test/1',
        headers: { referer: 'https://site.test/watch' },
        source: 'page',
        format: 'hls',
        inline: { text: '#EXTM3U\n', baseUrl: 'https://site.test/watch' },
    });
    assert.ok(hooks.ready(), 'a page-built manifest ends the wait');
});

test('PageHooks: appends are recorded in order; bytes are kept only while a capture may be needed', async () => {
    const frame = {} as never;
    let needed = true;
    const hooks = new PageHooks({ mayNeedMse: () => needed });
    await hooks.onMessage(frame, { t: 'buffer', id: 'f:sb1', ms: 'f:ms1', mime: 'video/mp4; codecs="avc1.64001f"' });
    const append = (index: number) => ({
        t: 'append',
        id: 'f:sb1',
        index,
        bytes: 10,
        sha: sha(String(index)),
        boxes: [],
        head: '',
    });
    assert.equal(await hooks.onMessage(frame, append(1)), true, 'no response matched: the page keeps the bytes');
    needed = false;
    assert.equal(await hooks.onMessage(frame, append(0)), false, 'a manifest was found: nothing is kept');
    assert.equal(await hooks.onMessage(frame, { ...append(2), sha: 'not a hash' }), false);
    const buf = hooks.buffers.get('f:sb1')!;
    assert.equal(buf.mimeType, 'video/mp4; codecs="avc1.64001f"');
    assert.deepEqual(
        buf.appends.map((a) => a?.kept),
        [false, true],
    );
    await hooks.onMessage(frame, { t: 'eos', ms: 'f:ms1', error: 'decode' });
    assert.equal(hooks.ended.size, 0, 'an end of stream with an error is no end');
    await hooks.onMessage(frame, { t: 'eos', ms: 'f:ms1', error: '' });
    assert.ok(hooks.ended.has('f:ms1'));
});

test('which responses can be fetched again in place of an append', () => {
    const base = {
        method: 'GET',
        resourceType: 'fetch',
        status: 200,
        contentType: 'video/iso.segment',
        bytes: 20_000,
        requestHeaders: { accept: '*/*', referer: 'https://s.test/' },
    };
    assert.ok(reusableResponse(base));
    assert.ok(reusableResponse({ ...base, resourceType: 'xhr', status: 206, contentType: '' }));
    assert.ok(reusableResponse({ ...base, contentType: 'image/png' }), 'segments hide behind image types');
    assert.ok(!reusableResponse({ ...base, method: 'POST' }), 'a POST body would not travel with our fetch');
    assert.ok(!reusableResponse({ ...base, requestHeaders: { authorization: 'Bearer x' } }));
    assert.ok(!reusableResponse({ ...base, requestHeaders: { 'X-Playback-Token': 'x' } }));
    assert.ok(!reusableResponse({ ...base, resourceType: 'media' }), 'a <video> element fetch feeds no SourceBuffer');
    assert.ok(!reusableResponse({ ...base, contentType: 'application/json; charset=utf-8' }));
    assert.ok(!reusableResponse({ ...base, status: 304 }));
    assert.ok(!reusableResponse({ ...base, bytes: 65 * 1024 * 1024 }));
    assert.deepEqual(responseRange(206, 'bytes 100-199/1000', 100), { offset: 100, length: 100 });
    assert.equal(responseRange(206, 'bytes 0-999/1000', 1000), undefined, 'the whole resource needs no range');
    assert.equal(responseRange(206, 'bytes 100-199/1000', 99), undefined, 'a body that is not the stated range');
    assert.equal(responseRange(200, undefined, 1000), undefined);
});

test('time ranges: union over polls, coverage of the duration, where to nudge a stuck playhead', () => {
    const seen = unionRanges(unionRanges([], [[0, 4.02]]), [
        [4, 8],
        [9, 12],
    ]);
    assert.deepEqual(seen, [
        [0, 8],
        [9, 12],
    ]);
    assert.ok(!coversDuration(seen, 12));
    assert.equal(coveredFromStart(seen), 8);
    assert.ok(coversDuration(unionRanges(seen, [[7.9, 9.1]]), 12));
    assert.ok(coversDuration([[0.05, 11.95]], 12), '0.1 s tolerance at either end');
    assert.ok(!coversDuration([[0, 11.8]], 12));
    assert.ok(!coversDuration([[0, 12]], Infinity));
    assert.deepEqual(intersectRanges([[[0, 10]], [[0.02, 9.98]]]), [[0.02, 9.98]]);
    assert.deepEqual(
        intersectRanges([
            [
                [0, 4],
                [6, 10],
            ],
            [[2, 8]],
        ]),
        [
            [2, 4],
            [6, 8],
        ],
    );
    assert.equal(
        nudgeTarget(5.5, [
            [0, 5],
            [6, 10],
        ]),
        6.01,
        'a hole: jump to the next range',
    );
    assert.equal(
        nudgeTarget(3, [
            [0, 5],
            [6, 10],
        ]),
        undefined,
        'playing inside a range',
    );
    assert.equal(nudgeTarget(10, [[0, 10]]), undefined, 'nothing further');
});

test('the bound: pageWaitSecs + duration / 8 from the page start, capped', () => {
    assert.equal(mseDeadline(1000, 10, 12), 1000 + 11_500);
    assert.equal(mseDeadline(1000, 10, undefined), 11_000, 'duration unknown: pageWaitSecs');
    assert.equal(mseDeadline(1000, 10, Infinity), 11_000);
    assert.equal(mseDeadline(0, 10, 24 * 3600), (10 + MSE_MAX_EXTRA_SECS) * 1000);
});

test('a capture is complete with a duration, an end (or everything buffered) and every append accounted for', () => {
    const seen: [number, number][] = [[0, 6]];
    const ok = { durationSecs: 12, ended: true, seen, appendCalls: 26, appendsKnown: 26, unaccounted: 0 };
    assert.deepEqual(mseVerdict(ok), { complete: true });
    assert.deepEqual(mseVerdict({ ...ok, ended: false, seen: [[0, 11.95]] }), { complete: true });
    assert.match(mseVerdict({ ...ok, ended: false }).reason!, /got 6\.0 s of 12\.0 s and no end of stream/);
    assert.match(mseVerdict({ ...ok, durationSecs: Infinity }).reason!, /never said how long/);
    assert.match(mseVerdict({ ...ok, appendsKnown: 25 }).reason!, /1 of 26 appends were not seen whole/);
    assert.match(mseVerdict({ ...ok, unaccounted: 2 }).reason!, /2 of 26 appended segments could not be kept/);
});

const capture = (appends: CapturedAppend[], audio?: CapturedAppend[]): MseCapture => ({
    durationSecs: 12,
    complete: true,
    buffers: [
        { mimeType: 'video/mp4; codecs="avc1.42c015"', appends },
        ...(audio ? [{ mimeType: 'audio/mp4; codecs="mp4a.40.2"', appends: audio }] : []),
    ],
});

test('a MediaSource capture → a plan: a track per SourceBuffer, init sections apart, units fetched or moved', () => {
    const url = mseUrl('https://site.test/watch?v=1#top');
    assert.equal(url, 'https://site.test/watch?v=1#mse');
    const v: CapturedAppend[] = [
        { bytes: 800, init: true, sha256: 'i1', url: 'https://cdn.test/init.mp4' },
        { bytes: 9000, sha256: 's1', url: 'https://cdn.test/1.m4s' },
        { bytes: 9000, sha256: 's2', localFile: '/work/mse/x/0-000002.bin' },
        { bytes: 800, init: true, sha256: 'i1', url: 'https://cdn.test/init.mp4' },
        { bytes: 9000, sha256: 's3', url: 'https://cdn.test/all.mp4', range: { offset: 100, length: 9000 } },
    ];
    const a: CapturedAppend[] = [
        { bytes: 700, init: true, sha256: 'ia', url: 'https://cdn.test/a.mp4' },
        { bytes: 4000, sha256: 'a1', url: 'https://cdn.test/a1.m4s' },
    ];
    const plan = planMse(url, capture(v, a));
    assert.equal(plan.format, 'mse');
    assert.equal(plan.delivery, 'remux');
    assert.deepEqual(
        plan.tracks.map((t) => [t.name, t.inits.length, t.segments.length, t.bytes, t.codecs]),
        [
            ['v', 1, 3, 'segments', 'avc1.42c015'],
            ['a', 1, 1, 'segments', 'mp4a.40.2'],
        ],
    );
    const [video] = plan.tracks;
    assert.deepEqual(video!.inits, [{ url: 'https://cdn.test/init.mp4' }], 'appended again, still one unit');
    assert.deepEqual(
        video!.segments.map((s) => [s.url, s.range, s.localFile, s.init]),
        [
            ['https://cdn.test/1.m4s', undefined, undefined, 0],
            [url, undefined, '/work/mse/x/0-000002.bin', 0],
            ['https://cdn.test/all.mp4', { offset: 100, length: 9000 }, undefined, 0],
        ],
    );
    assert.equal(video!.durationSecs, 12);
    assert.equal(
        video!.segments.reduce((n, s) => n + s.durationSecs, 0),
        12,
    );
    // The download stage gets the local file with the unit.
    const units = unitRequests('vid', plan, 4).flatMap((r) => r.userData!.units);
    const local = units.filter((u) => u.localFile).map((u) => [u.unit, u.localFile]);
    assert.deepEqual(local, [['v-seg-000001.bin', '/work/mse/x/0-000002.bin']]);
    assert.ok(units.filter((u) => !u.localFile).every((u) => !('localFile' in u)));
});

test('an incomplete or unusable capture is refused with its reason', () => {
    const reason = "the page's MediaSource got 6.0 s of 12.0 s and no end of stream";
    const url = 'https://s.test/#mse';
    const refused = (e: Error): boolean => e instanceof ManifestError && e.message === reason;
    assert.throws(() => planMse(url, { ...capture([]), complete: false, reason }), refused);
    // Audio alone (an <audio> fed by MSE) is planned as audio; no media SourceBuffer at all is refused.
    const audioOnly = [{ mimeType: 'audio/mp4', appends: [{ bytes: 1, url: 'https://c.test/a' }] }];
    const audioPlan = planMse(url, { durationSecs: 12, complete: true, buffers: audioOnly });
    assert.deepEqual([audioPlan.audioOnly, audioPlan.tracks.map((t) => t.name)], [true, ['v']]);
    const textOnly = [{ mimeType: 'text/vtt', appends: [{ bytes: 1, url: 'https://c.test/t' }] }];
    const noMedia = /no video or audio SourceBuffer \(text\/vtt\)/;
    assert.throws(() => planMse(url, { durationSecs: 12, complete: true, buffers: textOnly }), noMedia);
    const initOnly = capture([{ bytes: 800, init: true, url: 'https://c.test/i' }]);
    assert.throws(() => planMse(url, initOnly), /got no media appends/);
    assert.throws(() => planMse(url, capture([{ bytes: 800 }])), /neither a URL nor the page's bytes/);
    assert.equal(bufferKind(' Video/WebM; codecs="vp9"'), 'video');
    assert.equal(bufferKind('audio/mpeg'), 'audio');
    assert.equal(bufferKind('application/octet-stream'), undefined);
});

/** A fetcher that serves `texts` by URL and records every URL asked for. */
function fakeFetcher(texts: Record<string, string>): ManifestFetcher & { asked: string[] } {
    const asked: string[] = [];
    return {
        asked,
        async text(url: string): Promise<FetchedText> {
            asked.push(url);
            const text = texts[url];
            if (text === undefined) throw new Error(`unexpected fetch of ${url}`);
            return { text, url, contentType: 'application/vnd.apple.mpegurl' };
        },
        async range(url: string, _r: ByteRange): Promise<Buffer> {
            throw new Error(`unexpected range of ${url}`);
        },
        async sniff(url: string, _n: number): Promise<SniffedHead> {
            throw new Error(`unexpected sniff of ${url}`);
        },
    };
}

const options = { quality: { kind: 'highest' as const }, maxSegments: 1000, maxConcurrency: 4 };

test('a blob: media playlist is read from its captured text; references resolve against the page', async () => {
    const blob = 'blob:https://site.test/5f0c-uuid';
    const text = [
        '#EXTM3U',
        '#EXT-X-TARGETDURATION:1',
        '#EXTINF:1,',
        'https://cdn.test/v/0.ts',
        '#EXTINF:1,',
        'seg/1.ts',
        '#EXT-X-ENDLIST',
    ].join('\n');
    const fetcher = fakeFetcher({});
    const inline = { text, baseUrl: 'https://site.test/watch/42' };
    const plan = await resolvePlan({ url: blob, format: 'hls', inline }, fetcher, options);
    assert.deepEqual(fetcher.asked, [], 'the blob: URL is never fetched');
    assert.equal(plan.format, 'hls');
    assert.equal(plan.url, blob);
    assert.equal(plan.variantUrl, blob, 'the plan names the page-built playlist, not the page');
    assert.equal(plan.tracks[0]!.sourceUrl, blob);
    const urls = plan.tracks[0]!.segments.map((s) => s.url);
    assert.deepEqual(urls, ['https://cdn.test/v/0.ts', 'https://site.test/watch/seg/1.ts']);
});

test('a data: master playlist: its variants are fetched from the network as usual', async () => {
    const master = [
        '#EXTM3U',
        '#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360',
        'https://cdn.test/hi/index.m3u8',
        '#EXT-X-STREAM-INF:BANDWIDTH=300000,RESOLUTION=320x180',
        'https://cdn.test/lo/index.m3u8',
    ].join('\n');
    const url = `data:application/x-mpegurl;base64,${Buffer.from(master).toString('base64')}`;
    const media = '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n0.ts\n#EXT-X-ENDLIST\n';
    const fetcher = fakeFetcher({ 'https://cdn.test/hi/index.m3u8': media });
    const inline = { text: master, baseUrl: 'https://site.test/p' };
    const plan = await resolvePlan({ url, format: 'hls', inline }, fetcher, options);
    assert.deepEqual(fetcher.asked, ['https://cdn.test/hi/index.m3u8']);
    assert.equal(plan.url, url);
    assert.equal(plan.variantUrl, 'https://cdn.test/hi/index.m3u8');
    assert.deepEqual(
        plan.tracks[0]!.segments.map((s) => s.url),
        ['https://cdn.test/hi/0.ts'],
    );
    assert.deepEqual([plan.width, plan.height], [640, 360]);
});

test("the source stage turns an mse candidate into its plan, or refuses it with the capture's reason", async () => {
    const fetcher = fakeFetcher({});
    const mse = capture([
        { bytes: 800, init: true, url: 'https://c.test/i' },
        { bytes: 900, url: 'https://c.test/1' },
    ]);
    const plan = await resolvePlan({ url: 'https://s.test/p#mse', format: 'mse', mse }, fetcher, options);
    assert.equal(plan.tracks[0]!.segments.length, 1);
    const failed = { ...mse, complete: false, reason: 'the player stopped' };
    const refused = resolvePlan({ url: 'https://s.test/p#mse', format: 'mse', mse: failed }, fetcher, options);
    await assert.rejects(refused, /the player stopped/);
    await assert.rejects(resolvePlan({ url: 'https://s.test/p#mse', format: 'mse' }, fetcher, options), ManifestError);
});

test('a local unit is moved into place from the work root only', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'mca-mse-unit-'));
    await mkdir(path.join(root, 'mse', 'cap'), { recursive: true });
    await mkdir(path.join(root, 'job'), { recursive: true });
    const from = path.join(root, 'mse', 'cap', '0-000004.bin');
    await writeFile(from, 'segment bytes');
    const to = path.join(root, 'job', 'v-seg-000003.bin');
    assert.equal(await moveLocalUnit(from, root, to), 13);
    assert.equal(await readFile(to, 'utf8'), 'segment bytes');
    await assert.rejects(moveLocalUnit(from, root, to), /ENOENT/, 'moved, not copied');
    await assert.rejects(moveLocalUnit('/etc/passwd', root, to), /outside the work folder/);
    await assert.rejects(moveLocalUnit(path.join(root, '..', 'elsewhere.bin'), root, to), /outside the work folder/);
});
