/**
 * The remux that runs while a video downloads, on real MPEG-TS segments made by ffmpeg: units are
 * "stored" out of order in bursts, as the download stage reports them, and the MP4 must hold the
 * source's exact frames; anything it cannot handle must hand the video back to the merge after
 * the download rather than produce a file.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import path from 'node:path';
import { test } from 'node:test';
import { unitName, type VideoJob } from '../src/model.js';
import { topBoxes } from '../src/merge/faststart.js';
import { ffmpegLibavformat, ffmpegPath, ffprobePath } from '../src/merge/tools.js';
import { canRemuxLive, LiveRemux, type LiveRemuxed } from '../src/merge/live-remux.js';
import { socketsAvailable, socketsBase } from '../src/merge/section-sockets.js';
import { verifyMp4 } from '../src/merge/merge.js';
import { readMp4Index } from '../src/merge/mp4-index.js';
import { previewSecs, thumbnail } from '../src/merge/ffmpeg.js';
import { frameHashes, sha256 } from './helpers/media.js';
import { tempDir } from './helpers/actor.js';
import { hlsVideo } from './helpers/fixture-cache.js';
import { hlsJob } from './helpers/video-job.js';

const SEGMENTS = 12;
const run = promisify(execFile);

const job = (segments: number, extra: Partial<VideoJob['tracks'][number]> = {}): VideoJob =>
    hlsJob(segments, segments, extra, { id: 'live' });

const segFile = (dir: string, i: number): string => path.join(dir, `seg_${String(i).padStart(5, '0')}.ts`);

/**
 * Stores segments as units of `work`, burst by burst (the order in which parallel connections finish
 * them: later units before earlier ones), telling `live` after each, as the download stage does.
 */
async function storeInBursts(
    live: LiveRemux,
    stored: Set<string>,
    work: string,
    source: (i: number) => string,
    bursts: number[][],
): Promise<void> {
    for (const burst of bursts) {
        for (const i of burst) {
            await copyFile(source(i), path.join(work, unitName('v', 'seg', i)));
            stored.add(unitName('v', 'seg', i));
            live.stored();
        }
        await new Promise((r) => setTimeout(r, 20));
    }
}

test('one track with at most one init section is remuxed while it downloads; several sections when MPEG-TS', () => {
    assert.ok(canRemuxLive(job(10), false));
    assert.ok(canRemuxLive(job(10, { discontinuities: [4] }), true), 'MPEG-TS sections, a socket each');
    assert.ok(!canRemuxLive(job(10, { discontinuities: [4] }), false), 'sections where ffmpeg reads no socket exactly');
    assert.ok(
        !canRemuxLive({ ...job(10, { discontinuities: [4] }), live: true }, true),
        'a recording that still grows',
    );
    const fmp4Sections = job(10, { inits: 1, segmentInit: Array(10).fill(0), discontinuities: [4] });
    assert.ok(!canRemuxLive(fmp4Sections, true), 'fMP4 sections are joined into files');
    assert.ok(
        canRemuxLive(job(10, { inits: 1, segmentInit: Array(10).fill(0) }), true),
        'fMP4: one init, then fragments',
    );
    const twoInits = [...Array(5).fill(0), ...Array(5).fill(1)];
    assert.ok(!canRemuxLive(job(10, { inits: 2, segmentInit: twoInits }), true), 'a second init section');
    const noInit = [null, ...Array(9).fill(0)];
    assert.ok(!canRemuxLive(job(10, { inits: 1, segmentInit: noInit }), true), 'a segment without it');
    const video = job(10);
    const withAudio = { ...video, tracks: [...video.tracks, { ...video.tracks[0]!, name: 'a' as const }] };
    assert.ok(!canRemuxLive(withAudio, true), 'a separate audio rendition');
    const subtitles = { ...video.tracks[0]!, name: 's0' as const, subtitles: 'webvtt' as const, lang: 'en' };
    assert.ok(canRemuxLive({ ...video, tracks: [...video.tracks, subtitles] }, true), 'subtitles beside the video');
    assert.ok(!canRemuxLive({ ...video, tracks: [subtitles, ...video.tracks] }, true), 'subtitles are no video');
});

test('sections go to sockets only on an ffmpeg of 5.0 or later, and not on Windows', () => {
    assert.ok(socketsAvailable('linux', 59), 'FFmpeg 5.x');
    assert.ok(socketsAvailable('darwin', 61), 'FFmpeg 7.x');
    assert.ok(!socketsAvailable('linux', 58), 'the bundled 2018 build and FFmpeg 4.x');
    assert.ok(!socketsAvailable('linux', undefined), 'an ffmpeg that does not say');
    assert.ok(!socketsAvailable('win32', 61), 'no unix protocol on Windows');
});

