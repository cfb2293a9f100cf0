/**
 * `tsx bench/merge-stages.ts [--repeats N]`: what is left after the last byte of a video, before and
 * after issue 24's merge changes, on the bench's long video repeated N times (default 10: ~940 MB,
 * a discontinuity between repeats), its segments already on disk:
 * - before: join the segments into section files, remux with `+faststart` (ffmpeg shifts the file in
 *   place to put the index in front), then read the MP4 again for its sha256;
 * - after: the section files were joined while the video downloaded (live-join.ts), so the remux
 *   writes the index last and the in-place shift (faststart.ts) hashes as it writes.
 * Both give the same bytes; the script checks that.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeHlsVideo } from '../src/demo/media.js';
import { remuxHashed } from '../src/merge/merge.js';
import { sha256File } from '../src/merge/file-hash.js';
import { concatTrack } from '../src/merge/concat.js';
import { remux } from '../src/merge/ffmpeg.js';
import { probeStreams } from '../src/merge/probe.js';
import { unitName, type TrackJob } from '../src/model.js';
import { storageDir } from '../src/run/storage.js';
import { link } from 'node:fs/promises';

const repeats = Number(process.argv[process.argv.indexOf('--repeats') + 1] || 10);
const dir = path.join(storageDir(), 'bench-media');
const video = await makeHlsVideo(path.join(dir, 'long-noise'), {
    width: 640,
    height: 360,
    secs: 330,
    segSecs: 1,
    videoKbps: 2100,
    noise: true,
});
const work = path.join(storageDir(), 'merge-stages');
await rm(work, { recursive: true, force: true });
await mkdir(work, { recursive: true });
const per = video.segments;
for (let i = 0; i < per * repeats; i++) {
    await link(
        path.join(video.dir, `seg_${String(i % per).padStart(5, '0')}.ts`),
        path.join(work, unitName('v', 'seg', i)),
    );
}
const track: TrackJob = {
    name: 'v',
    sourceUrl: 'x',
    segments: per * repeats,
    inits: 0,
    firstSeq: 0,
    bytes: 'segments',
    discontinuities: Array.from({ length: repeats - 1 }, (_, r) => (r + 1) * per),
};
const secs = (t: number): string => ((performance.now() - t) / 1000).toFixed(2);
async function sections(): Promise<{ list: string; first: string }> {
    const { files } = await concatTrack(track, work, path.join(work, 'joined-v'));
    const list = path.join(work, 'sections.txt');
    await writeFile(list, files.map((f) => `file '${f}'`).join('\n') + '\n');
    return { list, first: files[0]! };
}
for (let round = 1; round <= 2; round++) {
    let t = performance.now();
    const { list, first } = await sections();
    const join = secs(t);
    const streams = await probeStreams({ file: first, format: 'mpegts' });
    const before = path.join(work, 'before.mp4');
    t = performance.now();
    await remux({ file: list, format: 'concat' }, undefined, before, streams);
    const remuxFaststart = secs(t);
    t = performance.now();
    const hashBefore = await sha256File(before);
    const hash = secs(t);
    const after = path.join(work, 'after.mp4');
    t = performance.now();
    const { sha256 } = await remuxHashed({ file: list, format: 'concat' }, undefined, after, streams);
    const remuxCopy = secs(t);
    if (sha256 !== hashBefore) throw new Error('the two paths gave different files');
    console.log(
        `round ${round}: before: join ${join} s + remux with +faststart ${remuxFaststart} s + sha256 ${hash} s; ` +
            `after: remux index last + in-place shift with hash ${remuxCopy} s (join done during the download); same sha256`,
    );
    await rm(before);
    await rm(after);
}
await rm(work, { recursive: true, force: true });
