/**
 * One results home: items are written by src/results/results.ts alone, and it keeps the rules that used
 * to be spread over six files — one verdict per video, a note once per page and URL. The architecture
 * half reads the sources; the behaviour half drives the real Results on Crawlee's local storage in a
 * temp folder.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/actor.js';
import type { MediaItem } from '../../src/model.js';

const SRC = path.resolve(import.meta.dirname, '..', '..', 'src');
const HOME = path.join('results', 'results.ts');

function files(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
        const p = path.join(dir, name);
        return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
    });
}

/**
 * Lines of a module that write a dataset item: Crawlee's `pushData` (a Dataset's, a crawling context's,
 * `Actor.pushData`), however it is reached, or the old writers' names. Pure.
 */
export function itemWrites(text: string): number[] {
    const lines: number[] = [];
    text.split('\n').forEach((line, i) => {
        if (/\bpushData\b|\bpushItem\b|\bpushNoteOnce\b/.test(line)) lines.push(i + 1);
    });
    return lines;
}

/** Object literals that make an item (a `status` of the contract) outside the builders. Pure. */
export function itemLiterals(text: string): number[] {
    const lines: number[] = [];
    text.split('\n').forEach((line, i) => {
        if (/\bstatus:\s*'(ok|failed|skipped)'\s*[,}]/.test(line)) lines.push(i + 1);
    });
    return lines;
}

test('items are written from one module: src/results/results.ts', () => {
    const writers = files(SRC)
        .filter((f) => itemWrites(readFileSync(f, 'utf8')).length > 0)
        .map((f) => path.relative(SRC, f));
    assert.deepEqual(writers, [HOME]);
});

test('items are built by src/results/items.ts, not as literals at the call sites', () => {
    const found: string[] = [];
    // demo/ is the test site: its "status" fields are a fake API's, not items.
    for (const f of files(SRC).filter((f) => !/^(results|demo)\//.test(path.relative(SRC, f)))) {
        for (const line of itemLiterals(readFileSync(f, 'utf8'))) found.push(`${path.relative(SRC, f)}:${line}`);
    }
    assert.deepEqual(found, []);
});

test('the source checks see a write or a literal wherever one is (they can fail)', () => {
    assert.deepEqual(itemWrites('const a = 1;\nawait (await Dataset.open()).pushData(item);'), [2]);
    assert.deepEqual(itemWrites('await ctx.pushData({ url });'), [1]);
    assert.deepEqual(itemWrites('await Actor.pushData(item);\nconst { pushData } = ctx;'), [1, 2]);
    assert.deepEqual(itemWrites('const data = await dataset.getData();'), []);
    assert.deepEqual(itemLiterals("await results.push({ type: 'image', status: 'failed', pageUrl, url });"), [1]);
    assert.deepEqual(itemLiterals("    status: 'failed' | 'skipped',"), []);
});

const dir = await tempDir('results-home');
// Crawlee reads its storage folder when it first opens a storage: set before anything opens one.
process.env.CRAWLEE_STORAGE_DIR = path.join(dir, 'storage');
const { Dataset } = await import('@crawlee/core');
const { Results } = await import('../../src/results/results.js');
const { Claims } = await import('../../src/run/claims.js');

async function itemsAt(pageUrl: string): Promise<MediaItem[]> {
    const { items } = await (await Dataset.open()).getData();
    return (items as MediaItem[]).filter((i) => i.pageUrl === pageUrl);
}

const item = (pageUrl: string, status: MediaItem['status'], url = `${pageUrl}v.m3u8`): MediaItem => ({
    type: 'video',
    status,
    pageUrl,
    url,
    ...(status === 'ok' ? { key: 'video-v' } : { error: 'why' }),
});

test('one verdict per video: the first wins, a second is refused and writes nothing, even when both start at once', async () => {
    const results = await Results.open();
    const page = 'https://site.test/verdict/';
    const [ok, failed] = await Promise.all([
        results.verdict('video-1', item(page, 'ok')),
        results.verdict('video-1', item(page, 'failed')),
    ]);
    assert.deepEqual([ok, failed], [true, false]);
    assert.equal(await results.verdict('video-1', item(page, 'failed')), false, 'later, too');
    // Another video has its own verdict.
    assert.equal(await results.verdict('video-2', item(page, 'failed', `${page}other.mp4`)), true);
    const items = await itemsAt(page);
    assert.deepEqual(
        items.map((i) => `${i.url.split('/').pop()} ${i.status}`),
        ['v.m3u8 ok', 'other.mp4 failed'],
    );
});

test('a note is written once per page and URL, with claims and without', async () => {
    for (const claims of [await Claims.open(undefined), undefined]) {
        const results = await Results.open({ claims });
        const page = `https://site.test/notes-${claims ? 'claims' : 'memory'}/`;
        await results.note(item(page, 'skipped'));
        await results.note(item(page, 'skipped'));
        await results.note(item(page, 'skipped', `${page}other.m3u8`));
        assert.equal((await itemsAt(page)).length, 2, claims ? 'with claims' : 'without');
    }
});

test('a run resumed on its own writes no note twice: the page it was rendering when it stopped is rendered again', async () => {
    const page = 'https://site.test/notes-resumed/';
    const before = await Results.open({ claims: await Claims.open(undefined) });
    await before.note(item(page, 'skipped'));
    // A new process over the same dataset: its claims and memory are new, the dataset is not.
    const after = await Results.open({ claims: await Claims.open(undefined) });
    await after.note(item(page, 'skipped'));
    await after.note(item(page, 'failed'));
    assert.deepEqual(
        (await itemsAt(page)).map((i) => i.status),
        ['skipped', 'failed'],
    );
});

test('the output folder is the one given: none given, none used', async () => {
    const without = await Results.open();
    assert.equal(without.outputDir, undefined);
    const given = await Results.open({ outputDir: path.join(dir, 'out') });
    assert.equal(given.outputDir, path.join(dir, 'out'));
});

test('a worker given up for good: its unfinished videos become failed items through the results home', async () => {
    const { KeyValueStore } = await import('@crawlee/core');
    const { reportLostVideos } = await import('../../src/workers/lost-videos.js');
    const { runStorageNames } = await import('../../src/run/storage.js');
    const scope = 'lost-w1';
    const state = await KeyValueStore.open(runStorageNames(scope).state);
    const page = 'https://site.test/lost/';
    const job = (id: string, status: string) => ({
        id,
        format: 'hls',
        pageUrl: page,
        url: `${page}${id}.m3u8`,
        title: id,
        status,
    });
    await state.setValue('job-a', job('a', 'downloading'));
    await state.setValue('job-b', job('b', 'done'));
    await state.setValue('job-c', job('c', 'merging'));
    assert.equal(await reportLostVideos(scope, 'was killed', await Results.open()), 2);
    const items = (await itemsAt(page)).sort((x, y) => x.url.localeCompare(y.url));
    assert.deepEqual(
        items.map((i) => [i.url.split('/').pop(), i.type, i.status, i.format, i.title, i.error]),
        [
            [
                'a.m3u8',
                'video',
                'failed',
                'hls',
                'a',
                'the worker downloading it was killed and could not be restarted',
            ],
            [
                'c.m3u8',
                'video',
                'failed',
                'hls',
                'c',
                'the worker downloading it was killed and could not be restarted',
            ],
        ],
    );
});
