/**
 * Issue 23, names and types, end to end: pages titled in Cyrillic, Japanese, German, Hebrew and Arabic
 * with an MP4, a QuickTime .mov, a WebM, a Matroska and an FLV, and a gallery of every image type (an
 * animated PNG among them). The output folder keeps the titles as written, the store keys are
 * transliterated, Crawlee itself reads every record of the store back, and every link of REPORT.html
 * opens a file that exists.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startNamesSite, type NamesSite } from './fixtures/names-site.js';
import { runActor, tempDir } from './helpers/actor.js';
import { readBackWithCrawlee } from './helpers/store.js';
import { sha256 } from './helpers/media.js';
import { namesMedia } from './helpers/fixture-cache.js';

let site: NamesSite;

before(async () => {
    const dir = await tempDir('names-media');
    await namesMedia(dir);
    site = await startNamesSite(dir);
});
after(() => site?.close());

test('titles in any script name the output files; keys are transliterated; Crawlee reads every record back', async () => {
    const p = site.pages;
    const result = await runActor({
        startUrls: [p.ru, p.ja, p.de, p.mkv, p.flv, p.gallery].map((url) => ({ url })),
        pageWaitSecs: 4,
        minImageWidth: 32,
        minImageHeight: 32,
    });
    assert.equal(result.code, 0, result.output.slice(-3000));
    const ok = result.items.filter((i) => i.status === 'ok');
    const summary = JSON.stringify(result.items.map((i) => [i.status, i.type, i.url, i.key, i.error]));
    const videos = ok.filter((i) => i.type === 'video');
    const images = ok.filter((i) => i.type === 'image');
    assert.equal(videos.length, 5, summary);
    assert.equal(images.length, 7, summary);

    // The output folder: titles as written, the real extension of each file.
    const outDir = path.join(result.storage, 'downloads');
    const files = (await readdir(outDir)).map((f) => f.normalize('NFC')).sort();
    const expected = [
        'Серия 1 — Пилот.mp4',
        'Серия 1 — Пилот.en.vtt',
        '第1話 旅立ち.mov',
        'Grüße aus Köln.webm',
        'שלום עולם.mkv',
        // FLV is remuxed to MP4.
        'مرحبا بالعالم.mp4',
        'Фото дня.jpeg',
        'anim.png',
        'still.png',
        'spin.gif',
        'leaf.webp',
        'sky.avif',
        'logo.svg',
    ].sort();
    assert.deepEqual(files, expected);

    // Keys: ASCII by the Apify rules, transliterated, no hash where a title has letters.
    const byTitle = new Map(videos.map((v) => [v.title, v]));
    assert.equal(byTitle.get('Серия 1 — Пилот')?.key, 'video-Seriya-1-Pilot');
    assert.equal(byTitle.get('Grüße aus Köln')?.key, 'video-Gruesse-aus-Koeln');
    assert.match(byTitle.get('第1話 旅立ち')?.key ?? '', /^video-[A-Za-z]+-1[A-Za-z]/);
    for (const item of ok) {
        assert.match(item.key!, /^[a-zA-Z0-9!\-_.'()]{1,256}$/, item.key);
        assert.doesNotMatch(item.key!, /[0-9a-f]{10}/, `${item.key}: a hash where the title has letters`);
    }
    assert.ok(
        images.some((i) => i.key === 'image-Foto-dnya'),
        images.map((i) => i.key).join(' '),
    );
    // Types as the store reads them back: the APNG is a PNG, the .mov QuickTime, the .mkv Matroska.
    const anim = images.find((i) => i.url.endsWith('/anim.png'));
    assert.equal(anim?.contentType, 'image/png');
    assert.equal(byTitle.get('第1話 旅立ち')?.contentType, 'video/quicktime');
    assert.equal(byTitle.get('שלום עולם')?.contentType, 'video/x-matroska');
    assert.equal(byTitle.get('مرحبا بالعالم')?.contentType, 'video/mp4');
    assert.ok(!(await readdir(result.kvDir)).some((f) => f.endsWith('.bin')), 'no record stored as .bin');

    // Crawlee's own store reads every record back: the files byte for byte, subtitles and thumbnails too.
    const readBack = await readBackWithCrawlee(result.storage);
    for (const item of ok) assert.equal(readBack[item.key!], item.sha256, `${item.key} read back by Crawlee`);
    const ru = byTitle.get('Серия 1 — Пилот')!;
    assert.equal(ru.subtitles?.length, 1, JSON.stringify(ru));
    for (const key of [ru.subtitles![0]!.key, ...videos.map((v) => (v as { thumbnailKey?: string }).thumbnailKey!)])
        assert.match(readBack[key] ?? '', /^[0-9a-f]{64}$/, `${key} read back by Crawlee`);

    // REPORT.html: every link and picture opens a file of the store; videos under their own type.
    const html = await readFile(path.join(result.kvDir, 'REPORT.html'), 'utf8');
    const local = [...html.matchAll(/(?:href|src)="([^"]+)"/g)]
        .map((m) => m[1]!.replace(/&#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c))))
        .filter((u) => !/^[a-z]+:/i.test(u));
    assert.ok(local.length >= videos.length * 2 + images.length * 2, `${local.length} links`);
    for (const link of local) assert.ok(existsSync(path.join(result.kvDir, decodeURIComponent(link))), link);
    for (const v of videos) {
        const file = local.find((l) => decodeURIComponent(l).startsWith(`${v.key}.`))!;
        assert.ok(file, `${v.key} is linked`);
        assert.equal(await sha256(path.join(result.kvDir, decodeURIComponent(file))), v.sha256);
    }
    assert.ok(local.includes(`${ru.subtitles![0]!.key}.vtt`), 'the subtitles are linked');
    assert.match(html, /type="video\/quicktime"/);
    const vtt = await readFile(path.join(outDir, 'Серия 1 — Пилот.en.vtt'), 'utf8');
    assert.match(vtt, /Привет/);
});
