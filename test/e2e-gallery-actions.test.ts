/**
 * Issue 20, galleries: what a person would do on the page. A "Load more" button is pressed while it
 * brings new photos (never a link to another page, never a form's submit button, never a press that
 * leaves the page); a thumbnail that links to its full-size photo gives the photo, in galleries
 * built with real lightbox libraries from npm, and the thumbnail is reported as skipped. Real
 * Chromium, a real loopback server, images made by ffmpeg; stored files compared by sha256 with
 * the files served.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { extensionFor, type MediaItem } from '../src/results/output.js';
import {
    DEAD_LINK_THUMB,
    LIBRARIES,
    LOAD_MORE_TOTAL,
    PAGE_LINK_THUMB,
    photosOf,
    RU_TOTAL,
    startActionServer,
    type ActionServer,
} from './fixtures/gallery-actions.js';
import { runActor, tempDir, type ActorRun } from './helpers/actor.js';
import { sha256 } from './helpers/media.js';
import { actionImages } from './helpers/fixture-cache.js';

let server: ActionServer;
let imagesDir: string;
/** sha256 → file name of every image the server can serve. */
const nameOf = new Map<string, string>();
const nn = (i: number): string => String(i).padStart(2, '0');

before(async () => {
    imagesDir = path.join(await tempDir('gallery-actions'), 'images');
    const { mkdir, readdir } = await import('node:fs/promises');
    await mkdir(imagesDir, { recursive: true });
    await actionImages(imagesDir);
    for (const f of await readdir(imagesDir)) nameOf.set(await sha256(path.join(imagesDir, f)), f);
    server = await startActionServer(imagesDir);
});
after(() => server?.close());

/** Names of the files stored from `pageUrl`, each checked byte for byte against its stored file. */
async function storedNames(run: ActorRun, pageUrl: string): Promise<string[]> {
    const names: string[] = [];
    for (const item of run.items.filter((i) => i.status === 'ok' && i.pageUrl === pageUrl)) {
        const file = path.join(run.kvDir, `${item.key}.${extensionFor(item.contentType!)}`);
        assert.equal(await sha256(file), item.sha256, `${item.url}: stored file differs from its item`);
        names.push(nameOf.get(item.sha256!) ?? `unexpected ${item.url}`);
    }
    return names.sort();
}

const range = (prefix: string, from: number, to: number): string[] =>
    Array.from({ length: to - from + 1 }, (_, i) => `${prefix}-${nn(from + i)}.jpg`);

test('"Load more" is pressed until the gallery is whole; links, submit buttons and page-leaving presses are not followed', async () => {
    const loadMore = `${server.origin}/load-more.html`;
    const russian = `${server.origin}/russian.html`;
    const run = await runActor({ startUrls: [{ url: loadMore }, { url: russian }] });
    assert.equal(run.code, 0, run.output.slice(-3000));
    assert.deepEqual(await storedNames(run, loadMore), range('lm', 1, LOAD_MORE_TOTAL), 'all 40 behind the button');
    assert.deepEqual(await storedNames(run, russian), range('ru', 1, RU_TOTAL), 'a <span> that says "Показать ещё"');
    // Nothing else: an alt text that is the file's name ("lm-12.jpg") names no other image.
    assert.deepEqual(
        run.items.filter((i) => i.status !== 'ok'),
        [],
    );
    // Never pressed: a form's submit button, a "Load more" link to another page; a press that set location was refused.
    for (const never of ['/search', '/gallery-page-2.html', '/elsewhere.html']) {
        assert.ok(!server.requested.some((p) => p.startsWith(never)), `${never} was requested`);
    }
    // Each page was loaded once: no press made the crawler go back and reload it.
    assert.equal(server.requested.filter((p) => p === '/load-more.html').length, 1);
});

test('lightbox galleries (GLightbox, PhotoSwipe, baguetteBox): the full-size photos, not their thumbnails', async () => {
    const pages = LIBRARIES.map((lib) => `${server.origin}/lightbox/${lib}.html`);
    const before = server.requested.length;
    const run = await runActor({ startUrls: pages.map((url) => ({ url })) });
    assert.equal(run.code, 0, run.output.slice(-3000));
    const isThumb = (i: MediaItem, n: number): boolean => i.url === `${server.origin}/img/thumb-${nn(n)}.jpg`;
    for (const [k, lib] of LIBRARIES.entries()) {
        const pageUrl = pages[k]!;
        const photos = photosOf(lib);
        const extra =
            lib === 'glightbox' ? [`thumb-${nn(PAGE_LINK_THUMB)}.jpg`, `thumb-${nn(DEAD_LINK_THUMB)}.jpg`] : [];
        assert.deepEqual(
            await storedNames(run, pageUrl),
            [...photos.map((n) => `full-${nn(n)}.jpg`), ...extra].sort(),
            `${lib}: the full-size photos are stored`,
        );
        for (const n of photos) {
            const skipped = run.items.filter((i) => isThumb(i, n));
            assert.equal(skipped.length, 1, `${lib}: one item for thumbnail ${n}: ${JSON.stringify(skipped)}`);
            assert.equal(skipped[0]!.status, 'skipped');
            assert.equal(skipped[0]!.error, `thumbnail of ${server.origin}/photo/${n}/full`);
        }
    }
    // A thumbnail linking to an HTML page is the image (and the page is no item); one whose photo is gone is
    // stored, and the dead link is a failed item that says the thumbnail took its place.
    assert.ok(!run.items.some((i) => i.url.endsWith(`/photo/${PAGE_LINK_THUMB}/about`)));
    const dead = run.items.filter((i) => i.url === `${server.origin}/photo/${DEAD_LINK_THUMB}/full`);
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.status, 'failed');
    assert.match(dead[0]!.error ?? '', /HTTP 404.*thumbnail .*thumb-\d+\.jpg is downloaded in its place/);
    assert.deepEqual(
        run.items.filter((i) => i.status === 'failed').map((i) => i.url),
        [dead[0]!.url],
    );
    // PhotoSwipe's data-pswp-src named the photo: the photo's own page (href) was never fetched.
    const requested = server.requested.slice(before);
    const abouts = requested.filter((p) => p.endsWith('/about'));
    assert.deepEqual(abouts, [`/photo/${PAGE_LINK_THUMB}/about`]);
});
