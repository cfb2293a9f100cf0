/**
 * The remux that runs while a video downloads, on real MPEG-TS segments made by ffmpeg: units are
 * "stored" out of order in bursts, as the download stage reports them, and the MP4 must hold the
 * source's exact frames; anything it cannot handle must hand the video back to the merge after
 * the download rather than produce a file.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { unitName, type VideoJob } from '../src/model.js';
import { canRemuxLive, LiveRemux } from '../src/merge/live-remux.js';
import { verifyMp4 } from '../src/merge/merge.js';
import { frameHashes } from './helpers/media.js';
import { tempDir } from './helpers/actor.js';
import { hlsVideo } from './helpers/fixture-cache.js';

const SEGMENTS = 12;

function job(segments: number, extra: Partial<VideoJob['tracks'][number]> = {}): VideoJob {
    return {
        id: 'live',
        format: 'hls',
        delivery: 'remux',
        pageUrl: 'http://test/page',
        url: 'http://test/v.m3u8',
        variantUrl: 'http://test/v.m3u8',
        headers: {},
        durationSecs: segments,
        live: false,
        status: 'downloading',
        tracks: [
            {
                name: 'v',
                sourceUrl: 'http://test/v.m3u8',
                segments,
                inits: 0,
                firstSeq: 0,
                bytes: 'segments',
                ...extra,
            },
        ],
    };
}

test('only one MPEG-TS-able track in one section is remuxed while it downloads', () => {
    assert.ok(canRemuxLive(job(10)));
    assert.ok(!canRemuxLive(job(10, { discontinuities: [4] })), 'sections are joined by the concat demuxer');
    assert.ok(!canRemuxLive(job(10, { inits: 1, segmentInit: Array(10).fill(0) })), 'fMP4 init sections');
    const withAudio = job(10);
    withAudio.tracks.push({ ...withAudio.tracks[0]!, name: 'a' });
    assert.ok(!canRemuxLive(withAudio), 'a separate audio rendition');
});

test('units stored out of order become the exact frames of the source', async () => {
    const dir = await tempDir('live');
    const video = await hlsVideo(path.join(dir, 'media'), { width: 160, height: 90, secs: SEGMENTS, segSecs: 1 });
    assert.equal(video.segments, SEGMENTS);
    const work = path.join(dir, 'work');
    const stored = new Set<string>();
    const live = new LiveRemux(job(SEGMENTS), work, (unit) => stored.has(unit));
    await mkdir(work, { recursive: true });
    // Bursts in the order parallel connections finish them: later units before earlier ones.
    for (const burst of [[1, 2], [0], [5, 3], [4, 6, 7], [11, 9, 8], [10]]) {
        for (const i of burst) {
            await copyFile(
                path.join(video.dir, `seg_${String(i).padStart(5, '0')}.ts`),
                path.join(work, unitName('v', 'seg', i)),
            );
            stored.add(unitName('v', 'seg', i));
            live.stored();
        }
        await new Promise((r) => setTimeout(r, 20));
    }
    const mp4 = await live.finish();
    assert.ok(mp4, 'the live remux produced a file');
    const merged = await verifyMp4(job(SEGMENTS), mp4);
    assert.equal(Math.round(merged.durationSecs), SEGMENTS);
    assert.ok(merged.hasAudio);
    assert.deepEqual(await frameHashes(mp4), await frameHashes(video.source), 'every frame, in order');
});

test('a first unit that is not MPEG-TS hands the video back to the merge after the download', async () => {
    const work = await tempDir('live-bad');
    await writeFile(path.join(work, unitName('v', 'seg', 0)), '<html>not a segment</html>');
    await writeFile(path.join(work, unitName('v', 'seg', 1)), '<html>not a segment</html>');
    const live = new LiveRemux(job(2), work, () => true);
    live.stored();
    assert.equal(await live.finish(), undefined);
});

test('an ffmpeg that dies hands the video back instead of hanging its feed', async () => {
    const dir = await tempDir('live-dead');
    const video = await hlsVideo(path.join(dir, 'media'), { width: 160, height: 90, secs: SEGMENTS, segSecs: 1 });
    const work = path.join(dir, 'work');
    // ffmpeg cannot create its output where a folder of that name stands: it exits while we feed it.
    await mkdir(path.join(work, 'live.mp4'), { recursive: true });
    const stored = new Set<string>();
    const live = new LiveRemux(job(SEGMENTS), work, (unit) => stored.has(unit));
    for (let i = 0; i < SEGMENTS; i++) {
        await copyFile(
            path.join(video.dir, `seg_${String(i).padStart(5, '0')}.ts`),
            path.join(work, unitName('v', 'seg', i)),
        );
        stored.add(unitName('v', 'seg', i));
        live.stored();
    }
    assert.equal(await live.finish(), undefined);
});
