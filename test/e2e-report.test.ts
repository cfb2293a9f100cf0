/**
 * Issue 6: the run report. A real Chromium opens REPORT.html from the key-value store, a screenshot
 * is taken, and every dataset item must be on it, with thumbnails and images actually rendering.
 */
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright';
import { startDemoServer, type DemoServer } from '../src/demo/server.js';
import { CHROMIUM_ARGS, findBrowser } from '../src/pages/browser.js';
import { runActor, tempDir } from './helpers/actor.js';
import { demoMedia, galleryImages } from './helpers/fixture-cache.js';

let server: DemoServer;

before(async () => {
    const dir = await tempDir('report');
    await demoMedia(dir);
    await galleryImages(path.join(dir, 'images'));
    server = await startDemoServer({ mediaDir: dir, imagesDir: path.join(dir, 'images') });
});
after(() => server?.close());

test('REPORT.html shows every item: video thumbnails, an image grid, failures with reasons', async () => {
    const { api, gallerySeed, noVideo } = server.pages;
    const run = await runActor({ startUrls: [api, gallerySeed, noVideo].map((url) => ({ url })), pageWaitSecs: 5 });
    assert.equal(run.code, 0, run.output.slice(-3000));
    const report = path.join(run.kvDir, 'REPORT.html');
    assert.ok((await stat(report)).size > 1000);

    const browser = await chromium.launch({ executablePath: findBrowser(), args: CHROMIUM_ARGS });
    try {
        const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
        await page.goto(`file://${report}`);
        await page.waitForLoadState('load');
        const shot = path.join(run.storage, 'report.png');
        await page.screenshot({ path: shot, fullPage: true });
        assert.ok((await stat(shot)).size > 10_000, 'screenshot has content');
        const shown = await page.$$eval('[data-item]', (els) =>
            els.map((e) => Number(e.getAttribute('data-item'))).sort((a, b) => a - b),
        );
        assert.deepEqual(
            shown,
            run.items.map((_, i) => i),
            'every dataset item appears in the report',
        );
        // Every picture on the page (thumbnails, image grid) really loads from the store.
        const broken = await page.$$eval('img', (imgs) =>
            imgs
                .filter((i) => !(i as HTMLImageElement).complete || (i as HTMLImageElement).naturalWidth === 0)
                .map((i) => (i as HTMLImageElement).src),
        );
        assert.deepEqual(broken, []);
        assert.equal(await page.locator('.video img').count(), 1, 'one video thumbnail');
        assert.equal(
            await page.locator('.image').count(),
            run.items.filter((i) => i.type === 'image' && i.status === 'ok').length,
        );
        assert.match(await page.locator('table.failed').innerText(), /no video or image found/);
        const videoLink = await page.locator('.video a').first().getAttribute('href');
        assert.ok(
            videoLink && (await stat(path.join(run.kvDir, decodeURIComponent(videoLink)))).size > 0,
            'video link opens the stored file',
        );
    } finally {
        await browser.close();
    }
});
