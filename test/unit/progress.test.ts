import assert from 'node:assert/strict';
import { test } from 'node:test';

test('progress line and ETA', async () => {
    const { formatEta, progressLine } = await import('../../src/app/progress.js');
    assert.equal(formatEta(125), '2:05');
    assert.equal(formatEta(Number.NaN), '–');
    assert.equal(
        progressLine(2, [{ title: 'A video', done: 10, total: 110 }], 12.34, 50),
        'pages 2 · videos in progress 1 (A video 10/110) · 12.3 MB/s · ETA 0:02',
    );
    assert.match(progressLine(0, [], 0, 0), /ETA –$/);
});
