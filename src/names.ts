/**
 * Names of stored files, from the titles people wrote. Two rules, both pure:
 * - store keys are ASCII (Apify key rules), transliterated so "Серия 1" stays readable as `Seriya-1`;
 * - files in the output folder keep the title as written, changed only where a file system refuses it,
 *   as yt-dlp's `%(title)s` does.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as Transliteration from 'transliteration';

/** Apify key rules: 1-256 chars of [a-zA-Z0-9!-_.'()]. Kept well below 256 so prefixes and "-NN" fit. */
export const KEY_MAX = 120;

/**
 * German letters as German writes them without umlauts (DIN 5007-2: ä → ae, ß → ss): `transliteration`'s
 * table maps ü to u ("Grusse aus Koln"), which a German reader does not recognise as "Grüße aus Köln".
 */
const GERMAN: [string, string][] = [
    ['Ä', 'Ae'],
    ['Ö', 'Oe'],
    ['Ü', 'Ue'],
    ['ä', 'ae'],
    ['ö', 'oe'],
    ['ü', 'ue'],
    ['ß', 'ss'],
];

/** Loaded on first use: its tables cost 60-80 ms of CPU (measured here), which a run without a title never needs. */
let library: typeof Transliteration | undefined;
const transliteration = (): typeof Transliteration =>
    (library ??= createRequire(import.meta.url)('transliteration') as typeof Transliteration);

const ASCII = /^[\x00-\x7f]*$/;

/**
 * Text in ASCII letters, by `transliteration` (Cyrillic, Greek, Arabic, Hebrew, CJK, kana, Hangul). Pure.
 * ASCII text is its own transliteration (the library returns all 128 code points unchanged; a unit test
 * holds it to that), so most titles never load the tables: on the bench's m3u8 URL their ~30 ms sat
 * between the last byte and the stored item.
 */
export const toAscii = (text: string): string =>
    ASCII.test(text) ? text : transliteration().transliterate(text.normalize('NFC'), { replace: GERMAN });

/**
 * A key-value store key from a human string (page title, file name). Pure: the same text gives the
 * same key. Text with nothing to transliterate (emoji only, an empty title) falls back to
 * `prefix-<hash>` so it stays recognisable and stable across runs.
 */
export function keyFromText(text: string | undefined, prefix: string, seed: string): string {
    const ascii = toAscii(text ?? '')
        .replace(/[^a-zA-Z0-9!_.'()-]+/g, '-')
        .replace(/\.{2,}/g, '.')
        .replace(/-{2,}/g, '-')
        .replace(/^[-.]+|[-.]+$/g, '')
        .slice(0, KEY_MAX)
        .replace(/[-.]+$/g, '');
    if (ascii.length >= 2) return ascii;
    const hash = createHash('sha256').update(seed).digest('hex').slice(0, 10);
    return ascii ? `${prefix}-${ascii}-${hash}` : `${prefix}-${hash}`;
}

/** Longest file name most file systems take (ext4, APFS, NTFS: 255; ext4 counts UTF-8 bytes). */
export const NAME_MAX_BYTES = 255;

/**
 * Characters Windows (and, for `/`, every system) refuses in a name, replaced by their full-width
 * look-alikes as yt-dlp does, so "Q&A: why?" stays readable as "Q&A： why？".
 */
const RESERVED: Record<string, string> = {
    '<': '＜',
    '>': '＞',
    ':': '：',
    '"': '＂',
    '/': '⧸',
    '\\': '⧹',
    '|': '｜',
    '?': '？',
    '*': '＊',
};

/** Device names Windows opens instead of a file, with any extension (`CON.mp4` too). */
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])$/i;

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

/** `s` cut to at most `max` UTF-8 bytes, never inside a character (a grapheme: an emoji, a letter and its accent). */
export function cutToBytes(s: string, max: number): string {
    if (bytes(s) <= max) return s;
    let out = '';
    let used = 0;
    for (const { segment } of new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(s)) {
        const b = bytes(segment);
        if (used + b > max) break;
        out += segment;
        used += b;
    }
    return out;
}

/** A title made safe as the stem of a file name: reserved characters, control characters, ends. Pure. */
export function sanitizeStem(title: string): string {
    const stem = title
        .normalize('NFC')
        // Control characters (tabs, newlines in a heading) become spaces; the rest of the text stays.
        .replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ')
        .replace(/[<>:"/\\|?*]/g, (c) => RESERVED[c]!)
        .replace(/\s+/g, ' ')
        // Leading dots hide a file on Unix; trailing dots and spaces are dropped by Windows.
        .replace(/^[\s.]+|[\s.]+$/g, '');
    // Windows judges the part before the first dot: `con.txt.mp4` opens the console too.
    return stem.replace(/^[^.]*/, (first) => (WINDOWS_DEVICE.test(first.trimEnd()) ? `${first}_` : first));
}

/**
 * The name a file gets in the output folder: the title as written (sanitised for file systems),
 * `-n` for the n-th file of that name, and the extension, within 255 UTF-8 bytes. `fallback` names
 * a file whose title has nothing a file system keeps. Pure.
 */
export function outputFileName(title: string | undefined, ext: string, fallback: string, n = 1): string {
    const suffix = `${n > 1 ? `-${n}` : ''}.${ext}`;
    const room = NAME_MAX_BYTES - bytes(suffix);
    let stem = sanitizeStem(cutToBytes(sanitizeStem(title ?? ''), room));
    if (!stem) stem = sanitizeStem(cutToBytes(sanitizeStem(fallback), room)) || 'file';
    return `${stem}${suffix}`;
}
