/**
 * The run lifecycle's pure decisions: when to stop before the timeout, who writes the status message and
 * how often, what the run ends with, and when a failed upload is sent again.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { test } from 'node:test';
import { stopAt, stopMarginMs } from '../../src/run/lifecycle.js';
import { uploadRetryable, uploadWithRetry } from '../../src/results/output.js';
import { LOG_EVERY_MS, logDue, silenceCrawlerStatus, StatusWriter, summaryMessage } from '../../src/app/progress.js';

test('the crawl stops a margin before the run timeout: 5 % of the run, 15 to 60 s', () => {
    assert.equal(stopMarginMs(60_000), 15_000);
    assert.equal(stopMarginMs(3_600_000), 60_000);
    assert.equal(stopMarginMs(24 * 3_600_000), 60_000);
    assert.equal(stopMarginMs(600_000), 30_000);
    const started = Date.parse('2026-11-26T10:00:00Z');
    assert.equal(stopAt('2026-11-26T11:00:00.000Z', started), Date.parse('2026-11-26T10:59:00Z'));
    assert.equal(stopAt(undefined, started), undefined);
    assert.equal(stopAt('', started), undefined);
    assert.equal(stopAt('not a time', started), undefined);
});

test('one status writer: routine updates until the terminal summary, nothing after it', async () => {
    const sent: [string, object][] = [];
    const writer = new StatusWriter(
        async (message, options) => sent.push([message, options]),
        () => true,
    );
    await writer.update('pages 1');
    await writer.update('pages 1');
    await writer.update('pages 2');
    await writer.finish('Done in 3 s');
    await writer.update('pages 3');
    await writer.finish('again');
    assert.deepEqual(sent, [
        ['pages 1', { level: 'DEBUG' }],
        ['pages 2', { level: 'DEBUG' }],
        ['Done in 3 s', { isStatusMessageTerminal: true, level: 'INFO' }],
    ]);
    const local = new StatusWriter(
        async () => assert.fail('no status message locally'),
        () => false,
    );
    await local.update('x');
    await local.finish('y');
});

test("a Crawlee crawler's own status messages (start, periodic, 'Finished!') go to its debug log only", async () => {
    const debug: string[] = [];
    const crawler = {
        async setStatusMessage(_message: string): Promise<void> {
            assert.fail('the crawler wrote a status message');
        },
        log: { debug: (m: string) => debug.push(m) },
    };
    silenceCrawlerStatus(crawler);
    await crawler.setStatusMessage('Finished! Total 3 requests: 3 succeeded, 0 failed.');
    assert.deepEqual(debug, ['Finished! Total 3 requests: 3 succeeded, 0 failed.']);
});

test('progress reaches the log at most every 30 s', () => {
    assert.equal(LOG_EVERY_MS, 30_000);
    assert.ok(logDue(0, undefined));
    assert.ok(!logDue(29_999, 0));
    assert.ok(logDue(30_000, 0));
});

test('the summary status says how the run ended', () => {
    const counts = { ok: 3, failed: 1, skipped: 2, secs: 41.6, bytes: 93_100_000 };
    assert.equal(
        summaryMessage(counts),
        'Done in 42 s: 3 stored, 1 failed, 2 skipped; 93.1 MB downloaded. ' +
            'REPORT and the dataset give each failure its reason.',
    );
    assert.match(
        summaryMessage({ ...counts, stopped: 'aborting' }),
        /^Aborted after 42 s: 3 stored.*REPORT lists what was stored/,
    );
    assert.match(summaryMessage({ ...counts, stopped: 'timeout' }), /^Stopped after 42 s, before the run timeout/);
});

test('uploads: API statuses 429/5xx and dropped connections are retried; 4xx and file errors are not', () => {
    assert.ok(uploadRetryable({ statusCode: 503, message: 'busy' }));
    assert.ok(uploadRetryable({ statusCode: 429 }));
    assert.ok(!uploadRetryable({ statusCode: 400, message: 'invalid key' }));
    assert.ok(!uploadRetryable({ statusCode: 403 }));
    assert.ok(uploadRetryable(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })));
    assert.ok(!uploadRetryable(Object.assign(new Error('gone'), { code: 'ENOENT' })));
});

async function readAll(body: Readable): Promise<string> {
    let text = '';
    for await (const chunk of body) text += String(chunk);
    return text;
}

test('a failed upload is sent again from the start of the file, with backoff, up to the attempt limit', async () => {
    const file = path.join(os.tmpdir(), `mca-upload-${process.pid}.bin`);
    await writeFile(file, 'x'.repeat(100_000));
    const bodies: number[] = [];
    let calls = 0;
    await uploadWithRetry(
        async (body) => {
            calls++;
            if (calls === 1) {
                // Half the body is sent, then the connection drops: the next attempt must send it all.
                for await (const chunk of body) {
                    bodies.push((chunk as Buffer).length);
                    break;
                }
                throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
            }
            if (calls === 2) throw Object.assign(new Error('Service Unavailable'), { statusCode: 503 });
            bodies.push((await readAll(body)).length);
        },
        file,
        { baseDelayMs: 1 },
    );
    assert.equal(calls, 3);
    assert.equal(bodies.at(-1), 100_000, 'the last attempt sent the whole file');

    let refused = 0;
    await assert.rejects(
        uploadWithRetry(
            async () => {
                refused++;
                throw Object.assign(new Error('invalid key'), { statusCode: 400 });
            },
            file,
            { baseDelayMs: 1 },
        ),
        /invalid key/,
    );
    assert.equal(refused, 1, 'a 400 is not sent again');
    let busy = 0;
    const started = Date.now();
    await assert.rejects(
        uploadWithRetry(
            async () => {
                busy++;
                throw Object.assign(new Error('busy'), { statusCode: 503 });
            },
            file,
            { attempts: 4, baseDelayMs: 20 },
        ),
        /busy/,
    );
    assert.equal(busy, 4);
    assert.ok(Date.now() - started >= 20 + 40 + 80, 'waits 1×, 2×, 4× the base delay');
});
