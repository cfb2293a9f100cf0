/**
 * Clicks never take the crawl off the page: once the page stage starts clicking, popups and new tabs
 * are closed as they open, the main frame's navigations to another document are refused before they
 * are sent, and nothing is submitted (form posts in any frame refused, submit events cancelled).
 * A player's own iframe may still load what it loads.
 */
import type { Page } from 'playwright';

const guarded = new WeakSet<Page>();

const CANCEL_SUBMITS = `addEventListener('submit', (e) => e.preventDefault(), true)`;

/** Whether a request is one the guard refuses: a new document for the main frame, or a form post. Pure. */
export function refusesNavigation(r: { isNavigation: boolean; isMainFrame: boolean; method: string }): boolean {
    if (!r.isNavigation) return false;
    return r.isMainFrame || r.method !== 'GET';
}

/** Arms the guard on a loaded page (idempotent). */
export async function keepOnPage(page: Page): Promise<void> {
    if (guarded.has(page)) return;
    guarded.add(page);
    page.on('popup', (popup) => void popup.close().catch(() => undefined));
    const main = page.mainFrame();
    await page
        .route('**/*', (route) => {
            const request = route.request();
            let isMainFrame = false;
            try {
                isMainFrame = request.frame() === main;
            } catch {
                // a service worker's request has no frame
            }
            const facts = { isNavigation: request.isNavigationRequest(), isMainFrame, method: request.method() };
            return refusesNavigation(facts) ? route.abort('blockedbyclient') : route.fallback();
        })
        .catch(() => undefined);
    await Promise.all(page.frames().map((f) => f.evaluate(CANCEL_SUBMITS).catch(() => undefined)));
}
