import assert from 'node:assert/strict';
import { test } from 'node:test';
import { concatOrder, sections } from '../../src/merge/concat.js';

test('concat order: media sequence order with init sections where they change', () => {
    assert.deepEqual(concatOrder({ name: 'v', sourceUrl: '', bytes: 'segments', segments: 3, inits: 0, firstSeq: 0 }), [
        'v-seg-000000.bin',
        'v-seg-000001.bin',
        'v-seg-000002.bin',
    ]);
    assert.deepEqual(
        concatOrder({
            name: 'v',
            sourceUrl: '',
            bytes: 'segments',
            segments: 3,
            inits: 2,
            segmentInit: [0, 0, 1],
            firstSeq: 0,
        }),
        ['v-init-000000.bin', 'v-seg-000000.bin', 'v-seg-000001.bin', 'v-init-000001.bin', 'v-seg-000002.bin'],
    );
    assert.deepEqual(
        sections({
            name: 'v',
            sourceUrl: '',
            bytes: 'segments',
            segments: 10,
            inits: 0,
            firstSeq: 0,
            discontinuities: [4, 7],
        }),
        [
            [0, 4],
            [4, 7],
            [7, 10],
        ],
    );
    assert.deepEqual(sections({ name: 'v', sourceUrl: '', bytes: 'segments', segments: 3, inits: 0, firstSeq: 0 }), [
        [0, 3],
    ]);
    assert.deepEqual(
        concatOrder(
            {
                name: 'a',
                sourceUrl: '',
                bytes: 'segments',
                segments: 4,
                inits: 1,
                segmentInit: [0, 0, 0, 0],
                firstSeq: 0,
            },
            2,
            4,
        ),
        ['a-init-000000.bin', 'a-seg-000002.bin', 'a-seg-000003.bin'],
    );
});
