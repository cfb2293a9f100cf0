/**
 * Which Chromium to drive. Playwright's own download cannot run on an offline machine, so a system
 * Chromium is a first-class choice, not a fallback hack.
 */
import { existsSync } from 'node:fs';
import { chromium } from 'playwright';

export class BrowserNotFoundError extends Error {
    override readonly name = 'BrowserNotFoundError' as const;
    constructor() {
        super(
            'No Chromium found: install one (Debian/Ubuntu: `apt-get install -y chromium`, or `npx playwright install chromium` where downloads work) or set CHROMIUM_PATH to its executable.',
        );
    }
}

const SYSTEM_CANDIDATES = [
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
    '/usr/bin/google-chrome-stable',
    '/snap/bin/chromium',
];

/** The browser executable, in order: explicit env variable, Playwright's bundled build, system installs. */
export function findBrowser(env: NodeJS.ProcessEnv = process.env, exists: (p: string) => boolean = existsSync): string {
    for (const name of ['CHROMIUM_PATH', 'CRAWLEE_CHROME_EXECUTABLE_PATH', 'CRAWLEE_DEFAULT_BROWSER_PATH']) {
        const p = env[name];
        if (p && exists(p)) return p;
    }
    let bundled: string | undefined;
    try {
        bundled = chromium.executablePath();
    } catch {
        bundled = undefined;
    }
    if (bundled && exists(bundled)) return bundled;
    const system = SYSTEM_CANDIDATES.find((p) => exists(p));
    if (system) return system;
    throw new BrowserNotFoundError();
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
