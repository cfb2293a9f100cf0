/**
 * Every kind of file the actor stores, written by storeFile into a local store, is listed and read
 * back by Crawlee's own KeyValueStore (the MIME table decides the file name on both sides), and lands in
 * the output folder under its title with the extension people's tools expect.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/actor.js';
import { readBackWithCrawlee } from '../helpers/store.js';

const KINDS: [key: string, contentType: string, title: string, outputName: string][] = [
    ['video-mp4', 'video/mp4', 'Серия 1 — Пилот', 'Серия 1 — Пилот.mp4'],
    ['video-mov', 'video/quicktime', '第1話 旅立ち', '第1話 旅立ち.mov'],
    ['video-webm', 'video/webm', 'Grüße aus Köln', 'Grüße aus Köln.webm'],
    ['video-mkv', 'video/matroska', 'mkv clip', 'mkv clip.mkv'],
    ['video-xmkv', 'video/x-matroska', 'x-mkv clip', 'x-mkv clip.mkv'],
    ['video-flv', 'video/x-flv', 'flv kept', 'flv kept.flv'],
    ['video-mp4.en', 'text/vtt', 'Серия 1 — Пилот.en', 'Серия 1 — Пилот.en.vtt'],
    ['audio-m4a', 'audio/mp4', 'song', 'song.m4a'],
    ['image-jpeg', 'image/jpeg', 'Фото', 'Фото.jpeg'],
    ['image-png', 'image/png', 'still', 'still.png'],
    ['image-apng', 'image/apng', 'anim', 'anim.png'],
    ['image-gif', 'image/gif', 'spin', 'spin.gif'],
    ['image-webp', 'image/webp', 'leaf', 'leaf.webp'],
    ['image-avif', 'image/avif', 'sky', 'sky.avif'],
    ['image-svg', 'image/svg+xml', 'logo', 'logo.svg'],
    ['image-jxl', 'image/jxl', 'jxl', 'jxl.bin'],
    ['thumb-video-mp4', 'image/png', 'thumb', 'thumb.png'],
];

test('storeFile: every stored type reads back through Crawlee, and lands in the output folder by title', async () => {
    const storage = await tempDir('store-types');
    const out = path.join(storage, 'downloads');
    process.env.CRAWLEE_STORAGE_DIR = storage;
    const { Results } = await import('../../src/results/results.js');
    const results = await Results.open({ outputDir: out });
    const hashes = new Map<string, string>();
    for (const [key, contentType, title] of KINDS) {
        const file = path.join(storage, `${key}.tmp`);
        const body = Buffer.from(`${key} ${contentType}\n`);
        await writeFile(file, body);
        hashes.set(key, createHash('sha256').update(body).digest('hex'));
        const stored = await results.store(key, file, contentType, { name: title });
        assert.ok(stored.outputFile, key);
    }
    const readBack = await readBackWithCrawlee(storage);
    for (const [key] of KINDS) assert.equal(readBack[key], hashes.get(key), `${key} read back by Crawlee`);
    const names = (await readdir(out)).map((n) => n.normalize('NFC')).sort();
    assert.deepEqual(names, KINDS.map(([, , , name]) => name).sort());
});
