/** A rendered page's images, with the headers their hosts expect (hotlink checks look at Referer). */
import type { Page } from 'playwright';
import { cookieHeader, type Headers } from '../net/headers.js';
import type { NetworkCapture } from './capture.js';
import { SCAN_IMAGES, selectImages, type ImageScan, type SkippedImage } from './images.js';
import { scrollForImages } from './scroll.js';

export interface PageImage {
    /** http(s), or a `data:` URI whose decoded content is a real image. */
    url: string;
    alt?: string;
    headers: Headers;
}

export interface GatheredImages {
    images: PageImage[];
    /** Image references with a scheme that is never fetched (file:, ftp:, …). */
    refused: string[];
    /** Found and not taken (placeholders, smaller srcset candidates, …): one per URL, with the reason. */
    skipped: SkippedImage[];
}

async function scanImages(page: Page): Promise<ImageScan[]> {
    const scans = await Promise.all(
        page
            .frames()
            // A frame the network policy (or anything else) refused shows Chromium's error page: not the site's images.
            .filter((f) => !f.url().startsWith('chrome-error:'))
            .map((f) => f.evaluate<ImageScan>(SCAN_IMAGES).catch(() => undefined)),
    );
    return scans.filter((s): s is ImageScan => s !== undefined);
}

/** Cookie header per origin, as the browser would send it to that host. */
async function cookiesByOrigin(page: Page, urls: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const origin of new Set(urls.filter((u) => /^https?:/i.test(u)).map((u) => new URL(u).origin))) {
        const cookies = await page.context().cookies(origin);
        if (cookies.length) out.set(origin, cookieHeader(cookies));
    }
    return out;
}

export async function gatherImages(
    page: Page,
    capture: NetworkCapture,
    deadline: number,
    base: Headers,
): Promise<GatheredImages> {
    // Before scrolling, lazy elements still show their placeholder next to the lazy attribute: the
    // structure that tells the two apart. Most loaders drop the attribute once they swap the URL in.
    const before = await scanImages(page);
    await scrollForImages(page, deadline, () => capture.images.size);
    await capture.settle();
    const { images, excluded, skipped, refused } = selectImages([...before, ...(await scanImages(page))]);
    const found = new Map<string, PageImage>();
    const cookies = await cookiesByOrigin(
        page,
        images.map((i) => i.url),
    );
    for (const img of images) {
        const captured = capture.images.get(img.url);
        const cookie = /^https?:/i.test(img.url) ? cookies.get(new URL(img.url).origin) : undefined;
        const headers = captured?.headers ?? { ...base, ...(cookie ? { cookie } : {}) };
        found.set(img.url, { url: img.url, alt: img.alt, headers });
    }
    // Images only seen on the network (script-built galleries, CSS sprites): all but the excluded
    // ones. Their content is judged once downloaded (too small, 1×1, same bytes as another).
    for (const [url, captured] of capture.images) {
        if (!found.has(url) && !excluded.has(url)) found.set(url, { url, headers: captured.headers });
    }
    return { images: [...found.values()], refused, skipped: skipped.filter((s) => !found.has(s.url)) };
}
