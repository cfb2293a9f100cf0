/**
 * Audio-only media end to end (issue 20, item 5): a radio show over HLS (AAC only) played by hls.js
 * on an `<audio>`, a DASH audio-only MPD played by dash.js on an `<audio>` and taken as a direct
 * start URL, and an MP3 podcast episode in an `<audio src>`. Each must be an `audio` item whose
 * stored file decodes to the source's exact audio frames (the MP3: is the served file, byte for
 * byte), with its duration and hash, and shown in the report.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { ffmpegPath } from '../src/merge/tools.js';
import { extensionFor } from '../src/results/output.js';
import { AUDIO_SECS, startAudioSite, type AudioMedia, type AudioSite } from './fixtures/audio-site.js';
import { ROOT, runActor, tempDir, type ActorRun } from './helpers/actor.js';
import { mediaInfo, sha256 } from './helpers/media.js';
import { audioMedia } from './helpers/fixture-cache.js';

const run = promisify(execFile);

let media: AudioMedia;
let site: AudioSite;

before(async () => {
    const dir = await tempDir('audio-media');
    media = await audioMedia(dir);
    site = await startAudioSite(dir);
});
after(() => site?.close());

/** MD5 of every decoded audio frame, in order (timestamps left out: remuxing may shift them). */
async function audioFrameHashes(file: string): Promise<string[]> {
    const args = ['-v', 'error', '-i', file, '-map', '0:a', '-f', 'framemd5', '-'];
    const { stdout } = await run(ffmpegPath, args, { maxBuffer: 64 * 1024 * 1024 });
    return stdout
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => l.split(',').pop()!.trim());
}

type Item = ActorRun['items'][number];

const dump = (r: ActorRun): string =>
    `${JSON.stringify(
        r.items.map((i) => [i.pageUrl, i.type, i.status, i.error]),
        null,
        1,
    )}\n${r.output.slice(-3000)}`;

interface Want {
    format: 'hls' | 'dash' | 'file';
    contentType: string;
    ext: string;
    /** Decoded audio frames must equal this file's. */
    frames?: string;
    /** The stored file must be this one, byte for byte. */
    bytes?: string;
}

async function assertAudio(r: ActorRun, pageUrl: string, want: Want): Promise<Item> {
    const items = r.items.filter((i) => i.pageUrl === pageUrl);
    assert.equal(items.length, 1, `${pageUrl}: want one item\n${dump(r)}`);
    const item = items[0]!;
    assert.equal(item.status, 'ok', `${pageUrl}: ${item.error}`);
    assert.equal(item.type, 'audio', pageUrl);
    assert.equal(item.format, want.format, pageUrl);
    assert.equal(item.contentType, want.contentType, pageUrl);
    assert.match(item.key!, /^audio-/, pageUrl);
    assert.equal(item.thumbnailKey, undefined, `${pageUrl}: audio has no thumbnail`);
    assert.equal(item.width, undefined, pageUrl);
    assert.ok(Math.abs(item.durationSecs! - AUDIO_SECS) < 0.2, `${pageUrl}: ${item.durationSecs} s`);
    const file = path.join(r.kvDir, `${item.key}.${extensionFor(item.contentType!)}`);
    assert.equal((await stat(file)).size, item.bytes, pageUrl);
    assert.equal(await sha256(file), item.sha256, pageUrl);
    const info = await mediaInfo(file);
    assert.deepEqual(
        info.streams.map((s) => s.type),
        ['audio'],
        pageUrl,
    );
    assert.ok(Math.abs((info.durationSecs ?? 0) - item.durationSecs!) < 0.01, pageUrl);
    if (want.frames) {
        const [got, source] = await Promise.all([audioFrameHashes(file), audioFrameHashes(want.frames)]);
        assert.ok(source.length > 400, `${want.frames}: ${source.length} audio frames`);
        assert.deepEqual(got, source, `${pageUrl}: decoded audio frames differ from the source`);
    }
    if (want.bytes) assert.equal(item.sha256, await sha256(want.bytes), `${pageUrl}: not the file as served`);
    // Also in the output folder, named by its title when it has one, under the extension people know.
    const downloads = path.join(r.storage, 'downloads');
    const names = (await readdir(downloads)).filter((f) => f.endsWith(`.${want.ext}`));
    const hashes = await Promise.all(names.map((f) => sha256(path.join(downloads, f))));
    const local = names[hashes.indexOf(item.sha256!)];
    assert.ok(local, `${pageUrl}: no .${want.ext} file with its bytes in the output folder: ${names.join(', ')}`);
    if (item.title) assert.equal(local, `${item.title}.${want.ext}`);
    return item;
}

