import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVideoFileResponse, manifestFormat } from '../../src/pages/capture.js';
import { nameFromUrl, suffixedName } from '../../src/results/output.js';
import { totalFromContentRange } from '../../src/net/media-client.js';
import { formatFromContentType, formatFromUrl } from '../../src/sources/index.js';
import { MIN_RANGE_BYTES, planRanges, videoFileKind } from '../../src/sources/file/ranges.js';
import { chooseCandidates } from '../../src/app/video-submitter.js';
import { errorCode, HttpStatusError, isRetryable, KeyError, MediaError, UnitsFailedError } from '../../src/errors.js';

const MiB = 1024 * 1024;

test('file ranges: at least 4 MiB, about one per connection, contiguous and complete', () => {
    const check = (total: number, conns: number) => {
        const ranges = planRanges(total, conns);
        let next = 0;
        for (const r of ranges) {
            assert.equal(r.offset, next);
            next += r.length;
        }
        assert.equal(next, total);
        assert.ok(ranges.slice(0, -1).every((r) => r.length >= MIN_RANGE_BYTES));
        return ranges.length;
    };
    assert.equal(check(3 * MiB, 64), 1, 'a small file is one range');
    assert.equal(check(100 * MiB, 64), 25, '4 MiB floor: 25 ranges, not 64');
    assert.equal(check(1024 * MiB, 64), 64, 'one per connection');
    assert.ok(check(100_000 * MiB, 64) <= 4000, 'bounded count');
    assert.deepEqual(planRanges(0, 64), []);
});

test('file kinds: stored as served, FLV remuxed with a fallback, not-videos refused', () => {
    assert.deepEqual(videoFileKind('video/mp4'), { contentType: 'video/mp4', delivery: 'as-served' });
    assert.equal(videoFileKind('video/webm')?.delivery, 'as-served');
    assert.equal(videoFileKind('video/quicktime')?.delivery, 'as-served');
    assert.equal(videoFileKind('video/x-m4v')?.contentType, 'video/mp4');
    assert.equal(videoFileKind('video/x-flv')?.delivery, 'remux-or-as-served');
    assert.equal(videoFileKind('text/html'), undefined);
    assert.equal(videoFileKind(undefined), undefined);
    assert.equal(totalFromContentRange('bytes 0-65535/9876543'), 9876543);
    assert.equal(totalFromContentRange('bytes 0-65535/*'), undefined);
});

test('formats from URLs and content types', () => {
    assert.equal(formatFromUrl('https://c.test/a/master.m3u8?t=1'), 'hls');
    assert.equal(formatFromUrl('https://c.test/a/manifest.mpd'), 'dash');
    assert.equal(formatFromUrl('https://c.test/a/clip.MP4'), 'file');
    assert.equal(formatFromUrl('https://c.test/a/clip.flv'), 'file');
    assert.equal(formatFromUrl('https://c.test/watch?v=1'), undefined);
    assert.equal(formatFromUrl('file:///x.mp4'), undefined);
    assert.equal(formatFromContentType('application/dash+xml'), 'dash');
    assert.equal(formatFromContentType('application/x-mpegURL'), 'hls');
    assert.equal(formatFromContentType('video/webm'), 'file');
    assert.equal(formatFromContentType('video/mp2t'), undefined, 'a TS response is a segment');
    assert.equal(manifestFormat('https://c.test/x', 'application/dash+xml; charset=utf-8'), 'dash');
});

test('which video responses are files of their own', () => {
    const base = { contentType: 'video/mp4', status: 206, resourceType: 'media' };
    assert.ok(isVideoFileResponse(base), 'a <video> element fetched it');
    assert.ok(
        isVideoFileResponse({ ...base, resourceType: 'fetch', contentType: 'video/x-flv' }),
        'FLV players fetch by script',
    );
    assert.ok(!isVideoFileResponse({ ...base, resourceType: 'xhr', totalBytes: 300_000 }), 'an MSE segment');
    assert.ok(
        isVideoFileResponse({ ...base, resourceType: 'xhr', range: 'bytes=0-', totalBytes: 50 * MiB }),
        'a ranged progressive fetch',
    );
    assert.ok(!isVideoFileResponse({ ...base, status: 404 }));
    assert.ok(!isVideoFileResponse({ ...base, contentType: 'video/iso.segment' }));
});

