/**
 * "Load more" buttons: galleries that show the first images and the rest behind a button. A person
 * presses it while it brings new pictures; so does this, bounded by the page's deadline and a press
 * budget, with real mouse clicks (frameworks ignore synthetic events on some buttons).
 *
 * A press never takes the crawl off the page. Only buttons are pressed: a link to another URL is
 * pagination (linkGlobs follows it), and a submit button of a form (a search box) is never pressed.
 * While a press is in flight, navigations of the page's frames are refused (a script that sets
 * `location` is stopped before the request leaves), popups and new tabs are closed, and a document
 * that was replaced anyway (a navigation that escaped the refusal) is taken back with `goBack()`.
 */
import { log } from '@crawlee/core';
import type { Frame, Page, Route } from 'playwright';
import { delay } from '../time/delay.js';
import { activityOf, QUIET_MS } from './activity.js';
import { LAZY_ATTRS } from './images.js';
import { isLoadMoreLabel, MAX_LABEL_CHARS, normalizeLabel } from './load-more-labels.js';

/** Presses per page at most: 40 presses of 10 images each is a long gallery already. */
export const MAX_PRESSES = 40;
/** How long one press may take to show its result (its requests, the DOM settling). */
const PRESS_SETTLE_MS = 5000;
/** Clicks that cannot happen in this time (covered, detached) are given up. */
const CLICK_TIMEOUT_MS = 2000;

/** A clickable element as found in a frame. */
export interface ButtonScan {
    id: number;
    /** Its text, `aria-label`, `title` and `value`, those short enough to be a label. */
    labels: string[];
    /** Why it is never pressed: '' (it may be), 'submit' (submits a form), 'link' (leads to another URL). */
    refused: '' | 'submit' | 'link';
}

interface FrameButtons {
    buttons: ButtonScan[];
    /** Distinct image and video URLs this document has shown so far. */
    media: number;
}

const ATTR = 'data-media-crawler-more';
const DOC_MARK = 'media-crawler.document';

/**
 * Runs inside a frame (source text: see dom-scan.ts for why). Gives visible clickable elements an id
 * (stable across calls, kept in the page's own memory, not in the DOM) and tells for each whether it
 * may be pressed. Elements made
 * clickable by script alone (a `<div>` with a listener) are found by their pointer cursor.
 */
const FIND_BUTTONS = `(() => {
    const URL_ATTRS = ${JSON.stringify(['src', 'srcset', 'data-srcset', 'poster', ...LAZY_ATTRS])};
    const KEY = Symbol.for('media-crawler.more');
    const st = window[KEY] || (window[KEY] = { next: 1, ids: new WeakMap(), els: new Map(), urls: new Set(), most: 0 });
    // Media shown so far: every URL an image or video element names (lazy elements all show one
    // placeholder until scrolled to, so their lazy attributes count), and the most elements seen.
    const media = document.querySelectorAll('img, video, source');
    st.most = Math.max(st.most, media.length);
    for (const el of media) {
        for (const a of URL_ATTRS) { const u = el.getAttribute(a); if (u) st.urls.add(u); }
        if (el.currentSrc) st.urls.add(el.currentSrc);
    }
    const here = location.href.split('#')[0];
    const visible = (el) => {
        const r = el.getBoundingClientRect();
        if (r.width < 2 || r.height < 2) return false;
        const cs = getComputedStyle(el);
        return cs.visibility !== 'hidden' && cs.display !== 'none' && Number(cs.opacity) > 0.05;
    };
    const refusal = (el) => {
        const type = (el.getAttribute('type') || '').toLowerCase();
        const form = el.form || el.closest('form');
        if (el.tagName === 'BUTTON' && form && (type === '' || type === 'submit')) return 'submit';
        if (el.tagName === 'INPUT' && (type === 'submit' || type === 'image')) return 'submit';
        const link = el.closest('a[href], area[href]');
        if (link) {
            const href = (link.getAttribute('href') || '').trim();
            if (href && !/^(#|javascript:)/i.test(href)) {
                try {
                    if (new URL(href, location.href).href.split('#')[0] !== here) return 'link';
                } catch (e) { return 'link'; }
                if (link.target && !/^_self$/i.test(link.target)) return 'link';
            }
        }
        return '';
    };
    const out = [];
    const seen = new Set();
    const consider = (el) => {
        if (!el || seen.has(el)) return;
        seen.add(el);
        if (el.closest('[disabled], [aria-disabled="true"]') || !visible(el)) return;
        const labels = [el.tagName === 'INPUT' ? '' : el.textContent, el.getAttribute('aria-label'),
            el.getAttribute('title'), el.tagName === 'INPUT' ? el.value : '']
            .map((l) => (l || '').replace(/\\s+/g, ' ').trim())
            .filter((l) => l && l.length <= ${MAX_LABEL_CHARS * 2});
        if (!labels.length) return;
        let id = st.ids.get(el);
        if (!id) { id = st.next++; st.ids.set(el, id); st.els.set(id, new WeakRef(el)); }
        out.push({ id, labels, refused: refusal(el) });
    };
    const CLICKABLE = 'button, [role="button"], input[type="button"], input[type="submit"], a, [onclick]';
    for (const el of document.querySelectorAll(CLICKABLE)) consider(el);
    const all = document.querySelectorAll('body *');
    for (let i = 0; i < all.length && i < 20000; i++) {
        const el = all[i];
        if (el.childElementCount > 3 || seen.has(el)) continue;
        const t = el.textContent;
        if (!t || t.length > ${MAX_LABEL_CHARS * 2} || !/\\S/.test(t)) continue;
        if (getComputedStyle(el).cursor !== 'pointer') continue;
        const clickable = el.closest(CLICKABLE);
        consider(clickable || el);
    }
    return { buttons: out, media: st.urls.size + st.most };
})()`;

