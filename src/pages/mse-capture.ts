/**
 * The last resort for a page whose player feeds a MediaSource from sources we cannot see (its own
 * JSON list, POSTed parts, generated buffers): play the video to its end as fast as the player
 * allows while hook-script.ts records every append, then turn each append into a unit — the
 * network response with the same bytes where there is one (fetched again by the download stage),
 * else the bytes themselves, taken out of the page into the run's work folder.
 *
 * Bound: all of it is over `pageWaitSecs` + the video's duration / 8 after the page started. What
 * is not complete by then is handed on incomplete, with the reason (the source stage fails it).
 */
import { createHash } from 'node:crypto';
import { mkdir, open, rm } from 'node:fs/promises';
import path from 'node:path';
import { log } from '@crawlee/core';
import type { Frame } from 'playwright';
import type { MseBuffer, MseCapture } from '../model.js';
import { delay } from '../time/delay.js';
import type { CapturedAppend } from '../sources/mse/plan.js';
import { workRoot } from '../run/storage.js';
import { HOOK_FNS } from './hook-script.js';
import type { BufferRecord, PageHooks } from './hooks.js';
import { mseDeadline, mseVerdict, nudgeTarget, unionRanges, type TimeRanges } from './mse-rules.js';

const POLL_MS = 200;
/** A player that appended nothing, fetched nothing and did not move for this long has stopped. */
const STALL_MS = 3000;
/** A stuck playhead is moved past a gap after this long. */
const NUDGE_MS = 1000;
/** Raw bytes per piece taken out of the page: 1 MiB once in base64. */
const TAKE_BYTES = 768 * 1024;
/** Kept bytes come out of the page at about this rate: time reserved before the bound for them. */
const TAKE_BYTES_PER_SEC = 20 * 1024 * 1024;

interface ElementState {
    buffered: TimeRanges;
    currentTime: number;
    paused: boolean;
    ended: boolean;
}

interface SourceState {
    id: string;
    duration: number;
    ended: boolean;
    sourceBuffers: TimeRanges[];
    element: ElementState | null;
}

interface FrameState {
    pending: number;
    counts: Record<string, number>;
    keptBytes: number;
    sources: SourceState[];
}

export interface MseCaptureOptions {
    pageUrl: string;
    pageWaitSecs: number;
    /** When the page started loading: the bound counts from here. */
    startedAt: number;
    /** Never past this (the page handler's own timeout). */
    hardDeadline?: number;
    /** Folder for appends taken out of the page (default: `<work root>/mse/<id>`). */
    workDir?: string;
}

/** The URL an MSE video goes by: the page's, marked (no media URL exists; stable across runs). */
export function mseUrl(pageUrl: string): string {
    const u = new URL(pageUrl);
    u.hash = 'mse';
    return u.href;
}

/** The times all of a source's SourceBuffers hold (an element's `buffered` is that too). Pure. */
export function intersectRanges(lists: TimeRanges[]): TimeRanges {
    if (!lists.length) return [];
    let acc = lists[0]!;
    for (const list of lists.slice(1)) {
        const out: TimeRanges = [];
        for (const [s1, e1] of acc) {
            for (const [s2, e2] of list) {
                const s = Math.max(s1, s2);
                const e = Math.min(e1, e2);
                if (e > s) out.push([s, e]);
            }
        }
        acc = out;
    }
    return acc;
}

const evaluate = <T>(frame: Frame, expression: string): Promise<T | undefined> =>
    frame.evaluate(expression).then(
        (v) => v as T,
        () => undefined,
    );

