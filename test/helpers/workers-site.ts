/**
 * The site both split-crawl tests crawl (test/e2e-workers.test.ts locally, test/e2e-platform-workers.test.ts
 * on the fake platform), and what of a crawl's result must not depend on how many workers ran.
 */
import path from 'node:path';
import { startDemoServer, type DemoServer } from '../../src/demo/server.js';
import type { MediaItem } from '../../src/model.js';
import { demoMedia, galleryImages } from './fixture-cache.js';

/** The same video on this many pages, each slow to answer, so both workers render some of them. */
export const COPIES = 8;

/** The demo site with paced media: a video takes a few seconds, so a kill lands mid-download. */
export async function startWorkersSite(dir: string): Promise<DemoServer> {
    await Promise.all([demoMedia(dir), galleryImages(path.join(dir, 'images'))]);
    return startDemoServer({ mediaDir: dir, imagesDir: path.join(dir, 'images'), ttfbMs: 50, bytesPerSec: 200_000 });
}

/** Play pages, a gallery, a chain of galleries followed by links, and one video on COPIES slow pages. */
export function workersInput(server: DemoServer): Record<string, unknown> {
    const p = server.pages;
    const copies = Array.from(
        { length: COPIES },
        (_, i) => `${server.videoPage('/media/seed/index.m3u8')}&copy=${i}&delay=2000`,
    );
    return {
        startUrls: [p.api, p.iframe, p.click, p.gallerySeed, p.galleryPage1, ...copies].map((url) => ({ url })),
        // Links followed into the shared queue: page1 → page2 → page3.
        linkGlobs: [`${server.origin}/gallery/page*.html`],
        pageWaitSecs: 10,
    };
}

/** What must not depend on how many workers ran: every item but its wording and key suffixes. */
export function outcome(items: MediaItem[]): string[] {
    return items
        .map((i) => {
            // Which of two pages (or two copies of an image) is stored and which says "same" depends on timing.
            const same = /same video as on|same content as/.test(i.error ?? '');
            const what = i.status === 'ok' ? i.sha256 : same ? 'same' : i.url;
            return `${i.type} ${i.status} ${what}`;
        })
        .sort();
}
