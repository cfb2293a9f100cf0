#!/usr/bin/env node
// Makes sure a Chromium exists before the actor or the tests need one. Playwright's own browser
// download cannot work offline; on Debian as root we install the distribution's chromium instead.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const candidates = [
    process.env.CHROMIUM_PATH,
    process.env.CRAWLEE_CHROME_EXECUTABLE_PATH,
    process.env.CRAWLEE_DEFAULT_BROWSER_PATH,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
    '/usr/bin/google-chrome-stable',
    '/snap/bin/chromium',
];
// `npm start` runs this first every time: look at the usual paths before loading Playwright for its
// bundled browser's path, which costs 0.5-0.9 s on the 2-core CI machine kind.
if (candidates.some((p) => p && existsSync(p))) process.exit(0);
let bundled;
try {
    const { chromium } = await import('playwright');
    bundled = chromium.executablePath();
} catch {
    bundled = undefined;
}
if (bundled && existsSync(bundled)) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (isRoot && existsSync('/usr/bin/apt-get')) {
    console.log("No Chromium found: installing Debian's chromium package (apt-get install -y chromium)...");
    execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium', {
        stdio: 'inherit',
    });
    process.exit(0);
}
console.warn(
    'No Chromium found. Install one (Debian/Ubuntu: `sudo apt-get install -y chromium`, or `npx playwright install chromium` where downloads work) or set CHROMIUM_PATH. Playlist and image URLs still work without it; pages need it.',
);