/** The MediaSource that got the most bytes: the video (others are ads, previews, a discarded first try). */
function mainSource(buffers: BufferRecord[]): string | undefined {
    const bytes = new Map<string, number>();
    for (const b of buffers) {
        bytes.set(b.ms, (bytes.get(b.ms) ?? 0) + b.appends.reduce((n, a) => n + (a?.bytes ?? 0), 0));
    }
    return [...bytes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}

class Driver {
    seen: TimeRanges = [];
    duration: number | undefined;
    ended = false;
    pending = 0;
    counts: Record<string, number> = {};
    keptBytes = 0;
    private lastTime = -1;
    private lastMoveAt = Date.now();

    constructor(
        private readonly hooks: PageHooks,
        readonly ms: string,
        private readonly frames: Frame[],
    ) {}

    /** Polls every frame holding the MediaSource's buffers and keeps its element playing. */
    async step(): Promise<void> {
        const poll = `window.${HOOK_FNS.state}?.()`;
        const states = await Promise.all(this.frames.map((f) => evaluate<FrameState>(f, poll)));
        this.pending = 0;
        this.keptBytes = 0;
        for (const [i, state] of states.entries()) {
            if (!state) continue;
            this.pending += state.pending;
            this.keptBytes += state.keptBytes;
            Object.assign(this.counts, state.counts);
            const source = state.sources.find((s) => s.id === this.ms);
            if (source) await this.follow(this.frames[i]!, source);
        }
        this.ended ||= this.hooks.ended.has(this.ms);
    }

    private async follow(frame: Frame, source: SourceState): Promise<void> {
        if (Number.isFinite(source.duration) && source.duration > 0) this.duration = source.duration;
        this.ended ||= source.ended;
        const el = source.element;
        const buffered = el?.buffered.length ? el.buffered : intersectRanges(source.sourceBuffers);
        this.seen = unionRanges(this.seen, buffered);
        if (!el) return;
        if (el.currentTime !== this.lastTime) {
            this.lastTime = el.currentTime;
            this.lastMoveAt = Date.now();
        }
        const stuck = Date.now() - this.lastMoveAt > NUDGE_MS && !el.ended;
        const seekTo = stuck ? nudgeTarget(el.currentTime, buffered) : undefined;
        if (seekTo !== undefined) this.lastMoveAt = Date.now();
        await evaluate(frame, `window.${HOOK_FNS.drive}?.(${JSON.stringify(this.ms)}, ${seekTo ?? 'undefined'})`);
    }

    get done(): boolean {
        const covered = this.duration !== undefined && mseVerdict({ ...this.facts(), unaccounted: 0 }).complete;
        return (this.ended || covered) && this.pending === 0 && this.allKnown();
    }

    /** Nothing appended, fetched or played for a while: the player has given up (or waits for nothing). */
    stalled(now = Date.now()): boolean {
        const last = Math.max(this.hooks.lastAppendAt, this.lastMoveAt);
        return now - last > STALL_MS && this.hooks.inflightRequests === 0 && this.pending === 0;
    }

    buffers(): BufferRecord[] {
        return [...this.hooks.buffers.values()].filter((b) => b.ms === this.ms);
    }

    appendCalls(): number {
        return this.buffers().reduce((n, b) => n + Math.max(this.counts[b.id] ?? 0, b.appends.length), 0);
    }

    private allKnown(): boolean {
        return this.buffers().every((b) => {
            const calls = Math.max(this.counts[b.id] ?? 0, b.appends.length);
            for (let i = 0; i < calls; i++) if (!b.appends[i]) return false;
            return true;
        });
    }

    facts(): { durationSecs?: number; ended: boolean; seen: TimeRanges; appendCalls: number; appendsKnown: number } {
        const known = this.buffers().reduce((n, b) => n + b.appends.filter(Boolean).length, 0);
        const { duration: durationSecs, ended, seen } = this;
        return { durationSecs, ended, seen, appendCalls: this.appendCalls(), appendsKnown: known };
    }
}

/** Takes a kept append out of the page into `file`; true when its bytes hash as recorded. */
async function takeAppend(frame: Frame, key: string, bytes: number, sha256: string, file: string): Promise<boolean> {
    const fh = await open(file, 'w');
    const hash = createHash('sha256');
    try {
        for (let offset = 0; offset < bytes; offset += TAKE_BYTES) {
            const take = `window.${HOOK_FNS.take}?.(${JSON.stringify(key)}, ${offset}, ${TAKE_BYTES})`;
            const b64 = await evaluate<string | null>(frame, take);
            if (!b64) return false;
            const piece = Buffer.from(b64, 'base64');
            hash.update(piece);
            await fh.write(piece);
        }
    } finally {
        await fh.close();
    }
    return hash.digest('hex') === sha256;
}

/**
 * Plays the page's MediaSource video to its end and accounts for every append. Undefined when the
 * page never fed a MediaSource.
 */
export async function captureMse(hooks: PageHooks, options: MseCaptureOptions): Promise<MseCapture | undefined> {
    const ms = mainSource([...hooks.buffers.values()]);
    if (!ms) return undefined;
    const frames = [...new Set([...hooks.buffers.values()].filter((b) => b.ms === ms).map((b) => b.frame))];
    const driver = new Driver(hooks, ms, frames);
    const deadline = (): number => {
        const bound = mseDeadline(options.startedAt, options.pageWaitSecs, driver.duration);
        return Math.min(bound, options.hardDeadline ?? Infinity);
    };
    let stopped: string | undefined;
    for (;;) {
        await driver.step();
        if (driver.done) break;
        // Time is kept for taking the bytes no response matched out of the page.
        const reserve = 300 + (driver.keptBytes / TAKE_BYTES_PER_SEC) * 1000;
        if (Date.now() + reserve >= deadline()) {
            stopped = 'out of time';
            break;
        }
        if (driver.stalled()) {
            stopped = 'the player stopped';
            break;
        }
        // A page-local poll: short, within the page's deadline, ended with the page (its next look throws).
        await delay(POLL_MS);
    }
    await hooks.settleHashing(1000);
    // The player may go on appending while the bytes are taken out below: what is captured is what the
    // facts count, taken in the same turn (an append that came later was counted in CI, 27 against 26).
    const buffers = driver.buffers().map((b) => ({ ...b, appends: b.appends.slice() }));
    const facts = driver.facts();
    const verdict = mseVerdict({ ...facts, unaccounted: 0 });
    const captureId = createHash('sha256').update(`${options.pageUrl}|${options.startedAt}`).digest('hex').slice(0, 16);
    const workDir = options.workDir ?? path.join(workRoot(), 'mse', captureId);
    const out: MseBuffer[] = [];
    let unaccounted = 0;
    let fromNetwork = 0;
    let fromPage = 0;
    const release: Map<Frame, string[]> = new Map();
    if (verdict.complete) await mkdir(workDir, { recursive: true });
    for (const [b, buf] of buffers.entries()) {
        const appends: CapturedAppend[] = [];
        for (const rec of buf.appends) {
            if (!rec) continue;
            const key = `${buf.id}/${rec.index}`;
            if (rec.kept) release.set(buf.frame, [...(release.get(buf.frame) ?? []), key]);
            const body = hooks.match(rec);
            const base = { bytes: rec.bytes, init: rec.init, sha256: rec.sha256 };
            if (body) {
                appends.push({ ...base, url: body.url, ...(body.range ? { range: body.range } : {}) });
                fromNetwork++;
                continue;
            }
            // Not worth taking bytes out of the page for a capture that fails anyway.
            if (!verdict.complete || !rec.kept) {
                unaccounted++;
                appends.push(base);
                continue;
            }
            const file = path.join(workDir, `${b}-${String(rec.index).padStart(6, '0')}.bin`);
            const ok = await takeAppend(buf.frame, key, rec.bytes, rec.sha256, file).catch(() => false);
            if (ok) {
                appends.push({ ...base, localFile: file });
                fromPage++;
            } else {
                unaccounted++;
                appends.push(base);
            }
        }
        out.push({ mimeType: buf.mimeType, appends });
    }
    for (const [frame, keys] of release) await evaluate(frame, `window.${HOOK_FNS.release}?.(${JSON.stringify(keys)})`);
    const final = mseVerdict({ ...facts, unaccounted: verdict.complete ? unaccounted : 0 });
    const reason = final.reason && stopped ? `${final.reason} (${stopped})` : final.reason;
    if (!final.complete) await rm(workDir, { recursive: true, force: true });
    const took = (Date.now() - options.startedAt) / 1000;
    const bound = (mseDeadline(options.startedAt, options.pageWaitSecs, driver.duration) - options.startedAt) / 1000;
    log.info(
        `MSE capture of ${options.pageUrl}: ${facts.appendCalls} appends (${fromNetwork} from network responses, ` +
            `${fromPage} from the page) in ${took.toFixed(1)} s (bound ${bound.toFixed(1)} s)` +
            (final.complete ? '' : `, incomplete: ${reason}`),
    );
    return { durationSecs: driver.duration, complete: final.complete, reason, buffers: out };
}
