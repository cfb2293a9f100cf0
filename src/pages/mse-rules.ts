/**
 * The decisions behind capturing sources with no URL (hooks.ts, mse-capture.ts), kept pure so they
 * are tested without a browser: what a page-built manifest is, which network responses can be
 * fetched again in place of an append, when a MediaSource capture is complete, and its time bound.
 */
import type { ByteRange } from '../model.js';

/** A playlist or MPD by its text. Pure. */
export function manifestTextFormat(text: string): 'hls' | 'dash' | undefined {
    const t = text.replace(/^\uFEFF/, '').trimStart();
    if (t.startsWith('#EXTM3U')) return 'hls';
    if (/<MPD[\s>]/.test(t.slice(0, 4096))) return 'dash';
    return undefined;
}

const DATA_MANIFEST = /^data:(application\/(vnd\.apple\.mpegurl|x-mpegurl|dash\+xml)|audio\/(x-)?mpegurl)[;,]/i;

export const isDataManifestUrl = (url: string): boolean => DATA_MANIFEST.test(url);

/** The text of a `data:` URL (base64 or percent-encoded), or undefined when it is none. Pure. */
export function decodeDataUrl(url: string): string | undefined {
    const m = /^data:([^,]*),(.*)$/is.exec(url);
    if (!m) return undefined;
    const meta = m[1] ?? '';
    const body = m[2] ?? '';
    try {
        if (/;base64$/i.test(meta)) return Buffer.from(decodeURIComponent(body), 'base64').toString('utf8');
        return decodeURIComponent(body);
    } catch {
        return undefined;
    }
}

/**
 * Whether an append is an init section: MP4 with a `moov` and no media (`moof`/`mdat`), or the
 * start of a WebM stream (EBML header). Everything else is media. Pure.
 */
export function isInitAppend(boxes: readonly string[], headHex: string): boolean {
    if (headHex.toLowerCase().startsWith('1a45dfa3')) return true;
    return boxes.includes('moov') && !boxes.some((b) => b === 'moof' || b === 'mdat');
}

export interface ResponseFacts {
    method: string;
    resourceType: string;
    status: number;
    contentType: string;
    /** Content-Length (or the body's length), when known. */
    bytes?: number;
    requestHeaders: Record<string, string>;
}

/** Bodies larger than this are not hashed: a MediaSource player fetches segments, not whole movies. */
export const MAX_HASHED_BODY = 64 * 1024 * 1024;

/** Text-like responses are never segments. */
const TEXT_TYPES =
    /^(text\/|application\/(json|xml|javascript|x-javascript|ld\+json|vnd\.apple\.mpegurl|x-mpegurl|dash\+xml))/i;

/**
 * Whether a response the page received could stand for an append: fetched by script with a plain
 * GET (a POST's body, or headers a script set such as `Authorization` or `X-…`, would not travel
 * with our own fetch), complete, binary and not huge. Pure.
 */
export function reusableResponse(f: ResponseFacts): boolean {
    if (f.method !== 'GET' || !['xhr', 'fetch'].includes(f.resourceType)) return false;
    if (f.status !== 200 && f.status !== 206) return false;
    if (TEXT_TYPES.test(f.contentType)) return false;
    if (f.bytes !== undefined && (f.bytes <= 0 || f.bytes > MAX_HASHED_BODY)) return false;
    return !Object.keys(f.requestHeaders).some((h) => /^(authorization|x-.*)$/i.test(h));
}

/**
 * The byte range a 206 response holds, for fetching the same bytes again; undefined for a whole
 * resource (a 200, or a 206 that covers all of it). Pure.
 */
export function responseRange(
    status: number,
    contentRange: string | undefined,
    bodyLength: number,
): ByteRange | undefined {
    if (status !== 206) return undefined;
    const m = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(contentRange ?? '');
    if (!m) return undefined;
    const offset = Number(m[1]);
    const length = Number(m[2]) - offset + 1;
    if (length !== bodyLength) return undefined;
    if (offset === 0 && m[3] !== '*' && Number(m[3]) === length) return undefined;
    return { offset, length };
}

