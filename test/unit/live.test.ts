import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extendTrack, knownInitsOf } from '../../src/download/unit-tasks.js';
import { refreshDelayMs, stallLimitMs, windowUpdate } from '../../src/live/window.js';
import type { SegmentPlan, TrackJob, TrackPlan } from '../../src/model.js';

const seg = (seq: number, extra: Partial<SegmentPlan> = {}): SegmentPlan => ({
    seq,
    url: `https://c.test/${seq}.ts`,
    durationSecs: 2,
    discontinuity: false,
    ...extra,
});
const plan = (seqs: number[], live = true, extra: Partial<TrackPlan> = {}): TrackPlan => ({
    name: 'v',
    sourceUrl: 'https://c.test/live.m3u8',
    segments: seqs.map((s) => seg(s)),
    inits: [],
    durationSecs: 0,
    live,
    bytes: 'segments',
    ...extra,
});

test('live window: new segments by sequence number, gaps counted and marked, ends with the source', () => {
    assert.deepEqual(
        windowUpdate(3, plan([2, 3, 4, 5])).fresh.map((s) => s.seq),
        [4, 5],
    );
    assert.equal(windowUpdate(3, plan([2, 3, 4, 5])).gaps, 0);
    const jumped = windowUpdate(3, plan([7, 8]));
    assert.equal(jumped.gaps, 3, 'segments 4-6 left the window unseen');
    assert.equal(jumped.fresh[0]!.discontinuity, true, 'the join must not wait for them');
    assert.deepEqual(windowUpdate(9, plan([8, 9])).fresh, [], 'nothing taken twice');
    assert.equal(windowUpdate(9, plan([8, 9], false)).ended, true);
    assert.equal(refreshDelayMs(6), 6000);
    assert.equal(refreshDelayMs(undefined), 2000);
    assert.equal(refreshDelayMs(0.1), 500);
    assert.equal(refreshDelayMs(60), 10_000);
    assert.equal(stallLimitMs(2000), 30_000);
});

test('a growing track: units after the ones it has, init sections once, sections at gaps', () => {
    const track: TrackJob = {
        name: 'v',
        sourceUrl: 's',
        segments: 2,
        inits: 1,
        segmentInit: [0, 0],
        firstSeq: 10,
        lastSeq: 11,
        bytes: 'segments',
    };
    const known = knownInitsOf('v', [{ unit: 'v-init-000000.bin', url: 'https://c.test/init.mp4' }]);
    const inits = [{ url: 'https://c.test/init.mp4' }, { url: 'https://c.test/init2.mp4' }];
    const grown = extendTrack(track, [seg(12, { init: 0 }), seg(15, { init: 1, discontinuity: true })], inits, known);
    assert.deepEqual(
        grown.units.map((u) => u.unit),
        ['v-seg-000002.bin', 'v-init-000001.bin', 'v-seg-000003.bin'],
    );
    assert.deepEqual(grown.track.segmentInit, [0, 0, 0, 1]);
    assert.deepEqual(grown.track.discontinuities, [3]);
    assert.equal(grown.track.segments, 4);
    assert.equal(grown.track.lastSeq, 15);
    assert.equal(grown.durationSecs, 4);
    assert.equal(track.segments, 2, 'the input is left as it was');
    const text = extendTrack(
        { ...track, name: 's0', bytes: 'text', inits: 0, segmentInit: undefined },
        [seg(12)],
        [],
        new Map(),
    );
    assert.equal(text.units[0]!.raw, true, 'subtitle segments are taken as they come');
});
