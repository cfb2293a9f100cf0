import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keyFromText, uniqueKey } from '../../src/results/output.js';

test('key naming: safe characters, stable fallback, unique suffixes', () => {
    assert.equal(keyFromText('Big Buck Bunny: Episode 1 (HD)', 'video', 'u'), 'Big-Buck-Bunny-Episode-1-(HD)');
    assert.equal(keyFromText('Crème brûlée', 'video', 'u'), 'Creme-brulee');
    assert.equal(keyFromText('../../etc/passwd', 'video', 'u'), 'etc-passwd');
    // Text with nothing to transliterate (names.test.ts has the scripts that have): a stable hash.
    const emoji = keyFromText('🎬🍿', 'video', 'https://a.test/1');
    assert.match(emoji, /^video-[0-9a-f]{10}$/);
    assert.equal(keyFromText('🎬🍿', 'video', 'https://a.test/1'), emoji);
    assert.notEqual(keyFromText('🎬🍿', 'video', 'https://a.test/2'), emoji);
    const long = keyFromText('x'.repeat(500) + '\u0000\u001f😀', 'video', 'u');
    assert.ok(long.length <= 120 && /^[a-zA-Z0-9!_.'()-]+$/.test(long));
    const taken = new Set(['a', 'a-2']);
    assert.equal(
        uniqueKey('a', (k) => taken.has(k)),
        'a-3',
    );
    assert.equal(
        uniqueKey('b', (k) => taken.has(k)),
        'b',
    );
});
