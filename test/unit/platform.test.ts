import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inheritedTimeoutSecs } from '../../src/workers/platform-input.js';

test('a worker run gets what is left of the run timeout, in whole seconds, at least 1', () => {
    const now = Date.parse('2026-12-01T10:00:00Z');
    assert.equal(inheritedTimeoutSecs(new Date(now + 90_500), now), 91, 'rounded up');
    assert.equal(inheritedTimeoutSecs(new Date(now + 3_600_000), now), 3600, 'seconds, not milliseconds');
    assert.equal(inheritedTimeoutSecs(new Date(now - 5_000), now), 1, 'the API reads 0 as no timeout');
    assert.equal(inheritedTimeoutSecs(null, now), undefined);
    assert.equal(inheritedTimeoutSecs(undefined, now), undefined);
});
