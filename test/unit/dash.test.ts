import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DrmError, ManifestError } from '../../src/errors.js';
import type { VideoQuality } from '../../src/input/input.js';
import type { ByteRange, ManifestFetcher, VideoPlan } from '../../src/model.js';
import { looksLikeMpd, parseSidx, resolveDash } from '../../src/sources/dash/resolve.js';

const MPD_URL = 'https://cdn.test/movies/m1/manifest.mpd';
const HIGHEST: VideoQuality = { kind: 'highest' };

/** A fetcher serving fixed bodies: the MPD as text, media files by byte range. Records every call. */
function fakeFetcher(files: Record<string, string | Buffer>, redirectedTo?: string) {
    const calls: string[] = [];
    const impl = {
        async text(url: string) {
            calls.push(`text ${url}`);
            const body = files[url];
            if (body === undefined) throw new Error(`404 ${url}`);
            return { text: String(body), url: redirectedTo ?? url, contentType: 'application/dash+xml' };
        },
        async range(url: string, r: ByteRange) {
            calls.push(`range ${url} ${r.offset}+${r.length}`);
            const body = files[url];
            if (!Buffer.isBuffer(body)) throw new Error(`404 ${url}`);
            return body.subarray(r.offset, r.offset + r.length);
        },
        async sniff(): Promise<never> {
            throw new Error('the DASH source never sniffs');
        },
    };
    // Not an object literal: still a ManifestFetcher while that interface grows or shrinks.
    const fetcher: ManifestFetcher = impl;
    return { fetcher, calls };
}

const mpd = (body: string, attrs = 'type="static" mediaPresentationDuration="PT10S"'): string =>
    `<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" ${attrs}>
${body}
</MPD>`;

async function plan(
    text: string,
    options: {
        quality?: VideoQuality;
        maxSegments?: number;
        preferredLang?: string;
        files?: Record<string, Buffer>;
    } = {},
): Promise<VideoPlan> {
    const { fetcher } = fakeFetcher({ [MPD_URL]: text, ...options.files });
    return resolveDash(MPD_URL, fetcher, options.quality ?? HIGHEST, {
        maxSegments: options.maxSegments ?? 1000,
        preferredLang: options.preferredLang,
    });
}

const urls = (p: VideoPlan, track = 0) => p.tracks[track]!.segments.map((s) => s.url);

/** A `sidx` box (ISO/IEC 14496-12 §8.16.3). */
function sidxBox(
    refs: { size: number; duration: number; hierarchical?: boolean }[],
    {
        version = 0,
        timescale = 1000,
        firstOffset = 0,
    }: { version?: 0 | 1; timescale?: number; firstOffset?: number } = {},
): Buffer {
    const header = 8 + 4 + 4 + 4 + (version === 0 ? 8 : 16) + 4;
    const buf = Buffer.alloc(header + refs.length * 12);
    buf.writeUInt32BE(buf.length, 0);
    buf.write('sidx', 4, 'latin1');
    buf[8] = version;
    buf.writeUInt32BE(1, 12); // reference_ID
    buf.writeUInt32BE(timescale, 16);
    let p = 20;
    if (version === 0) {
        buf.writeUInt32BE(0, p);
        buf.writeUInt32BE(firstOffset, p + 4);
        p += 8;
    } else {
        buf.writeBigUInt64BE(0n, p);
        buf.writeBigUInt64BE(BigInt(firstOffset), p + 8);
        p += 16;
    }
    buf.writeUInt16BE(refs.length, p + 2);
    p += 4;
    for (const r of refs) {
        buf.writeUInt32BE(((r.hierarchical ? 0x80000000 : 0) + r.size) >>> 0, p);
        buf.writeUInt32BE(r.duration, p + 4);
        buf.writeUInt32BE(0x90000000, p + 8); // starts_with_SAP, SAP type 1
        p += 12;
    }
    return buf;
}

test('looksLikeMpd: the <MPD> root or the DASH content type', () => {
    assert.equal(looksLikeMpd(mpd('<Period/>')), true);
    assert.equal(looksLikeMpd('\uFEFF<!-- packager -->\n<MPD type="static">'), true);
    assert.equal(looksLikeMpd('{"error":1}', 'application/dash+xml; charset=utf-8'), true);
    assert.equal(looksLikeMpd('#EXTM3U\n#EXT-X-VERSION:3'), false);
    assert.equal(looksLikeMpd('<!DOCTYPE html><html><body>MPD</body></html>', 'text/html'), false);
});

