/** Signed URLs that expire mid-download: the pure rules and the renewer (issue 20 item 4, issue 21 item 6). */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { ExpiredError, HttpStatusError, KeyError, MediaError } from '../../src/errors.js';
import { KeyCache } from '../../src/download/keys.js';
import { isVideoFatal, looksExpired, refusalAction, refusalStatus, UrlRenewer } from '../../src/download/renew.js';
import type { FreshUrls, TrackJob, TrackPlan, VideoJob } from '../../src/model.js';
import { addFreshUnits, matchSegments } from '../../src/sources/match.js';

test('expiry rule: 401/403/410 after earlier units of the video arrived; never on the first unit', () => {
    for (const status of [401, 403, 410]) {
        assert.equal(looksExpired(status, 3), true, `${status} after 3 units`);
        assert.equal(looksExpired(status, 0), false, `${status} on the first unit is a refusal`);
    }
    for (const status of [404, 429, 500, 503, 200]) assert.equal(looksExpired(status, 10), false, String(status));
    // What to do: renew on expiry; two probing looks when nothing of the video arrived yet; else fail.
    assert.equal(refusalAction(403, 5, 0), 'renew');
    assert.equal(refusalAction(410, 5, 3), 'renew');
    assert.equal(refusalAction(403, 0, 0), 'probe');
    assert.equal(refusalAction(401, 0, 1), 'probe');
    assert.equal(refusalAction(401, 0, 2), 'fail');
    assert.equal(refusalAction(404, 5, 0), 'fail');
    assert.equal(refusalAction(undefined, 5, 0), 'fail');
    assert.equal(refusalStatus(new HttpStatusError('https://cdn.test/a.ts', 403)), 403);
    const keyRefused = new KeyError('refused', { cause: new HttpStatusError('https://cdn.test/k', 410) });
    assert.equal(refusalStatus(keyRefused), 410, 'a refused key carries its status');
    assert.equal(refusalStatus(new KeyError('16 bytes?')), undefined);
    assert.equal(refusalStatus(new Error('socket hang up')), undefined);
    assert.ok(isVideoFatal(new ExpiredError('x')) && isVideoFatal(new KeyError('x')));
    assert.ok(!isVideoFatal(new HttpStatusError('https://cdn.test/a.ts', 403)));
    assert.equal(new ExpiredError('x').code, 'EXPIRED');
    assert.match(new ExpiredError('x').message, /^the URLs expired and could not be renewed/);
});

const seg = (seq: number, url = `https://cdn.test/s${seq}.ts?t=new`) => ({
    seq,
    url,
    durationSecs: 1,
    discontinuity: false,
});

test('units are matched by media sequence, else by position when the list is as long, else not at all', () => {
    // Same numbering: by sequence, whatever the order.
    const bySeq = matchSegments(3, 10, [seg(12), seg(10), seg(11)]);
    assert.deepEqual(
        bySeq.map((s) => s?.seq),
        [10, 11, 12],
    );
    // A window that slid: the ones that left it stay unmatched.
    assert.deepEqual(
        matchSegments(3, 10, [seg(11), seg(12), seg(13)]).map((s) => s?.seq),
        [undefined, 11, 12],
    );
    // Renumbered from 0 on every request, same length: by position.
    assert.deepEqual(
        matchSegments(3, 10, [seg(0), seg(1), seg(2)]).map((s) => s?.seq),
        [0, 1, 2],
    );
    // Renumbered and of another length: no match (it is not the same list).
    assert.deepEqual(matchSegments(3, 10, [seg(0), seg(1)]), [undefined, undefined, undefined]);

    const track = { name: 'v', segments: 2, inits: 1, firstSeq: 5 } as TrackJob;
    const key = { uri: 'https://cdn.test/k?t=new', iv: '00'.repeat(16) };
    const plan = {
        segments: [{ ...seg(5), key }, seg(6)],
        inits: [{ url: 'https://cdn.test/init.mp4?t=new' }],
    } as unknown as TrackPlan;
    const into = new Map();
    assert.equal(addFreshUnits(track, plan, into), 0);
    assert.deepEqual(into.get('v-seg-000000.bin'), { url: 'https://cdn.test/s5.ts?t=new', keyUri: key.uri });
    assert.deepEqual(into.get('v-seg-000001.bin'), { url: 'https://cdn.test/s6.ts?t=new' });
    assert.deepEqual(into.get('v-init-000000.bin'), { url: 'https://cdn.test/init.mp4?t=new' });
});

