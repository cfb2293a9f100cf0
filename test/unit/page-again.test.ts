/** app/page-again.ts: which candidate of a page rendered again is the video's source, and when to ask the page. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { atSource, sameSource, SourceLooks, sourceRefused } from '../../src/app/page-again.js';
import { ExpiredError, HttpStatusError, ManifestError } from '../../src/errors.js';
import type { FreshUrls, VideoCandidate, VideoJob } from '../../src/model.js';

const job = (over: Partial<VideoJob> = {}): VideoJob =>
    ({
        id: 'j1',
        format: 'hls',
        pageUrl: 'https://site.example/watch/1',
        url: 'https://cdn.example/v/1/index.m3u8?sig=old',
        tracks: [{ name: 'v', sourceUrl: 'https://cdn.example/v/1/index.m3u8?sig=old' }],
        ...over,
    }) as VideoJob;

const candidate = (url: string, format: VideoCandidate['format'] = 'hls'): VideoCandidate => ({
    url,
    format,
    headers: {},
    source: 'html',
});

test('the same place (origin and path) is the same source, whatever its signature', () => {
    const fresh = 'https://cdn.example/v/1/index.m3u8?sig=new';
    const other = 'https://cdn.example/v/2/index.m3u8?sig=new';
    assert.equal(sameSource(job(), [candidate(other), candidate(fresh)]), fresh);
    // Another host with the same path is another source.
    assert.equal(sameSource(job(), [candidate('https://other.example/v/1/index.m3u8'), candidate(other)]), undefined);
    // A URL given by an earlier render counts as well (a CDN that moved the video between renders).
    assert.equal(
        sameSource(
            job(),
            [candidate('https://cdn2.example/x.m3u8?s=3'), candidate(other)],
            ['https://cdn2.example/x.m3u8?s=2'],
        ),
        'https://cdn2.example/x.m3u8?s=3',
    );
});

test('a signature in the path: the only candidate of the same format, never a guess between two', () => {
    const signedPath = job({ url: 'https://cdn.example/tok-aaa/index.m3u8' });
    assert.equal(
        sameSource(signedPath, [
            candidate('https://cdn.example/tok-bbb/index.m3u8'),
            candidate('https://x/a.mp4', 'file'),
        ]),
        'https://cdn.example/tok-bbb/index.m3u8',
    );
    assert.equal(
        sameSource(signedPath, [
            candidate('https://cdn.example/tok-bbb/a.m3u8'),
            candidate('https://cdn.example/tok-ccc/b.m3u8'),
        ]),
        undefined,
    );
    assert.equal(sameSource(signedPath, []), undefined);
});

test('the job at a fresh source: tracks read from the old source URL read from the new one', () => {
    const j = job({
        tracks: [
            { name: 'v', sourceUrl: 'https://cdn.example/v/1/index.m3u8?sig=old' },
            { name: 'a', sourceUrl: 'https://cdn.example/v/1/audio.m3u8?sig=old' },
        ] as unknown as VideoJob['tracks'],
    });
    const moved = atSource(j, 'https://cdn.example/v/1/index.m3u8?sig=new');
    assert.equal(moved.url, 'https://cdn.example/v/1/index.m3u8?sig=new');
    assert.deepEqual(
        moved.tracks.map((t) => t.sourceUrl),
        ['https://cdn.example/v/1/index.m3u8?sig=new', 'https://cdn.example/v/1/audio.m3u8?sig=old'],
    );
    assert.equal(j.tracks[0]!.sourceUrl, 'https://cdn.example/v/1/index.m3u8?sig=old', 'the job is not changed');
    const again = atSource(j, 'https://cdn.example/v/1/index.m3u8?sig=3', [
        'https://cdn.example/v/1/audio.m3u8?sig=old',
    ]);
    assert.equal(again.tracks[1]!.sourceUrl, 'https://cdn.example/v/1/index.m3u8?sig=3');
});

test('only a refusal (401/403/410) of the source sends for the page', () => {
    assert.ok(sourceRefused(new HttpStatusError('https://x/a.m3u8', 403)));
    assert.ok(sourceRefused(new HttpStatusError('https://x/a.m3u8', 410)));
    assert.ok(!sourceRefused(new HttpStatusError('https://x/a.m3u8', 404)));
    assert.ok(!sourceRefused(new HttpStatusError('https://x/a.m3u8', 503)));
    assert.ok(!sourceRefused(new ManifestError('not a playlist')));
});

const fresh: FreshUrls = { units: new Map(), sources: new Map() };

test('SourceLooks: reads the source; on a refusal renders the page once, and later looks start from its URL', async () => {
    const reads: string[] = [];
    let renders = 0;
    const refused = new Set(['https://cdn.example/v/1/index.m3u8?sig=old']);
    const looks = new SourceLooks({
        read: async (j) => {
            reads.push(j.url);
            if (refused.has(j.url)) throw new HttpStatusError(j.url, 403);
            return fresh;
        },
        render: async () => {
            renders++;
            return [candidate(`https://cdn.example/v/1/index.m3u8?sig=r${renders}`)];
        },
    });
    const first = await looks.refresh(job());
    assert.deepEqual(reads, [
        'https://cdn.example/v/1/index.m3u8?sig=old',
        'https://cdn.example/v/1/index.m3u8?sig=r1',
    ]);
    assert.equal(first.sources.get('v'), 'https://cdn.example/v/1/index.m3u8?sig=r1', 'the track follows');
    reads.length = 0;
    await looks.refresh(job());
    assert.deepEqual(reads, ['https://cdn.example/v/1/index.m3u8?sig=r1'], 'no render while the fresh URL works');
    // Two videos of one page expiring together share one render.
    refused.add('https://cdn.example/v/1/index.m3u8?sig=r1');
    await Promise.all([looks.refresh(job()), looks.refresh(job({ id: 'j2' }))]);
    assert.equal(renders, 2);
});

test('SourceLooks: no page to ask, another error, or a page that no longer shows the video', async () => {
    const refusedRead = async (j: VideoJob): Promise<FreshUrls> => {
        throw new HttpStatusError(j.url, 403);
    };
    // A start URL that is the manifest itself: the refusal stands as it is.
    const direct = job({ pageUrl: 'https://cdn.example/v/1/index.m3u8?sig=old' });
    await assert.rejects(
        new SourceLooks({ read: refusedRead, render: async () => [] }).refresh(direct),
        HttpStatusError,
    );
    await assert.rejects(new SourceLooks({ read: refusedRead }).refresh(job()), HttpStatusError);
    let rendered = false;
    const busy = new SourceLooks({
        read: async (j) => {
            throw new HttpStatusError(j.url, 503);
        },
        render: async () => {
            rendered = true;
            return [];
        },
    });
    await assert.rejects(busy.refresh(job()), HttpStatusError);
    assert.equal(rendered, false, 'a 503 is retried by the download, not answered by the page');
    await assert.rejects(
        new SourceLooks({
            read: refusedRead,
            render: async () => [candidate('https://cdn.example/v/9/a.mp4', 'file')],
        }).refresh(job()),
        (e: unknown) => e instanceof ExpiredError && /no longer shows it/.test(e.message),
    );
    await assert.rejects(
        new SourceLooks({ read: refusedRead, render: async () => [candidate(job().url)] }).refresh(job()),
        (e: unknown) => e instanceof ExpiredError && /gave the same URL/.test(e.message),
    );
});
