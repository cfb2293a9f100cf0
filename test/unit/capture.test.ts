import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPlaylistContentType, isPlaylistUrl } from '../../src/pages/capture.js';

test('playlist detection by URL and content type', () => {
    assert.ok(isPlaylistUrl('https://cdn.test/a/index.m3u8?token=1'));
    assert.ok(!isPlaylistUrl('https://cdn.test/a/index.m3u8.jpg'));
    assert.ok(!isPlaylistUrl('file:///x.m3u8'));
    assert.ok(isPlaylistContentType('application/vnd.apple.mpegurl; charset=utf-8'));
    assert.ok(isPlaylistContentType('application/x-mpegURL'));
    assert.ok(!isPlaylistContentType('text/html'));
});
