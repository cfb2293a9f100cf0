/**
 * A worker killed with `kill -9` while it stores an image leaves its request to come back to the queue, and
 * whoever takes it up must end with exactly one `ok` item and one file for that picture, under the key the
 * dead one chose: not "same content as" a copy nobody stored, not a second `ok` item, not `image-x-2` (all
 * three seen in CI on the two-worker kill test). Drives the real ImageSaver, Results, claims queue and state
 * store on Crawlee's local storage. A kill is a process that stops at one await and never goes on: here a
 * step that never resolves; its process's memory is its own Claims, Results and ImageSaver objects, and a
 * restart opens new ones over the same storages.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import type { FileDownloadCrawlingContext } from '@crawlee/http';
import { ffmpegPath } from '../../src/merge/tools.js';
import { tempDir } from '../helpers/actor.js';
import type { Claims as ClaimsT } from '../../src/run/claims.js';
import type { Results as ResultsT } from '../../src/results/results.js';

const dir = await tempDir('image-claims');
// Crawlee reads its storage folder when it first opens a storage: set before anything opens one.
process.env.CRAWLEE_STORAGE_DIR = path.join(dir, 'storage');
const { Dataset, KeyValueStore } = await import('@crawlee/core');
const { ImageSaver } = await import('../../src/download/images.js');
const { Results } = await import('../../src/results/results.js');
const { Claims } = await import('../../src/run/claims.js');
const { parseInput } = await import('../../src/input/input.js');
const { defaultKvDir } = await import('../../src/run/storage.js');

type Saver = InstanceType<typeof ImageSaver>;
const input = parseInput({ startUrls: [{ url: 'https://site.test/gallery.html' }] });
const pageUrl = 'https://site.test/gallery.html';
const never = (): Promise<never> => new Promise(() => undefined);

/** A distinct PNG (160×120 unless told) per name, its bytes and sha256. */
function picture(name: string, color: string, size = '160x120'): { url: string; bytes: Buffer; sha256: string } {
    const file = path.join(dir, `${name}.png`);
    execFileSync(ffmpegPath, [
        '-y',
        '-v',
        'error',
        '-f',
        'lavfi',
        '-i',
        `color=c=${color}:s=${size}`,
        '-frames:v',
        '1',
        file,
    ]);
    const bytes = execFileSync('cat', [file]);
    return {
        url: `https://site.test/photos/${name}.png`,
        bytes,
        sha256: createHash('sha256').update(bytes).digest('hex'),
    };
}

/** One process: its claims, results and saver, over the shared claims queue (or none) and a state store. */
async function processOf(holder: string, claimsQueue: string | undefined, state: string) {
    const claims = await Claims.open(claimsQueue);
    const results = await Results.open({ claims, holder });
    const saver = new ImageSaver(input, results, path.join(dir, 'work'), claims);
    await saver.load(await KeyValueStore.open(state));
    return { claims, results, saver };
}

function handle(saver: Saver, image: { url: string; bytes: Buffer }): Promise<number> {
    const ctx = {
        request: { url: image.url, userData: { kind: 'image', pageUrl } },
    } as unknown as FileDownloadCrawlingContext;
    const open = async () => ({
        stream: Readable.from([image.bytes]),
        statusCode: 200,
        headers: { 'content-type': 'image/png', 'content-length': String(image.bytes.length) },
    });
    return saver.handle(ctx, open);
}

type KillPoint = 'before the store' | 'before the item' | 'before the confirmation' | 'after everything';

/**
 * Makes the process stop for good at `point` of its next image store. Resolves to what undoes the patch of a
 * storage object the next process shares (Crawlee hands every opener of a store the same object).
 */
async function killAt(point: KillPoint, p: { claims: ClaimsT; results: ResultsT }, state: string): Promise<() => void> {
    if (point === 'before the store') p.results.store = never;
    if (point === 'before the item') p.results.push = never;
    if (point !== 'before the confirmation') return () => undefined;
    if (p.claims.shared) {
        p.claims.confirm = never;
        return () => undefined;
    }
    // With one worker the ledger is the state record: the kill comes before it says "done".
    const store = await KeyValueStore.open(state);
    const set = store.setValue.bind(store);
    store.setValue = ((key: string, value: unknown) =>
        (value as { done?: boolean } | null)?.done ? never() : set(key, value)) as typeof store.setValue;
    return () => void (store.setValue = set);
}

