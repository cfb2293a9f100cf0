import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CliError, mergeInput, parseCli, usage } from '../../src/input/cli.js';
import { lineAndColumn, parseInputFile, InputFileError } from '../../src/input/local-input.js';

test('command line: options become input fields, URLs become startUrls', () => {
    const cli = parseCli([
        '--quality',
        '720p',
        '--no-images',
        '--max-concurrency',
        '8',
        'https://a.test/p',
        '--output-dir',
        'out',
    ]);
    assert.deepEqual(cli.urls, ['https://a.test/p']);
    assert.deepEqual(cli.fields, { videoQuality: '720p', downloadImages: false, maxConcurrency: 8, outputDir: 'out' });
    assert.equal(cli.help, false);
    assert.equal(parseCli(['-h']).help, true);
    assert.deepEqual(parseCli(['--link-glob', 'a/*', '--link-glob', 'b/*']).fields, { linkGlobs: ['a/*', 'b/*'] });
    assert.deepEqual(parseCli(['--archive=weekly', '--videos']).fields, {
        archiveName: 'weekly',
        downloadVideos: true,
    });
});

test('command line: unknown options and bad numbers are errors, never URLs', () => {
    assert.throws(
        () => parseCli(['--qualiti', '720p', 'https://a.test']),
        (e: Error) => e instanceof CliError && /--qualiti/.test(e.message),
    );
    assert.throws(() => parseCli(['--max-concurrency', 'many']), /--max-concurrency expects a number/);
    assert.throws(() => parseCli(['--quality']), CliError);
});

test('command line wins over INPUT.json; URLs replace startUrls', () => {
    const file = { startUrls: [{ url: 'https://file.test' }], videoQuality: 'lowest', archiveName: 'x' };
    const merged = mergeInput(file, parseCli(['--quality', 'highest', 'https://cli.test']));
    assert.deepEqual(merged, { startUrls: [{ url: 'https://cli.test' }], videoQuality: 'highest', archiveName: 'x' });
    assert.deepEqual(mergeInput(file, parseCli([])), file);
});

test('usage lists options and the input fields of the schema', () => {
    const text = usage({
        properties: {
            startUrls: { type: 'array', description: 'pages to render' },
            maxConcurrency: { type: 'integer', default: 64 },
        },
    });
    assert.match(text, /--quality <value>/);
    assert.match(text, /--\[no-\]images/);
    assert.match(text, /startUrls \(array\)\n\s+pages to render/);
    assert.match(text, /maxConcurrency \(integer\) \[default 64\]/);
});

test('INPUT.json: errors name the file and where parsing stopped', () => {
    assert.throws(
        () => parseInputFile('{"startUrls": [', '/s/INPUT.json'),
        (e: Error) =>
            e instanceof InputFileError && /\/s\/INPUT\.json is not valid JSON at line 1, column 16/.test(e.message),
    );
    assert.throws(
        () => parseInputFile('{\n  "a": 1,\n}', 'INPUT.json'),
        /INPUT\.json is not valid JSON at line 3, column 1/,
    );
    assert.throws(() => parseInputFile('[1]', 'INPUT.json'), /must hold a JSON object.*got an array/);
    assert.throws(() => parseInputFile('null', 'INPUT.json'), /got null/);
    assert.deepEqual(parseInputFile('\uFEFF{"startUrls": []}', 'INPUT.json'), { startUrls: [] });
    assert.equal(lineAndColumn('ab\ncd', 4), 'line 2, column 2');
});
