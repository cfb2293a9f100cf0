// The retry decision (errors.ts); the backoff formula's own tests are in test/unit/time.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isRetryableStatus } from '../../src/errors.js';

test('retryable statuses: the server may answer differently in a moment', () => {
    for (const status of [408, 425, 429, 500, 502, 503, 504]) assert.ok(isRetryableStatus(status), String(status));
    for (const status of [400, 401, 403, 404, 410, 416]) assert.ok(!isRetryableStatus(status), String(status));
});
