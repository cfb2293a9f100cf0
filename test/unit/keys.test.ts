import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkKey, KeyError } from '../../src/download/keys.js';

test('AES keys must be 16 bytes', () => {
    assert.equal(checkKey(Buffer.alloc(16), 'application/octet-stream', 'http://k').length, 16);
    assert.throws(
        () => checkKey(Buffer.from('<html>nope</html>'), 'text/html', 'http://k/key?t=1'),
        (e: Error) => e instanceof KeyError && /17 bytes \(text\/html\)/.test(e.message),
    );
});
