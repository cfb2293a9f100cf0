/**
 * Where a Chromium-family browser usually is, on Linux, macOS and Windows. Pure: a platform, an
 * environment and an `exists` check in, a path or undefined out. Read by src/pages/browser.ts and, before
 * the build, by scripts/ensure-browser.mjs (so this file imports nothing and uses only erasable types:
 * Node 24 runs it as it is, older Nodes through tsx).
 *
 * Playwright drives Chrome, Edge and Chromium through `executablePath` (they speak the same DevTools
 * protocol); Playwright's own Chromium is wherever `chromium.executablePath()` says (the caller passes it).
 */
import path from 'node:path';

/** Variables naming a browser, in the order they are read (Crawlee reads the last two as well). */
export const BROWSER_VARIABLES = ['CHROMIUM_PATH', 'CRAWLEE_CHROME_EXECUTABLE_PATH', 'CRAWLEE_DEFAULT_BROWSER_PATH'];

/** The usual install paths of Chrome, Chromium and Edge on `platform`, most common first. Pure. */
export function systemBrowserPaths(platform: string, env: Record<string, string | undefined>): string[] {
    if (platform === 'darwin') {
        const apps = ['/Applications', ...(env.HOME ? [path.posix.join(env.HOME, 'Applications')] : [])];
        const bundles = [
            'Google Chrome.app/Contents/MacOS/Google Chrome',
            'Chromium.app/Contents/MacOS/Chromium',
            'Microsoft Edge.app/Contents/MacOS/Microsoft Edge',
            'Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing',
        ];
        return bundles.flatMap((b) => apps.map((dir) => path.posix.join(dir, b)));
    }
    if (platform === 'win32') {
        const w = path.win32;
        const programFiles = env.ProgramFiles ?? env.PROGRAMFILES ?? 'C:\\Program Files';
        const programFilesX86 = env['ProgramFiles(x86)'] ?? env['PROGRAMFILES(X86)'] ?? 'C:\\Program Files (x86)';
        const local = env.LOCALAPPDATA ?? (env.USERPROFILE ? w.join(env.USERPROFILE, 'AppData', 'Local') : undefined);
        const roots = [programFiles, programFilesX86, ...(local ? [local] : [])];
        return [
            ...roots.map((r) => w.join(r, 'Google', 'Chrome', 'Application', 'chrome.exe')),
            // Edge ships with Windows 10 and 11, under Program Files (x86) even on 64-bit systems.
            ...[programFilesX86, programFiles].map((r) => w.join(r, 'Microsoft', 'Edge', 'Application', 'msedge.exe')),
            ...roots.map((r) => w.join(r, 'Chromium', 'Application', 'chrome.exe')),
        ];
    }
    return [
        '/usr/bin/chromium',
        '/usr/bin/chromium-browser',
        '/usr/bin/google-chrome',
        '/usr/bin/google-chrome-stable',
        '/opt/google/chrome/chrome',
        '/snap/bin/chromium',
        '/usr/bin/microsoft-edge',
        '/usr/bin/microsoft-edge-stable',
    ];
}

/**
 * The browser to drive: a variable that names one, else Playwright's own Chromium (`bundled`, when
 * installed), else a system Chrome, Chromium or Edge at its usual path. Pure.
 */
export function findBrowserPath(
    platform: string,
    env: Record<string, string | undefined>,
    exists: (file: string) => boolean,
    bundled?: string,
): string | undefined {
    for (const name of BROWSER_VARIABLES) {
        const p = env[name];
        if (p && exists(p)) return p;
    }
    if (bundled && exists(bundled)) return bundled;
    return systemBrowserPaths(platform, env).find((p) => exists(p));
}

/** One line that says how to install a browser on `platform`. Pure. */
export function installHint(platform: string): string {
    const where =
        platform === 'linux'
            ? '`sudo apt-get install -y chromium` (Debian/Ubuntu) or `npx playwright install chromium`'
            : '`npx playwright install chromium`';
    return `No Chrome, Edge or Chromium found: install one with ${where}, or set CHROMIUM_PATH to a browser's executable.`;
}
