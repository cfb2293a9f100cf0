/**
 * A 300-segment playlist from a slow server (100 ms to first byte, 1.5 MB/s a connection) is
 * fetched over many connections at once, and the Node process stays small.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { HlsVideo } from '../src/demo/media.js';
import { startDemoServer, type DemoServer } from '../src/demo/server.js';
import { runActor, tempDir } from './helpers/actor.js';
import { frameHashes } from './helpers/media.js';
import { hlsVideo } from './helpers/fixture-cache.js';

let server: DemoServer;
let video: HlsVideo;

before(async () => {
    const dir = await tempDir('many');
    video = await hlsVideo(path.join(dir, 'many'), {
        width: 160,
        height: 90,
        secs: 300,
        segSecs: 1,
        fps: 10,
        videoKbps: 200,
    });
    server = await startDemoServer({ mediaDir: dir, ttfbMs: 100, bytesPerSec: 1_500_000 });
});
after(() => server?.close());

test('300 segments download over many parallel connections into a verified MP4', async () => {
    assert.equal(video.segments, 300);
    const url = `${server.origin}/media/many/index.m3u8`;
    const run = await runActor({ startUrls: [{ url }], maxConcurrency: 64 });
    assert.equal(run.code, 0, run.output.slice(-3000));
    const item = run.items[0];
    assert.equal(item?.status, 'ok', item?.error);
    assert.equal(item?.segments, 300);
    assert.deepEqual(await frameHashes(path.join(run.kvDir, `${item!.key}.mp4`)), await frameHashes(video.source));
    const segmentHits = [...server.hits].filter(([p]) => p.endsWith('.ts')).reduce((n, [, c]) => n + c, 0);
    assert.equal(segmentHits, 300, 'every segment fetched exactly once');
    console.log(
        `300 segments: ${run.ms} ms, ${server.segmentConnections} connections, ${server.peakConnections} responses open at peak, peak RSS ${run.peakRssMb} MB`,
    );
    // 300 × 100 ms of first-byte latency alone is 30 s one at a time. A keep-alive client opens a
    // connection only when its others are busy: the count is its peak of requests at once.
    assert.ok(server.segmentConnections >= 20, `only ${server.segmentConnections} parallel connections`);
    // A Node process running Crawlee is never below 50 MB: a lower peak means the sampler read nothing
    // (helpers/actor.ts reports 0 then), and `< 400` alone would pass.
    assert.ok(run.peakRssMb > 50, `peak RSS ${run.peakRssMb} MB: the actor's memory was not sampled`);
    assert.ok(run.peakRssMb < 400, `peak RSS ${run.peakRssMb} MB`);
});
