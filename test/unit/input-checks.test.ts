import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseCli, CliError } from '../../src/input/cli.js';
import { closest, editDistance, unknownFieldsWarning } from '../../src/input/did-you-mean.js';
import { InputError } from '../../src/input/input.js';
import { findJsonError } from '../../src/input/json-position.js';
import { InputFileError, parseInputFile } from '../../src/input/local-input.js';
import { checkOutputDir } from '../../src/input/output-dir.js';

const schema = JSON.parse(
    (await import('node:fs')).readFileSync(path.join(import.meta.dirname, '../../.actor/input_schema.json'), 'utf8'),
) as { properties: Record<string, unknown> };
const FIELDS = Object.keys(schema.properties);

test('edit distance counts a swap of neighbours as one edit', () => {
    const table: [string, string, number][] = [
        ['videoQuality', 'videoQuality', 0],
        ['videoQualty', 'videoQuality', 1],
        ['videoQaulity', 'videoQuality', 1],
        ['VIDEOQUALITY', 'videoQuality', 0],
        ['cookie', 'cookies', 1],
        ['abc', 'xyz', 3],
        ['', 'abc', 3],
    ];
    for (const [a, b, d] of table) assert.equal(editDistance(a, b), d, `${a} → ${b}`);
    assert.equal(closest('maxPagesPerCrawll', FIELDS), 'maxPagesPerCrawl');
    assert.equal(closest('colour', FIELDS), undefined);
});

test('unknown input fields: named, with "did you mean" for near misses only', () => {
    const cases: [Record<string, unknown>, RegExp | undefined][] = [
        [{ startUrls: [], videoQuality: 'highest' }, undefined],
        [{ startUrls: [], videoQualty: '720p' }, /"videoQualty" \(did you mean "videoQuality"\?\)/],
        [{ startUrls: [], StartUrls: [] }, /"StartUrls" \(did you mean "startUrls"\?\)/],
        [{ startUrls: [], downlaodImages: false }, /"downlaodImages" \(did you mean "downloadImages"\?\)/],
        [{ startUrls: [], cookie: [] }, /"cookie" \(did you mean "cookies"\?\)/],
        [{ startUrls: [], header: {} }, /"header" \(did you mean "headers"\?\)/],
        [{ startUrls: [], somethingElse: 1 }, /fields? ignored: "somethingElse"$/],
        [{ a: 1, maxConcurency: 3 }, /fields ignored: "a", "maxConcurency" \(did you mean "maxConcurrency"\?\)/],
    ];
    for (const [raw, expected] of cases) {
        const warning = unknownFieldsWarning(raw, FIELDS);
        if (expected) assert.match(warning ?? '', expected, JSON.stringify(raw));
        else assert.equal(warning, undefined, JSON.stringify(raw));
    }
    // Every field the validator reads is in the schema, so none of them is ever warned about.
    assert.deepEqual(
        FIELDS.filter((f) => !Object.hasOwn(schema.properties, f)),
        [],
    );
});

test('command line: "did you mean" for unknown options', () => {
    const cases: [string[], RegExp][] = [
        [['--qualty', '720p'], /Unknown option '--qualty' \(did you mean --quality\?\)/],
        [['--no-imagse'], /\(did you mean --no-images\?\)/],
        [['--max-page=3'], /\(did you mean --max-pages\?\)/],
        [['--ouput-dir', 'x'], /\(did you mean --output-dir\?\)/],
        [['--zzzzzz'], /Unknown option '--zzzzzz'$/],
    ];
    for (const [argv, expected] of cases) {
        assert.throws(
            () => parseCli(argv),
            (e: Error) => e instanceof CliError && expected.test(e.message),
            argv.join(' '),
        );
    }
});

test('INPUT.json: every kind of syntax error gets a line and column, whatever Node says', () => {
    // [text, line, column, what the message says]: the places are where a person must look.
    const table: [string, number, number, RegExp][] = [
        ['{\n  "startUrls": [],\n}', 3, 1, /trailing comma before "}"/],
        ['{"startUrls": ["a",]}', 1, 20, /trailing comma before "]"/],
        ['{\n  startUrls: []\n}', 2, 3, /expected a double-quoted field name, got "s"/],
        ['{"startUrls": [{"url": "https://x/}]}', 1, 24, /unterminated string/],
        ['{"a": "one\ntwo"}', 1, 11, /line break inside a string/],
        ['{"a": tru}', 1, 7, /unexpected "t", expected a value/],
        ['{"a": True}', 1, 7, /unexpected "T"/],
        ['{"a": undefined}', 1, 7, /unexpected "u"/],
        ['{"a": \'x\'}', 1, 7, /double quotes/],
        ['{"startUrls": [', 1, 16, /end of file/],
        ['{"a": 1', 1, 8, /end of file: an object is not closed/],
        ['{"a" 1}', 1, 6, /expected ":" after a field name/],
        ['{"a": 1 "b": 2}', 1, 9, /expected "," or "}", got "\\""/],
        ['{"a": [1 2]}', 1, 10, /expected "," or "]"/],
        ['{"a": 1}}', 1, 9, /after the end of the JSON/],
        ['{"a": 01}', 1, 8, /expected "," or "}"/],
        ['{"a": "\\x"}', 1, 9, /bad escape/],
        ['{"a": -}', 1, 7, /unexpected "-"/],
        ['', 1, 1, /end of file/],
        ['{\n\n  "a": 1,,\n}', 3, 10, /expected a double-quoted field name, got ","/],
    ];
    for (const [text, line, column, what] of table) {
        assert.throws(() => JSON.parse(text), SyntaxError, `not invalid: ${text}`);
        assert.throws(
            () => parseInputFile(text, 'INPUT.json'),
            (e: Error) =>
                e instanceof InputFileError &&
                e.message.startsWith(`INPUT.json is not valid JSON at line ${line}, column ${column}: `) &&
                what.test(e.message),
            `${JSON.stringify(text)}: ${(() => {
                try {
                    parseInputFile(text, 'INPUT.json');
                } catch (e) {
                    return (e as Error).message;
                }
            })()}`,
        );
    }
    // Valid JSON is never flagged by the scanner.
    for (const text of ['{}', '[]', '{"a":[1,-2.5e+3,true,false,null,"\\u00e9\\n"],"b":{}}', ' \n{"a" : "x"}\n ']) {
        assert.equal(findJsonError(text), undefined, text);
        JSON.parse(text);
    }
});

test('outputDir: a file, or a folder under a file, is refused naming the field', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'outdir-'));
    const file = path.join(dir, 'afile');
    writeFileSync(file, 'x');
    const refused = (p: string, what: RegExp) =>
        assert.throws(
            () => checkOutputDir(p),
            (e: Error) => e instanceof InputError && e.field === 'outputDir' && what.test(e.message),
            p,
        );
    refused(file, /is a file, not a folder/);
    refused(path.join(file, 'sub', 'deeper'), /cannot be made: .*afile is a file/);
    checkOutputDir(dir);
    checkOutputDir(path.join(dir, 'new', 'nested'));
    mkdirSync(path.join(dir, 'ro'));
    chmodSync(path.join(dir, 'ro'), 0o555);
    // root may write anywhere: the check follows what the process may do.
    if (process.getuid?.() !== 0) refused(path.join(dir, 'ro'), /is not writable/);
});
