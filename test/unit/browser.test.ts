import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findBrowser, BrowserNotFoundError } from '../../src/pages/browser.js';

test('browser lookup order: env variable, then system paths, else a clear error', () => {
    assert.equal(
        findBrowser({ CHROMIUM_PATH: '/opt/c' }, (p) => p === '/opt/c' || p === '/usr/bin/chromium'),
        '/opt/c',
    );
    assert.equal(
        findBrowser({}, (p) => p === '/usr/bin/chromium-browser'),
        '/usr/bin/chromium-browser',
    );
    assert.throws(() => findBrowser({}, () => false), BrowserNotFoundError);
});
