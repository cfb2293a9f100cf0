import assert from 'node:assert/strict';
import { test } from 'node:test';

test('report escapes what pages control and links every stored file', async () => {
    const { renderReport } = await import('../../src/results/report.js');
    const html = renderReport(
        [
            {
                type: 'video',
                status: 'ok',
                pageUrl: 'http://p',
                url: 'http://u',
                title: '<script>x</script>',
                key: 'v1',
                contentType: 'video/mp4',
                bytes: 2_500_000,
                durationSecs: 65,
                width: 640,
                height: 360,
                thumbnailKey: 'v1-thumb',
            },
            { type: 'page', status: 'failed', pageUrl: 'http://p2', url: 'http://p2', error: 'HTTP 404 "quoted"' },
        ],
        (key, ct) => `${key}.${ct === 'video/mp4' ? 'mp4' : 'png'}`,
    );
    assert.ok(!html.includes('<script>x'));
    assert.match(html, /href="v1\.mp4"/);
    assert.match(html, /src="v1-thumb\.png"/);
    assert.match(html, /1:05 · 640×360 · 2\.5 MB/);
    assert.match(html, /data-item="1"/);
});
