import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isRetryableStatus, retryDelayMs, RETRY_CAP_MS } from '../../src/net/retry.js';

test('retry delay: exponential, capped, honours Retry-After', () => {
    assert.equal(retryDelayMs(1), 400);
    assert.equal(retryDelayMs(2), 800);
    assert.equal(retryDelayMs(30), RETRY_CAP_MS);
    assert.equal(retryDelayMs(1, '3'), 3000);
    assert.equal(retryDelayMs(1, new Date(10_000).toUTCString(), 5_000), 5000);
    assert.equal(retryDelayMs(1, '99999'), 60_000);
    assert.equal(retryDelayMs(2, 'garbage'), 800);
    assert.ok(isRetryableStatus(503) && isRetryableStatus(429) && !isRetryableStatus(404) && !isRetryableStatus(403));
});
