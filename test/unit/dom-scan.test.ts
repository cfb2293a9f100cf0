import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findManifestUrls } from '../../src/pages/dom-scan.js';

test('playlist URLs in page source: quoted, relative, JSON-escaped, never non-http', () => {
    const html = `<script>var now="https://ikcdn01.test/20221015/ecMSO74h/index.m3u8";
var cfg = {"src":"https:\\/\\/cdn.test\\/v\\/master.m3u8?sig=a&amp;e=1"};
player.load('/rel/path/video.m3u8'); var bad = "file:///etc/x.m3u8"; var notme = "/a.mp4";</script>`;
    assert.deepEqual(findManifestUrls(html, 'http://site.test/play/1.html'), [
        'https://ikcdn01.test/20221015/ecMSO74h/index.m3u8',
        'https://cdn.test/v/master.m3u8?sig=a&e=1',
        'http://site.test/rel/path/video.m3u8',
    ]);
});
