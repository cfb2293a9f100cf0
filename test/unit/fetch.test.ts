import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactUrl } from '../../src/net/fetch.js';

test('URLs in messages: without credentials or tokens', () => {
    assert.equal(redactUrl('https://user:pw@cdn.test/a.m3u8?token=secret'), 'https://cdn.test/a.m3u8?…');
});
