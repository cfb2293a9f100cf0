import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError, parseInput, parseVideoQuality } from '../../src/input.js';

const fieldOf = (fn: () => unknown): string => {
    try {
        fn();
    } catch (error) {
        assert.ok(error instanceof InputError, `expected InputError, got ${String(error)}`);
        return error.field;
    }
    assert.fail('no error thrown');
};

test('defaults apply to every omitted field', () => {
    const input = parseInput({ startUrls: [{ url: 'https://example.com/play/1.html' }] });
    assert.deepEqual(input.startUrls, ['https://example.com/play/1.html']);
    assert.equal(input.maxPagesPerCrawl, 100);
    assert.equal(input.maxConcurrency, 64);
    assert.equal(input.maxRequestRetries, 5);
    assert.equal(input.pageWaitSecs, 10);
    assert.equal(input.minImageWidth, 64);
    assert.deepEqual(input.videoQuality, { kind: 'highest' });
    assert.equal(input.downloadVideos, true);
    assert.equal(input.archiveName, undefined);
});

test('startUrls accepts { url } objects and plain strings', () => {
    assert.deepEqual(parseInput({ startUrls: ['http://a.test/x', { url: 'http://b.test/y' }] }).startUrls, ['http://a.test/x', 'http://b.test/y']);
});

test('bad input names the field', () => {
    assert.equal(fieldOf(() => parseInput({})), 'startUrls');
    assert.equal(fieldOf(() => parseInput(null)), 'startUrls');
    assert.equal(fieldOf(() => parseInput({ startUrls: [] })), 'startUrls');
    assert.equal(fieldOf(() => parseInput({ startUrls: [{ url: 'not a url' }] })), 'startUrls[0].url');
    assert.equal(fieldOf(() => parseInput({ startUrls: ['file:///etc/passwd'] })), 'startUrls[0].url');
    assert.equal(fieldOf(() => parseInput({ startUrls: ['http://a.test'], videoQuality: 'best' })), 'videoQuality');
    assert.equal(fieldOf(() => parseInput({ startUrls: ['http://a.test'], maxConcurrency: -1 })), 'maxConcurrency');
    assert.equal(fieldOf(() => parseInput({ startUrls: ['http://a.test'], maxPagesPerCrawl: 1.5 })), 'maxPagesPerCrawl');
    assert.equal(fieldOf(() => parseInput({ startUrls: ['http://a.test'], downloadImages: 'yes' })), 'downloadImages');
    assert.equal(fieldOf(() => parseInput({ startUrls: ['http://a.test'], archiveName: '../x' })), 'archiveName');
    assert.equal(fieldOf(() => parseInput({ startUrls: ['http://a.test'], linkGlobs: 'x' })), 'linkGlobs');
});

test('videoQuality forms', () => {
    assert.deepEqual(parseVideoQuality('lowest'), { kind: 'lowest' });
    assert.deepEqual(parseVideoQuality('720p'), { kind: 'maxHeight', height: 720 });
    assert.throws(() => parseVideoQuality('720'), InputError);
});
