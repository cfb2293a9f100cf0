/**
 * The page stage's Chromium: one browser with a fresh context per page (Crawlee's incognito pages),
 * started while the rest of the actor starts up.
 *
 * Measured on the 2-core CI machine kind, from `crawler.run()` to the first navigation: 1.1-1.6 s
 * with Crawlee's default persistent context, whose plugin launches a second, throw-away Chromium
 * just to read the version; 0.5 s with incognito pages (one launch). Starting that launch right
 * after the page stage is imported hides most of the rest behind opening storages and starting the
 * download crawler. Cookies still follow a page's Crawlee session (persisted per session).
 */
import net, { type AddressInfo } from 'node:net';
import { PlaywrightLauncher, type PlaywrightLaunchContext } from '@crawlee/playwright';
import { chromium, type Browser, type BrowserType, type LaunchOptions } from 'playwright';
import type { CrawlInput } from '../input/input.js';
import { currentNetworkPolicy } from '../net/guard.js';
import { policyProxy } from '../net/policy-proxy.js';
import { CHROMIUM_ARGS } from './browser.js';

interface Early {
    browser: Promise<Browser>;
    /** The options Crawlee completed for it (webdriver flag, user agent, its local proxy). */
    options: Promise<string>;
}

let early: Early | undefined;

/**
 * Where the browser's own requests go: a port on loopback that closes every connection. Chromium
 * sends requests of its own (component updates to update.googleapis.com, network time from
 * clients2.google.com, accounts.google.com) despite --disable-background-networking and
 * --disable-component-update; measured through a test proxy, flags such as
 * --disable-features=NetworkTimeServiceQuerying did not stop the component and account requests.
 * Those requests use the browser-wide proxy, pages their context's: so the browser-wide proxy is
 * this dead end, and every page's context gets its own (the run's proxy, else `bypass: '*'`, which
 * is a direct connection). Started at import: the launch options must be known synchronously.
 */
const blackhole = net.createServer((socket) => {
    browserOwnConnections.count++;
    socket.destroy();
});
blackhole.unref();
await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
const BLACKHOLE_PROXY = `http://127.0.0.1:${(blackhole.address() as AddressInfo).port}`;

/** Connections the browser tried to make of its own (to the dead end). */
export const browserOwnConnections = { count: 0 };

/** A page context without the run's proxy: direct, not through the browser-wide dead end. */
export const DIRECT_CONTEXT_PROXY = { server: BLACKHOLE_PROXY, bypass: '*' };

/**
 * The proxy of a page context the run gives no proxy: the policy proxy (net/policy-proxy.ts), which checks
 * the address each connection goes to, when the policy refuses anything; else a direct connection.
 */
export async function pageContextProxy(): Promise<{ server: string; bypass?: string }> {
    if (currentNetworkPolicy().all) return { ...DIRECT_CONTEXT_PROXY };
    // Loopback goes direct, as the route checks it as written. Naming `localhost` keeps Playwright from adding
    // `<-loopback>` (it sends loopback through a context's proxy by default): measured on the crawl bench, the
    // demo site's loopback traffic through this proxy cost 65 → 72 s of page stage for 30 pages.
    return { server: (await policyProxy()).url, bypass: 'localhost' };
}

/** `chromium`, except that launching with an early launch's options hands that browser over. */
const launcher: BrowserType = Object.create(chromium, {
    launch: {
        value: async (options?: LaunchOptions): Promise<Browser> => {
            const started = early;
            early = undefined;
            if (started && (await started.options) === JSON.stringify(options)) return started.browser;
            // Other options than expected (another proxy, a changed Crawlee): never hand over a different browser.
            if (started) void started.browser.then((b) => b.close()).catch(() => undefined);
            return chromium.launch(options);
        },
    },
});

/** What the page crawler's `launchContext` is. */
export function pageLaunchContext(executablePath: string): PlaywrightLaunchContext {
    return {
        launcher,
        useIncognitoPages: true,
        launchOptions: {
            executablePath,
            headless: true,
            args: [...CHROMIUM_ARGS],
            proxy: { server: BLACKHOLE_PROXY },
            // Crawlee hands these to every incognito page's context too: no service worker, whose requests
            // no route sees (network-guard.ts). Chromium's launch ignores the option.
            ...({ serviceWorkers: 'block' } as LaunchOptions),
        },
    };
}

/**
 * Starts the page crawler's first Chromium now, through Crawlee's own launcher so that its options
 * are completed exactly as the crawler's will be. Not with a proxy: each page's context gets its own.
 */
export function startBrowser(executablePath: string, input: Pick<CrawlInput, 'proxyConfiguration'>): void {
    const proxy = input.proxyConfiguration;
    if (early || proxy.useApifyProxy || proxy.proxyUrls?.length) return;
    let resolveOptions: (o: string) => void = () => undefined;
    const options = new Promise<string>((resolve) => (resolveOptions = resolve));
    const recording: BrowserType = Object.create(chromium, {
        launch: {
            value: (o?: LaunchOptions): Promise<Browser> => {
                resolveOptions(JSON.stringify(o));
                return chromium.launch(o);
            },
        },
    });
    const browser = new PlaywrightLauncher({ ...pageLaunchContext(executablePath), launcher: recording }).launch();
    // A failed early launch is only a lost head start: its options match nothing, and the crawler
    // launches (and reports a failure) on its own.
    early = {
        browser,
        options: browser.then(
            () => options,
            () => '',
        ),
    };
    browser.catch(() => undefined);
}
