/**
 * The item builders (src/results/items.ts) against the public contract's dataset item table: every item a
 * builder makes, as the dataset stores it (JSON), has the fields the contract lists for its type and status,
 * with their types, and no field the contract keeps for another status (`key` only when `ok`, `error` only
 * when not). A few are pinned field for field: the builders replaced literals written at the call sites,
 * and the dataset must not notice.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MediaItem, VideoJob } from '../../src/model.js';
import {
    imageOk,
    imageSkipped,
    mediaNote,
    pageFailed,
    videoLost,
    videoNote,
    videoNotStored,
    videoOk,
    type JudgedImage,
} from '../../src/results/items.js';

const SHA = 'a'.repeat(64);
const isInt = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0;

/** What the contract says of one stored item; the list of what it breaks (empty: none). Pure. */
function contractViolations(raw: MediaItem): string[] {
    const item = JSON.parse(JSON.stringify(raw)) as Record<string, unknown>;
    const wrong: string[] = [];
    const need = (ok: boolean, what: string): void => void (ok || wrong.push(what));
    need(['video', 'audio', 'image', 'page'].includes(item.type as string), `type ${String(item.type)}`);
    need(['ok', 'failed', 'skipped'].includes(item.status as string), `status ${String(item.status)}`);
    need(typeof item.pageUrl === 'string' && item.pageUrl !== '', 'pageUrl');
    need(typeof item.url === 'string' && item.url !== '', 'url');
    if (item.title !== undefined) need(typeof item.title === 'string', 'title is a string');
    if (item.errorCode !== undefined) need(typeof item.errorCode === 'string', 'errorCode is a string');
    if (item.type === 'page') {
        need(item.status === 'failed', 'page items are failed');
        need(item.url === item.pageUrl, 'a page item names the page as its url');
    }
    if ((item.type === 'video' || item.type === 'audio') && item.format !== undefined)
        need(['hls', 'dash', 'file', 'mse'].includes(item.format as string), `format ${String(item.format)}`);
    if (item.status === 'ok') {
        need(typeof item.key === 'string' && item.key !== '', 'ok: key');
        need(typeof item.contentType === 'string' && item.contentType.includes('/'), 'ok: contentType');
        need(isInt(item.bytes), 'ok: bytes');
        need(/^[0-9a-f]{64}$/.test(String(item.sha256)), 'ok: sha256');
        need(item.error === undefined, 'ok: no error');
        if (item.type === 'image') need(isInt(item.width) && isInt(item.height), 'ok image: width, height');
        if (item.type === 'video' || item.type === 'audio') {
            need(typeof item.durationSecs === 'number', 'ok video: durationSecs');
            need(isInt(item.segments), 'ok video: segments');
            need(['hls', 'dash', 'file', 'mse'].includes(item.format as string), 'ok video: format');
        }
        if (item.type === 'video') need(isInt(item.width) && isInt(item.height), 'ok video: width, height');
        if (item.live) need(isInt(item.gaps), 'live: gaps');
        for (const s of (item.subtitles as Record<string, unknown>[] | undefined) ?? [])
            need(typeof s.lang === 'string' && typeof s.key === 'string', 'subtitles: lang, key');
    } else {
        need(typeof item.error === 'string' && item.error !== '', `${String(item.status)}: error`);
        need(item.key === undefined, `${String(item.status)}: no key`);
    }
    return wrong;
}

const job = (over: Partial<VideoJob> = {}): VideoJob => ({
    id: 'j1',
    format: 'hls',
    pageUrl: 'https://site.test/play/1.html',
    url: 'https://cdn.site.test/1/master.m3u8',
    variantUrl: 'https://cdn.site.test/1/720.m3u8',
    title: 'Episode 1',
    headers: {},
    width: 1280,
    height: 720,
    durationSecs: 10,
    live: false,
    tracks: [
        {
            name: 'v',
            sourceUrl: 'https://cdn.site.test/1/720.m3u8',
            segments: 5,
            inits: 0,
            firstSeq: 0,
            bytes: 'segments',
        },
        {
            name: 'a',
            sourceUrl: 'https://cdn.site.test/1/a.m3u8',
            segments: 5,
            inits: 1,
            firstSeq: 0,
            bytes: 'segments',
        },
    ],
    delivery: 'remux',
    status: 'merging',
    ...over,
});

