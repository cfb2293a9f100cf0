import assert from 'node:assert/strict';
import { test } from 'node:test';

test('log redaction: query tokens, URL credentials, cookies', async () => {
    const { redactData, redactText } = await import('../../src/net/redact-log.js');
    assert.equal(
        redactText('failed http://user:pw@cdn.test/a/seg1.ts?token=SECRET after 3 tries'),
        'failed http://cdn.test/a/seg1.ts?… after 3 tries',
    );
    const data = redactData({
        url: 'https://cdn.test/x.m3u8?sig=abc',
        headers: { cookie: 'sid=1', referer: 'https://p.test/' },
        nested: { proxyUrl: 'http://u:p@proxy:8000' },
    });
    // The whole result: secrets replaced, everything else kept (a result that dropped the data would
    // also hold no secret).
    assert.deepEqual(data, {
        url: 'https://cdn.test/x.m3u8?…',
        headers: { cookie: '<redacted>', referer: 'https://p.test/' },
        nested: { proxyUrl: '<redacted>' },
    });
});
