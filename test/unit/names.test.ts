/**
 * Names of stored files (src/names.ts) and their types (src/media-types.ts): store keys transliterated
 * to ASCII, output files named by the title as written, extensions from Crawlee's own MIME table.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import mime from 'mime-types';
import { fileExtension, storedType } from '../../src/media-types.js';
import { cutToBytes, keyFromText, NAME_MAX_BYTES, outputFileName, sanitizeStem, toAscii } from '../../src/names.js';

const APIFY_KEY = /^[a-zA-Z0-9!\-_.'()]{1,256}$/;
const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

test('ASCII text is kept as the library would keep it, without loading its tables', () => {
    const library = createRequire(import.meta.url)('transliteration') as typeof import('transliteration');
    const every = Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)).join('');
    for (const text of [every, 'Big Buck Bunny (2008) - 1080p', '', 'a\tb\nc']) {
        assert.equal(toAscii(text), library.transliterate(text, { replace: [['ä', 'ae']] }));
    }
    // One letter past ASCII goes through the library.
    assert.equal(toAscii('Grüße'), 'Gruesse');
});

test('store keys: titles in any script are transliterated, a hash only where nothing is', () => {
    const table: [string, string | RegExp][] = [
        ['Grüße aus Köln', 'Gruesse-aus-Koeln'],
        ['Серия 1 — Пилот', 'Seriya-1-Pilot'],
        ['Серия 1', 'Seriya-1'],
        // Japanese: the library reads kanji by their Chinese readings and kana as kana; readable, not a hash.
        ['第1話 旅立ち', /^[A-Za-z]+-1[A-Za-z]+(-[A-Za-z]+)+$/],
        ['ひらがな カタカナ', 'hiragana-katakana'],
        ['مرحبا بالعالم', /^[a-zA-Z]+-[a-zA-Z]+$/],
        ['שלום עולם', /^[a-zA-Z]+-[a-zA-Z]+$/],
        ['Ελληνικά', 'Ellinika'],
        ['한국어 제목', /^[a-z]+-[a-z]+$/],
        ['🎬 Movie night 😀', 'Movie-night'],
        ['Crème brûlée', 'Creme-brulee'],
        ['../../etc/passwd', 'etc-passwd'],
    ];
    for (const [title, expected] of table) {
        const key = keyFromText(title, 'video', 'https://a.test/1');
        assert.match(key, APIFY_KEY, title);
        if (typeof expected === 'string') assert.equal(key, expected, title);
        else assert.match(key, expected, `${title} → ${key}`);
        assert.doesNotMatch(key, /[0-9a-f]{10}/, `${title} → ${key} needs no hash`);
    }
    // Nothing to transliterate: a hash beside the readable prefix, stable per seed.
    assert.match(keyFromText('😀😀', 'video', 'u'), /^video-[0-9a-f]{10}$/);
    assert.match(keyFromText('1', 'video', 'u'), /^video-1-[0-9a-f]{10}$/);
    assert.ok(keyFromText('Серия '.repeat(100), 'video', 'u').length <= 120);
});

test('output file names keep the title as written, sanitised only for file systems', () => {
    const table: [string, string][] = [
        ['Серия 1 — Пилот', 'Серия 1 — Пилот.mp4'],
        ['第1話 旅立ち', '第1話 旅立ち.mp4'],
        ['Grüße aus Köln', 'Grüße aus Köln.mp4'],
        ['مرحبا بالعالم', 'مرحبا بالعالم.mp4'],
        ['שלום עולם', 'שלום עולם.mp4'],
        ['🎬 Movie night 😀', '🎬 Movie night 😀.mp4'],
        // Reserved characters become their full-width look-alikes (yt-dlp's rule), never path separators.
        ['Q&A: why? <live> "now" a/b\\c|d*', 'Q&A： why？ ＜live＞ ＂now＂ a⧸b⧹c｜d＊.mp4'],
        // No separator survives, and no leading dot (a hidden file on Unix).
        ['../../etc/passwd', '⧸..⧸etc⧸passwd.mp4'],
        ['line one\nline\ttwo\u0000', 'line one line two.mp4'],
        ['trailing dots and spaces. . ', 'trailing dots and spaces.mp4'],
        ['.hidden', 'hidden.mp4'],
        ['CON', 'CON_.mp4'],
        ['nul', 'nul_.mp4'],
        ['com1.txt', 'com1_.txt.mp4'],
        ['LPT9', 'LPT9_.mp4'],
        ['Console', 'Console.mp4'],
    ];
    for (const [title, expected] of table) {
        assert.equal(outputFileName(title, 'mp4', 'fallback'), expected, JSON.stringify(title));
    }
    assert.equal(outputFileName('Grüße aus Köln', 'mp4', 'k', 2), 'Grüße aus Köln-2.mp4');
    assert.equal(outputFileName('', 'mp4', 'Episode-1'), 'Episode-1.mp4');
    assert.equal(outputFileName('???', 'mp4', 'k'), '？？？.mp4');
    assert.equal(outputFileName('...', 'mp4', 'Episode-1'), 'Episode-1.mp4');
});

test('output file names fit in 255 UTF-8 bytes, cut on a character boundary', () => {
    for (const unit of ['a', 'é', 'Ж', '話', '😀', '👩‍👩‍👧', 'é']) {
        const title = unit.repeat(300);
        for (const n of [1, 2, 1000]) {
            const name = outputFileName(title, 'webm', 'k', n);
            assert.ok(bytes(name) <= NAME_MAX_BYTES, `${unit}: ${bytes(name)} bytes`);
            assert.ok(bytes(name) > NAME_MAX_BYTES - 30, `${unit}: cut far too short (${bytes(name)})`);
            assert.ok(name.endsWith(n > 1 ? `-${n}.webm` : '.webm'));
            const stem = name.slice(0, name.lastIndexOf(n > 1 ? `-${n}` : '.'));
            // Only whole characters: the stem is the title's start, grapheme for grapheme.
            assert.ok(title.startsWith(stem) && stem.length % unit.length === 0, unit);
            assert.ok(!stem.includes('\ufffd'));
        }
    }
    assert.equal(cutToBytes('aé', 2), 'a');
    assert.equal(sanitizeStem('  a  b  '), 'a b');
});

test('types: extensions from the MIME table Crawlee reads the store back with', () => {
    const table: [string, string, string, string][] = [
        // sniffed or served type, stored type, store extension, output extension
        ['video/mp4', 'video/mp4', 'mp4', 'mp4'],
        ['video/quicktime', 'video/quicktime', 'qt', 'mov'],
        ['video/webm', 'video/webm', 'webm', 'webm'],
        ['video/matroska', 'video/x-matroska', 'mkv', 'mkv'],
        ['video/x-matroska', 'video/x-matroska', 'mkv', 'mkv'],
        ['image/jpeg', 'image/jpeg', 'jpeg', 'jpeg'],
        ['image/png', 'image/png', 'png', 'png'],
        ['image/apng', 'image/png', 'png', 'png'],
        ['image/gif', 'image/gif', 'gif', 'gif'],
        ['image/webp', 'image/webp', 'webp', 'webp'],
        ['image/avif', 'image/avif', 'avif', 'avif'],
        ['image/svg+xml', 'image/svg+xml', 'svg', 'svg'],
        ['text/vtt', 'text/vtt', 'vtt', 'vtt'],
        ['audio/mp4', 'audio/mp4', 'm4a', 'm4a'],
        ['audio/x-m4a', 'audio/mp4', 'm4a', 'm4a'],
        ['text/html; charset=utf-8', 'text/html', 'html', 'html'],
        ['application/x-unknown-thing', 'application/x-unknown-thing', 'bin', 'bin'],
    ];
    for (const [given, type, ext, fileExt] of table) {
        const stored = storedType(given);
        assert.deepEqual(stored, { contentType: type, extension: ext }, given);
        assert.equal(fileExtension(given), fileExt, given);
        // What Crawlee's local store does on opening: type from the file name, then the file it looks for.
        const readBack = mime.contentType(`key.${ext}`) || 'text/plain';
        if (ext !== 'bin') assert.equal(readBack.split(';')[0], type, given);
        assert.equal(mime.extension(readBack), ext, `${given}: a record written as .${ext} is looked for as that`);
        // The output folder's extension names the same type in the same table.
        assert.equal(mime.lookup(fileExt), mime.lookup(ext), given);
    }
});
