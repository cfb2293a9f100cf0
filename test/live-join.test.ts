/**
 * The join that runs while a video downloads (src/merge/live-join.ts), on real MPEG-TS segments made
 * by ffmpeg: a video with a discontinuity (the same clip twice), units stored out of order. The
 * section files must be byte for byte the ones the join after the download writes, and the MP4
 * merged from them must hold the exact frames, with the hash of the stored file.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { hlsVideo } from './helpers/fixture-cache.js';
import { unitName, type VideoJob } from '../src/model.js';
import { concatTrack } from '../src/merge/concat.js';
import { canJoinLive, LiveJoin } from '../src/merge/live-join.js';
import { mergeVideo } from '../src/merge/merge.js';
import { tempDir } from './helpers/actor.js';
import { frameHashes, sha256 } from './helpers/media.js';
import { hlsJob } from './helpers/video-job.js';

const CLIP = 6;

const job = (): VideoJob => hlsJob(2 * CLIP, 2 * CLIP, { discontinuities: [CLIP] }, { id: 'join' });

test('what can be joined while it downloads: remuxed segments of a finished playlist', () => {
    assert.ok(canJoinLive(job()));
    assert.ok(!canJoinLive({ ...job(), live: true }), 'a recording still growing');
    assert.ok(!canJoinLive({ ...job(), delivery: 'as-served' }), 'a file stored as served');
});

test('units stored out of order become the section files of the join, and a verified MP4 with its hash', async () => {
    const dir = await tempDir('live-join');
    const video = await hlsVideo(path.join(dir, 'media'), { width: 160, height: 90, secs: CLIP, segSecs: 1 });
    assert.equal(video.segments, CLIP);
    const work = path.join(dir, 'work');
    await mkdir(work, { recursive: true });
    const stored = new Set<string>();
    const join = new LiveJoin(job(), work, (unit) => stored.has(unit));
    for (const burst of [
        [1, 0],
        [2, 6, 3],
        [5, 4],
        [7, 11, 8],
        [9, 10],
    ]) {
        for (const i of burst) {
            const unit = unitName('v', 'seg', i);
            await copyFile(path.join(video.dir, `seg_${String(i % CLIP).padStart(5, '0')}.ts`), path.join(work, unit));
            stored.add(unit);
            join.stored();
        }
    }
    const joined = await join.finish();
    assert.ok(joined, 'every unit was joined');
    const files = joined.get('v')!.files;
    assert.equal(files.length, 2, 'one file per section');
    const after = await concatTrack(job().tracks[0]!, work, path.join(dir, 'after'));
    for (const [k, file] of files.entries()) {
        assert.ok((await readFile(file)).equals(await readFile(after.files[k]!)), `section ${k} as the join writes it`);
    }
    const merged = await mergeVideo(job(), work, joined);
    assert.equal(merged.sha256, await sha256(merged.file), "the hash computed while writing is the file's");
    const clip = await frameHashes(video.source);
    assert.deepEqual(await frameHashes(merged.file), [...clip, ...clip], 'every frame of both sections, in order');
});

test('a unit never stored (or one that cannot be read) gives the join back to the merge', async () => {
    const work = await tempDir('live-join-gap');
    const join = new LiveJoin(job(), work, (unit) => unit !== unitName('v', 'seg', 3));
    assert.equal(await join.finish(), undefined);
});