test('units stored out of order become the exact frames of the source', async () => {
    const dir = await tempDir('live');
    const video = await hlsVideo(path.join(dir, 'media'), { width: 160, height: 90, secs: SEGMENTS, segSecs: 1 });
    assert.equal(video.segments, SEGMENTS);
    const work = path.join(dir, 'work');
    const stored = new Set<string>();
    const live = new LiveRemux(job(SEGMENTS), work, (unit) => stored.has(unit), false);
    await mkdir(work, { recursive: true });
    const bursts = [[1, 2], [0], [5, 3], [4, 6, 7], [11, 9, 8], [10]];
    await storeInBursts(live, stored, work, (i) => segFile(video.dir, i), bursts);
    const remuxed = await live.finish();
    assert.ok(remuxed, 'the live remux produced a file');
    // A light video (~100 kbit/s): room for its index would cost more than 2 % of it, so it is moved.
    await checkRemuxed(remuxed, job(SEGMENTS), video.source, 'moved', live);
});

test('a video heavy enough for room at the front gets its index written there, in order and exact', async () => {
    const dir = await tempDir('live-reserved');
    const spec = { width: 320, height: 180, secs: SEGMENTS, segSecs: 1, videoKbps: 2000, noise: true };
    const video = await hlsVideo(path.join(dir, 'media'), spec);
    const work = path.join(dir, 'work');
    const stored = new Set<string>();
    const live = new LiveRemux(job(SEGMENTS), work, (unit) => stored.has(unit), false);
    await mkdir(work, { recursive: true });
    await storeInBursts(live, stored, work, (i) => segFile(video.dir, i), [
        [1, 0],
        [3, 2, 5],
        [4, 6, 11],
        [9, 8, 7, 10],
    ]);
    const remuxed = await live.finish();
    assert.ok(remuxed, 'the live remux produced a file');
    // Samples are counted by ffprobe: without one (the bundled ffmpeg alone) the index is moved.
    await checkRemuxed(remuxed, job(SEGMENTS), video.source, ffprobePath ? 'reserved' : 'moved', live);
    await assert.rejects(stat(path.join(work, 'live-moov-last.mp4')), { code: 'ENOENT' }, 'no second copy');
});

/**
 * Verified (by ffprobe, and from its own index as the finisher does, with the same answer), the index
 * in front (moved there as `+faststart` puts it, or written into the room reserved for it, then
 * followed by `free`), its hash that of the file, the source's frames, and the preview frame taken
 * from the first units while the rest arrived: the same picture as one taken from the MP4.
 */
async function checkRemuxed(
    remuxed: LiveRemuxed,
    j: VideoJob,
    source: string,
    index: 'moved' | 'reserved',
    live: LiveRemux,
): Promise<void> {
    const merged = await verifyMp4(j, remuxed.file);
    assert.equal(Math.round(merged.durationSecs), SEGMENTS);
    assert.ok(merged.hasAudio);
    const fromIndex = await verifyMp4(j, remuxed.file, j.durationSecs, undefined, readMp4Index);
    // Without ffprobe, ffmpeg's own table gives the duration to the hundredth.
    assert.ok(Math.abs(fromIndex.durationSecs - merged.durationSecs) < 0.01, `${fromIndex.durationSecs} s`);
    assert.deepEqual({ ...fromIndex, durationSecs: 0 }, { ...merged, durationSecs: 0 });
    const early = await live.preview();
    assert.ok(early, 'a preview frame was taken from the first units');
    const late = path.join(path.dirname(remuxed.file), 'late.png');
    await thumbnail(remuxed.file, late, previewSecs(j.durationSecs));
    assert.deepEqual(await frameHashes(early), await frameHashes(late), 'the same picture as from the MP4');
    const boxes = (await topBoxes(remuxed.file)).map((b) => b.type);
    assert.deepEqual(boxes.slice(0, 2), ['ftyp', 'moov'], `the index in front: ${boxes.join(', ')}`);
    assert.equal(boxes[2] === 'free' && boxes[3] === 'free', index === 'reserved', `${index}: ${boxes.join(', ')}`);
    assert.equal(await remuxed.sha256, await sha256(remuxed.file), "the hash is the file's");
    assert.deepEqual(await frameHashes(remuxed.file), await frameHashes(source), 'every frame, in order');
}

