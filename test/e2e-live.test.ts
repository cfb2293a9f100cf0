/**
 * Live streams from a test server clock: an HLS EVENT playlist that grows every 2 s and ends is
 * followed to its end (every frame of the source); a sliding window with no end is recorded for
 * `maxLiveSecs`, and segments that left the window before they were seen are counted as gaps,
 * never hidden; a run killed with SIGKILL mid-recording is started again and finishes the stream.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { DashMedia } from '../src/demo/dash-media.js';
import type { HlsVideo } from '../src/demo/media.js';
import { startDemoServer, type DemoServer } from '../src/demo/server.js';
import { runActor, spawnActor, tempDir } from './helpers/actor.js';
import { frameHashes, mediaInfo } from './helpers/media.js';
import { dashMedia, hlsVideo } from './helpers/fixture-cache.js';
import { faultFor } from './fixtures/faults.js';

let server: DemoServer;
let video: HlsVideo;
let dash: DashMedia;

before(async () => {
    const dir = await tempDir('live');
    video = await hlsVideo(path.join(dir, 'live'), { width: 320, height: 180, secs: 20, segSecs: 2, toneHz: 330 });
    dash = await dashMedia(dir);
    server = await startDemoServer({ mediaDir: dir, faults: faultFor });
});
after(() => server?.close());

const segmentName = (i: number): string => `seg_${String(i).padStart(5, '0')}.ts`;

test('an EVENT playlist is followed to its end: a complete recording, every frame', async () => {
    const url = `${server.origin}/live/event.m3u8?dir=live&s=event-1`;
    const run = await runActor({ startUrls: [{ url }] }, { timeoutMs: 120_000 });
    assert.equal(run.code, 0, run.output.slice(-3000));
    assert.equal(run.items.length, 1, JSON.stringify(run.items, null, 1));
    const item = run.items[0]!;
    assert.equal(item.status, 'ok', item.error);
    assert.equal(item.live, true);
    assert.equal(item.gaps, 0);
    assert.equal(item.segments, video.segments);
    assert.ok(Math.abs(item.durationSecs! - 20) < 0.5, `duration ${item.durationSecs}`);
    assert.match(run.output, /the stream ended/);
    const file = path.join(run.kvDir, `${item.key}.mp4`);
    assert.deepEqual(await frameHashes(file), await frameHashes(video.source));
});

test('a sliding window is recorded for maxLiveSecs, with the gaps it had', async () => {
    // The window jumps ahead by 4 segments at 5 s: three segments are never listed at all.
    const url = `${server.origin}/live/window.m3u8?dir=live&s=window-1&window=2&jumpAt=5&jumpBy=4`;
    const started = Date.now();
    const hitsBefore = new Map(server.hits);
    const run = await runActor({ startUrls: [{ url }], maxLiveSecs: 9 }, { timeoutMs: 120_000 });
    assert.equal(run.code, 0, run.output.slice(-3000));
    assert.ok(Date.now() - started < 40_000, 'the recording stopped at maxLiveSecs');
    const item = run.items[0]!;
    assert.equal(item.status, 'ok', item.error);
    assert.equal(item.live, true);
    assert.equal(item.gaps, 3, 'segments that left the window are counted');
    assert.match(run.output, /recorded for maxLiveSecs \(9 s\)/);
    // Exactly the segments the actor fetched, in order, and nothing else.
    const hits = (i: number): number => {
        const p = `/media/live/${segmentName(i)}`;
        return (server.hits.get(p) ?? 0) - (hitsBefore.get(p) ?? 0);
    };
    const fetched = [...Array(video.segments).keys()].filter((i) => hits(i) > 0);
    assert.equal(item.segments, fetched.length);
    const want = (await Promise.all(fetched.map((i) => frameHashes(path.join(video.dir, segmentName(i)))))).flat();
    assert.deepEqual(await frameHashes(path.join(run.kvDir, `${item.key}.mp4`)), want);
    assert.ok(Math.abs(item.durationSecs! - fetched.length * 2) < 0.5, `duration ${item.durationSecs}`);

    const off = await runActor({
        startUrls: [{ url: `${server.origin}/live/window.m3u8?dir=live&s=window-2` }],
        maxLiveSecs: 0,
    });
    assert.equal(off.items[0]?.status, 'skipped');
    assert.match(off.items[0]!.error!, /maxLiveSecs is 0/);
});

test('a run killed with SIGKILL mid-recording goes on recording when started again', async () => {
    const storage = await tempDir('live-kill');
    const url = `${server.origin}/live/event.m3u8?dir=live&s=event-kill`;
    const first = await spawnActor({ startUrls: [{ url }] }, { storage });
    const killed = new Promise<void>((resolve) => {
        let output = '';
        first.child.stdout?.on('data', (d: Buffer) => {
            output += d.toString();
            if (/Recording a live stream/.test(output)) setTimeout(resolve, 5000);
        });
    });
    await killed;
    first.child.kill('SIGKILL');
    const dead = await first.done;
    assert.equal(dead.items.length, 0, 'nothing was reported before the kill');
    const again = await runActor(undefined, { storage, env: { CRAWLEE_PURGE_ON_START: '0' }, timeoutMs: 120_000 });
    assert.equal(again.code, 0, again.output.slice(-3000));
    assert.match(again.output, /still recording/, again.output.slice(-3000));
    const item = again.items.find((i) => i.type === 'video')!;
    assert.equal(item.status, 'ok', item.error);
    assert.equal(item.gaps, 0);
    assert.deepEqual(await frameHashes(path.join(again.kvDir, `${item.key}.mp4`)), await frameHashes(video.source));
});

test('a dynamic MPD is followed until it turns static: every frame of the chosen representation', async () => {
    const url = `${server.origin}/live/dash.mpd?dir=dash/timeline&s=dash-1&start=2`;
    const run = await runActor({ startUrls: [{ url }] }, { timeoutMs: 120_000 });
    assert.equal(run.code, 0, run.output.slice(-3000));
    assert.equal(run.items.length, 1, JSON.stringify(run.items, null, 1));
    const item = run.items[0]!;
    assert.equal(item.status, 'ok', item.error);
    assert.equal(item.format, 'dash');
    assert.equal(item.live, true);
    assert.equal(item.gaps, 0);
    assert.match(run.output, /the stream ended/);
    const file = path.join(run.kvDir, `${item.key}.mp4`);
    assert.deepEqual(await frameHashes(file), await frameHashes(dash.timeline.sources.high!));
    assert.ok(
        (await mediaInfo(file)).streams.some((s) => s.type === 'audio'),
        'audio recorded too',
    );
});
