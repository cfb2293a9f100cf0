import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVideoFileResponse, manifestFormat } from '../../src/pages/capture.js';
import { nameFromUrl, suffixedName } from '../../src/output.js';
import { totalFromContentRange } from '../../src/net/media-client.js';
import { formatFromContentType, formatFromUrl } from '../../src/sources/index.js';
import { MIN_RANGE_BYTES, planRanges, videoFileKind } from '../../src/sources/file/ranges.js';
import { chooseCandidates } from '../../src/video-submitter.js';
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
    assert.ok(isVideoFileResponse({ ...base, resourceType: 'fetch', contentType: 'video/x-flv' }), 'FLV players fetch by script');
    assert.ok(!isVideoFileResponse({ ...base, resourceType: 'xhr', totalBytes: 300_000 }), 'an MSE segment');
    assert.ok(isVideoFileResponse({ ...base, resourceType: 'xhr', range: 'bytes=0-', totalBytes: 50 * MiB }), 'a ranged progressive fetch');
    assert.ok(!isVideoFileResponse({ ...base, status: 404 }));
    assert.ok(!isVideoFileResponse({ ...base, contentType: 'video/iso.segment' }));
});

test('manifests win over files on one page; files alone are taken', () => {
    const c = (url: string, format?: 'hls' | 'dash' | 'file') => ({ url, headers: {}, source: 'network' as const, format });
    assert.deepEqual(chooseCandidates([c('https://c.test/v.mp4', 'file'), c('https://c.test/v.mpd', 'dash')]).map((x) => x.url), ['https://c.test/v.mpd']);
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
    assert.ok(isRetryable(new UnitsFailedError([new HttpStatusError('http://x', 404), new MediaError('CORRUPT_UNIT', 'short')], 2)));
    assert.ok(!isRetryable(new UnitsFailedError([new HttpStatusError('http://x', 404)], 1)));
    const cause = new Error('root');
    assert.equal(new KeyError('k', { cause }).cause, cause);
    assert.equal(errorCode(new KeyError('k')), 'KEY');
    assert.equal(errorCode(new Error('x')), undefined);
});