for (const heavy of [false, true]) {
    test(`fMP4 (an init section, then fragments) stored out of order becomes the exact frames of the source${heavy ? ', the index in room its first fragment sized' : ''}`, async () => {
        const dir = await tempDir('live-fmp4');
        const spec = heavy ? { width: 320, height: 180, videoKbps: 2000, noise: true } : { width: 160, height: 90 };
        const video = await hlsVideo(path.join(dir, 'media'), { ...spec, secs: SEGMENTS, segSecs: 1 });
        const media = path.join(dir, 'fmp4');
        await mkdir(media, { recursive: true });
        await run(ffmpegPath, [
            ...['-v', 'error', '-i', video.source, '-c', 'copy', '-f', 'hls', '-hls_time', '1'],
            ...['-hls_segment_type', 'fmp4', '-hls_playlist_type', 'vod', path.join(media, 'index.m3u8')],
        ]);
        const fragments = (await readdir(media)).filter((f) => f.endsWith('.m4s')).length;
        assert.equal(fragments, SEGMENTS);
        const j = job(SEGMENTS, { inits: 1, segmentInit: Array(SEGMENTS).fill(0) });
        const work = path.join(dir, 'work');
        await mkdir(work, { recursive: true });
        const stored = new Set<string>();
        const live = new LiveRemux(j, work, (unit) => stored.has(unit), false);
        const store = async (from: string, unit: string): Promise<void> => {
            await copyFile(path.join(media, from), path.join(work, unit));
            stored.add(unit);
            live.stored();
        };
        for (const burst of [
            [2, 0],
            [1, 4, 3],
            [5, 7, 6, 8],
            [11, 10, 9],
        ]) {
            for (const i of burst) await store(`index${i}.m4s`, unitName('v', 'seg', i));
            // The init section arrives after the first fragments: nothing is fed before it.
            if (burst.includes(4)) await store('init.mp4', unitName('v', 'init', 0));
            await new Promise((r) => setTimeout(r, 20));
        }
        const remuxed = await live.finish();
        assert.ok(remuxed, 'the live remux produced a file');
        // The first fragment's samples size the room: worth it on a heavy video; a light one's index is moved.
        await checkRemuxed(remuxed, j, video.source, heavy ? 'reserved' : 'moved', live);
    });
}

test('the sockets go in the work folder when their paths fit a socket, else in the temporary folder', () => {
    assert.equal(
        socketsBase('/srv/storage/work/local/0123456789abcdef', 3, '/tmp'),
        '/srv/storage/work/local/0123456789abcdef',
    );
    const deep = `/home/someone/${'projects/'.repeat(8)}storage/work/local/0123456789abcdef`;
    assert.equal(socketsBase(deep, 3, '/tmp'), '/tmp');
    // The longest name counts: section 10 000's socket may not fit where section 3's does.
    const edge = '/x'.repeat(38);
    assert.equal(socketsBase(edge, 10, '/tmp'), edge);
    assert.equal(socketsBase(edge, 100_000, '/tmp'), '/tmp');
});

