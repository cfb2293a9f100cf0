import assert from 'node:assert/strict';
import { test } from 'node:test';
import HLS, { type types } from 'hls-parser';
import { chooseVariant } from '../../src/sources/variant.js';
import { DrmError, ivForSegment, planTrack } from '../../src/sources/hls/plan.js';
import { ManifestError } from '../../src/errors.js';
import type { ManifestFetcher } from '../../src/model.js';
import { parsePlaylist, resolveHls } from '../../src/sources/hls/resolve.js';
import { UnsafeUrlError } from '../../src/urls.js';

const v = (height: number, bandwidth: number, extra: Partial<types.Variant> = {}) => ({
    bandwidth,
    resolution: { width: Math.round((height * 16) / 9), height },
    ...extra,
});

test('variant choice: highest, lowest, at most N p', () => {
    const variants = [v(360, 800_000), v(1080, 5_000_000), v(720, 2_500_000), v(720, 3_000_000), v(240, 300_000)];
    assert.equal(chooseVariant(variants, { kind: 'highest' })?.bandwidth, 5_000_000);
    assert.equal(chooseVariant(variants, { kind: 'lowest' })?.bandwidth, 300_000);
    assert.equal(chooseVariant(variants, { kind: 'maxHeight', height: 720 })?.bandwidth, 3_000_000);
    assert.equal(chooseVariant(variants, { kind: 'maxHeight', height: 500 })?.bandwidth, 800_000);
    // Every variant taller than asked: the smallest, not nothing.
    assert.equal(chooseVariant(variants, { kind: 'maxHeight', height: 144 })?.bandwidth, 300_000);
});

test('variant choice ignores I-frame-only variants and falls back to bandwidth without resolutions', () => {
    assert.equal(
        chooseVariant([v(2160, 9e6, { isIFrameOnly: true }), v(720, 2e6)], { kind: 'highest' })?.bandwidth,
        2e6,
    );
    assert.equal(
        chooseVariant([{ bandwidth: 1 }, { bandwidth: 3 }, { bandwidth: 2 }], { kind: 'highest' })?.bandwidth,
        3,
    );
    assert.equal(chooseVariant([], { kind: 'highest' }), undefined);
});

test('IV: explicit attribute, else media sequence number big-endian', () => {
    assert.equal(ivForSegment(undefined, 0), '00000000000000000000000000000000');
    assert.equal(ivForSegment(undefined, 258), '00000000000000000000000000000102');
    assert.equal(ivForSegment(undefined, 2 ** 40), '00000000000000000000010000000000');
    const iv = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
    assert.equal(ivForSegment(iv, 5), '0123456789abcdef0123456789abcdef');
});

const media = (body: string): types.MediaPlaylist =>
    HLS.parse(`#EXTM3U\n#EXT-X-TARGETDURATION:4\n${body}`) as types.MediaPlaylist;

test('plan: relative URIs, sequence numbers, keys with derived IVs, METHOD=NONE, byte ranges', () => {
    const plan = planTrack(
        media(`#EXT-X-MEDIA-SEQUENCE:7
#EXT-X-KEY:METHOD=AES-128,URI="keys/k1.bin"
#EXTINF:4,
a.ts?tok=1
#EXT-X-KEY:METHOD=AES-128,URI="https://keys.test/k2",IV=0x000102030405060708090a0b0c0d0e0f
#EXTINF:4,
/abs/b.ts
#EXT-X-KEY:METHOD=NONE
#EXT-X-BYTERANGE:1000@0
#EXTINF:3.5,
all.ts
#EXT-X-BYTERANGE:500
#EXTINF:2,
all.ts
#EXT-X-ENDLIST`),
        'https://cdn.test/v/720/index.m3u8?token=abc',
    );
    assert.deepEqual(
        plan.segments.map((s) => s.seq),
        [7, 8, 9, 10],
    );
    assert.equal(plan.segments[0]!.url, 'https://cdn.test/v/720/a.ts?tok=1');
    assert.equal(plan.segments[1]!.url, 'https://cdn.test/abs/b.ts');
    assert.deepEqual(plan.segments[0]!.key, {
        uri: 'https://cdn.test/v/720/keys/k1.bin',
        iv: '00000000000000000000000000000007',
    });
    assert.equal(plan.segments[1]!.key?.iv, '000102030405060708090a0b0c0d0e0f');
    assert.equal(plan.segments[2]!.key, undefined);
    assert.deepEqual(plan.segments[2]!.range, { offset: 0, length: 1000 });
    assert.deepEqual(plan.segments[3]!.range, { offset: 1000, length: 500 });
    assert.equal(plan.durationSecs, 13.5);
    assert.equal(plan.live, false);
});

