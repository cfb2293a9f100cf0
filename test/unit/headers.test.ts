import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forwardableHeaders, redactHeaders } from '../../src/net/headers.js';

test('headers: hop-by-hop dropped, secrets redacted', () => {
    const h = forwardableHeaders({
        ':authority': 'x',
        Host: 'a',
        Referer: 'http://p',
        'User-Agent': 'UA',
        Cookie: 'sid=1',
        Range: 'bytes=0-1',
        accept: ['a', 'b'],
    });
    assert.deepEqual(h, { referer: 'http://p', 'user-agent': 'UA', cookie: 'sid=1', accept: 'a, b' });
    assert.equal(redactHeaders(h).cookie, '<redacted>');
});