const stored = (over: Record<string, unknown> = {}) => ({
    kind: 'video' as const,
    key: 'video-episode-1',
    file: { contentType: 'video/mp4', outputFile: '/out/Episode 1.mp4' },
    sha256: SHA,
    bytes: 123456,
    durationSecs: 10.01,
    width: 1280,
    height: 720,
    hasAudio: true,
    subtitles: [],
    ...over,
});

const image: JudgedImage = {
    pageUrl: 'https://site.test/gallery.html',
    url: 'https://site.test/photos/sea.jpg',
    title: 'The sea',
    contentType: 'image/jpeg',
    bytes: 2048,
    sha256: SHA,
    width: 640,
    height: 480,
};

const at = { pageUrl: 'https://site.test/p.html', url: 'https://site.test/x.png', title: 'alt text' };

/** Every builder, with a name: the contract test runs over all of them. */
const BUILT: [string, MediaItem][] = [
    ['mediaNote image skipped', mediaNote('image', 'skipped', at, 'smaller than 64×64 px (1×1)')],
    ['mediaNote image failed', mediaNote('image', 'failed', { pageUrl: at.pageUrl, url: at.url }, 'HTTP 404')],
    ['mediaNote refused', mediaNote('video', 'skipped', at, 'private network', 'PRIVATE_NETWORK')],
    ['pageFailed', pageFailed('https://site.test/p.html', 'page could not be rendered: timeout')],
    ['pageFailed with title', pageFailed('https://site.test/p.html', 'no video found on the page', 'A page')],
    ['videoNote', videoNote({ ...at, format: 'dash' }, 'failed', 'DRM', { errorCode: 'DRM' })],
    ['videoNote unknown format', videoNote({ pageUrl: at.pageUrl, url: 'blob:x' }, 'skipped', 'preview clip')],
    ['videoLost', videoLost(job(), 'the run was aborted with 3 of 10 segments downloaded')],
    ['videoNotStored', videoNotStored(job(), 'failed', 7, 'missing 3 of 10 segments: HTTP 404')],
    ['videoNotStored skipped', videoNotStored(job(), 'skipped', 1, 'not a video', 'NOT_A_VIDEO')],
    ['videoOk', videoOk(job(), stored())],
    ['videoOk audio', videoOk(job({ audioOnly: true }), stored({ kind: 'audio', hasAudio: true }))],
    [
        'videoOk live with subtitles and a thumbnail',
        videoOk(
            job({ live: true, gaps: 2 }),
            stored({
                thumbnail: { key: 'thumb-video-episode-1' },
                subtitles: [{ lang: 'en', name: 'English', key: 'video-episode-1.en' }],
            }),
        ),
    ],
    ['imageSkipped', imageSkipped(image, 'same content as the image stored as "image-sea"')],
    ['imageOk', imageOk(image, 'image-sea', { contentType: 'image/jpeg', outputFile: '/out/sea.jpg' })],
];

test('every built item has the fields the contract lists for its type and status', () => {
    for (const [name, item] of BUILT) assert.deepEqual(contractViolations(item), [], name);
});

test('the contract check finds what an item lacks (it can fail)', () => {
    const ok = videoOk(job(), stored());
    assert.notDeepEqual(contractViolations({ ...ok, key: undefined }), []);
    assert.notDeepEqual(contractViolations({ ...ok, sha256: 'abc' }), []);
    assert.notDeepEqual(contractViolations({ ...ok, error: 'x' }), []);
    assert.notDeepEqual(contractViolations(mediaNote('image', 'failed', at, '')), []);
    assert.notDeepEqual(contractViolations({ ...pageFailed('https://a.test/', 'x'), url: 'https://b.test/' }), []);
});

