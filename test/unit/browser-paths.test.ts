/**
 * The browser search on any laptop (src/pages/browser-paths.ts): a pure function of the platform, the
 * environment and an exists() check, so macOS and Windows are tested here on Linux.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findBrowserPath, installHint, systemBrowserPaths } from '../../src/pages/browser-paths.js';
import { BrowserNotFoundError, findBrowser } from '../../src/pages/browser.js';

const only =
    (...files: string[]) =>
    (f: string): boolean =>
        files.includes(f);

test('macOS: Chrome, Chromium, Edge in /Applications or ~/Applications; Playwright first', () => {
    const env = { HOME: '/Users/ann' };
    const chrome = '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome';
    const edge = '/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge';
    const userChromium = '/Users/ann/Applications/Chromium.app/Contents/MacOS/Chromium';
    assert.equal(findBrowserPath('darwin', env, only(chrome, edge)), chrome);
    assert.equal(findBrowserPath('darwin', env, only(edge)), edge);
    assert.equal(findBrowserPath('darwin', env, only(userChromium)), userChromium);
    const playwright =
        '/Users/ann/Library/Caches/ms-playwright/chromium-1200/chrome-mac/Chromium.app/Contents/MacOS/Chromium';
    assert.equal(findBrowserPath('darwin', env, only(chrome, playwright), playwright), playwright);
    // Linux paths mean nothing on a Mac.
    assert.equal(findBrowserPath('darwin', env, only('/usr/bin/chromium')), undefined);
});

test('Windows: Chrome per machine or per user, Edge under Program Files (x86), from the environment', () => {
    const env = {
        ProgramFiles: 'C:\\Program Files',
        'ProgramFiles(x86)': 'C:\\Program Files (x86)',
        LOCALAPPDATA: 'C:\\Users\\ann\\AppData\\Local',
    };
    const chrome = 'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe';
    const userChrome = 'C:\\Users\\ann\\AppData\\Local\\Google\\Chrome\\Application\\chrome.exe';
    const edge = 'C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe';
    assert.equal(findBrowserPath('win32', env, only(edge, chrome)), chrome);
    assert.equal(findBrowserPath('win32', env, only(userChrome, edge)), userChrome);
    assert.equal(findBrowserPath('win32', env, only(edge)), edge);
    // Another drive: the variables decide, not a fixed C:.
    const dEdge = 'D:\\Apps (x86)\\Microsoft\\Edge\\Application\\msedge.exe';
    assert.equal(findBrowserPath('win32', { 'ProgramFiles(x86)': 'D:\\Apps (x86)' }, only(dEdge)), dEdge);
    // No variables at all: the default folders.
    assert.ok(systemBrowserPaths('win32', {}).includes(edge));
    assert.equal(findBrowserPath('win32', env, only('/usr/bin/chromium')), undefined);
});

test('Linux, variables first, and none found: one line with the install command', () => {
    assert.equal(findBrowserPath('linux', {}, only('/usr/bin/google-chrome-stable')), '/usr/bin/google-chrome-stable');
    assert.equal(findBrowserPath('darwin', { CHROMIUM_PATH: '/opt/x/chrome' }, only('/opt/x/chrome')), '/opt/x/chrome');
    // A variable naming nothing is skipped, like Crawlee does.
    assert.equal(findBrowserPath('linux', { CHROMIUM_PATH: '/nope' }, only('/usr/bin/chromium')), '/usr/bin/chromium');
    for (const platform of ['darwin', 'win32', 'linux']) {
        const hint = installHint(platform);
        assert.ok(!hint.includes('\n'), 'one line');
        assert.match(hint, /`npx playwright install chromium`/);
    }
    assert.match(installHint('linux'), /apt-get install -y chromium/);
    assert.doesNotMatch(installHint('darwin'), /apt-get/);
    assert.throws(() => findBrowser({}, () => false, 'darwin'), BrowserNotFoundError);
    assert.throws(() => findBrowser({}, () => false, 'win32'), /npx playwright install chromium/);
});
