/**
 * An image whose store fails is not "stored": Crawlee's retry of the request stores it. Drives the real
 * ImageSaver against Crawlee's local storage in a temp folder; the first store fails because the output
 * folder is a file (a local file error, as a full disk or a denied folder would give); the file is gone
 * before the retry, which makes the folder.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { ffmpegPath } from '../../src/merge/tools.js';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import type { FileDownloadCrawlingContext } from '@crawlee/http';
import { tempDir } from '../helpers/actor.js';

test('an image whose store failed is stored by the retry, not reported as the same content as itself', async () => {
    const dir = await tempDir('image-store');
    // Crawlee reads its storage folder when it first opens a storage: set before anything opens one.
    process.env.CRAWLEE_STORAGE_DIR = path.join(dir, 'storage');
    const { Dataset } = await import('@crawlee/core');
    const { ImageSaver } = await import('../../src/download/images.js');
    const { Results } = await import('../../src/results/results.js');
    const { Claims } = await import('../../src/run/claims.js');
    const { parseInput } = await import('../../src/input/input.js');
    const { defaultKvDir } = await import('../../src/run/storage.js');

    const png = path.join(dir, 'photo.png');
    execFileSync(ffmpegPath, ['-v', 'error', '-f', 'lavfi', '-i', 'color=c=0x3366aa:s=160x120', '-frames:v', '1', png]);
    const bytes = await readFile(png);
    const claims = await Claims.open(undefined);
    const input = parseInput({ startUrls: [{ url: 'https://site.test/gallery.html' }] });
    const downloads = path.join(dir, 'downloads');
    const results = await Results.open({ outputDir: downloads, claims });
    const saver = new ImageSaver(input, results, path.join(dir, 'work'), claims);
    const url = 'https://site.test/photos/photo.png';
    const ctx = {
        request: { url, userData: { kind: 'image', pageUrl: 'https://site.test/gallery.html' } },
    } as unknown as FileDownloadCrawlingContext;
    const open = async () => ({
        stream: Readable.from([bytes]),
        statusCode: 200,
        headers: { 'content-type': 'image/png', 'content-length': String(bytes.length) },
    });

    await writeFile(downloads, 'a file where the output folder should be');
    await assert.rejects(saver.handle(ctx, open), 'the first store fails');
    await rm(downloads);
    await saver.handle(ctx, open); // Crawlee's retry of the same request

    const items = (await (await Dataset.open()).getData()).items as { status: string; key?: string; error?: string }[];
    assert.equal(items.length, 1, JSON.stringify(items));
    const item = items[0]!;
    assert.equal(item.status, 'ok', item.error);
    const stored = path.join(defaultKvDir(), `${item.key}.png`);
    assert.deepEqual(await readFile(stored), bytes, 'the stored file is the image, byte for byte');
    // The output folder names an image by its URL's file name.
    assert.deepEqual(await readFile(path.join(dir, 'downloads', 'photo.png')), bytes, 'the output folder has it too');
});