test('an ok video item: as the finisher wrote it before the builders', () => {
    const item = JSON.parse(JSON.stringify(videoOk(job(), stored({ thumbnail: { key: 'thumb-v', url: 'u' } }))));
    assert.deepEqual(item, {
        type: 'video',
        status: 'ok',
        pageUrl: 'https://site.test/play/1.html',
        url: 'https://cdn.site.test/1/master.m3u8',
        format: 'hls',
        title: 'Episode 1',
        variantUrl: 'https://cdn.site.test/1/720.m3u8',
        width: 1280,
        height: 720,
        key: 'video-episode-1',
        contentType: 'video/mp4',
        bytes: 123456,
        sha256: SHA,
        durationSecs: 10.01,
        segments: 10,
        hasAudio: true,
        localPath: '/out/Episode 1.mp4',
        thumbnailKey: 'thumb-v',
        thumbnailUrl: 'u',
    });
});

test('an audio item has no picture size; a live one counts its gaps; a variant equal to the URL is left out', () => {
    const audio = videoOk(
        job({ audioOnly: true, variantUrl: 'https://cdn.site.test/1/master.m3u8' }),
        stored({ kind: 'audio' }),
    );
    assert.equal(audio.type, 'audio');
    assert.equal(audio.width, undefined);
    assert.equal(audio.height, undefined);
    assert.equal(audio.variantUrl, undefined);
    assert.equal(videoOk(job({ live: true }), stored()).gaps, 0);
    assert.equal(videoOk(job(), stored()).gaps, undefined);
    // The merged file's own size wins over the manifest's.
    assert.equal(videoOk(job(), stored({ width: 1920, height: 1080 })).width, 1920);
});

test('notes: as the call sites wrote them', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(mediaNote('image', 'skipped', at, 'why', 'PRIVATE_NETWORK'))), {
        type: 'image',
        status: 'skipped',
        pageUrl: at.pageUrl,
        url: at.url,
        title: 'alt text',
        error: 'why',
        errorCode: 'PRIVATE_NETWORK',
    });
    assert.deepEqual(pageFailed('https://site.test/p.html', 'why'), {
        type: 'page',
        status: 'failed',
        pageUrl: 'https://site.test/p.html',
        url: 'https://site.test/p.html',
        error: 'why',
    });
    assert.deepEqual(JSON.parse(JSON.stringify(videoLost(job(), 'why'))), {
        type: 'video',
        status: 'failed',
        pageUrl: 'https://site.test/play/1.html',
        url: 'https://cdn.site.test/1/master.m3u8',
        format: 'hls',
        title: 'Episode 1',
        error: 'why',
    });
    const failed = JSON.parse(JSON.stringify(videoNotStored(job(), 'failed', 7, 'why', 'KEY')));
    assert.deepEqual(failed, {
        type: 'video',
        status: 'failed',
        pageUrl: 'https://site.test/play/1.html',
        url: 'https://cdn.site.test/1/master.m3u8',
        format: 'hls',
        title: 'Episode 1',
        variantUrl: 'https://cdn.site.test/1/720.m3u8',
        width: 1280,
        height: 720,
        segments: 7,
        error: 'why',
        errorCode: 'KEY',
    });
});

test('image items: ok names its key and stored type, skipped says why and has no key', () => {
    const ok = imageOk(image, 'image-sea', { contentType: 'image/jpeg', fileUrl: 'https://api.test/r/image-sea' });
    assert.equal(ok.status, 'ok');
    assert.equal(ok.key, 'image-sea');
    assert.equal(ok.fileUrl, 'https://api.test/r/image-sea');
    assert.equal(ok.title, 'The sea');
    assert.equal('localPath' in ok, false);
    const skipped = imageSkipped(image, 'too small');
    assert.equal(skipped.key, undefined);
    assert.equal(skipped.sha256, SHA);
    assert.equal(skipped.error, 'too small');
});
