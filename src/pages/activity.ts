/**
 * Whether a page has settled, instead of fixed waits: when it last requested a URL it had not
 * requested before, which requests that can still add content are in flight (documents, scripts,
 * XHR, fetch), and a cheap signature of its DOM. A page is quiet when none of these changed for
 * `QUIET_MS`. Retries of a URL (a player retrying the segments we refuse, a live playlist
 * reloading) are not new and do not keep a page busy.
 */
import type { Page, Request as PwRequest } from 'playwright';
import { delay } from '../time/delay.js';

/**
 * How long nothing new must happen before a page counts as settled. The demo's slowest chain (a
 * script that fetches data, then adds images that load) has gaps under 100 ms between one step's
 * end and the next one's request; 0.4 s leaves room for a busy machine. A script that runs long
 * does not end a quiet period early: the DOM is read in the page, after it.
 */
export const QUIET_MS = 400;

/** What the page-timing figures count as a media request (as `NetworkCapture.lastMediaRequestAt`). */
const MEDIA_TYPES = new Set(['media', 'image', 'xhr', 'fetch']);
/** Requests whose answer can add content: markup, code, data. Media and images only fill it in. */
const BUSY_TYPES = new Set(['document', 'script', 'xhr', 'fetch']);
/**
 * Media requests keep a page busy only until their answer's headers come: a player's file streams
 * for minutes, but until its headers come the network capture (capture.ts, which records media as
 * they answer) has not seen it. Left out, a page under load went quiet 0.4 s after its autoplaying
 * pre-roll's request, before the answer, and was left with no media seen: nothing was followed and the
 * pre-roll was stored as its video (1 run in 16, two test files at once on 2 cores).
 */
const ANSWER_TYPES = new Set(['media']);
/**
 * A request in flight for longer stops counting as busy: long polls, streams, a player's
 * progressive download over fetch (mpegts.js) would otherwise keep a page "busy" for minutes.
 */
const BUSY_MAX_MS = 3000;

/** Elements, images and scroll height of the main frame: changes when content is added. */
const DOM_SIGNATURE = `(() => { const el = document.scrollingElement || document.documentElement;
  const parts = [document.getElementsByTagName('*').length, document.images.length, el ? el.scrollHeight : 0];
  return parts.join(':'); })()`;

type PageEvents = Pick<Page, 'on'>;

export class PageActivity {
    /** When the page's navigation started (the tracker is attached just before it). */
    readonly startedAt = Date.now();
    /** Last request for a URL this page had not requested before, of any type. */
    lastNewRequestAt = this.startedAt;
    /** Last request for a new URL of a media, image, XHR or fetch type; 0 while there was none. */
    lastNewMediaRequestAt = 0;
    /** Last time the DOM signature was seen to change. */
    lastChangeAt = this.startedAt;
    private signature = '';
    private readonly urls = new Set<string>();
    private readonly inFlight = new Map<PwRequest, number>();

    attach(page: PageEvents): void {
        page.on('request', (request) => {
            const now = Date.now();
            const type = request.resourceType();
            if (!this.urls.has(request.url())) {
                this.urls.add(request.url());
                this.lastNewRequestAt = now;
                if (MEDIA_TYPES.has(type)) this.lastNewMediaRequestAt = now;
            }
            if (BUSY_TYPES.has(type) || ANSWER_TYPES.has(type)) this.inFlight.set(request, now);
        });
        const done = (request: PwRequest): void => void this.inFlight.delete(request);
        page.on('response', (response) => {
            const request = response.request();
            if (ANSWER_TYPES.has(request.resourceType())) done(request);
        });
        page.on('requestfinished', done);
        page.on('requestfailed', done);
    }

    /** Whether a request that can add content, or a media request not yet answered, is in flight. */
    busy(now = Date.now()): boolean {
        for (const since of this.inFlight.values()) if (now - since < BUSY_MAX_MS) return true;
        return false;
    }

    /** Reads the DOM signature; a change counts as activity. Returns whether it changed. */
    async look(page: Page): Promise<boolean> {
        const signature = String(await page.evaluate(DOM_SIGNATURE).catch(() => this.signature));
        if (signature === this.signature) return false;
        // The first look only learns the signature: what came before it, the network already showed.
        if (this.signature) this.lastChangeAt = Date.now();
        this.signature = signature;
        return true;
    }

    /** Milliseconds since anything new happened (new request, DOM change) as last looked at. */
    quietFor(now = Date.now()): number {
        return now - Math.max(this.lastNewRequestAt, this.lastChangeAt);
    }

    /** Looks at the DOM, then tells whether the page has been quiet for `quietMs`. */
    async quiet(page: Page, quietMs = QUIET_MS): Promise<boolean> {
        await this.look(page);
        return !this.busy() && this.quietFor() >= quietMs;
    }

    /** Waits until the page is quiet or `deadline` passes; true when it went quiet. */
    async settle(page: Page, deadline: number, quietMs = QUIET_MS): Promise<boolean> {
        for (;;) {
            if (await this.quiet(page, quietMs)) return true;
            if (Date.now() >= deadline) return false;
            // A page-local poll: short, within the page's deadline, ended with the page (its next look throws).
            await delay(Math.min(100, Math.max(10, deadline - Date.now())));
        }
    }
}

/** Each page's tracker, for steps that are only handed the page (scroll.ts). */
const trackers = new WeakMap<object, PageActivity>();

/** Starts tracking a page; call before navigation so that its first requests count. */
export function trackActivity(page: Page): PageActivity {
    const activity = new PageActivity();
    activity.attach(page);
    trackers.set(page, activity);
    return activity;
}

/** The page's tracker; one attached now (seeing only later requests) when none was. */
export function activityOf(page: Page): PageActivity {
    return trackers.get(page) ?? trackActivity(page);
}
