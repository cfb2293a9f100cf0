import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mp4Language } from '../../src/merge/subtitle-files.js';

test('MP4 language tags: ISO 639-2 from a BCP 47 tag, "und" when unknown', () => {
    assert.equal(mp4Language('en'), 'eng');
    assert.equal(mp4Language('en-US'), 'eng');
    assert.equal(mp4Language('de_AT'), 'ger', 'MP4 keeps the bibliographic code');
    assert.equal(mp4Language('ZH-Hans'), 'chi');
    assert.equal(mp4Language('fil'), 'fil', 'already three letters');
    assert.equal(mp4Language('xx'), 'und');
    assert.equal(mp4Language(''), 'und');
});
