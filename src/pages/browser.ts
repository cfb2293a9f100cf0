/**
 * Which Chromium to drive. Playwright's own download cannot run on an offline machine, so a system
 * Chromium is a first-class choice, not a fallback hack.
 */
import { existsSync } from 'node:fs';
import { chromium } from 'playwright';
import { findBrowserPath, installHint } from './browser-paths.js';

export class BrowserNotFoundError extends Error {
    override readonly name = 'BrowserNotFoundError' as const;
    constructor(platform: string = process.platform) {
        super(installHint(platform));
    }
}

/**
 * The browser executable, in order: an explicit variable, Playwright's own Chromium, a system Chrome,
 * Chromium or Edge at its usual path on this platform (browser-paths.ts).
 */
export function findBrowser(
    env: NodeJS.ProcessEnv = process.env,
    exists: (p: string) => boolean = existsSync,
    platform: NodeJS.Platform = process.platform,
): string {
    let bundled: string | undefined;
    try {
        bundled = chromium.executablePath();
    } catch {
        bundled = undefined;
    }
    const found = findBrowserPath(platform, env, exists, bundled);
    if (!found) throw new BrowserNotFoundError(platform);
    return found;
}

/**
 * Flags for a headless Chromium in a container or CI: as root it needs --no-sandbox, and without the
 * background-networking switches it floods a closed network with update and safe-browsing requests.
 */
export const CHROMIUM_ARGS = [
    '--no-sandbox',
    '--disable-dev-shm-usage',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-quic',
    '--no-first-run',
    '--autoplay-policy=no-user-gesture-required',
    '--mute-audio',
];