test('sections stored out of order become the exact frames of both, where this ffmpeg is trusted with sockets', async () => {
    const dir = await tempDir('live-sections');
    const half = SEGMENTS / 2;
    const video = await hlsVideo(path.join(dir, 'media'), { width: 160, height: 90, secs: half, segSecs: 1 });
    const j = { ...job(SEGMENTS, { discontinuities: [half] }), durationSecs: SEGMENTS };
    const work = path.join(dir, 'work');
    await mkdir(work, { recursive: true });
    const stored = new Set<string>();
    // Sockets whatever ffmpeg this is: where the gate refuses them, the result must show why.
    const live = new LiveRemux(j, work, (unit) => stored.has(unit), true);
    // Section 1's first units arrive before section 0 ends: they wait until ffmpeg has read section 0.
    const bursts = [
        [1, 0],
        [2, 6, 7],
        [3, 4],
        [9, 5, 8],
        [11, 10],
    ];
    await storeInBursts(live, stored, work, (i) => segFile(video.dir, i % half), bursts);
    const remuxed = await live.finish();
    assert.ok(remuxed, 'the live remux produced a file');
    const list = await readFile(path.join(work, 'live-sections.txt'), 'utf8');
    const sockets = [...list.matchAll(/unix:(.*)'/g)].map((m) => m[1]!);
    assert.equal(sockets.length, 2, 'a socket per section');
    assert.ok(sockets[0]!.startsWith(work + path.sep), `the sockets in the work folder: ${sockets[0]}`);
    await assert.rejects(stat(path.dirname(sockets[0]!)), { code: 'ENOENT' }, "the sockets' folder is removed");
    if (!socketsAvailable(process.platform, await ffmpegLibavformat())) {
        // An older ffmpeg (the bundled 2018 build) leaves a gap between the sections: verification refuses it.
        await assert.rejects(verifyMp4(j, remuxed.file), /lasts .* but the source promises/);
        return;
    }
    const merged = await verifyMp4(j, remuxed.file);
    assert.equal(Math.round(merged.durationSecs), SEGMENTS);
    assert.equal(await remuxed.sha256, await sha256(remuxed.file), "the hash is the file's");
    const clip = await frameHashes(video.source);
    assert.deepEqual(await frameHashes(remuxed.file), [...clip, ...clip], 'every frame of both sections, in order');
});

test('subtitle tracks stored before the video go into the MP4 as it is remuxed, at their times', async () => {
    const dir = await tempDir('live-subs');
    const video = await hlsVideo(path.join(dir, 'media'), { width: 160, height: 90, secs: SEGMENTS, segSecs: 1 });
    const work = path.join(dir, 'work');
    await mkdir(work, { recursive: true });
    const base = job(SEGMENTS);
    const subtitleTrack = (name: 's0' | 's1', lang: string) => ({
        ...base.tracks[0]!,
        name,
        segments: 1,
        bytes: 'text' as const,
        subtitles: 'webvtt' as const,
        lang,
    });
    const j: VideoJob = { ...base, tracks: [...base.tracks, subtitleTrack('s0', 'en'), subtitleTrack('s1', 'de')] };
    const stored = new Set<string>();
    const live = new LiveRemux(j, work, (unit) => stored.has(unit), false);
    // The video's first units arrive before the subtitles: nothing is fed until both subtitle files are in.
    await storeInBursts(live, stored, work, (i) => segFile(video.dir, i), [[0, 1]]);
    for (const [name, word] of [
        ['s0', 'Hello'],
        ['s1', 'Hallo'],
    ] as const) {
        const cues = `WEBVTT\n\n00:00:01.000 --> 00:00:02.500\n${word}\n\n00:00:05.000 --> 00:00:06.000\n${word} again\n`;
        await writeFile(path.join(work, unitName(name, 'seg', 0)), cues);
        stored.add(unitName(name, 'seg', 0));
        live.stored();
    }
    await storeInBursts(live, stored, work, (i) => segFile(video.dir, i), [
        [4, 2, 3],
        [5, 6, 7, 8, 9, 10, 11],
    ]);
    const remuxed = await live.finish();
    assert.ok(remuxed, 'the live remux produced a file');
    assert.deepEqual(
        remuxed.subtitles?.map((s) => [path.basename(s.file), s.lang]),
        [
            ['s0.vtt', 'en'],
            ['s1.vtt', 'de'],
        ],
    );
    const index = await readMp4Index(remuxed.file);
    assert.deepEqual(
        index.streams.map((st) => [st.type, st.codec]),
        [
            ['video', 'avc1'],
            ['audio', 'mp4a'],
            ['other', 'tx3g'],
            ['other', 'tx3g'],
        ],
    );
    // The cues where the source's own first frame puts them (MPEG-TS from ffmpeg starts at 1.4 s).
    const { stdout } = await run(ffmpegPath, ['-v', 'error', '-i', remuxed.file, '-map', '0:s:1', '-f', 'webvtt', '-']);
    assert.match(stdout, /00:01\.000 --> 00:02\.500\nHallo\n\n00:05\.000 --> 00:06\.000\nHallo again/);
    assert.deepEqual(await frameHashes(remuxed.file), await frameHashes(video.source), 'every frame, in order');
});

test('a first unit that is not MPEG-TS hands the video back to the merge after the download', async () => {
    const work = await tempDir('live-bad');
    await writeFile(path.join(work, unitName('v', 'seg', 0)), '<html>not a segment</html>');
    await writeFile(path.join(work, unitName('v', 'seg', 1)), '<html>not a segment</html>');
    const live = new LiveRemux(job(2), work, () => true, false);
    live.stored();
    assert.equal(await live.finish(), undefined);
});

for (const sections of [1, 3]) {
    test(`an ffmpeg that dies hands the video back instead of hanging its feed (${sections} section(s))`, async () => {
        const dir = await tempDir('live-dead');
        const video = await hlsVideo(path.join(dir, 'media'), { width: 160, height: 90, secs: SEGMENTS, segSecs: 1 });
        const work = path.join(dir, 'work');
        // ffmpeg cannot create its output where a folder of that name stands: it exits while we feed it
        // (the index written last or into room reserved at the front: either output name).
        for (const name of ['live-moov-last.mp4', 'live.mp4']) await mkdir(path.join(work, name), { recursive: true });
        const stored = new Set<string>();
        const cuts = sections === 1 ? {} : { discontinuities: [4, 8] };
        const live = new LiveRemux(job(SEGMENTS, cuts), work, (unit) => stored.has(unit), true);
        const inOrder = [Array.from({ length: SEGMENTS }, (_, i) => i)];
        await storeInBursts(live, stored, work, (i) => segFile(video.dir, i), inOrder);
        assert.equal(await live.finish(), undefined);
    });
}
