import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isClosedPageRace } from '../../src/pages/playwright-races.js';
import HLS, { type types } from 'hls-parser';
import { archiveKeys } from '../../src/results/archive.js';
import { faultFor } from '../fixtures/faults.js';
import { freshUnitUrls } from '../../src/sources/hls/refresh.js';
import { UnitLeases } from '../../src/download/unit-leases.js';
import type { VideoJob } from '../../src/model.js';
import { archiveVideoId, videoId } from '../../src/app/video-submitter.js';

test('archive ids ignore query tokens but not the page or the quality', () => {
    const q = { kind: 'highest' } as const;
    assert.equal(
        archiveVideoId('https://s.test/p/1', 'https://cdn.test/v/index.m3u8?token=a', q),
        archiveVideoId('https://s.test/p/1', 'https://cdn.test/v/index.m3u8?token=b', q),
    );
    assert.notEqual(
        archiveVideoId('https://s.test/p/1', 'https://cdn.test/v/index.m3u8', q),
        archiveVideoId('https://s.test/p/2', 'https://cdn.test/v/index.m3u8', q),
    );
    assert.notEqual(
        archiveVideoId('https://s.test/p/1', 'https://cdn.test/v/index.m3u8', q),
        archiveVideoId('https://s.test/p/1', 'https://cdn.test/v/index.m3u8', { kind: 'lowest' }),
    );
    assert.notEqual(
        videoId('https://cdn.test/v/index.m3u8?token=a', q),
        videoId('https://cdn.test/v/index.m3u8?token=b', q),
    );
    assert.equal(archiveKeys.imageUrl('https://a.test/x.jpg#frag'), archiveKeys.imageUrl('https://a.test/x.jpg'));
    assert.match(archiveKeys.imageSha('ab'.repeat(32)), /^s-[0-9a-f]{40}$/);
});

test('fresh segment URLs are matched by media sequence number', () => {
    const job = {
        variantUrl: 'https://cdn.test/v.m3u8',
        tracks: [{ name: 'v', sourceUrl: 'https://cdn.test/v.m3u8', segments: 3, inits: 0, firstSeq: 10 }],
    } as unknown as VideoJob;
    const refreshed = HLS.parse(
        '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:11\n#EXTINF:1,\ns11.ts?t=new\n#EXTINF:1,\ns12.ts?t=new\n',
    ) as types.MediaPlaylist;
    const urls = freshUnitUrls(job, new Map([['https://cdn.test/v.m3u8', refreshed]]));
    assert.equal(urls.get('v-seg-000000.bin'), undefined, 'sequence 10 left the window');
    assert.equal(urls.get('v-seg-000001.bin')?.url, 'https://cdn.test/s11.ts?t=new');
    assert.equal(urls.get('v-seg-000002.bin')?.url, 'https://cdn.test/s12.ts?t=new');
});

test('fault choice is stable per path and covers both kinds', () => {
    const kinds = new Set(Array.from({ length: 40 }, (_, i) => faultFor(`/media/x/seg_${i}.ts`)));
    assert.ok(kinds.has('busy') && kinds.has('cut') && kinds.has(undefined));
    // The same fault every run, by path: the end-to-end tests are written against these.
    assert.deepEqual(
        ['/media/api/seg_00000.ts', '/media/api/seg_00001.ts', '/media/api/seg_00002.ts'].map((p) => faultFor(p)),
        [undefined, 'cut', 'busy'],
    );
    // file-media.ts: the FLV's first request is cut (mpegts.js resumes it by range), the preview's is not.
    assert.equal(faultFor('/media/files/broadcast.flv'), 'cut');
    assert.equal(faultFor('/media/files/preview-clip.mp4'), undefined);
});

test('unit leases: a request keeps what it took, helpers take the earliest free unit, nothing twice', () => {
    const units = ['u0', 'u1', 'u2', 'u3', 'u4'].map((unit) => ({ unit, url: `https://cdn.test/${unit}.ts` }));
    const leases = new UnitLeases();
    assert.ok(leases.lease('v', 'u9', 'A'), 'units of a video never offered are free for all');
    leases.offer('v', units);
    assert.ok(leases.lease('v', 'u0', 'A'));
    assert.ok(leases.lease('v', 'u0', 'A'), 'a retry of the holder may fetch it again');
    assert.ok(!leases.lease('v', 'u0', 'B'), 'another request may not');
    const stored = new Set(['u1']);
    assert.equal(leases.takeNext('v', 'B', (u) => stored.has(u))?.unit, 'u2', 'held and stored units are skipped');
    assert.equal(leases.holder('v', 'u2'), 'B');
    assert.ok(!leases.lease('v', 'u2', 'C'), 'the owner of a run finds a taken unit taken');
    assert.ok(leases.lease('v', 'u3', 'C'));
    assert.equal(leases.takeNext('v', 'A', () => false)?.unit, 'u4');
    assert.equal(
        leases.takeNext('v', 'A', () => false),
        undefined,
        'nothing left',
    );
    leases.offer('v', [units[4]!, { unit: 'u5', url: 'https://cdn.test/u5.ts' }]);
    assert.equal(leases.takeNext('v', 'B', () => false)?.unit, 'u5', 'offered again (resume): only what nobody holds');
    leases.forget('v');
    assert.equal(leases.holder('v', 'u5'), undefined);
});

test("Playwright's reply for a page already closed is told apart from every other uncaught error", () => {
    const race = new Error('Cannot find parent object page@3b1f to create disposable@9c2e');
    assert.equal(isClosedPageRace(race), true);
    const unbound = new Error('Object with guid disposable@e08bbdc5 was not bound in the connection');
    assert.equal(isClosedPageRace(unbound), true);
    assert.equal(isClosedPageRace(new Error('Object with guid page@e08bbdc5 was not bound in the connection')), false);
    assert.equal(isClosedPageRace(new Error('Cannot read properties of undefined')), false);
    assert.equal(isClosedPageRace('Cannot find parent object page@1 to create disposable@2'), false);
});