test('manifests win over files on one page; files alone are taken', () => {
    const c = (url: string, format?: 'hls' | 'dash' | 'file') => ({
        url,
        headers: {},
        source: 'network' as const,
        format,
    });
    assert.deepEqual(
        chooseCandidates([c('https://c.test/v.mp4', 'file'), c('https://c.test/v.mpd', 'dash')]).map((x) => x.url),
        ['https://c.test/v.mpd'],
    );
    assert.deepEqual(chooseCandidates([c('https://c.test/v.mp4'), c('https://c.test/w.webm')]).length, 2);
});

test('names from URLs: the file name, or the folders above a generic one', () => {
    assert.equal(nameFromUrl('https://cdn.test/show/ep1/index.m3u8?token=x'), 'show-ep1');
    assert.equal(nameFromUrl('https://cdn.test/v/master.m3u8'), 'v');
    assert.equal(nameFromUrl('https://cdn.test/media/my-holiday-2024.mp4'), 'my-holiday-2024');
    assert.equal(nameFromUrl('https://cdn.test/a/b/manifest.mpd'), 'a-b');
    assert.equal(nameFromUrl('https://cdn.test/Gr%C3%BC%C3%9Fe.webm'), 'Grüße');
    assert.equal(nameFromUrl('https://cdn.test/index.m3u8'), undefined);
    assert.equal(suffixedName('a.mp4', 1), 'a.mp4');
    assert.equal(suffixedName('a.b.mp4', 3), 'a.b-3.mp4');
});

test('one retry decision for every error', () => {
    assert.ok(isRetryable(new HttpStatusError('http://x', 503)));
    assert.ok(!isRetryable(new HttpStatusError('http://x', 404)));
    assert.ok(!isRetryable(new KeyError('bad key')));
    assert.ok(isRetryable(new Error('socket hang up')));
    assert.ok(
        isRetryable(
            new UnitsFailedError([new HttpStatusError('http://x', 404), new MediaError('CORRUPT_UNIT', 'short')], 2),
        ),
    );
    assert.ok(!isRetryable(new UnitsFailedError([new HttpStatusError('http://x', 404)], 1)));
    const cause = new Error('root');
    assert.equal(new KeyError('k', { cause }).cause, cause);
    assert.equal(errorCode(new KeyError('k')), 'KEY');
    assert.equal(errorCode(new Error('x')), undefined);
});

test('DASH text adaptation sets become subtitle tracks (WebVTT and TTML sidecars), one per language', async () => {
    const { resolveDash } = await import('../../src/sources/dash/resolve.js');
    const mpd = `<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT4S" minBufferTime="PT1S" profiles="urn:mpeg:dash:profile:isoff-live:2011">
 <Period>
  <AdaptationSet contentType="video" mimeType="video/mp4">
   <SegmentTemplate timescale="1000" duration="2000" initialization="v-init.mp4" media="v-$Number$.m4s" startNumber="1"/>
   <Representation id="v" bandwidth="500000" width="640" height="360" codecs="avc1.42c01e"/>
  </AdaptationSet>
  <AdaptationSet contentType="text" mimeType="text/vtt" lang="en"><Representation id="en" bandwidth="1"><BaseURL>subs/en.vtt</BaseURL></Representation></AdaptationSet>
  <AdaptationSet contentType="text" mimeType="text/vtt" lang="en"><Representation id="en2" bandwidth="1"><BaseURL>subs/en-forced.vtt</BaseURL></Representation></AdaptationSet>
  <AdaptationSet contentType="text" mimeType="application/ttml+xml" lang="fr"><Representation id="fr" bandwidth="1"><BaseURL>subs/fr.ttml</BaseURL></Representation></AdaptationSet>
 </Period>
</MPD>`;
    const unused = (): never => {
        throw new Error('not fetched');
    };
    const fetcher = {
        text: async (url: string) => ({ text: mpd, url, contentType: 'application/dash+xml' }),
        range: unused,
        sniff: unused,
    };
    const url = 'https://cdn.test/v/manifest.mpd';
    const plan = await resolveDash(url, fetcher, { kind: 'highest' }, { maxSegments: 100, subtitles: true });
    const subs = plan.tracks.filter((t) => t.subtitles);
    assert.deepEqual(
        subs.map((t) => [t.name, t.lang, t.subtitles, t.bytes, t.segments.map((s) => s.url)]),
        [
            ['s0', 'en', 'webvtt', 'text', ['https://cdn.test/v/subs/en.vtt']],
            ['s1', 'fr', 'ttml', 'text', ['https://cdn.test/v/subs/fr.ttml']],
        ],
    );
    const without = await resolveDash(url, fetcher, { kind: 'highest' }, { maxSegments: 100 });
    assert.equal(without.tracks.filter((t) => t.subtitles).length, 0);
});