test('plan: fMP4 init sections are shared and indexed', () => {
    const plan = planTrack(
        media(
            '#EXT-X-MAP:URI="init.mp4"\n#EXTINF:2,\n1.m4s\n#EXTINF:2,\n2.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init2.mp4"\n#EXTINF:2,\n3.m4s\n',
        ),
        'http://h.test/p.m3u8',
    );
    assert.equal(plan.inits.length, 2);
    assert.deepEqual(
        plan.segments.map((s) => s.init),
        [0, 0, 1],
    );
    assert.equal(plan.segments[2]!.discontinuity, true);
    assert.equal(plan.live, true);
});

test('plan: DRM and unsafe URIs are refused', () => {
    assert.throws(
        () =>
            planTrack(media('#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://x"\n#EXTINF:2,\n1.ts\n'), 'http://h.test/p.m3u8'),
        DrmError,
    );
    assert.throws(
        () =>
            planTrack(
                media('#EXT-X-KEY:METHOD=AES-128,URI="k",KEYFORMAT="com.widevine"\n#EXTINF:2,\n1.ts\n'),
                'http://h.test/p.m3u8',
            ),
        DrmError,
    );
    assert.throws(() => planTrack(media('#EXTINF:2,\nfile:///etc/passwd\n'), 'http://h.test/p.m3u8'), UnsafeUrlError);
    // data: keys are allowed, data: segments are not
    const plan = planTrack(
        media('#EXT-X-KEY:METHOD=AES-128,URI="data:;base64,AAECAwQFBgcICQoLDA0ODw=="\n#EXTINF:2,\n1.ts\n'),
        'http://h.test/p.m3u8',
    );
    assert.ok(plan.segments[0]!.key?.uri.startsWith('data:'));
});