async function itemsFor(url: string): Promise<{ status: string; key?: string; error?: string }[]> {
    const { items } = await (await Dataset.open()).getData();
    return (items as { url: string; status: string; key?: string; error?: string }[]).filter((i) => i.url === url);
}

async function storedCopies(bytes: Buffer): Promise<string[]> {
    const files = (await readdir(defaultKvDir())).filter((f) => f.startsWith('image-'));
    const same = await Promise.all(
        files.map(async (f) => (await readFile(path.join(defaultKvDir(), f))).equals(bytes)),
    );
    return files.filter((_, i) => same[i]);
}

async function expectOneStore(name: string, image: { url: string; bytes: Buffer }, why: string): Promise<void> {
    const items = await itemsFor(image.url);
    assert.deepEqual(
        items.map((i) => `${i.status} ${i.key ?? i.error}`),
        [`ok image-${name}`],
        `${why}: one ok item under the key the killed worker chose`,
    );
    assert.deepEqual(await storedCopies(image.bytes), [`image-${name}.png`], `${why}: one stored file`);
}

const points: KillPoint[] = ['before the store', 'before the item', 'before the confirmation', 'after everything'];
const colors = ['0xaa3311', '0x11aa33', '0x3311aa', '0xaaaa11', '0x11aaaa', '0xaa11aa', '0x777711', '0x117777'];

test('workers sharing a crawl: a request whose worker was killed while storing gives one item, one file', async () => {
    for (const [i, point] of points.entries()) {
        const name = `shared-${i}`;
        const image = picture(name, colors[i]!);
        const dead = await processOf('worker 1', 'claims', 'state-w1');
        await killAt(point, dead, 'state-w1');
        const first = handle(dead.saver, image);
        if (point === 'after everything') await first;
        else await new Promise((r) => setTimeout(r, 300)); // it stops at the kill point for good
        // The request comes back to the queue: the restarted worker 1 takes it up, or worker 0.
        const next = await processOf(i % 2 ? 'worker 1' : 'worker 0', 'claims', i % 2 ? 'state-w1' : 'state-w0');
        await handle(next.saver, image);
        await expectOneStore(name, image, `killed ${point}`);
    }
    // The same content at another URL, later: a copy of the stored one.
    const copy = { ...picture('shared-0', colors[0]!), url: 'https://site.test/mirror/copy.png' };
    await handle((await processOf('worker 0', 'claims', 'state-w0')).saver, copy);
    const [item] = await itemsFor(copy.url);
    assert.equal(item?.status, 'skipped');
    assert.match(item?.error ?? '', /same content as/);
});

test('one worker resumed after a kill while storing: one item, one file', async () => {
    for (const [i, point] of points.entries()) {
        const name = `single-${i}`;
        const image = picture(name, colors[4 + i]!);
        const state = `state-single-${i}`;
        const dead = await processOf('worker 0', undefined, state);
        const undo = await killAt(point, dead, state);
        const first = handle(dead.saver, image);
        if (point === 'after everything') await first;
        else await new Promise((r) => setTimeout(r, 300));
        undo();
        const next = await processOf('worker 0', undefined, state);
        await handle(next.saver, image);
        await expectOneStore(name, image, `killed ${point}`);
    }
});

test('workers sharing a crawl: a request whose worker was killed while reporting a skipped image gives one item', async () => {
    const small = ['before the item', 'before the confirmation', 'after everything'] as const;
    for (const [i, point] of small.entries()) {
        // 16×16: below the 64×64 minimum, reported as skipped (the CI case: a second such item after kill -9).
        const icon = picture(`icon-${i}`, colors[i]!, '16x16');
        const dead = await processOf('worker 1', 'claims', 'state-w1');
        await killAt(point, dead, 'state-w1');
        const first = handle(dead.saver, icon);
        if (point === 'after everything') await first;
        else await new Promise((r) => setTimeout(r, 300));
        const next = await processOf(i % 2 ? 'worker 1' : 'worker 0', 'claims', i % 2 ? 'state-w1' : 'state-w0');
        await handle(next.saver, icon);
        const items = await itemsFor(icon.url);
        assert.deepEqual(
            items.map((item) => item.status),
            ['skipped'],
            `killed ${point}: one skipped item`,
        );
        assert.match(items[0]!.error ?? '', /smaller than/);
    }
});