const job = { id: 'j', tracks: [{ name: 'v', sourceUrl: 'https://cdn.test/v.m3u8' }] } as unknown as VideoJob;
const freshUrls = (n: number): FreshUrls => ({
    units: new Map([['v-seg-000001.bin', { url: `https://cdn.test/s1.ts?t=${n}` }]]),
    sources: new Map(),
});

test('renewal: as often as units keep arriving, one look for concurrent refusals, bounded without progress', async () => {
    let looks = 0;
    let stored = 1;
    const renewer = new UrlRenewer({ refresh: async () => freshUrls(++looks), stored: () => stored });
    // Three units refused at once at generation 0: one look at the source.
    await Promise.all([renewer.renew(job, 0), renewer.renew(job, 0), renewer.renew(job, 0)]);
    assert.equal(looks, 1);
    assert.equal(renewer.generation('j'), 1);
    assert.equal(renewer.fresh('j', 'v-seg-000001.bin')?.url, 'https://cdn.test/s1.ts?t=1');
    // A unit refused with a URL of generation 0 after the renewal: it just takes the fresh URL.
    await renewer.renew(job, 0);
    assert.equal(looks, 1);
    // Units arrived since: the next expiry renews again, and again.
    for (let i = 2; i <= 6; i++) {
        stored += 3;
        await renewer.renew(job, renewer.generation('j'));
        assert.equal(looks, i);
    }
    // The fresh URLs are refused at once, again and again: bounded.
    await renewer.renew(job, renewer.generation('j'));
    await assert.rejects(renewer.renew(job, renewer.generation('j')), ExpiredError);
    await assert.rejects(renewer.renew(job, renewer.generation('j')), ExpiredError, 'given up for good');
    assert.equal(looks, 7);
});

test('renewal: a failed look at the source is not kept; a later expiry tries again (bounded)', async () => {
    let looks = 0;
    const answers = [false, true];
    const renewer = new UrlRenewer({
        refresh: async () => {
            looks++;
            if (!answers.shift()) throw new HttpStatusError('https://cdn.test/v.m3u8', 503);
            return freshUrls(looks);
        },
        stored: () => 1,
    });
    const first = await renewer.renew(job, 0).catch((e: Error) => e);
    assert.ok(first instanceof MediaError && !(first instanceof ExpiredError), 'a 5xx look is retryable');
    await renewer.renew(job, 0);
    assert.equal(looks, 2, 'the second expiry looked again');
    assert.equal(renewer.fresh('j', 'v-seg-000001.bin')?.url, 'https://cdn.test/s1.ts?t=2');

    let failing = 0;
    const down = new UrlRenewer({
        refresh: async () => {
            failing++;
            throw new HttpStatusError('https://cdn.test/v.m3u8', 503);
        },
        stored: () => 1,
    });
    await assert.rejects(down.renew(job, 0), (e) => !(e instanceof ExpiredError));
    await assert.rejects(down.renew(job, 0), (e) => !(e instanceof ExpiredError));
    await assert.rejects(down.renew(job, 0), ExpiredError);
    await assert.rejects(down.renew(job, 0), ExpiredError);
    assert.equal(failing, 3, 'three looks, then the video fails');

    // The source refusing itself is final at once: the page would have to be rendered again.
    const refused = new UrlRenewer({
        refresh: async () => {
            throw new HttpStatusError('https://cdn.test/v.m3u8?sig=x', 403);
        },
        stored: () => 1,
    });
    await assert.rejects(
        refused.renew(job, 0),
        /the URLs expired and could not be renewed: the source was refused too/,
    );
});

test('a refused key is fetched within the retry budget once, then every segment gets the same KeyError', async () => {
    let hits = 0;
    const server = createServer((_req, res) => {
        hits++;
        res.writeHead(403).end('no');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/key`;
    try {
        const keys = new KeyCache({ retries: 2 });
        const errors = await Promise.all(
            Array.from({ length: 5 }, async () => keys.get(url, {}).catch((e: unknown) => e)),
        );
        for (let i = 0; i < 10; i++) errors.push(await keys.get(url, {}).catch((e: unknown) => e));
        assert.ok(
            errors.every((e) => e instanceof KeyError && e.code === 'KEY'),
            String(errors[0]),
        );
        assert.equal(refusalStatus(errors[0]), 403);
        assert.equal(hits, 1, 'a 403 is not retried, and not asked again per segment');
    } finally {
        server.close();
    }
});
