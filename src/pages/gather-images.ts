/** A rendered page's images, with the headers their hosts expect (hotlink checks look at Referer). */
import type { Page } from 'playwright';
import { cookieHeader, type Headers } from '../net/headers.js';
import type { NetworkCapture } from './capture.js';
import { isPlaceholderUrl, SCAN_IMAGES, selectImages, type ImageScan } from './images.js';
import { scrollForImages } from './scroll.js';

export interface PageImage {
    url: string;
    alt?: string;
    headers: Headers;
}

async function scanImages(page: Page): Promise<ImageScan[]> {
    const scans = await Promise.all(page.frames().map((f) => f.evaluate<ImageScan>(SCAN_IMAGES).catch(() => undefined)));
    return scans.filter((s): s is ImageScan => s !== undefined);
}

/** Cookie header per origin, as the browser would send it to that host. */
async function cookiesByOrigin(page: Page, urls: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const origin of new Set(urls.map((u) => new URL(u).origin))) {
        const cookies = await page.context().cookies(origin);
        if (cookies.length) out.set(origin, cookieHeader(cookies));
    }
    return out;
}

export async function gatherImages(page: Page, capture: NetworkCapture, deadline: number, base: Headers): Promise<{ images: PageImage[]; refused: string[] }> {
    await scrollForImages(page, deadline, () => capture.images.size);
    await capture.settle();
    const { images, excluded, refused } = selectImages(await scanImages(page));
    const found = new Map<string, PageImage>();
    const cookies = await cookiesByOrigin(page, images.map((i) => i.url));
    for (const img of images) {
        const captured = capture.images.get(img.url);
        const cookie = cookies.get(new URL(img.url).origin);
        found.set(img.url, { url: img.url, alt: img.alt, headers: captured?.headers ?? { ...base, ...(cookie ? { cookie } : {}) } });
    }
    // Images only seen on the network (script-built galleries, CSS sprites): all but the excluded ones.
    for (const [url, captured] of capture.images) {
        if (!found.has(url) && !excluded.has(url) && !isPlaceholderUrl(url)) found.set(url, { url, headers: captured.headers });
    }
    return { images: [...found.values()], refused };
}
