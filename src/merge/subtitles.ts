/**
 * Subtitle tracks → one WebVTT file per language. Segmented WebVTT is joined with each segment's
 * `X-TIMESTAMP-MAP` applied, cues repeated across segments dropped; TTML is converted. Times end
 * up relative to the video's first frame, as a player shows them beside the stored MP4. Pure but
 * for `joinSubtitleTrack`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { MergeError } from '../errors.js';
import { unitName, type TrackJob } from '../model.js';

export interface Cue {
    start: number;
    end: number;
    text: string;
    settings?: string;
}

export interface ParsedVtt {
    cues: Cue[];
    /** `X-TIMESTAMP-MAP`: cue time `local` is media time `mpegts` / 90 kHz. */
    timestampMap?: { mpegts: number; local: number };
}

const TIME = /^(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})$/;

/** `01:02:03.456` or `02:03.456` → seconds. */
export function parseVttTime(text: string): number | undefined {
    const m = TIME.exec(text.trim());
    if (!m) return undefined;
    return Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(m[4]!.padEnd(3, '0')) / 1000;
}

export function formatVttTime(secs: number): string {
    const ms = Math.max(0, Math.round(secs * 1000));
    const h = Math.floor(ms / 3_600_000);
    const m = Math.floor((ms % 3_600_000) / 60_000);
    const s = Math.floor((ms % 60_000) / 1000);
    const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
    return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}

export function parseVtt(input: string): ParsedVtt {
    const text = input.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
    const blocks = text.split(/\n{2,}/);
    const header = blocks.shift() ?? '';
    if (!/^WEBVTT\b/.test(header)) throw new MergeError('a subtitle segment is not WebVTT');
    let timestampMap: ParsedVtt['timestampMap'];
    const map = /X-TIMESTAMP-MAP=([^\n]+)/.exec(header)?.[1];
    if (map) {
        const mpegts = /MPEGTS:(\d+)/.exec(map)?.[1];
        const local = /LOCAL:([\d:.,]+)/.exec(map)?.[1];
        timestampMap = { mpegts: Number(mpegts ?? 0), local: parseVttTime(local ?? '0:00.000') ?? 0 };
    }
    const cues: Cue[] = [];
    for (const block of blocks) {
        const lines = block.split('\n').filter((l, i) => i > 0 || l.trim() !== '');
        const at = lines.findIndex((l) => l.includes('-->'));
        if (at < 0 || /^(NOTE|STYLE|REGION)\b/.test(lines[0] ?? '')) continue;
        const [from, rest] = lines[at]!.split('-->');
        const [to, ...settings] = (rest ?? '').trim().split(/\s+/);
        const start = parseVttTime(from ?? '');
        const end = parseVttTime(to ?? '');
        if (start === undefined || end === undefined) continue;
        const body = lines
            .slice(at + 1)
            .join('\n')
            .trim();
        if (body) cues.push({ start, end, text: body, settings: settings.join(' ') || undefined });
    }
    return { cues, timestampMap };
}

/**
 * Joins a track's WebVTT segments. `videoStartSecs` is the first video frame's media time: cues
 * mapped by `X-TIMESTAMP-MAP` are media times and move by it; cues of segments without a map are
 * already relative to the start (what players assume).
 */
export function joinVtt(segments: readonly string[], videoStartSecs: number): Cue[] {
    const seen = new Set<string>();
    const cues: Cue[] = [];
    for (const segment of segments) {
        const parsed = parseVtt(segment);
        const map = parsed.timestampMap;
        const shift = map ? map.mpegts / 90_000 - map.local - videoStartSecs : 0;
        for (const cue of parsed.cues) {
            const moved = { ...cue, start: cue.start + shift, end: cue.end + shift };
            if (moved.end <= 0) continue;
            moved.start = Math.max(0, moved.start);
            const id = `${moved.start.toFixed(3)}|${moved.end.toFixed(3)}|${moved.text}`;
            if (seen.has(id)) continue;
            seen.add(id);
            cues.push(moved);
        }
    }
    return cues.sort((a, b) => a.start - b.start || a.end - b.end);
}

export function renderVtt(cues: readonly Cue[]): string {
    const body = cues.map((c) => {
        const timing = `${formatVttTime(c.start)} --> ${formatVttTime(c.end)}${c.settings ? ` ${c.settings}` : ''}`;
        return `${timing}\n${c.text}`;
    });
    return `WEBVTT\n\n${body.join('\n\n')}${body.length ? '\n' : ''}`;
}

