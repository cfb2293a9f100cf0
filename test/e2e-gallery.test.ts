/**
 * Issue 3 end to end: gallery pages in a real Chromium; every real image stored once and
 * byte-identical; placeholders, icons and smaller srcset candidates never stored. Issue "Your files
 * are safe": photos are never dropped for their names, and what is not stored is reported once.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { NAMED_PHOTOS, PIXEL_LAZY_COUNT, PIXEL_PLACEHOLDER } from '../src/demo/gallery.js';
import { startDemoServer, type DemoServer } from '../src/demo/server.js';
import { extensionFor } from '../src/results/output.js';
import { EXPECTED_STORED, EXPECTED_STORED_NAMED, NEVER_STORED } from './fixtures/gallery-oracle.js';
import { runActor, tempDir } from './helpers/actor.js';
import { sha256 } from './helpers/media.js';
import { galleryImages } from './helpers/fixture-cache.js';
import { faultFor } from './fixtures/faults.js';

let server: DemoServer;
let imagesDir: string;
const shaOf = new Map<string, string>();

before(async () => {
    const dir = await tempDir('gallery');
    imagesDir = path.join(dir, 'images');
    await galleryImages(imagesDir);
    for (const name of [...EXPECTED_STORED, ...NEVER_STORED, ...EXPECTED_STORED_NAMED, PIXEL_PLACEHOLDER]) {
        shaOf.set(name, await sha256(path.join(imagesDir, name)));
    }
    server = await startDemoServer({ mediaDir: dir, imagesDir, ttfbMs: 100, faults: faultFor });
});
after(() => server?.close());

test('every real image of the galleries is stored once, byte-identical; nothing else is', async () => {
    const { gallerySeed, galleryLazy, galleryFeed, galleryPage1 } = server.pages;
    const run = await runActor({
        startUrls: [gallerySeed, galleryLazy, galleryFeed, galleryPage1].map((url) => ({ url })),
        linkGlobs: [`${server.origin}/gallery/page*.html`],
        downloadVideos: false,
        pageWaitSecs: 20,
    });
    assert.equal(run.code, 0, run.output.slice(-3000));
    const ok = run.items.filter((i) => i.type === 'image' && i.status === 'ok');
    const byName = new Map([...shaOf].map(([name, sha]) => [sha, name]));
    const storedNames = ok.map((i) => byName.get(i.sha256!) ?? `unexpected ${i.url}`).sort();
    assert.deepEqual(storedNames, [...EXPECTED_STORED].sort(), 'stored set differs');
    for (const item of ok) {
        const file = path.join(run.kvDir, `${item.key}.${extensionFor(item.contentType!)}`);
        const bytes = await readFile(file);
        assert.equal(bytes.length, item.bytes);
        assert.equal(await sha256(file), item.sha256, `${item.url} not byte-identical`);
        assert.ok(item.width! >= 64 && item.height! >= 64);
    }
    assert.deepEqual(
        new Set(ok.map((i) => i.contentType)),
        new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif']),
    );
    assert.equal(
        ok.find((i) => i.sha256 === shaOf.get('lie.png'))?.contentType,
        'image/png',
        'sniffed, not the served octet-stream',
    );
    assert.equal(ok.find((i) => i.sha256 === shaOf.get('g2.jpg'))?.title, 'meme 2', 'alt text is the title');

    const skipped = run.items.filter((i) => i.status === 'skipped');
    const icon = skipped.find((i) => i.url.endsWith('/icon16.png'));
    assert.match(icon?.error ?? '', /smaller than 64×64 px \(16×16\)/);
    // The same bytes under two URLs: whichever arrived first is stored, the other names its key.
    const g1 = ok.find((i) => i.sha256 === shaOf.get('g1.jpg'))!;
    const copy = skipped.find((i) => i.sha256 === g1.sha256);
    assert.ok(
        copy && copy.url !== g1.url && /\/(img\/g1\.jpg|mirror\/g1-copy\.jpg)$/.test(copy.url),
        'the other copy is a skipped item',
    );
    assert.ok(copy.error?.includes(`"${g1.key}"`), `duplicate names the key it duplicates: ${copy.error}`);
    for (const name of NEVER_STORED) {
        assert.ok(!ok.some((i) => i.sha256 === shaOf.get(name)), `${name} must not be stored`);
    }
    assert.deepEqual(
        run.items.filter((i) => i.status === 'failed'),
        [],
    );
});

test('photos named gray, lazy, pixel, empty, loading, blank are kept; a pixel before a gallery is 1 item', async () => {
    const names = `${server.origin}/gallery/names.html`;
    const pixelLazy = `${server.origin}/gallery/pixel-lazy.html`;
    const run = await runActor({
        startUrls: [{ url: names }, { url: pixelLazy }],
        downloadVideos: false,
        pageWaitSecs: 20,
    });
    assert.equal(run.code, 0, run.output.slice(-3000));
    const ok = run.items.filter((i) => i.type === 'image' && i.status === 'ok');
    const byName = new Map([...shaOf].map(([name, sha]) => [sha, name]));
    assert.deepEqual(
        ok.map((i) => byName.get(i.sha256!) ?? `unexpected ${i.url}`).sort(),
        [...EXPECTED_STORED_NAMED].sort(),
    );
    for (const name of NAMED_PHOTOS) {
        const item = ok.find((i) => i.url === `${server.origin}/img/named/${name}`);
        assert.ok(item, `${name} stored`);
        assert.equal(item.sha256, shaOf.get(`named/${name}`), `${name} byte-identical`);
        assert.equal(await sha256(path.join(run.kvDir, `${item.key}.${extensionFor(item.contentType!)}`)), item.sha256);
    }
    assert.deepEqual(
        run.items.filter((i) => i.pageUrl === names && i.status !== 'ok'),
        [],
        'nothing on the names page is skipped',
    );

    const placeholder = run.items.filter((i) => i.url === `${server.origin}/img/${PIXEL_PLACEHOLDER}`);
    assert.equal(placeholder.length, 1, `one item for the placeholder: ${JSON.stringify(placeholder)}`);
    assert.equal(placeholder[0]!.status, 'skipped');
    assert.equal(placeholder[0]!.pageUrl, pixelLazy);
    assert.match(
        placeholder[0]!.error ?? '',
        new RegExp(`^a placeholder: it stood in for ${PIXEL_LAZY_COUNT} lazy images whose own URLs were taken`),
    );
    assert.ok(!ok.some((i) => i.sha256 === shaOf.get(PIXEL_PLACEHOLDER)), 'the placeholder is not stored');
    assert.deepEqual(
        run.items.filter((i) => i.status === 'failed' || i.type === 'page'),
        [],
    );
});

test('a gallery of 300 images downloads over many connections at once', async () => {
    const run = await runActor({
        startUrls: [{ url: `${server.origin}/gallery/big.html?n=300` }],
        downloadVideos: false,
        pageWaitSecs: 30,
    });
    assert.equal(run.code, 0, run.output.slice(-3000));
    const ok = run.items.filter((i) => i.type === 'image' && i.status === 'ok');
    assert.equal(ok.length, 300);
    assert.equal(new Set(ok.map((i) => i.sha256)).size, 300);
    const peak = Number(/up to (\d+) connections at once/i.exec(run.output)?.[1]);
    console.log(`300 images: ${run.ms} ms, ${peak} downloads at once`);
    assert.ok(peak >= 20, `only ${peak} parallel downloads`);
});