/** The buttons of a frame that may be pressed and say "load more". Pure. */
export function loadMoreButtons(buttons: readonly ButtonScan[]): ButtonScan[] {
    return buttons.filter((b) => b.refused === '' && b.labels.some(isLoadMoreLabel));
}

/** Marks the element found as `id` for the click (only the pressed one: pages may watch attributes). */
const markButton = (id: number): string => `(() => {
    const st = window[Symbol.for('media-crawler.more')];
    const el = st && st.els.get(${id}) && st.els.get(${id}).deref();
    if (el) el.setAttribute('${ATTR}', '${id}');
    return !!el;
})()`;

async function findButtons(frame: Frame): Promise<FrameButtons> {
    return (
        ((await frame.evaluate(FIND_BUTTONS).catch(() => undefined)) as FrameButtons | undefined) ?? {
            buttons: [],
            media: 0,
        }
    );
}

export interface PressOutcome {
    /** Presses made. */
    presses: number;
    /** Presses that brought new images or videos. */
    revealed: number;
    /** A press took the page elsewhere and it was taken back (or could not be). */
    leftPage: boolean;
}

/**
 * Runs `press` with the page held in place: navigations of its frames refused, popups closed.
 * Returns whether the page's document is still the one it was (false: a navigation escaped, undone).
 */
async function holdingPage(page: Page, press: () => Promise<void>): Promise<boolean> {
    const frames = new Set(page.frames());
    const main = page.mainFrame();
    await main.evaluate(`window[Symbol.for('${DOC_MARK}')] = true`).catch(() => undefined);
    const startUrl = page.url();
    const onPopup = (popup: Page): void => void popup.close().catch(() => undefined);
    const guard = (route: Route): Promise<void> => {
        const request = route.request();
        if (request.isNavigationRequest() && frames.has(request.frame())) {
            log.debug(`A "load more" press tried to leave the page for ${request.url()}: refused`);
            return route.abort('aborted');
        }
        return route.fallback();
    };
    page.on('popup', onPopup);
    await page.route('**/*', guard);
    try {
        await press();
    } finally {
        await page.unroute('**/*', guard).catch(() => undefined);
        page.off('popup', onPopup);
    }
    const same = await main.evaluate(`window[Symbol.for('${DOC_MARK}')] === true`).catch(() => false);
    if (same) return true;
    log.warning(`A "load more" press replaced the page ${startUrl}; going back`);
    await page.goBack({ waitUntil: 'domcontentloaded', timeout: 10_000 }).catch(() => undefined);
    if (page.url() !== startUrl) {
        await page.goto(startUrl, { waitUntil: 'domcontentloaded', timeout: 15_000 }).catch(() => undefined);
    }
    return false;
}

