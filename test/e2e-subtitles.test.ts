/**
 * Subtitles end to end: an hls.js page whose master lists two WebVTT subtitle renditions, and a
 * plain MP4 with a `<track>`. One video item each (a subtitle rendition is never a video of its
 * own); a `.vtt` per language beside the video with the source's cues at the source's times; the
 * MP4 carries them as `mov_text` streams tagged with their language; frames unchanged.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { startDemoServer, type DemoServer } from '../src/demo/server.js';
import { makeSubtitleMedia, type SubtitleMedia } from '../src/demo/subtitle-media.js';
import { ffmpegPath } from '../src/merge/tools.js';
import { joinVtt, type Cue } from '../src/merge/subtitles.js';
import { runActor, tempDir } from './helpers/actor.js';
import { frameHashes, mediaInfo, sha256 } from './helpers/media.js';
import { demoMedia, fileMedia } from './helpers/fixture-cache.js';
import { faultFor } from './fixtures/faults.js';

const run = promisify(execFile);
let server: DemoServer;
let media: Awaited<ReturnType<typeof demoMedia>>;
let subs: SubtitleMedia;
let files: Awaited<ReturnType<typeof fileMedia>>;

before(async () => {
    const dir = await tempDir('media');
    media = await demoMedia(dir);
    subs = await makeSubtitleMedia(dir);
    files = await fileMedia(dir);
    server = await startDemoServer({ mediaDir: dir, faults: faultFor });
});
after(() => server?.close());

const near = (got: Cue[], want: Cue[]): void => {
    assert.deepEqual(
        got.map((c) => c.text),
        want.map((c) => c.text),
    );
    for (const [i, c] of got.entries()) {
        assert.ok(
            Math.abs(c.start - want[i]!.start) < 0.03 && Math.abs(c.end - want[i]!.end) < 0.03,
            `cue ${i}: ${JSON.stringify(c)} vs ${JSON.stringify(want[i])}`,
        );
    }
};

/** The cues of subtitle stream `n` of an MP4, as WebVTT, through ffmpeg. */
async function mp4Cues(file: string, n: number): Promise<Cue[]> {
    const { stdout } = await run(ffmpegPath, ['-v', 'error', '-i', file, '-map', `0:s:${n}`, '-f', 'webvtt', '-']);
    return joinVtt([stdout], 0);
}

test('HLS subtitle renditions: one video, a .vtt per language, mov_text streams in the MP4', async () => {
    const page = server.videoPage(subs.masterPath);
    const result = await runActor({ startUrls: [{ url: page }], pageWaitSecs: 15 });
    assert.equal(result.code, 0, result.output.slice(-3000));
    const videos = result.items.filter((i) => i.type === 'video');
    assert.equal(videos.length, 1, JSON.stringify(result.items, null, 1));
    const item = videos[0]!;
    assert.equal(item.status, 'ok', item.error);
    assert.deepEqual(
        item.subtitles?.map((s) => [s.lang, s.name]),
        [
            ['en', 'English'],
            ['de', 'Deutsch'],
        ],
    );
    for (const [i, lang] of (['en', 'de'] as const).entries()) {
        const vtt = await readFile(path.join(result.kvDir, `${item.subtitles![i]!.key}.vtt`), 'utf8');
        assert.equal(item.subtitles![i]!.key, `${item.key}.${lang}`);
        near(joinVtt([vtt], 0), subs.cues[lang]);
    }
    const file = path.join(result.kvDir, `${item.key}.mp4`);
    assert.equal(await sha256(file), item.sha256);
    const info = await mediaInfo(file);
    const textStreams = info.streams.filter((s) => s.type === 'other');
    assert.equal(textStreams.length, 2, JSON.stringify(info.streams));
    near(await mp4Cues(file, 0), subs.cues.en);
    assert.deepEqual(
        await frameHashes(file),
        await frameHashes(media.api.source),
        'frames unchanged by the subtitle mux',
    );
});

test('subtitles: false keeps the video and no subtitle; a <track> beside a plain MP4 is stored beside it', async () => {
    const off = await runActor({
        startUrls: [{ url: server.videoPage(subs.masterPath) }],
        pageWaitSecs: 15,
        subtitles: false,
    });
    assert.equal(off.code, 0, off.output.slice(-3000));
    assert.equal(off.items.length, 1);
    assert.equal(off.items[0]!.subtitles, undefined);

    const q = new URLSearchParams({
        src: '/media/files/clip.mov',
        vtt: subs.sidecarPath,
        lang: 'en',
        label: 'English CC',
    });
    const page = `${server.origin}/play/tracks.html?${q}`;
    const result = await runActor({ startUrls: [{ url: page }], pageWaitSecs: 10 });
    assert.equal(result.code, 0, result.output.slice(-3000));
    const item = result.items.find((i) => i.type === 'video')!;
    assert.equal(item.status, 'ok', item.error);
    assert.equal(item.format, 'file');
    // Stored as served: the file itself is not changed to carry the subtitles.
    assert.equal(item.sha256, await sha256(files.mov));
    assert.deepEqual(
        item.subtitles?.map((s) => [s.lang, s.name]),
        [['en', 'English CC']],
    );
    const vtt = await readFile(path.join(result.kvDir, `${item.subtitles![0]!.key}.vtt`), 'utf8');
    near(joinVtt([vtt], 0), subs.sidecarCues);
});