test('not an MPD: ManifestError with what it was and a preview', async () => {
    const { fetcher } = fakeFetcher({ [MPD_URL]: '<!DOCTYPE html>\n<html><body>Access denied</body></html>' });
    await assert.rejects(resolveDash(MPD_URL, fetcher, HIGHEST, { maxSegments: 10 }), (e: Error) => {
        assert.ok(e instanceof ManifestError);
        assert.match(e.message, /not a DASH MPD \(application\/dash\+xml, starts with "<!DOCTYPE html> <html>/);
        return true;
    });
});

const templateNumber = mpd(`<Period>
  <AdaptationSet mimeType="video/mp4" codecs="avc1.64001f">
    <SegmentTemplate initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/seg-$Number%04d$.m4s"
        startNumber="5" duration="360000" timescale="90000"/>
    <Representation id="v720" bandwidth="2500000" width="1280" height="720"/>
  </AdaptationSet>
</Period>`);

test('SegmentTemplate $Number$: startNumber, duration/timescale, padded numbers, a shorter last segment', async () => {
    const p = await plan(templateNumber);
    assert.equal(p.format, 'dash');
    assert.equal(p.url, MPD_URL);
    assert.equal(p.variantUrl, `${MPD_URL}#v720`);
    assert.deepEqual([p.width, p.height, p.bandwidth], [1280, 720, 2500000]);
    assert.equal(p.delivery, 'remux');
    assert.deepEqual(p.relatedUrls, []);
    assert.equal(p.tracks.length, 1);
    const v = p.tracks[0]!;
    assert.equal(v.name, 'v');
    assert.equal(v.sourceUrl, `${MPD_URL}#v720`);
    assert.equal(v.bytes, 'segments');
    assert.equal(v.live, false);
    assert.equal(v.codecs, 'avc1.64001f');
    assert.deepEqual(v.inits, [{ url: 'https://cdn.test/movies/m1/v720/init.mp4' }]);
    assert.deepEqual(v.segments, [
        { url: 'https://cdn.test/movies/m1/v720/seg-0005.m4s', seq: 5, durationSecs: 4, init: 0, discontinuity: false },
        { url: 'https://cdn.test/movies/m1/v720/seg-0006.m4s', seq: 6, durationSecs: 4, init: 0, discontinuity: false },
        { url: 'https://cdn.test/movies/m1/v720/seg-0007.m4s', seq: 7, durationSecs: 2, init: 0, discontinuity: false },
    ]);
    assert.equal(v.durationSecs, 10);
});

test('SegmentTemplate $Time$ + SegmentTimeline: @r repeats, $Time$ values, numbers from startNumber', async () => {
    const p = await plan(
        mpd(`<Period>
  <AdaptationSet contentType="video" mimeType="video/mp4">
    <SegmentTemplate timescale="90000" initialization="init-$Bandwidth$.mp4" media="t/$Time$.m4s">
      <SegmentTimeline><S t="0" d="180000" r="2"/><S d="90000"/></SegmentTimeline>
    </SegmentTemplate>
    <Representation id="a" bandwidth="800000" width="640" height="360"/>
  </AdaptationSet>
</Period>`),
    );
    const v = p.tracks[0]!;
    assert.deepEqual(
        urls(p),
        [0, 180000, 360000, 540000].map((t) => `https://cdn.test/movies/m1/t/${t}.m4s`),
    );
    assert.deepEqual(
        v.segments.map((s) => s.seq),
        [1, 2, 3, 4],
    );
    assert.deepEqual(
        v.segments.map((s) => s.durationSecs),
        [2, 2, 2, 1],
    );
    assert.deepEqual(v.inits, [{ url: 'https://cdn.test/movies/m1/init-800000.mp4' }]);
    assert.equal(v.durationSecs, 7);
});

test('SegmentList with mediaRange: ranges of one file, Initialization range, absolute media URLs', async () => {
    const p = await plan(
        mpd(
            `<Period>
  <AdaptationSet mimeType="video/mp4">
    <Representation id="1" bandwidth="1000000" width="854" height="480">
      <BaseURL>video/all.mp4</BaseURL>
      <SegmentList timescale="1000" duration="5000">
        <Initialization range="0-799"/>
        <SegmentURL mediaRange="800-1799"/>
        <SegmentURL mediaRange="1800-3299"/>
        <SegmentURL media="https://other.test/tail.m4s"/>
      </SegmentList>
    </Representation>
  </AdaptationSet>
</Period>`,
            'type="static" mediaPresentationDuration="PT14S"',
        ),
    );
    const v = p.tracks[0]!;
    const file = 'https://cdn.test/movies/m1/video/all.mp4';
    assert.deepEqual(v.inits, [{ url: file, range: { offset: 0, length: 800 } }]);
    assert.deepEqual(
        v.segments.map(({ url, range, durationSecs }) => ({ url, range, durationSecs })),
        [
            { url: file, range: { offset: 800, length: 1000 }, durationSecs: 5 },
            { url: file, range: { offset: 1800, length: 1500 }, durationSecs: 5 },
            { url: 'https://other.test/tail.m4s', range: undefined, durationSecs: 4 },
        ],
    );
    assert.ok(v.segments.every((s) => s.init === 0));
});

// An on-demand file: [init 0..99][sidx][three subsegments].
function onDemandFile(sidx: Buffer, sizes: number[]): Buffer {
    const init = Buffer.alloc(100, 1);
    return Buffer.concat([init, sidx, ...sizes.map((n, i) => Buffer.alloc(n, i + 2))]);
}

const segmentBase = (indexRange: string, init = '<Initialization range="0-99"/>') =>
    mpd(`<Period>
  <AdaptationSet mimeType="video/mp4">
    <Representation id="od" bandwidth="900000" width="640" height="360">
      <BaseURL>https://vod.test/od/video.mp4</BaseURL>
      <SegmentBase indexRange="${indexRange}">${init}</SegmentBase>
    </Representation>
  </AdaptationSet>
</Period>`);

test('SegmentBase video and audio: both indexes asked for at once, not one after the other', async () => {
    const sidx = sidxBox([
        { size: 1000, duration: 2000 },
        { size: 2000, duration: 2000 },
    ]);
    const video = 'https://vod.test/od/video.mp4';
    const audio = 'https://vod.test/od/audio.mp4';
    const manifest = mpd(`<Period>
  <AdaptationSet mimeType="video/mp4">
    <Representation id="v" bandwidth="900000" width="640" height="360">
      <BaseURL>${video}</BaseURL>
      <SegmentBase indexRange="100-${99 + sidx.length}"><Initialization range="0-99"/></SegmentBase>
    </Representation>
  </AdaptationSet>
  <AdaptationSet mimeType="audio/mp4" lang="en">
    <Representation id="a" bandwidth="128000">
      <BaseURL>${audio}</BaseURL>
      <SegmentBase indexRange="100-${99 + sidx.length}"><Initialization range="0-99"/></SegmentBase>
    </Representation>
  </AdaptationSet>
</Period>`);
    const file = onDemandFile(sidx, [1000, 2000]);
    const { fetcher } = fakeFetcher({ [MPD_URL]: manifest, [video]: file, [audio]: file });
    let inFlight = 0;
    let most = 0;
    const slow: ManifestFetcher = {
        ...fetcher,
        range: async (url, r) => {
            most = Math.max(most, ++inFlight);
            await new Promise((resolve) => setTimeout(resolve, 20));
            inFlight--;
            return fetcher.range(url, r);
        },
    };
    const p = await resolveDash(MPD_URL, slow, HIGHEST, { maxSegments: 100 });
    assert.deepEqual(
        p.tracks.map((t) => [t.name, t.segments.length]),
        [
            ['v', 2],
            ['a', 2],
        ],
    );
    assert.equal(most, 2);
});

test('SegmentBase + indexRange: the sidx is fetched by range and read into byte-range segments', async () => {
    const sidx = sidxBox([
        { size: 1000, duration: 2000 },
        { size: 2000, duration: 2000 },
        { size: 1500, duration: 1000 },
    ]);
    const file = onDemandFile(sidx, [1000, 2000, 1500]);
    const url = 'https://vod.test/od/video.mp4';
    const { fetcher, calls } = fakeFetcher({ [MPD_URL]: segmentBase(`100-${99 + sidx.length}`), [url]: file });
    const p = await resolveDash(MPD_URL, fetcher, HIGHEST, { maxSegments: 100 });
    assert.deepEqual(calls, [`text ${MPD_URL}`, `range ${url} 100+${sidx.length}`]);
    const v = p.tracks[0]!;
    assert.deepEqual(v.inits, [{ url, range: { offset: 0, length: 100 } }]);
    const start = 100 + sidx.length;
    assert.deepEqual(v.segments, [
        { url, range: { offset: start, length: 1000 }, seq: 1, durationSecs: 2, init: 0, discontinuity: false },
        { url, range: { offset: start + 1000, length: 2000 }, seq: 2, durationSecs: 2, init: 0, discontinuity: false },
        { url, range: { offset: start + 3000, length: 1500 }, seq: 3, durationSecs: 1, init: 0, discontinuity: false },
    ]);
    // The ranges are exactly the subsegments of the file.
    assert.equal(
        file.subarray(start + 1000, start + 3000).every((b) => b === 3),
        true,
    );
    assert.equal(v.durationSecs, 5);
    // Without an Initialization range, the init section is everything before the index.
    const q = await resolveDash(
        MPD_URL,
        fakeFetcher({ [MPD_URL]: segmentBase(`100-${99 + sidx.length}`, ''), [url]: file }).fetcher,
        HIGHEST,
        { maxSegments: 100 },
    );
    assert.deepEqual(q.tracks[0]!.inits, [{ url, range: { offset: 0, length: 100 } }]);
});

test('sidx: version 1 with 64-bit fields and first_offset, boxes before it skipped', () => {
    const sidx = sidxBox(
        [
            { size: 500, duration: 48000 },
            { size: 700, duration: 24000 },
        ],
        {
            version: 1,
            timescale: 48000,
            firstOffset: 16,
        },
    );
    const free = Buffer.alloc(8);
    free.writeUInt32BE(8, 0);
    free.write('free', 4, 'latin1');
    const refs = parseSidx(Buffer.concat([free, sidx]), 1000);
    const first = 1000 + 8 + sidx.length + 16;
    assert.deepEqual(refs, [
        { offset: first, length: 500, durationSecs: 1 },
        { offset: first + 500, length: 700, durationSecs: 0.5 },
    ]);
    assert.throws(() => parseSidx(sidx.subarray(0, sidx.length - 4), 0), ManifestError);
    assert.throws(() => parseSidx(free, 0), /no sidx box/);
});

test('sidx: hierarchical references are refused by parseSidx and followed by resolveDash', async () => {
    const child1 = sidxBox([
        { size: 300, duration: 1000 },
        { size: 400, duration: 1000 },
    ]);
    const child2 = sidxBox([{ size: 500, duration: 1500 }]);
    const top = sidxBox([
        { size: child1.length + 700, duration: 2000, hierarchical: true },
        { size: child2.length + 500, duration: 1500, hierarchical: true },
    ]);
    assert.throws(() => parseSidx(top, 100), /hierarchical sidx/);
    const file = Buffer.concat([Buffer.alloc(100), top, child1, Buffer.alloc(700), child2, Buffer.alloc(500)]);
    const url = 'https://vod.test/od/video.mp4';
    const p = await plan(segmentBase(`100-${99 + top.length}`), { files: { [url]: file } });
    const c1 = 100 + top.length;
    const c2 = c1 + child1.length + 700;
    assert.deepEqual(
        p.tracks[0]!.segments.map((s) => s.range),
        [
            { offset: c1 + child1.length, length: 300 },
            { offset: c1 + child1.length + 300, length: 400 },
            { offset: c2 + child2.length, length: 500 },
        ],
    );
    assert.deepEqual(
        p.tracks[0]!.segments.map((s) => s.durationSecs),
        [1, 1, 1.5],
    );
});

test('BaseURL at MPD, Period, AdaptationSet and Representation level, relative to the redirected MPD', async () => {
    const text = mpd(`<BaseURL>root/</BaseURL>
<Period>
  <BaseURL>p1/</BaseURL>
  <AdaptationSet mimeType="video/mp4">
    <BaseURL>video/</BaseURL>
    <SegmentTemplate media="s$Number$.m4s" initialization="i.mp4" duration="5"/>
    <Representation id="r1" bandwidth="1" width="640" height="360"><BaseURL>360/</BaseURL></Representation>
    <Representation id="r2" bandwidth="2" width="1280" height="720">
      <BaseURL>https://abs.test/720/</BaseURL>
    </Representation>
  </AdaptationSet>
</Period>`);
    const { fetcher } = fakeFetcher({ [MPD_URL]: text }, 'https://edge.test/x/y/manifest.mpd');
    const low = await resolveDash(MPD_URL, fetcher, { kind: 'lowest' }, { maxSegments: 10 });
    assert.deepEqual(urls(low), [
        'https://edge.test/x/y/root/p1/video/360/s1.m4s',
        'https://edge.test/x/y/root/p1/video/360/s2.m4s',
    ]);
    assert.equal(low.tracks[0]!.inits[0]!.url, 'https://edge.test/x/y/root/p1/video/360/i.mp4');
    assert.equal(low.url, MPD_URL);
    assert.equal(low.variantUrl, `${MPD_URL}#r1`);
    const high = await resolveDash(MPD_URL, fetcher, HIGHEST, { maxSegments: 10 });
    assert.deepEqual(urls(high), ['https://abs.test/720/s1.m4s', 'https://abs.test/720/s2.m4s']);
    assert.notEqual(high.variantUrl, low.variantUrl);
});

test('two Periods: joined in order, discontinuity at the second, an init section per Period', async () => {
    // Period 1 has no @duration: it ends where Period 2 starts (mpd-parser alone would give it the
    // whole presentation's 10 s of segments).
    const p = await plan(
        mpd(`<Period id="ad">
  <BaseURL>ad/</BaseURL>
  <AdaptationSet mimeType="video/mp4">
    <SegmentTemplate media="$RepresentationID$-$Number$.m4s" initialization="$RepresentationID$-init.mp4" duration="2"/>
    <Representation id="ad720" bandwidth="2000000" width="1280" height="720"/>
  </AdaptationSet>
  <AdaptationSet mimeType="audio/mp4" lang="en">
    <SegmentTemplate media="$RepresentationID$-$Number$.m4s" initialization="$RepresentationID$-init.mp4" duration="2"/>
    <Representation id="ad-aac" bandwidth="128000" codecs="mp4a.40.2"/>
  </AdaptationSet>
</Period>
<Period id="main" start="PT4S">
  <BaseURL>main/</BaseURL>
  <AdaptationSet mimeType="video/mp4">
    <SegmentTemplate media="$RepresentationID$-$Number$.m4s" initialization="$RepresentationID$-init.mp4"
        duration="3" startNumber="100"/>
    <Representation id="m1080" bandwidth="5000000" width="1920" height="1080"/>
    <Representation id="m720" bandwidth="3000000" width="1280" height="720"/>
  </AdaptationSet>
  <AdaptationSet mimeType="audio/mp4" lang="en">
    <SegmentTemplate media="$RepresentationID$-$Number$.m4s" initialization="$RepresentationID$-init.mp4"
        duration="3" startNumber="100"/>
    <Representation id="m-aac" bandwidth="128000" codecs="mp4a.40.2"/>
  </AdaptationSet>
</Period>`),
        { quality: { kind: 'maxHeight', height: 720 } },
    );
    const base = 'https://cdn.test/movies/m1';
    const v = p.tracks[0]!;
    assert.deepEqual(urls(p), [
        `${base}/ad/ad720-1.m4s`,
        `${base}/ad/ad720-2.m4s`,
        `${base}/main/m720-100.m4s`,
        `${base}/main/m720-101.m4s`,
    ]);
    assert.deepEqual(
        v.inits.map((i) => i.url),
        [`${base}/ad/ad720-init.mp4`, `${base}/main/m720-init.mp4`],
    );
    assert.deepEqual(
        v.segments.map((s) => [s.seq, s.init, s.discontinuity, s.durationSecs]),
        [
            [1, 0, false, 2],
            [2, 0, false, 2],
            [3, 1, true, 3],
            [4, 1, false, 3],
        ],
    );
    assert.equal(v.durationSecs, 10);
    const a = p.tracks[1]!;
    assert.equal(a.name, 'a');
    assert.deepEqual(urls(p, 1), [
        `${base}/ad/ad-aac-1.m4s`,
        `${base}/ad/ad-aac-2.m4s`,
        `${base}/main/m-aac-100.m4s`,
        `${base}/main/m-aac-101.m4s`,
    ]);
    assert.deepEqual(
        a.segments.map((s) => s.discontinuity),
        [false, false, true, false],
    );
    assert.equal(a.lang, 'en');
    assert.equal(a.codecs, 'mp4a.40.2');
});

const audioSet = (id: string, attrs: string, bandwidth: number, role = '') => `
  <AdaptationSet mimeType="audio/mp4" ${attrs}>${role}
    <SegmentTemplate media="$RepresentationID$/$Number$.m4s" initialization="$RepresentationID$/init.mp4" duration="5"/>
    <Representation id="${id}" bandwidth="${bandwidth}" codecs="mp4a.40.2"/>
  </AdaptationSet>`;

const withAudio = (sets: string, videoCodecs = 'avc1.4d401f') =>
    mpd(`<Period>
  <AdaptationSet mimeType="video/mp4" codecs="${videoCodecs}">
    <SegmentTemplate media="$RepresentationID$/$Number$.m4s" initialization="$RepresentationID$/init.mp4" duration="5"/>
    <Representation id="v" bandwidth="1000000" width="1280" height="720"/>
  </AdaptationSet>${sets}
  <AdaptationSet mimeType="application/ttml+xml" lang="en">
    <Representation id="subs" bandwidth="1"><BaseURL>s.ttml</BaseURL></Representation>
  </AdaptationSet>
  <AdaptationSet contentType="text" mimeType="text/vtt" lang="fr">
    <Representation id="vtt" bandwidth="1"><BaseURL>s.vtt</BaseURL></Representation>
  </AdaptationSet>
</Period>`);

const audioId = (p: VideoPlan) => p.tracks[1]?.sourceUrl.split('#')[1];

test('audio: Role main first, then the page language, then the highest bandwidth; text sets ignored', async () => {
    const sets = [
        audioSet('en', 'lang="en"', 128000),
        audioSet('fr-main', 'lang="fr"', 96000, '<Role schemeIdUri="urn:mpeg:dash:role:2011" value="main"/>'),
        audioSet('de', 'lang="de"', 320000),
    ].join('');
    assert.equal(audioId(await plan(withAudio(sets), { preferredLang: 'de' })), 'fr-main');
    const noMain = [
        audioSet('en', 'lang="en"', 128000),
        audioSet('frca', 'lang="fr-CA"', 96000),
        audioSet('fr', 'lang="FR"', 64000),
    ].join('');
    const fr = await plan(withAudio(noMain), { preferredLang: 'fr-FR' });
    assert.equal(audioId(fr), 'frca');
    assert.equal(fr.tracks[1]!.lang, 'fr-CA');
    assert.equal(fr.tracks[1]!.sourceUrl, `${MPD_URL}#frca`);
    assert.deepEqual(urls(fr, 1), ['https://cdn.test/movies/m1/frca/1.m4s', 'https://cdn.test/movies/m1/frca/2.m4s']);
    assert.equal(audioId(await plan(withAudio(noMain))), 'en');
    assert.equal(audioId(await plan(withAudio(noMain), { preferredLang: 'ja' })), 'en');
    // Only one video track: the subtitle sets are not videos and not audio.
    assert.equal((await plan(withAudio(noMain))).tracks.length, 2);
});

test('audio: a video that carries its own audio gets no separate track', async () => {
    const p = await plan(withAudio(audioSet('en', 'lang="en"', 128000), 'avc1.4d401f,mp4a.40.2'));
    assert.deepEqual(
        p.tracks.map((t) => t.name),
        ['v'],
    );
    assert.equal(p.tracks[0]!.codecs, 'avc1.4d401f,mp4a.40.2');
});

const ladder = mpd(`<Period>
  <AdaptationSet mimeType="video/mp4">
    <SegmentTemplate media="$RepresentationID$/$Number$.m4s" initialization="$RepresentationID$/init.mp4" duration="5"/>
    <Representation id="480" bandwidth="1200000" width="854" height="480"/>
    <Representation id="1080" bandwidth="5000000" width="1920" height="1080"/>
    <Representation id="360" bandwidth="700000" width="640" height="360"/>
    <Representation id="720" bandwidth="2800000" width="1280" height="720"/>
  </AdaptationSet>
  <AdaptationSet mimeType="video/mp4">
    <EssentialProperty schemeIdUri="http://dashif.org/guidelines/trickmode" value="1"/>
    <SegmentTemplate media="trick/$Number$.m4s" duration="5"/>
    <Representation id="trick" bandwidth="90000000" width="3840" height="2160"/>
  </AdaptationSet>
</Period>`);

test('video quality: highest, lowest, best at most 720p; trick-play sets never chosen', async () => {
    const chosen = async (quality: VideoQuality) => (await plan(ladder, { quality })).variantUrl.split('#')[1];
    assert.equal(await chosen(HIGHEST), '1080');
    assert.equal(await chosen({ kind: 'lowest' }), '360');
    assert.equal(await chosen({ kind: 'maxHeight', height: 720 }), '720');
    assert.equal(await chosen({ kind: 'maxHeight', height: 500 }), '480');
    assert.equal(await chosen({ kind: 'maxHeight', height: 144 }), '360');
    const p = await plan(ladder, { quality: { kind: 'maxHeight', height: 720 } });
    assert.deepEqual([p.width, p.height, p.bandwidth], [1280, 720, 2800000]);
    assert.deepEqual(urls(p), ['https://cdn.test/movies/m1/720/1.m4s', 'https://cdn.test/movies/m1/720/2.m4s']);
});

test('ContentProtection on an AdaptationSet or a Representation: DrmError with its schemes, no fetch', async () => {
    const protectedSet = mpd(`<Period>
  <AdaptationSet mimeType="video/mp4">
    <ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc"/>
    <ContentProtection schemeIdUri="urn:uuid:EDEF8BA9-79D6-4ACE-A3C8-27DCD51D21ED"/>
    <ContentProtection schemeIdUri="urn:uuid:9a04f079-9840-4286-ab92-e65be0885f95"/>
    <SegmentTemplate media="$Number$.m4s" duration="5"/>
    <Representation id="v" bandwidth="1" width="1280" height="720"/>
  </AdaptationSet>
</Period>`);
    const { fetcher, calls } = fakeFetcher({ [MPD_URL]: protectedSet });
    await assert.rejects(resolveDash(MPD_URL, fetcher, HIGHEST, { maxSegments: 10 }), (e: Error) => {
        assert.ok(e instanceof DrmError);
        assert.match(e.message, /cenc, Widevine, PlayReady/);
        return true;
    });
    assert.deepEqual(calls, [`text ${MPD_URL}`]);
    // On one Representation only, and not even the one `lowest` would pick: still refused.
    const oneRep = mpd(`<Period>
  <AdaptationSet mimeType="video/mp4">
    <SegmentTemplate media="$RepresentationID$-$Number$.m4s" duration="5"/>
    <Representation id="low" bandwidth="1" width="640" height="360"/>
    <Representation id="high" bandwidth="2" width="1280" height="720">
      <ContentProtection schemeIdUri="urn:uuid:94ce86fb-07ff-4f43-adb8-93d2fa968ca2"/>
    </Representation>
  </AdaptationSet>
</Period>`);
    await assert.rejects(
        plan(oneRep, { quality: { kind: 'lowest' } }),
        (e: Error) => e instanceof DrmError && /FairPlay/.test(e.message),
    );
});

test('URLs: a file: BaseURL (at any level), a file: template and a data: init are refused', async () => {
    const unsafe = (e: Error) => e.name === 'UnsafeUrlError';
    const video = ({ mpdBase = '', setBase = '', media = '$Number$.m4s', init = 'i.mp4' }) =>
        mpd(`${mpdBase}<Period><AdaptationSet mimeType="video/mp4">${setBase}
  <SegmentTemplate media="${media}" initialization="${init}" duration="5"/>
  <Representation id="v" bandwidth="1" width="640" height="360"/>
</AdaptationSet></Period>`);
    assert.equal(urls(await plan(video({})))[0], 'https://cdn.test/movies/m1/1.m4s');
    await assert.rejects(plan(video({ mpdBase: '<BaseURL>file:///etc/</BaseURL>' })), unsafe);
    // No "//": mpd-parser's resolver would turn this one into a relative path rather than a file: URL.
    await assert.rejects(plan(video({ setBase: '<BaseURL>file:/etc/</BaseURL>' })), unsafe);
    await assert.rejects(plan(video({ media: 'file:///etc/passwd?$Number$' })), unsafe);
    await assert.rejects(plan(video({ init: 'data:video/mp4;base64,AAAA' })), unsafe);
});

test('too many segments: ManifestError naming maxSegmentsPerVideo, also for a live MPD that never ends', async () => {
    await assert.rejects(plan(templateNumber, { maxSegments: 2 }), (e: Error) => {
        assert.ok(e instanceof ManifestError);
        assert.match(e.message, /v720 has 3 segments, more than maxSegmentsPerVideo \(2\)/);
        return true;
    });
    // A 25-year-old live stream of 1 s segments and no time-shift window: counted, not built.
    const endless = mpd(
        `<Period start="PT0S"><AdaptationSet mimeType="video/mp4">
  <SegmentTemplate media="$Number$.m4s" duration="1"/><Representation id="live" bandwidth="1" width="640" height="360"/>
</AdaptationSet></Period>`,
        'type="dynamic" availabilityStartTime="2000-01-01T00:00:00Z" minimumUpdatePeriod="PT2S"',
    );
    const started = Date.now();
    await assert.rejects(plan(endless, { maxSegments: 20000 }), /maxSegmentsPerVideo \(20000\)/);
    assert.ok(Date.now() - started < 1000);
});

test('audio alone (a radio show, a podcast): the audio is the main track; nothing at all is an error', async () => {
    const audioOnly = await plan(
        mpd(`<Period>${audioSet('en', 'lang="en"', 128000)}${audioSet('de', 'lang="de"', 192000)}</Period>`),
        { preferredLang: 'de-AT' },
    );
    assert.equal(audioOnly.audioOnly, true);
    assert.deepEqual(
        audioOnly.tracks.map((t) => [t.name, t.codecs]),
        [['v', 'mp4a.40.2']],
    );
    assert.equal(urls(audioOnly)[0], 'https://cdn.test/movies/m1/de/1.m4s', "the page's language");
    assert.equal(audioOnly.width, undefined);
    const video = await plan(withAudio(audioSet('en', 'lang="en"', 128000)));
    assert.equal(video.audioOnly, undefined);
    await assert.rejects(plan(mpd('<Period></Period>')), /no playable video/);
});

test('dynamic MPD: what is listed now, tracks marked live', async () => {
    const p = await plan(
        mpd(
            `<Period id="1" start="PT0S"><AdaptationSet mimeType="video/mp4">
  <SegmentTemplate timescale="1000" media="l/$Time$.m4s" initialization="l/init.mp4">
    <SegmentTimeline><S t="60000" d="2000" r="2"/></SegmentTimeline>
  </SegmentTemplate>
  <Representation id="l" bandwidth="1" width="640" height="360"/>
</AdaptationSet></Period>`,
            'type="dynamic" availabilityStartTime="2024-01-01T00:00:00Z" minimumUpdatePeriod="PT2S"',
        ),
    );
    assert.equal(p.tracks[0]!.live, true);
    assert.deepEqual(
        urls(p),
        [60000, 62000, 64000].map((t) => `https://cdn.test/movies/m1/l/${t}.m4s`),
    );
});

const FFMPEG = '/usr/bin/ffmpeg';

test(
    'a real MPD made by ffmpeg: the plan lists the init and every .m4s on disk, per track',
    {
        skip: existsSync(FFMPEG) ? false : `${FFMPEG} is missing`,
    },
    async () => {
        const dir = await mkdtemp(path.join(tmpdir(), 'dash-test-'));
        try {
            const args = [
                '-hide_banner',
                '-loglevel',
                'error',
                '-f',
                'lavfi',
                '-i',
                'testsrc=size=320x240:rate=25:duration=4',
            ];
            args.push(
                '-f',
                'lavfi',
                '-i',
                'sine=duration=4',
                '-c:v',
                'libx264',
                '-g',
                '25',
                '-c:a',
                'aac',
                '-f',
                'dash',
            );
            args.push('-use_template', '1', '-use_timeline', '1', '-seg_duration', '1');
            args.push('-adaptation_sets', 'id=0,streams=v id=1,streams=a', 'out.mpd');
            const run = spawnSync(FFMPEG, args, { cwd: dir, encoding: 'utf8' });
            assert.equal(run.status, 0, run.stderr);
            const mpdUrl = 'https://media.test/ff/out.mpd';
            const { fetcher } = fakeFetcher({ [mpdUrl]: await readFile(path.join(dir, 'out.mpd'), 'utf8') });
            const p = await resolveDash(mpdUrl, fetcher, HIGHEST, { maxSegments: 100 });
            const onDisk = (await readdir(dir)).filter((f) => f.endsWith('.m4s'));
            assert.deepEqual(
                p.tracks.map((t) => t.name),
                ['v', 'a'],
            );
            assert.deepEqual([p.width, p.height], [320, 240]);
            for (const [i, t] of p.tracks.entries()) {
                const listed = [...t.inits, ...t.segments].map((u) => u.url.replace('https://media.test/ff/', ''));
                const expected = onDisk.filter((f) => f.includes(`stream${i}`)).sort();
                assert.ok(expected.length > 2);
                assert.deepEqual([...listed].sort(), expected);
                assert.ok(Math.abs(t.durationSecs - 4) < 0.2, `${t.name} lasts ${t.durationSecs} s`);
                assert.ok(t.segments.every((s) => s.init === 0));
            }
        } finally {
            await rm(dir, { recursive: true, force: true });
        }
    },
);