export type TimeRanges = [number, number][];

/** The union of time ranges, sorted and merged (ranges closer than `gap` join). Pure. */
export function unionRanges(a: TimeRanges, b: TimeRanges, gap = 0.05): TimeRanges {
    const all = [...a, ...b]
        .filter(([s, e]) => Number.isFinite(s) && Number.isFinite(e) && e > s)
        .sort((x, y) => x[0] - y[0]);
    const out: TimeRanges = [];
    for (const [s, e] of all) {
        const last = out[out.length - 1];
        if (last && s <= last[1] + gap) last[1] = Math.max(last[1], e);
        else out.push([s, e]);
    }
    return out;
}

/** Whether `ranges` cover [0, duration] but for `tolerance` seconds at either end. Pure. */
export function coversDuration(ranges: TimeRanges, duration: number, tolerance = 0.1): boolean {
    if (!(duration > 0) || !Number.isFinite(duration)) return false;
    return ranges.some(([s, e]) => s <= tolerance && e >= duration - tolerance);
}

/** How far from 0 the ranges reach without a gap (what of the video was seen). Pure. */
export function coveredFromStart(ranges: TimeRanges, tolerance = 0.1): number {
    const first = ranges.find(([s]) => s <= tolerance);
    return first ? first[1] : 0;
}

/**
 * Where to move a stuck playhead: when it sits in a gap before a later buffered range (a player
 * that appended past a hole), the start of that range. Pure.
 */
export function nudgeTarget(currentTime: number, buffered: TimeRanges): number | undefined {
    if (buffered.some(([s, e]) => currentTime >= s && currentTime < e - 0.05)) return undefined;
    const next = buffered.find(([s]) => s > currentTime);
    return next ? next[0] + 0.01 : undefined;
}

/** Longest the page stage plays a MediaSource video for (a 1 h video at duration / 8). */
export const MSE_MAX_EXTRA_SECS = 450;

/** When a MediaSource capture must be over: `pageWaitSecs` + the video's duration / 8 after the page started. Pure. */
export function mseDeadline(startMs: number, pageWaitSecs: number, durationSecs: number | undefined): number {
    const extra = durationSecs && Number.isFinite(durationSecs) && durationSecs > 0 ? durationSecs / 8 : 0;
    return startMs + (pageWaitSecs + Math.min(extra, MSE_MAX_EXTRA_SECS)) * 1000;
}

export interface MseFacts {
    durationSecs?: number;
    /** `endOfStream()` was called without an error. */
    ended: boolean;
    /** Every time range the element (or all SourceBuffers) ever held. */
    seen: TimeRanges;
    /** Appends the page made, and those whose hash and length reached Node. */
    appendCalls: number;
    appendsKnown: number;
    /** Appends with neither a matching response nor bytes from the page. */
    unaccounted: number;
}

const secs = (n: number): string => `${n.toFixed(1)} s`;

/**
 * Whether a capture is complete: the duration is known, the stream was ended or its whole length
 * was buffered at some point, and every appended byte can be had again. Else why not. Pure.
 */
export function mseVerdict(f: MseFacts): { complete: boolean; reason?: string } {
    const d = f.durationSecs;
    if (!(d !== undefined && Number.isFinite(d) && d > 0)) {
        return { complete: false, reason: 'the page never said how long its MediaSource video is' };
    }
    if (!f.ended && !coversDuration(f.seen, d)) {
        return {
            complete: false,
            reason: `the page's MediaSource got ${secs(coveredFromStart(f.seen))} of ${secs(d)} and no end of stream`,
        };
    }
    if (f.appendsKnown < f.appendCalls) {
        const missing = f.appendCalls - f.appendsKnown;
        return { complete: false, reason: `${missing} of ${f.appendCalls} appends were not seen whole` };
    }
    if (f.unaccounted > 0) {
        return { complete: false, reason: `${f.unaccounted} of ${f.appendCalls} appended segments could not be kept` };
    }
    return { complete: true };
}
