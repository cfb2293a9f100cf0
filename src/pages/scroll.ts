/**
 * Scrolling for lazy images and infinite feeds, only while it reveals something new: down the page
 * one window at a time, and at the bottom only until the page is quiet (activity.ts). Crawlee's
 * `infiniteScroll` counts only xhr/fetch traffic as new content, so a feed whose new items are only
 * images stops early; here new images, new requests and a taller page all count.
 *
 * Measured on the 2-core CI machine kind (2026-11-26): the fixed waits this replaces (1.5 s of an
 * unchanged image count at the bottom, a nudge, 1.5 s again, 150 ms per step) held every page at
 * least 3.3 s, play pages that fit their window included, and a 20-page gallery chain crawled at 7
 * pages per minute.
 */
import type { Page } from 'playwright';
import { delay } from '../time/delay.js';
import { activityOf, QUIET_MS, type PageActivity } from './activity.js';

/**
 * How long the page gets to react once we stop at the bottom. Steps already wait until two frames
 * have rendered (IntersectionObservers are told by then), so this only covers a loader's own
 * request starting; the page must also be quiet for `QUIET_MS`.
 */
const REACT_MS = 150;
/** A frame may not come at all (a hidden or throttled page): a step waits at most this long for two. */
const FRAME_WAIT_MS = 250;

interface ScrollState {
    /** The page is taller than its window. */
    scrollable: boolean;
    atBottom: boolean;
    height: number;
}

const STATE = `return { scrollable: el.scrollHeight > window.innerHeight + 4, height: el.scrollHeight,
    atBottom: window.innerHeight + window.scrollY >= el.scrollHeight - 4 };`;

type Move = 'stay' | 'down' | 'up' | 'bottom';

const MOVES: Record<Move, string> = {
    stay: '',
    down: 'window.scrollBy(0, Math.max(200, window.innerHeight * 0.9));',
    up: 'window.scrollBy(0, -Math.max(200, window.innerHeight * 0.9));',
    bottom: 'window.scrollTo(0, el.scrollHeight);',
};

/** Scrolls, then waits two frames and a task: IntersectionObservers have run by then. */
const step = (move: Move): string => `(async () => {
  const el = document.scrollingElement || document.documentElement;
  ${MOVES[move]}
  await new Promise((resolve) => {
    let frames = 0;
    const frame = () => (++frames >= 2 ? resolve() : requestAnimationFrame(frame));
    requestAnimationFrame(frame);
    setTimeout(resolve, ${FRAME_WAIT_MS});
  });
  await new Promise((resolve) => setTimeout(resolve, 0));
  ${STATE}
})()`;

const FALLBACK: ScrollState = { scrollable: false, atBottom: true, height: 0 };

async function scroll(page: Page, move: Move): Promise<ScrollState> {
    return ((await page.evaluate(step(move)).catch(() => FALLBACK)) as ScrollState | undefined) ?? FALLBACK;
}

/** Waits until the page has had `REACT_MS` since `since` and is quiet, or until `deadline`. */
async function settle(page: Page, activity: PageActivity, since: number, deadline: number): Promise<void> {
    for (;;) {
        await activity.look(page);
        const now = Date.now();
        if (now >= deadline) return;
        if (now - since >= REACT_MS && !activity.busy(now) && activity.quietFor(now) >= QUIET_MS) return;
        // A page-local poll: short, within the page's deadline, ended with the page (its next look throws).
        await delay(50);
    }
}

/**
 * Scrolls until the bottom of the page stays the bottom once the page is quiet, or until `deadline`.
 * Returns the number of scroll steps. `loadedImages` (images the network has seen) counts as news.
 */
export async function scrollForImages(page: Page, deadline: number, loadedImages: () => number): Promise<number> {
    const activity = activityOf(page);
    let steps = 0;
    let nudged = false;
    let state = await scroll(page, 'stay');
    while (Date.now() < deadline) {
        if (!state.scrollable) {
            // Fits its window: nothing to reveal, and nothing to react to. Done once quiet, unless it grew.
            await settle(page, activity, steps ? Date.now() : 0, deadline);
            state = await scroll(page, 'stay');
            if (!state.scrollable) break;
            continue;
        }
        if (!state.atBottom) {
            state = await scroll(page, 'down');
            steps++;
            continue;
        }
        if (!nudged) {
            // A feed's IntersectionObserver can miss the bottom on a busy machine (its sentinel left and
            // re-entered the viewport between two observer runs, so it only ever saw "not intersecting").
            // Leaving the bottom and coming back makes it fire again before we call the feed finished.
            nudged = true;
            await scroll(page, 'up');
            state = await scroll(page, 'bottom');
            steps += 2;
            continue;
        }
        const height = state.height;
        const images = loadedImages();
        await settle(page, activity, Date.now(), deadline);
        state = await scroll(page, 'stay');
        // The feed added items (taller page, more images): scroll on, and nudge again at the new bottom.
        if (state.height > height || !state.atBottom || loadedImages() > images) {
            nudged = false;
            continue;
        }
        break;
    }
    return steps;
}