test('parsePlaylist names what it got instead of a playlist', () => {
    assert.throws(
        () => parsePlaylist('<!doctype html><p>login', 'text/html; charset=utf-8'),
        (e: Error) => e instanceof ManifestError && /not an HLS playlist \(text\/html/.test(e.message),
    );
    assert.throws(() => parsePlaylist('{"error":1}', 'application/json'), ManifestError);
});

function fakeFetch(files: Record<string, string>): ManifestFetcher {
    const text = async (url: string) => {
        const body = files[url];
        if (body === undefined) throw new Error(`404 ${url}`);
        return { text: body, url, contentType: 'application/vnd.apple.mpegurl' };
    };
    const unused = (): never => {
        throw new Error('not used by HLS');
    };
    return { text, range: unused, sniff: unused };
}

test('resolveVideo follows master → chosen variant and its audio rendition', async () => {
    const files = {
        'http://h.test/master.m3u8': `#EXTM3U
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="en",DEFAULT=YES,URI="audio/en.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=640x360,AUDIO="aud"
360/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=2000000,RESOLUTION=1280x720,AUDIO="aud"
720/index.m3u8
`,
        'http://h.test/720/index.m3u8':
            '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n#EXTINF:2,\nb.ts\n#EXT-X-ENDLIST\n',
        'http://h.test/audio/en.m3u8':
            '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.aac\n#EXTINF:2,\nb.aac\n#EXT-X-ENDLIST\n',
    };
    const video = await resolveHls('http://h.test/master.m3u8', fakeFetch(files), { kind: 'highest' }, 100);
    assert.equal(video.variantUrl, 'http://h.test/720/index.m3u8');
    assert.equal(video.height, 720);
    assert.deepEqual(
        video.tracks[0]!.segments.map((s) => s.url),
        ['http://h.test/720/a.ts', 'http://h.test/720/b.ts'],
    );
    assert.equal(video.tracks[1]?.name, 'a');
    assert.equal(video.tracks[1]?.segments[0]?.url, 'http://h.test/audio/a.aac');
    assert.equal(video.format, 'hls');
    assert.ok(video.relatedUrls.includes('http://h.test/360/index.m3u8'));
});

test('the renditions are read while the variant is: subtitles named in order, one that cannot be read left out', async () => {
    const media = (ext: string): string =>
        `#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.${ext}\n#EXTINF:2,\nb.${ext}\n#EXT-X-ENDLIST\n`;
    const files: Record<string, string> = {
        'http://h.test/master.m3u8': `#EXTM3U
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="en",DEFAULT=YES,URI="audio/en.m3u8"
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en",DEFAULT=YES,URI="subs/en.m3u8"
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="Français",LANGUAGE="fr",URI="subs/gone.m3u8"
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="Deutsch",LANGUAGE="de",URI="subs/de.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=2000000,RESOLUTION=1280x720,AUDIO="aud",SUBTITLES="subs"
720/index.m3u8
`,
        'http://h.test/720/index.m3u8': media('ts'),
        'http://h.test/audio/en.m3u8': media('aac'),
        'http://h.test/subs/en.m3u8': media('vtt'),
        'http://h.test/subs/de.m3u8': media('vtt'),
    };
    // Each playlist takes a while to arrive; how many were asked for at once is counted.
    const plain = fakeFetch(files);
    let inFlight = 0;
    let most = 0;
    const slow: ManifestFetcher = {
        ...plain,
        text: async (url) => {
            most = Math.max(most, ++inFlight);
            await new Promise((r) => setTimeout(r, 20));
            inFlight--;
            return plain.text(url);
        },
    };
    const video = await resolveHls('http://h.test/master.m3u8', slow, { kind: 'highest' }, 100, { subtitles: true });
    assert.deepEqual(
        video.tracks.map((t) => [t.name, t.lang, t.label]),
        [
            ['v', undefined, undefined],
            ['a', undefined, undefined],
            ['s0', 'en', 'English'],
            ['s1', 'de', 'Deutsch'],
        ],
    );
    assert.equal(video.tracks[3]!.segments[0]!.url, 'http://h.test/subs/a.vtt');
    assert.equal(most, 5, 'the variant, the audio and the three subtitle playlists at once');
});

test('resolveVideo refuses loops, empty playlists and absurd sizes', async () => {
    const loop = {
        'http://h.test/a.m3u8': '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nb.m3u8\n',
        'http://h.test/b.m3u8': '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n',
    };
    await assert.rejects(resolveHls('http://h.test/a.m3u8', fakeFetch(loop), { kind: 'highest' }, 100), /loop/);
    const empty = { 'http://h.test/e.m3u8': '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-ENDLIST\n' };
    await assert.rejects(resolveHls('http://h.test/e.m3u8', fakeFetch(empty), { kind: 'highest' }, 100), /no segments/);
    const big = { 'http://h.test/b.m3u8': `#EXTM3U\n#EXT-X-TARGETDURATION:1\n${'#EXTINF:1,\ns.ts\n'.repeat(101)}` };
    await assert.rejects(
        resolveHls('http://h.test/b.m3u8', fakeFetch(big), { kind: 'highest' }, 100),
        /maxSegmentsPerVideo/,
    );
});