/**
 * Waits until the page has been quiet for `QUIET_MS` counted from the press at the earliest, or
 * until `until`. A press is no activity the page tracker sees: a page quiet before it would count
 * as settled at once, before a script that answers the click after a timer (or an animation) ran.
 */
async function settleAfter(page: Page, pressedAt: number, until: number): Promise<void> {
    const activity = activityOf(page);
    for (;;) {
        await activity.look(page);
        const now = Date.now();
        const since = Math.max(pressedAt, activity.lastNewRequestAt, activity.lastChangeAt);
        if (now >= until || (!activity.busy(now) && now - since >= QUIET_MS)) return;
        // A page-local poll: short, within the page's deadline, ended with the page (its next look throws).
        await delay(50);
    }
}

/**
 * Presses "load more" buttons in every frame while each press reveals new images or videos (new
 * URLs in the frame's elements, or new images on the network), until `deadline` or `MAX_PRESSES`.
 * After each press that revealed something, `revealed()` runs (scroll the new items into view,
 * scan them). A button whose press revealed nothing is not pressed again.
 */
export async function pressLoadMore(
    page: Page,
    deadline: number,
    loadedImages: () => number,
    revealed: () => Promise<void>,
): Promise<PressOutcome> {
    const outcome: PressOutcome = { presses: 0, revealed: 0, leftPage: false };
    try {
        await pressWhileRevealing(page, deadline, loadedImages, revealed, outcome);
    } catch (error) {
        // A page closed or crashed mid-press: what was revealed so far is still scanned by the caller.
        log.debug(`"Load more" stopped: ${(error as Error).message.split('\n')[0]}`);
    }
    if (outcome.presses) {
        log.debug(`"Load more": ${outcome.presses} presses, ${outcome.revealed} revealed new media: ${page.url()}`);
    }
    return outcome;
}

async function pressWhileRevealing(
    page: Page,
    deadline: number,
    loadedImages: () => number,
    revealed: () => Promise<void>,
    outcome: PressOutcome,
): Promise<void> {
    const spent = new Set<string>();
    while (Date.now() < deadline && outcome.presses < MAX_PRESSES) {
        let target: { frame: Frame; button: ButtonScan; key: string } | undefined;
        let before = loadedImages();
        for (const frame of page.frames()) {
            const found = await findButtons(frame);
            before += found.media;
            if (target) continue;
            for (const button of loadMoreButtons(found.buttons)) {
                const key = `${frame.url()}|${button.labels.map(normalizeLabel).join('|')}`;
                if (!spent.has(key)) {
                    target = { frame, button, key };
                    break;
                }
            }
        }
        if (!target) break;
        const { frame, button, key } = target;
        outcome.presses++;
        const t0 = Date.now();
        let clicked = false;
        const stayed = await holdingPage(page, async () => {
            const marked = await frame.evaluate(markButton(button.id)).catch(() => false);
            clicked =
                !!marked &&
                (await frame
                    .locator(`[${ATTR}="${button.id}"]`)
                    .first()
                    .click({ timeout: CLICK_TIMEOUT_MS })
                    .then(() => true)
                    .catch(() => false));
            if (clicked) await settleAfter(page, Date.now(), Math.min(deadline, Date.now() + PRESS_SETTLE_MS));
        });
        if (!stayed) {
            outcome.leftPage = true;
            break;
        }
        let after = loadedImages();
        for (const f of page.frames()) after += (await findButtons(f)).media;
        log.debug(
            `"Load more" press ${outcome.presses} (${button.labels[0]}): ${after - before} new media, ${Date.now() - t0} ms`,
        );
        if (clicked && after > before) {
            outcome.revealed++;
            await revealed();
        } else {
            spent.add(key);
        }
    }
}
