/**
 * A worker killed with `kill -9` between claiming an image's content (and its key) and writing the image's
 * item leaves both claims behind, unconfirmed. Its request goes back to the shared queue; whoever takes it up
 * must store the picture, not report it as "same content as" a copy nobody stored (seen in CI on the
 * two-worker kill test). Drives the real ImageSaver and the real shared claims queue in Crawlee's local
 * storage; the dead worker's claims are made as its ImageSaver made them, by a Claims of its own (a
 * process's memory is its Claims object).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import type { FileDownloadCrawlingContext } from '@crawlee/http';
import { ffmpegPath } from '../../src/merge/ffmpeg.js';
import { tempDir } from '../helpers/actor.js';

test('an image claimed by a worker killed before its item is stored by whoever takes its request up, once', async () => {
    const dir = await tempDir('image-claims');
    // Crawlee reads its storage folder when it first opens a storage: set before anything opens one.
    process.env.CRAWLEE_STORAGE_DIR = path.join(dir, 'storage');
    const { Dataset } = await import('@crawlee/core');
    const { ImageSaver } = await import('../../src/download/images.js');
    const { Results } = await import('../../src/results/results.js');
    const { Claims } = await import('../../src/run/claims.js');
    const { parseInput } = await import('../../src/input/input.js');
    const { defaultKvDir } = await import('../../src/run/storage.js');

    const png = path.join(dir, 'photo.png');
    execFileSync(ffmpegPath, ['-v', 'error', '-f', 'lavfi', '-i', 'color=c=0xaa6633:s=160x120', '-frames:v', '1', png]);
    const bytes = await readFile(png);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const url = 'https://site.test/photos/photo.png';

    // Worker 1, first life: it claimed the content and the key, then was killed.
    const dead = await Claims.open('claims');
    assert.equal(dead.shared, true);
    assert.equal(await dead.claim('image', sha256, url), undefined);
    assert.equal(await dead.claim('key', 'image-photo', 'worker 1'), undefined);

    // Another worker's page shows the same picture at another URL meanwhile: the claim stands for it.
    const other = await Claims.open('claims');
    assert.equal(await other.claim('image', sha256, 'https://site.test/copy.png', { takeOverUnconfirmed: true }), url);

    // Worker 1 restarted: a new process takes the request up again.
    const claims = await Claims.open('claims');
    const input = parseInput({ startUrls: [{ url: 'https://site.test/gallery.html' }] });
    const results = await Results.open({ claims, holder: 'worker 1' });
    const saver = new ImageSaver(input, results, path.join(dir, 'work'), claims);
    const ctx = {
        request: { url, userData: { kind: 'image', pageUrl: 'https://site.test/gallery.html' } },
    } as unknown as FileDownloadCrawlingContext;
    const open = async () => ({
        stream: Readable.from([bytes]),
        statusCode: 200,
        headers: { 'content-type': 'image/png', 'content-length': String(bytes.length) },
    });
    await saver.handle(ctx, open);

    const items = (await (await Dataset.open()).getData()).items as { status: string; key?: string; error?: string }[];
    assert.equal(items.length, 1, JSON.stringify(items));
    assert.equal(items[0]!.status, 'ok', items[0]!.error);
    assert.equal(items[0]!.key, 'image-photo', 'the key the killed instance had claimed, not image-photo-2');
    assert.deepEqual(await readFile(path.join(defaultKvDir(), 'image-photo.png')), bytes);

    // Killed again, after the item and before its request was marked handled: the request comes back once
    // more, to a process that knows nothing of it (a fresh Claims and ImageSaver). No second item.
    const third = await Claims.open('claims');
    const results3 = await Results.open({ claims: third, holder: 'worker 1' });
    await new ImageSaver(input, results3, path.join(dir, 'work'), third).handle(ctx, open);
    const after = (await (await Dataset.open()).getData()).items as { status: string; error?: string }[];
    assert.deepEqual(
        after.map((i) => `${i.status} ${i.error ?? ''}`),
        ['ok '],
        'the retry of a request that stored its image writes nothing',
    );

    // Stored and confirmed: nobody takes it over any more, not even a request for the same URL.
    const later = await Claims.open('claims');
    assert.equal(await later.claim('image', sha256, url, { takeOverUnconfirmed: true }), url);
    // Another URL with the same content is a copy, as before.
    assert.equal(await later.claim('image', sha256, 'https://site.test/copy.png', { takeOverUnconfirmed: true }), url);
});
