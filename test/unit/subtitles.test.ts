import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatVttTime, joinVtt, parseTtmlTime, parseVtt, renderVtt, ttmlToCues } from '../../src/merge/subtitles.js';

const seg = (map: string | undefined, cues: string) => `WEBVTT${map ? `\nX-TIMESTAMP-MAP=${map}` : ''}\n\n${cues}\n`;

test('WebVTT parsing: ids, settings, multi-line text, NOTE blocks, short times', () => {
    const parsed = parseVtt(
        `\uFEFFWEBVTT\r\nX-TIMESTAMP-MAP=LOCAL:00:00:00.000,MPEGTS:126000\r\n\r\nNOTE hi\r\n\r\n1\r\n00:00:01.000 --> 00:00:02.500 align:start\r\nHello\r\nworld\r\n\r\n02:03.250 --> 02:04.000\r\nBye\r\n`,
    );
    assert.deepEqual(parsed.timestampMap, { mpegts: 126000, local: 0 });
    assert.deepEqual(parsed.cues, [
        { start: 1, end: 2.5, text: 'Hello\nworld', settings: 'align:start' },
        { start: 123.25, end: 124, text: 'Bye', settings: undefined },
    ]);
    assert.equal(formatVttTime(3723.4567), '01:02:03.457');
});

test('segments joined: timestamp map applied against the video start, repeated cues dropped, sorted', () => {
    // Video starts at 1.4 s of media time (ffmpeg's MPEG-TS default); cues are 90 kHz media times.
    const a = seg(
        'MPEGTS:126000,LOCAL:00:00:00.000',
        '00:00:00.500 --> 00:00:02.000\nOne\n\n00:00:01.900 --> 00:00:03.100\nSpans',
    );
    const b = seg(
        'MPEGTS:306000,LOCAL:00:00:00.000',
        '00:00:00.000 --> 00:00:01.100\nSpans\n\n00:00:01.500 --> 00:00:02.000\nTwo',
    );
    // Segment b's map puts its local 0 at 3.4 s media time = 2.0 s of video; its first cue repeats a's second.
    const b2 = seg('MPEGTS:306000,LOCAL:00:00:00.000', '00:00:-1 --> x\nbad\n\n00:00:00.000 --> 00:00:01.100\nNew');
    const cues = joinVtt([a, b, b2], 1.4);
    assert.deepEqual(
        cues.map((c) => [c.start, c.end, c.text]),
        [
            [0.5, 2, 'One'],
            [1.9, 3.1, 'Spans'],
            [2, 3.1, 'Spans'],
            [2, 3.1, 'New'],
            [3.5, 4, 'Two'],
        ],
    );
    // A cue the muxer wrote twice with the same times is one cue.
    assert.equal(joinVtt([a, a], 1.4).length, 2);
    // No map: times are already the video's.
    assert.deepEqual(
        joinVtt([seg(undefined, '00:00:05.000 --> 00:00:06.000\nX')], 1.4).map((c) => c.start),
        [5],
    );
    assert.equal(
        renderVtt(joinVtt([a], 1.4)),
        'WEBVTT\n\n00:00:00.500 --> 00:00:02.000\nOne\n\n00:00:01.900 --> 00:00:03.100\nSpans\n',
    );
});

test('TTML: clock, frame and offset times, <br/> and spans, dur', () => {
    assert.equal(parseTtmlTime('00:00:01.5', { frameRate: 25, tickRate: 25 }), 1.5);
    assert.equal(parseTtmlTime('00:00:01:12', { frameRate: 24, tickRate: 24 }), 1.5);
    assert.equal(parseTtmlTime('2500ms', { frameRate: 30, tickRate: 30 }), 2.5);
    assert.equal(parseTtmlTime('20000000t', { frameRate: 30, tickRate: 10_000_000 }), 2);
    const cues = ttmlToCues(`<?xml version="1.0"?>
<tt xmlns="http://www.w3.org/ns/ttml" xmlns:ttp="http://www.w3.org/ns/ttml#parameter" ttp:tickRate="10000000" xml:lang="en">
 <body><div>
  <p begin="10000000t" end="25000000t">Hello <span tts:color="red" xmlns:tts="http://www.w3.org/ns/ttml#styling">big</span><br/>world</p>
  <p begin="00:00:03.000" dur="1s">Second</p>
 </div></body></tt>`);
    assert.deepEqual(cues, [
        { start: 1, end: 2.5, text: 'Hello big\nworld' },
        { start: 3, end: 4, text: 'Second' },
    ]);
    assert.throws(() => ttmlToCues('<html/>'), /not TTML/);
});