/** A TTML time expression → seconds (clock time, frames, or offset with h/m/s/ms/f/t). */
export function parseTtmlTime(value: string, rates: { frameRate: number; tickRate: number }): number | undefined {
    const v = value.trim();
    const clock = /^(\d+):(\d{2}):(\d{2})(?:\.(\d+)|:(\d+(?:\.\d+)?))?$/.exec(v);
    if (clock) {
        const frac = clock[4] ? Number(`0.${clock[4]}`) : clock[5] ? Number(clock[5]) / rates.frameRate : 0;
        return Number(clock[1]) * 3600 + Number(clock[2]) * 60 + Number(clock[3]) + frac;
    }
    const offset = /^(\d+(?:\.\d+)?)(h|m|s|ms|f|t)$/.exec(v);
    if (!offset) return undefined;
    const n = Number(offset[1]);
    const unit = offset[2];
    if (unit === 'h') return n * 3600;
    if (unit === 'm') return n * 60;
    if (unit === 's') return n;
    if (unit === 'ms') return n / 1000;
    if (unit === 'f') return n / rates.frameRate;
    return n / rates.tickRate;
}

type XmlNode = { nodeType: number; nodeName: string; nodeValue: string | null; childNodes: ArrayLike<XmlNode> };
type XmlElement = XmlNode & { getAttribute(name: string): string | null; localName?: string };

function textOf(node: XmlNode): string {
    if (node.nodeType === 3) return (node.nodeValue ?? '').replace(/\s+/g, ' ');
    if (node.nodeType !== 1) return '';
    const name = ((node as XmlElement).localName ?? node.nodeName).replace(/^.*:/, '');
    if (name === 'br') return '\n';
    return Array.from(node.childNodes).map(textOf).join('');
}

/** TTML (`<tt>` with `<p begin end|dur>`) → cues. Styling is dropped: WebVTT keeps the words and the times. */
export function ttmlToCues(xml: string): Cue[] {
    const doc = new DOMParser({ errorHandler: () => undefined }).parseFromString(xml, 'text/xml');
    const root = doc.documentElement as unknown as XmlElement | null;
    if (!root || !/(^|:)tt$/.test(root.nodeName)) throw new MergeError('a subtitle file is not TTML');
    // xmldom answers '' (not null) for a missing attribute.
    const attr = (el: XmlElement, name: string): string | null =>
        el.getAttribute(name) || el.getAttribute(`ttp:${name}`) || null;
    const rates = {
        frameRate: Number(attr(root, 'frameRate') ?? 30) || 30,
        tickRate: Number(attr(root, 'tickRate') ?? 0) || 0,
    };
    if (!rates.tickRate) rates.tickRate = rates.frameRate;
    const cues: Cue[] = [];
    const paragraphs = doc.getElementsByTagNameNS('*', 'p') as unknown as ArrayLike<XmlElement>;
    for (const p of Array.from(paragraphs)) {
        const begin = parseTtmlTime(p.getAttribute('begin') ?? '', rates);
        const endAttr = p.getAttribute('end') || null;
        const dur = p.getAttribute('dur') || null;
        const end = endAttr
            ? parseTtmlTime(endAttr, rates)
            : dur && begin !== undefined
              ? begin + (parseTtmlTime(dur, rates) ?? 0)
              : undefined;
        const text = textOf(p)
            .split('\n')
            .map((l) => l.trim())
            .filter(Boolean)
            .join('\n');
        if (begin !== undefined && end !== undefined && end > begin && text) cues.push({ start: begin, end, text });
    }
    return cues.sort((a, b) => a.start - b.start);
}

/** A subtitle track's downloaded units → WebVTT text. */
export async function joinSubtitleTrack(track: TrackJob, workDir: string, videoStartSecs: number): Promise<string> {
    const texts: string[] = [];
    for (let i = 0; i < track.segments; i++)
        texts.push(await readFile(path.join(workDir, unitName(track.name, 'seg', i)), 'utf8'));
    if (track.subtitles === 'ttml') return renderVtt(texts.flatMap((t) => ttmlToCues(t)));
    return renderVtt(joinVtt(texts, videoStartSecs));
}
