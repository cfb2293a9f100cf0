/**
 * Audio-only media: the pure decisions (which streams the merge maps, what a file is stored as,
 * what counts as an audio file or an audio-only variant), and one real remux per stream layout.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runFfmpeg, SYSTEM_FFMPEG } from '../../src/demo/file-media.js';
import { FILE_TYPES, formatFromContentType, formatFromUrl } from '../../src/formats.js';
import { remux } from '../../src/merge/ffmpeg.js';
import { chooseStreams, probe, probeStreams, type StreamInfo } from '../../src/merge/probe.js';
import { audioContentType, mediaKind } from '../../src/merge/merge.js';
import type { ManifestFetcher } from '../../src/model.js';
import { extensionFor, outputName } from '../../src/results/output.js';
import { fileExtension } from '../../src/media-types.js';
import { isVideoFileResponse } from '../../src/pages/capture.js';
import { renderReport } from '../../src/results/report.js';
import { videoFileKind } from '../../src/sources/file/ranges.js';
import { isAudioOnlyVariant, resolveHls, withPictureFirst } from '../../src/sources/hls/resolve.js';

const h264: StreamInfo = { type: 'video', codec: 'h264', width: 640, height: 360 };
const aac: StreamInfo = { type: 'audio', codec: 'aac' };
const opus: StreamInfo = { type: 'audio', codec: 'opus' };
const data: StreamInfo = { type: 'other', codec: 'timed_id3' };

test('chooseStreams maps only the streams that exist', () => {
    // Video with its own audio: the video and every audio stream (two languages in one TS stay two).
    assert.deepEqual(chooseStreams([h264, aac, aac]), {
        kind: 'video',
        maps: ['-map', '0:v:0', '-map', '0:a'],
        aac: true,
    });
    // A muted clip: the video alone.
    assert.deepEqual(chooseStreams([h264, data]), { kind: 'video', maps: ['-map', '0:v:0'], aac: false });
    // A radio show: the audio alone, an M4A.
    assert.deepEqual(chooseStreams([aac, data]), { kind: 'audio', maps: ['-map', '0:a'], aac: true });
    assert.deepEqual(chooseStreams([opus]), { kind: 'audio', maps: ['-map', '0:a'], aac: false });
    // A variant with a separate audio rendition: the rendition's audio, not the variant's own.
    assert.deepEqual(chooseStreams([h264, opus], [aac]), {
        kind: 'video',
        maps: ['-map', '0:v:0', '-map', '1:a:0'],
        aac: true,
    });
    assert.deepEqual(chooseStreams([h264], [aac, aac]), {
        kind: 'video',
        maps: ['-map', '0:v:0', '-map', '1:a:0'],
        aac: true,
    });
    // An audio-only variant that also names an audio rendition: the rendition.
    assert.deepEqual(chooseStreams([aac], [opus]), { kind: 'audio', maps: ['-map', '1:a:0'], aac: false });
    // Nothing usable is an error that says so, never an empty MP4.
    assert.throws(() => chooseStreams([data]), /neither a video nor an audio stream/);
    assert.throws(() => chooseStreams([h264], [data]), /separate audio track has no audio stream/);
});

test('what audio is stored as: content type, extension, kind', () => {
    assert.equal(audioContentType('video/mp4'), 'audio/mp4');
    assert.equal(audioContentType('video/webm'), 'audio/webm');
    assert.equal(audioContentType('audio/mpeg'), 'audio/mpeg');
    assert.equal(mediaKind([h264, aac]), 'video');
    assert.equal(mediaKind([aac, data]), 'audio');
    assert.equal(mediaKind([data]), undefined);
    // The store names records as Crawlee reads them back (mime-types: .mpga, .oga); the output folder
    // uses the extension people know them by.
    assert.equal(extensionFor('audio/mp4'), 'm4a');
    assert.equal(extensionFor('audio/mpeg'), 'mpga');
    assert.equal(fileExtension('audio/mpeg'), 'mp3');
    assert.equal(fileExtension('audio/ogg'), 'ogg');
    assert.equal(fileExtension('audio/mp4'), 'm4a');
    assert.equal(outputName('audio-Podcast-Episode-7', 'mp3'), 'Podcast-Episode-7.mp3');
    // Sniffed audio files are stored as served.
    assert.deepEqual(videoFileKind('audio/mpeg'), { contentType: 'audio/mpeg', delivery: 'as-served' });
    assert.deepEqual(videoFileKind('audio/x-m4a'), { contentType: 'audio/mp4', delivery: 'as-served' });
    assert.deepEqual(videoFileKind('audio/ogg; codecs=opus'), { contentType: 'audio/ogg', delivery: 'as-served' });
    assert.equal(videoFileKind('audio/midi'), undefined);
});

test('audio files by URL and content type; an HLS playlist typed audio/mpegurl stays a playlist', () => {
    for (const t of ['audio/mpeg', 'audio/mp4', 'audio/aac', 'audio/ogg; codecs=opus', 'audio/flac', 'audio/wav']) {
        assert.ok(FILE_TYPES.test(t), t);
        assert.equal(formatFromContentType(t), 'file', t);
    }
    assert.equal(formatFromContentType('audio/mpegurl'), 'hls');
    assert.equal(formatFromContentType('audio/x-mpegurl'), 'hls');
    assert.equal(formatFromUrl('https://r.test/shows/ep7.mp3?sig=1'), 'file');
    assert.equal(formatFromUrl('https://r.test/shows/ep7.m4a'), 'file');
    assert.equal(formatFromUrl('https://r.test/live/radio.m3u8'), 'hls');
    const base = {
        contentType: 'audio/mpeg',
        resourceType: 'media',
        status: 206,
        totalBytes: 190_000,
        range: 'bytes=0-',
    };
    assert.ok(isVideoFileResponse(base), 'an <audio> element fetched it');
    const track = { ...base, contentType: 'audio/mp4', resourceType: 'fetch', totalBytes: 5_000_000 };
    assert.ok(!isVideoFileResponse(track), "a MediaSource player's audio track, fetched by ranges");
    assert.ok(
        !isVideoFileResponse({ ...base, contentType: 'audio/aac', resourceType: 'xhr', range: undefined }),
        'a segment',
    );
});

test('HLS: an audio-only variant is audio; "lowest" does not pick the audio-only fallback of a video', async () => {
    const audioVariant = { codecs: 'mp4a.40.2', resolution: undefined };
    assert.ok(isAudioOnlyVariant(audioVariant));
    assert.ok(isAudioOnlyVariant({ codecs: 'mp4a.40.5, ec-3' }));
    assert.ok(!isAudioOnlyVariant({ codecs: 'avc1.4d401f,mp4a.40.2' }));
    assert.ok(!isAudioOnlyVariant({ codecs: undefined }), 'no CODECS: nothing assumed');
    const video = { codecs: 'avc1.4d401f,mp4a.40.2', resolution: { width: 640, height: 360 } };
    assert.deepEqual(withPictureFirst([audioVariant, video]), [video]);
    assert.deepEqual(withPictureFirst([audioVariant]), [audioVariant]);

    const media = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n#EXTINF:2,\nb.ts\n#EXT-X-ENDLIST\n';
    const files: Record<string, string> = {
        'http://r.test/radio.m3u8': '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=64000,CODECS="mp4a.40.2"\naudio/index.m3u8\n',
        'http://r.test/tv.m3u8': `#EXTM3U
#EXT-X-STREAM-INF:BANDWIDTH=64000,CODECS="mp4a.40.2"
audio/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,CODECS="avc1.4d401f,mp4a.40.2"
360/index.m3u8
`,
        'http://r.test/audio/index.m3u8': media,
        'http://r.test/360/index.m3u8': media,
    };
    const fetcher: ManifestFetcher = {
        text: async (url) => ({ text: files[url]!, url, contentType: 'application/vnd.apple.mpegurl' }),
        range: () => Promise.reject(new Error('unused')),
        sniff: () => Promise.reject(new Error('unused')),
    };
    const radio = await resolveHls('http://r.test/radio.m3u8', fetcher, { kind: 'highest' }, 100);
    assert.equal(radio.audioOnly, true);
    const tv = await resolveHls('http://r.test/tv.m3u8', fetcher, { kind: 'lowest' }, 100);
    assert.equal(tv.variantUrl, 'http://r.test/360/index.m3u8');
    assert.equal(tv.audioOnly, undefined);
});

test('the report shows audio with a player and a link, and no thumbnail', () => {
    const html = renderReport(
        [
            {
                type: 'audio',
                status: 'ok',
                pageUrl: 'http://p',
                url: 'http://u/radio.m3u8',
                title: 'Night <Radio>',
                key: 'audio-Night-Radio',
                contentType: 'audio/mp4',
                bytes: 150_000,
                durationSecs: 12,
            },
        ],
        (key, ct) => `${key}.${extensionFor(ct)}`,
    );
    assert.match(html, /0 videos, 1 audio and 0 images stored/);
    assert.match(html, /<audio controls preload="none" src="audio-Night-Radio\.m4a"><\/audio>/);
    assert.match(html, /Night &#60;Radio&#62;<\/b> · 0:12 · 150 KB/);
    assert.ok(!html.includes('<img'));
});

test('a real remux maps what each layout holds: video+audio, video alone, audio alone', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'audio-remux-'));
    try {
        const video = ['-f', 'lavfi', '-i', 'testsrc=size=160x90:rate=25:duration=2'];
        const tone = ['-f', 'lavfi', '-i', 'sine=frequency=440:duration=2'];
        const enc = ['-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', '-f', 'mpegts'];
        const layouts = {
            both: [...video, ...tone, ...enc],
            videoOnly: [...video, ...enc],
            audioOnly: [...tone, ...enc],
        };
        for (const [name, args] of Object.entries(layouts)) {
            const ts = path.join(dir, `${name}.ts`);
            await runFfmpeg([...args, ts], SYSTEM_FFMPEG);
            const streams = await probeStreams({ file: ts, format: 'mpegts' });
            const out = path.join(dir, `${name}.mp4`);
            await remux({ file: ts, format: 'mpegts' }, undefined, out, streams);
            const types = (await probe(out)).streams.map((s) => s.type).sort();
            const want = { both: ['audio', 'video'], videoOnly: ['video'], audioOnly: ['audio'] }[name];
            assert.deepEqual(types, want, name);
            assert.equal(streams.kind, name === 'audioOnly' ? 'audio' : 'video', name);
        }
    } finally {
        await rm(dir, { recursive: true, force: true });
    }
});