test('an HLS radio show (hls.js), a DASH broadcast (dash.js) and an MP3 podcast, each on an <audio>', async () => {
    const { radio, dashRadio, podcast } = site.pages;
    const r = await runActor({ startUrls: [radio, dashRadio, podcast].map((url) => ({ url })), pageWaitSecs: 10 });
    assert.equal(r.code, 0, dump(r));
    const hls = await assertAudio(r, radio, {
        format: 'hls',
        contentType: 'audio/mp4',
        ext: 'm4a',
        frames: media.hlsPlaylist,
    });
    assert.equal(hls.title, 'Night Radio Show');
    assert.match(hls.url, /master\.m3u8$/);
    await assertAudio(r, dashRadio, { format: 'dash', contentType: 'audio/mp4', ext: 'm4a', frames: media.dashMpd });
    const mp3 = await assertAudio(r, podcast, {
        format: 'file',
        contentType: 'audio/mpeg',
        ext: 'mp3',
        bytes: media.mp3,
    });
    assert.equal(mp3.key, 'audio-Podcast-Episode-7');
    assert.equal(r.items.length, 3, dump(r));

    // Crawlee's local store reads the records back by their own extensions (mime-types alone would look for .mpga).
    const script = `import { KeyValueStore } from '@crawlee/core';
const store = await KeyValueStore.open();
const sizes = {};
await store.forEachKey(async (key) => { if (key.startsWith('audio-')) sizes[key] = (await store.getValue(key)).length; });
console.log(JSON.stringify(sizes));`;
    const env = { ...process.env, CRAWLEE_STORAGE_DIR: r.storage, CRAWLEE_PURGE_ON_START: '0' };
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env });
    const want = Object.fromEntries(r.items.map((i) => [i.key, i.bytes]));
    assert.deepEqual(JSON.parse(stdout.trim().split('\n').pop()!), want);

    // The report shows each: a player and a link to the stored file, no thumbnail.
    const report = await readFile(path.join(r.kvDir, 'REPORT.html'), 'utf8');
    assert.match(report, /0 videos, 3 audio and 0 images stored/);
    for (const item of r.items) {
        const src = `${item.key}.${extensionFor(item.contentType!)}`;
        assert.ok(report.includes(`<audio controls preload="none" src="${src}">`), `${item.key} in report`);
    }
    assert.ok(!report.includes('thumb-'), 'no thumbnail for audio');
});

test('a DASH audio-only MPD and HLS audio playlists (MPEG-TS, packed audio) as direct start URLs', async () => {
    const mpd = `${site.origin}/media/dash-radio/manifest.mpd`;
    const m3u8 = `${site.origin}/media/radio/index.m3u8`;
    const packed = `${site.origin}/media/radio/packed.m3u8`;
    const r = await runActor({ startUrls: [{ url: mpd }, { url: m3u8 }, { url: packed }] });
    assert.equal(r.code, 0, dump(r));
    await assertAudio(r, mpd, { format: 'dash', contentType: 'audio/mp4', ext: 'm4a', frames: media.dashMpd });
    await assertAudio(r, m3u8, { format: 'hls', contentType: 'audio/mp4', ext: 'm4a', frames: media.hlsPlaylist });
    // Packed audio carries the same AAC frames as the MPEG-TS segments.
    await assertAudio(r, packed, { format: 'hls', contentType: 'audio/mp4', ext: 'm4a', frames: media.hlsPlaylist });
});