test('a manifest the page built is known by its text, not by its blob: URL (new on every load)', async () => {
    const { archiveVideoId, identityUrl } = await import('../../src/app/video-submitter.js');
    const inline = { text: '#EXTM3U\n#EXTINF:1,\nhttps://c.test/a.ts\n', baseUrl: 'https://p.test/watch' };
    const a = { url: 'blob:https://p.test/1b2c', headers: {}, source: 'page' as const, inline };
    const b = { ...a, url: 'blob:https://p.test/9f8e' };
    assert.equal(identityUrl(a), identityUrl(b));
    const q = { kind: 'highest' } as const;
    assert.equal(
        archiveVideoId('https://p.test/watch', identityUrl(a), q),
        archiveVideoId('https://p.test/watch', identityUrl(b), q),
    );
    assert.notEqual(identityUrl({ ...a, inline: { ...inline, text: '#EXTM3U\n' } }), identityUrl(a));
    assert.equal(
        identityUrl({ url: 'https://c.test/v.m3u8', headers: {}, source: 'network' }),
        'https://c.test/v.m3u8',
    );
});

test('the plan reads a manifest the page received once, and fetches what the page did not receive', async () => {
    const { resolvePlan, withReceived } = await import('../../src/sources/index.js');
    const media = 'https://c.test/v/index.m3u8';
    const playlist = '#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\na.ts\n#EXTINF:4,\nb.ts\n#EXT-X-ENDLIST\n';
    const fetched: string[] = [];
    const fetcher = {
        text: async (url: string) => {
            fetched.push(url);
            return { text: playlist.replace('a.ts', 'fresh.ts'), url, contentType: 'application/vnd.apple.mpegurl' };
        },
        range: async () => Buffer.alloc(0),
        sniff: async () => assert.fail('no sniff'),
    };
    const asked: string[] = [];
    const received = async (url: string) => {
        asked.push(url);
        return url === media ? { text: playlist, url, contentType: 'application/vnd.apple.mpegurl' } : undefined;
    };
    const reader = withReceived(fetcher, received);
    const options = { quality: { kind: 'highest' }, maxSegments: 100, maxConcurrency: 4 } as const;
    const plan = await resolvePlan({ url: media, format: 'hls' }, reader, options);
    assert.deepEqual(fetched, [], 'the received playlist is not fetched again');
    assert.deepEqual(
        plan.tracks[0]!.segments.map((s) => s.url),
        ['https://c.test/v/a.ts', 'https://c.test/v/b.ts'],
        'segments resolve against the URL the page requested',
    );
    // Asked again (a live playlist looked at later): fetched fresh.
    assert.equal((await reader.text(media)).text.includes('fresh.ts'), true);
    // Not received by the page: fetched.
    await reader.text('https://c.test/other.m3u8');
    assert.deepEqual(fetched, [media, 'https://c.test/other.m3u8']);
    assert.deepEqual(asked, [media, 'https://c.test/other.m3u8']);
    assert.equal(withReceived(fetcher, undefined), fetcher, 'no page: the fetcher as it is');
});

test('collection keys keep the key bound with their prefix', async () => {
    const { collectionKey, keyFromText, outputName } = await import('../../src/results/output.js');
    const key = collectionKey('video', keyFromText('long title '.repeat(40), 'video', 'u'));
    assert.ok(key.length <= 120 && key.startsWith('video-') && !/[-.]$/.test(key), key);
    assert.equal(collectionKey('image', 'image-a'), 'image-a');
    assert.equal(outputName('video-Episode-1', 'mp4'), 'Episode-1.mp4');
    assert.equal(outputName('thumb-video-x', 'png'), 'thumb-video-x.png');
});
