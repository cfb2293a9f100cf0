/**
 * time/: the abortable wait, the one backoff formula and the one retry helper, with fake failures.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HttpStatusError, isRetryable, PermanentMediaError } from '../../src/errors.js';
import { backoffMs, BACKOFF_CAP_MS, retryAfterMs, retryAfterOf } from '../../src/time/backoff.js';
import { abortError, delay, throwIfStopped } from '../../src/time/delay.js';
import { retry } from '../../src/time/retry.js';

test('backoff: exponential from 0.4 s, capped at 15 s, or the Retry-After asked for, capped at 60 s', () => {
    assert.equal(backoffMs(1), 400);
    assert.equal(backoffMs(2), 800);
    assert.equal(backoffMs(3), 1600);
    assert.equal(backoffMs(30), BACKOFF_CAP_MS);
    assert.equal(backoffMs(1, '3'), 3000);
    assert.equal(backoffMs(1, '0'), 0);
    assert.equal(backoffMs(1, new Date(10_000).toUTCString(), { now: 5_000 }), 5000);
    assert.equal(backoffMs(1, '99999'), 60_000);
    assert.equal(backoffMs(2, 'garbage'), 800);
    assert.equal(backoffMs(2, new Date(1_000).toUTCString(), { now: 5_000 }), 800, 'a date in the past is ignored');
    assert.equal(backoffMs(3, undefined, { baseMs: 1000 }), 4000, 'the upload base');
    assert.equal(backoffMs(5, undefined, { baseMs: 1000, capMs: 5000 }), 5000);
});

test('Retry-After: seconds or an HTTP date; read from any error that carries one', () => {
    assert.equal(retryAfterMs('2'), 2000);
    assert.equal(retryAfterMs('Thu, 01 Jan 1970 00:00:12 GMT', 10_000), 2000);
    assert.equal(retryAfterMs('-1'), undefined);
    assert.equal(retryAfterMs(undefined), undefined);
    assert.equal(retryAfterOf(new HttpStatusError('https://cdn.test/a.ts', 429, '7')), '7');
    assert.equal(retryAfterOf(new HttpStatusError('https://cdn.test/a.ts', 503)), undefined);
    assert.equal(retryAfterOf(new Error('x')), undefined);
    assert.equal(retryAfterOf(undefined), undefined);
});

test('delay ends when its signal aborts, resolves (does not reject), and at once for an aborted one', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort('aborting'), 100);
    await delay(10_000, controller.signal);
    assert.ok(Date.now() - started < 1_000, `${Date.now() - started} ms`);
    const again = Date.now();
    await delay(10_000, controller.signal);
    assert.ok(Date.now() - again < 50);
    const plain = Date.now();
    await delay(120);
    assert.ok(Date.now() - plain >= 110, 'without a signal it waits its time');
});

test('the abort error: the reason when it is an Error, else an AbortError saying why', () => {
    const run = new AbortController();
    run.abort('aborting');
    const error = abortError(run.signal);
    assert.equal(error.name, 'AbortError');
    assert.equal(error.cause, 'aborting');
    assert.match(error.message, /^stopped: the run was aborted$/);
    const own = new Error('mine');
    assert.equal(abortError(AbortSignal.abort(own)), own);
    assert.throws(() => throwIfStopped(run.signal), { name: 'AbortError', message: 'stopped: the run was aborted' });
    throwIfStopped(undefined);
    throwIfStopped(new AbortController().signal);
});

/** A function that fails with `errors` in turn, then returns 'ok'; it records when each try started. */
function failing(...errors: Error[]) {
    const tries: number[] = [];
    const fn = async (attempt: number): Promise<string> => {
        tries.push(attempt);
        const error = errors[attempt - 1];
        if (error) throw error;
        return 'ok';
    };
    return { fn, tries };
}

const busy = (retryAfter?: string) => new HttpStatusError('https://cdn.test/seg.ts', 503, retryAfter);

test('retry: tries again while the error is retryable, within the attempts, waiting the backoff', async () => {
    const waits: number[] = [];
    const { fn, tries } = failing(busy(), busy());
    const started = Date.now();
    const value = await retry(fn, {
        attempts: 3,
        shouldRetry: isRetryable,
        onRetry: (_error, _attempt, wait) => waits.push(wait),
    });
    assert.equal(value, 'ok');
    assert.deepEqual(tries, [1, 2, 3]);
    assert.deepEqual(waits, [400, 800], 'the one backoff');
    assert.ok(Date.now() - started >= 1150, `waited ${Date.now() - started} ms`);
});

test('retry: the last error when the attempts are spent, at once when the error is permanent', async () => {
    const spent = failing(busy('0'), busy('0'), busy('0'));
    await assert.rejects(retry(spent.fn, { attempts: 2, shouldRetry: isRetryable }), /HTTP 503/);
    assert.deepEqual(spent.tries, [1, 2]);

    const refused = failing(new HttpStatusError('https://cdn.test/seg.ts', 404), busy('0'));
    await assert.rejects(retry(refused.fn, { attempts: 5, shouldRetry: isRetryable }), /HTTP 404/);
    assert.deepEqual(refused.tries, [1]);

    const permanent = failing(new PermanentMediaError('DRM', 'encrypted'));
    await assert.rejects(retry(permanent.fn, { attempts: 5, shouldRetry: isRetryable }), /encrypted/);
    assert.deepEqual(permanent.tries, [1]);

    const once = failing(busy('0'));
    await assert.rejects(retry(once.fn, { attempts: 1, shouldRetry: isRetryable }), /HTTP 503/);
    assert.deepEqual(once.tries, [1], 'attempts: 1 is one try');
});

test("retry: honours the server's Retry-After, and a caller's own delay", async () => {
    const waits: number[] = [];
    await retry(failing(busy('0.05'), busy('2')).fn, {
        attempts: 3,
        shouldRetry: isRetryable,
        delayMs: (attempt, error) => (attempt === 2 ? 10 : backoffMs(attempt, retryAfterOf(error))),
        onRetry: (_e, _a, wait) => waits.push(wait),
    });
    assert.deepEqual(waits, [50, 10]);
});

test('retry: an abort during a long Retry-After wait ends it at once, with an AbortError, and no try follows', async () => {
    const run = new AbortController();
    const { fn, tries } = failing(busy('60'));
    const started = Date.now();
    setTimeout(() => run.abort('aborting'), 100);
    const error = await retry(fn, { attempts: 5, shouldRetry: isRetryable, signal: run.signal }).catch((e) => e);
    const took = Date.now() - started;
    assert.ok(took < 1_000, `the 60 s wait held the retry ${took} ms after the abort`);
    assert.equal((error as Error).name, 'AbortError');
    assert.match((error as Error).message, /^stopped: the run was aborted$/);
    assert.deepEqual(tries, [1], 'no try after the abort');

    // Already aborted: no try at all; aborted during a try: its error gives way to the abort.
    const none = failing();
    await assert.rejects(retry(none.fn, { attempts: 3, shouldRetry: () => true, signal: run.signal }), {
        name: 'AbortError',
    });
    assert.deepEqual(none.tries, []);
    const during = new AbortController();
    const inFlight = retry(
        async () => {
            during.abort('timeout');
            throw busy('0');
        },
        { attempts: 3, shouldRetry: isRetryable, signal: during.signal },
    );
    await assert.rejects(inFlight, { name: 'AbortError', message: /before its timeout/ });
});
