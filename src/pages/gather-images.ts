/** A rendered page's images, with the headers their hosts expect (hotlink checks look at Referer). */
import type { Page } from 'playwright';
import type { Headers } from '../net/headers.js';
import type { NetworkCapture } from './capture.js';
import { SCAN_IMAGES, type ImageScan, type SkippedImage } from './images.js';
import { selectImages } from './image-selection.js';
import { pressLoadMore } from './load-more.js';
import { scrollForImages } from './scroll.js';

export interface PageImage {
    /** http(s), or a `data:` URI whose decoded content is a real image. */
    url: string;
    alt?: string;
    headers: Headers;
    /**
     * The thumbnail the page shows for it, when `url` is what the thumbnail's link or lightbox
     * attribute names (full-size.ts): stored instead if what `url` gives is not a picture.
     */
    thumbnail?: { url: string; headers: Headers };
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

export async function gatherImages(
    page: Page,
    capture: NetworkCapture,
    deadline: number,
    base: Headers,
    /**
     * How long "load more" presses may go on, counted from the first (the input's `pageWaitSecs`): a
     * gallery that keeps revealing photos gets this much beyond `deadline`, one that reveals nothing
     * ends at once.
     */
    pressForMs = 0,
): Promise<GatheredImages> {
    // Before scrolling, lazy elements still show their placeholder next to the lazy attribute: the
    // structure that tells the two apart. Most loaders drop the attribute once they swap the URL in.
    const scans = await scanImages(page);
    const loaded = (): number => capture.images.size;
    await scrollForImages(page, deadline, loaded);
    // What a "load more" press added is scanned as it came (its placeholders), then scrolled through;
    // a gallery that replaces its items in place keeps the earlier ones in the earlier scans.
    const pressUntil = Math.max(deadline, Date.now() + pressForMs);
    await pressLoadMore(page, pressUntil, loaded, async () => {
        scans.push(...(await scanImages(page)));
        await scrollForImages(page, pressUntil, loaded);
    });
    await capture.settle();
    const { images, excluded, skipped, refused } = selectImages([...scans, ...(await scanImages(page))]);
    const found = new Map<string, PageImage>();
    // Cookies are not among the headers: each request gets its host's from the credential jar (net/credentials.ts).
    const headersOf = (url: string): Headers => capture.images.get(url)?.headers ?? base;
    const thumbnails = new Set<string>();
    for (const img of images) {
        const thumbnail = img.thumbnail ? { url: img.thumbnail, headers: headersOf(img.thumbnail) } : undefined;
        if (thumbnail) thumbnails.add(thumbnail.url);
        found.set(img.url, {
            url: img.url,
            alt: img.alt,
            headers: headersOf(img.url),
            ...(thumbnail ? { thumbnail } : {}),
        });
    }
    // Images only seen on the network (script-built galleries, CSS sprites): all but the excluded
    // ones and the thumbnails (they go with their full-size picture). Their content is judged once
    // downloaded (too small, 1×1, same bytes as another).
    for (const [url, captured] of capture.images) {
        if (!found.has(url) && !excluded.has(url) && !thumbnails.has(url))
            found.set(url, { url, headers: captured.headers });
    }
    return { images: [...found.values()], refused, skipped: skipped.filter((s) => !found.has(s.url)) };
}
