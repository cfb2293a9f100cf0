#!/usr/bin/env node
// Makes sure a Chromium-family browser exists before the actor or the tests need one, on Linux, macOS
// and Windows (the usual paths are in src/pages/browser-paths.ts). Playwright's own browser download
// cannot work offline; on Debian as root we install the distribution's chromium instead.
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const source = new URL('../src/pages/browser-paths.ts', import.meta.url);
const built = new URL('../dist/pages/browser-paths.js', import.meta.url);
const mtime = (url) => {
    try {
        return statSync(url).mtimeMs;
    } catch {
        return -1;
    }
};

/**
 * The path search, from the build when it is current, else run as TypeScript natively (Node >= 22.18),
 * else through tsx (a devDependency; ~0.8 s more per start on Node 20, measured on the CI machine kind).
 * The build first: Node 24's first TypeScript import loads its type stripper, 47-70 ms of every
 * `npm start` (measured here), where the built module takes ~1 ms.
 */
async function loadPaths() {
    const attempts = [
        () => (mtime(built) >= mtime(source) ? import(built.href) : Promise.reject(new Error('stale build'))),
        () => import(source.href),
        async () => (await import('tsx/esm/api')).tsImport(source.href, import.meta.url),
    ];
    for (const attempt of attempts) {
        try {
            return await attempt();
        } catch {
            // the next way
        }
    }
    return undefined;
}

/**
 * Resolves once a browser is there (or installed), or after saying how to install one. `npm start` calls
 * it in its own process (scripts/start.mjs): a `prestart` script was a second Node start-up, ~0.1 s of
 * every `npm start` on the 2-core CI machine kind.
 */
export async function ensureBrowser() {
    const paths = await loadPaths();
    // Without the search (no tsx, an old Node) the actor's own check reports a missing browser when a page needs one.
    if (!paths) return;
    const { findBrowserPath, installHint } = paths;
    // `npm start` runs this first every time: look at the usual paths before loading Playwright for its
    // bundled browser's path, which costs 0.5-0.9 s on the 2-core CI machine kind.
    if (findBrowserPath(process.platform, process.env, existsSync)) return;
    let bundled;
    try {
        const { chromium } = await import('playwright');
        bundled = chromium.executablePath();
    } catch {
        bundled = undefined;
    }
    if (bundled && existsSync(bundled)) return;

    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    if (process.platform === 'linux' && isRoot && existsSync('/usr/bin/apt-get')) {
        console.log("No Chromium found: installing Debian's chromium package (apt-get install -y chromium)...");
        execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium', {
            stdio: 'inherit',
        });
        return;
    }
    console.warn(`${installHint(process.platform)} Playlist and image URLs still work without one; pages need it.`);
}

// Run as a script (`pretest`): the same check.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await ensureBrowser();
