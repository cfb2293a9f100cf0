import assert from 'node:assert/strict';
import { test } from 'node:test';
import { missingSequences } from '../../src/merge/finish.js';
import type { VideoJob } from '../../src/model.js';

const job = (tracks: VideoJob['tracks']): VideoJob => ({
    id: 'j',
    format: 'hls',
    pageUrl: 'p',
    url: 'u',
    variantUrl: 'u',
    headers: {},
    durationSecs: 1,
    live: false,
    tracks,
    delivery: 'remux',
    status: 'downloading',
});

test('missing units are named by their media sequence number', () => {
    assert.deepEqual(
        missingSequences(
            job([{ name: 'v', sourceUrl: '', bytes: 'segments', segments: 20, inits: 0, firstSeq: 100 }]),
            ['v-seg-000012.bin', 'v-seg-000003.bin'],
        ),
        [103, 112],
    );
});
