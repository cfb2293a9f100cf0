/**
 * The merge after the download with the MP4's index written into room reserved at the front
 * (src/merge/index-room.ts): a DASH-like video (separate video and audio tracks of fragmented MP4,
 * their samples counted in the fragments) and MPEG-TS sections joined while they download (counted
 * from the first segment). Real media made by ffmpeg, heavy enough for the room (it is refused beyond
 * 2 % of the file); the MP4 must hold the source's exact frames and be hashed by the caller.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, link, mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { hlsVideo } from './helpers/fixture-cache.js';
import { unitName, type VideoJob } from '../src/model.js';
import { topBoxes } from '../src/merge/faststart.js';
import { concatTrack } from '../src/merge/concat.js';
import { mergeVideo } from '../src/merge/merge.js';
import { ffmpegPath, ffprobePath } from '../src/merge/tools.js';
import { tempDir } from './helpers/actor.js';
import { frameHashes } from './helpers/media.js';

const SECS = 8;
/** ~8 MB: heavy enough for the room; repeated as sections, past the 64 MiB from which MPEG-TS tracks are counted. */
const HEAVIER = { width: 640, height: 360, secs: SECS, segSecs: 1, videoKbps: 8000, noise: true };
const REPEATS = 9;
const run = promisify(execFile);

type Track = VideoJob['tracks'][number];

function job(tracks: Track[]): VideoJob {
    return {
        id: 'room',
        format: 'dash',
        delivery: 'remux',
        pageUrl: 'http://test/page',
        url: 'http://test/v.mpd',
        variantUrl: 'http://test/v.mpd',
        headers: {},
        durationSecs: SECS,
        live: false,
        status: 'downloading',
        tracks,
    };
}

const track = (name: 'v' | 'a', segments: number, extra: Partial<Track> = {}): Track => ({
    name,
    sourceUrl: `http://test/${name}`,
    segments,
    inits: 0,
    firstSeq: 0,
    bytes: 'segments',
    ...extra,
});

async function layout(file: string): Promise<string[]> {
    return (await topBoxes(file)).map((b) => b.type);
}

test('separate fMP4 video and audio tracks: the index goes into its room, every frame exact', async () => {
    const dir = await tempDir('merge-room-dash');
    // ~8 MB: the room (~36 KB for these 8 s) well under 2 % of the file.
    const video = await hlsVideo(path.join(dir, 'media'), HEAVIER);
    const work = path.join(dir, 'work');
    await mkdir(work, { recursive: true });
    const tracks: Track[] = [];
    for (const [name, map] of [
        ['v', '0:v'],
        ['a', '0:a'],
    ] as const) {
        // One rendition each, as a DASH or an HLS packager with separate audio writes them.
        const out = path.join(dir, `fmp4-${name}`);
        await mkdir(out, { recursive: true });
        await run(ffmpegPath, [
            ...['-v', 'error', '-i', video.source, '-map', map, '-c', 'copy', '-f', 'hls', '-hls_time', '1'],
            ...['-hls_segment_type', 'fmp4', '-hls_playlist_type', 'vod', path.join(out, 'index.m3u8')],
        ]);
        const fragments = (await readdir(out)).filter((f) => f.endsWith('.m4s')).length;
        await copyFile(path.join(out, 'init.mp4'), path.join(work, unitName(name, 'init', 0)));
        for (let i = 0; i < fragments; i++) {
            await copyFile(path.join(out, `index${i}.m4s`), path.join(work, unitName(name, 'seg', i)));
        }
        tracks.push(track(name, fragments, { inits: 1, segmentInit: Array(fragments).fill(0) }));
    }
    const merged = await mergeVideo(job(tracks), work);
    assert.deepEqual((await layout(merged.file)).slice(0, 4), ['ftyp', 'moov', 'free', 'free']);
    assert.equal(merged.sha256, undefined, 'hashed by the caller, beside the preview frame');
    assert.equal(Math.round(merged.durationSecs), SECS);
    assert.deepEqual(await frameHashes(merged.file), await frameHashes(video.source), 'every frame, in order');
});

test('MPEG-TS sections joined while they downloaded: room from the first segment, every section exact', async (t) => {
    if (!ffprobePath) return t.skip('the first segment is counted by ffprobe');
    const dir = await tempDir('merge-room-ts');
    const video = await hlsVideo(path.join(dir, 'media'), HEAVIER);
    const work = path.join(dir, 'work');
    await mkdir(work, { recursive: true });
    const n = video.segments;
    const cuts = Array.from({ length: REPEATS - 1 }, (_, k) => (k + 1) * n);
    const v = track('v', REPEATS * n, { discontinuities: cuts });
    for (let i = 0; i < v.segments; i++) {
        const seg = path.join(video.dir, `seg_${String(i % n).padStart(5, '0')}.ts`);
        await link(seg, path.join(work, unitName('v', 'seg', i)));
    }
    const j = { ...job([v]), format: 'hls' as const, durationSecs: REPEATS * SECS };
    const joined = new Map([['v', await concatTrack(v, work, path.join(work, 'joined-v'))]]);
    const bytes = (await Promise.all(joined.get('v')!.files.map((f) => stat(f)))).reduce((n, s) => n + s.size, 0);
    assert.ok(bytes >= 64 * 1024 * 1024, `${bytes} bytes of sections`);
    const merged = await mergeVideo(j, work, joined);
    assert.deepEqual((await layout(merged.file)).slice(0, 4), ['ftyp', 'moov', 'free', 'free']);
    const clip = await frameHashes(video.source);
    const expected = Array.from({ length: REPEATS }, () => clip).flat();
    assert.deepEqual(await frameHashes(merged.file), expected, 'every frame of every section, in order');
});
