/**
 * When the live remux takes a video's preview frame from its first units (src/merge/preview.ts): once
 * the units holding the frame's time and a second after it are fed, and never where the MP4 is the
 * only place to take it from.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unitName, type VideoJob } from '../../src/model.js';
import { previewUnits, type FedUnit } from '../../src/merge/preview.js';
import { hlsJob } from '../helpers/video-job.js';

const job = (segments: number, durationSecs: number, extra: Partial<VideoJob> = {}): VideoJob =>
    hlsJob(segments, durationSecs, {}, extra);

const segments = (n: number, section = (_: number) => 0): FedUnit[] =>
    Array.from({ length: n }, (_, i) => ({ unit: unitName('v', 'seg', i), section: section(i) }));

test('the frame (1 s in) and a second after it: three 1-second segments, two of 6 seconds', () => {
    assert.equal(previewUnits(job(330, 330), segments(330), true), 3);
    assert.equal(previewUnits(job(50, 300), segments(50), true), 2);
    // Uneven segments: the plan's mean decides, with one segment to spare.
    assert.equal(previewUnits(job(100, 150), segments(100), true), 3);
});

test('an init section in front is fed with them and counted in the order, not as a segment', () => {
    const order = [{ unit: unitName('v', 'init', 0), section: 0 }, ...segments(12)];
    assert.equal(previewUnits(job(12, 12), order, true), 4);
});

test('no frame from units: audio, a live recording, a video those units are all of, a section ending first', () => {
    assert.equal(previewUnits(job(12, 12), segments(12), false), 0, 'no video stream in the first unit');
    assert.equal(previewUnits(job(12, 12, { audioOnly: true }), segments(12), true), 0);
    assert.equal(previewUnits(job(12, 12, { live: true }), segments(12), true), 0);
    assert.equal(previewUnits(job(3, 3), segments(3), true), 0, 'three segments: the frame waits for the MP4');
    assert.equal(
        previewUnits(
            job(12, 12),
            segments(12, (i) => (i < 2 ? 0 : 1)),
            true,
        ),
        0,
    );
    assert.equal(previewUnits(job(12, 0), segments(12), true), 0, 'a plan without a duration');
});
