/**
 * Infinite scroll for image feeds. Crawlee's `infiniteScroll` counts only xhr/fetch traffic as new
 * content, so a feed whose new items are only images stops early; here "new" is more images.
 */
import type { Page } from 'playwright';
import { sleep } from '../net/retry.js';

/** How long the image count must stay the same at the bottom before the feed is deemed finished. */
export const SCROLL_IDLE_MS = 1500;

const STEP = `(() => { window.scrollBy(0, Math.max(200, window.innerHeight * 0.9));
  const el = document.scrollingElement || document.documentElement;
  return { images: document.images.length, atBottom: window.innerHeight + window.scrollY >= el.scrollHeight - 4 }; })()`;

/** Scrolls until no new image shows up for a while at the bottom, or until `deadline`. */
export async function scrollForImages(page: Page, deadline: number, loadedImages: () => number): Promise<number> {
    let last = -1;
    let stableSince = Date.now();
    let steps = 0;
    let nudged = false;
    while (Date.now() < deadline) {
        const state = (await page.evaluate(STEP).catch(() => ({ images: 0, atBottom: true }))) as { images: number; atBottom: boolean };
        steps++;
        // Lazy loaders react within a frame or two; the image requests need not finish before the next step.
        await sleep(150);
        const count = state.images + loadedImages();
        if (count !== last) {
            last = count;
            stableSince = Date.now();
            nudged = false;
        } else if (state.atBottom && Date.now() - stableSince > SCROLL_IDLE_MS) {
            if (nudged) break;
            // A feed's IntersectionObserver can miss the bottom on a busy machine (the sentinel left and
            // re-entered the viewport between two observer runs, so it only ever saw "not intersecting").
            // Leaving the bottom and coming back makes it fire again before we call the feed finished.
            await page.evaluate('window.scrollBy(0, -window.innerHeight)').catch(() => undefined);
            await sleep(250);
            nudged = true;
            stableSince = Date.now();
        }
    }
    return steps;
}
