import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkKey, KeyError, keyFailure } from '../../src/download/keys.js';
import { HttpStatusError } from '../../src/errors.js';

test('AES keys must be 16 bytes', () => {
    assert.equal(checkKey(Buffer.alloc(16), 'application/octet-stream', 'http://k').length, 16);
    assert.throws(
        () => checkKey(Buffer.from('<html>nope</html>'), 'text/html', 'http://k/key?t=1'),
        (e: Error) => e instanceof KeyError && /17 bytes \(text\/html\)/.test(e.message),
    );
});

test('a key that could not be fetched: one KeyError naming why, without the URL token', () => {
    const refused = keyFailure(
        new HttpStatusError('https://k.test/key?token=SECRET', 403),
        'https://k.test/key?token=SECRET',
    );
    assert.ok(refused instanceof KeyError);
    assert.equal(refused.message, 'the key at https://k.test/key?… could not be fetched (HTTP 403)');
    assert.doesNotMatch(refused.message, /SECRET/);
    const reset = keyFailure(new Error('socket hang up'), 'https://k.test/key');
    assert.equal(reset.message, 'the key at https://k.test/key could not be fetched (socket hang up)');
    assert.equal((reset as Error & { cause?: unknown }).cause instanceof Error, true, 'the cause is kept');
    // A KeyError (a body that is not a key) stays what it was: its reason is the better one.
    const wrong = new KeyError('the key at https://k.test/key is 17 bytes (text/html), not a 16-byte AES-128 key');
    assert.equal(keyFailure(wrong, 'https://k.test/key'), wrong);
});
