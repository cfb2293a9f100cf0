/**
 * Sources with no URL, the Node side: installs hook-script.ts in every frame of a page before it
 * loads and keeps what it reports: manifests the page built (`blob:` / `data:` URLs and their
 * text), and what a MediaSource player appended, per SourceBuffer, by length and SHA-256.
 *
 * So that appends can be fetched again instead of copied out of the page, the bodies of binary
 * responses the page fetched by script are hashed here too (node:crypto), once a SourceBuffer exists
 * and only while no manifest or file was found (then nothing would use them).
 */
import { createHash } from 'node:crypto';
import type { BrowserContext, Frame, Page, Request as PwRequest, Response as PwResponse } from 'playwright';
import type { ByteRange, Headers, VideoCandidate } from '../model.js';
import { HOOK_BINDING, HOOK_SCRIPT } from './hook-script.js';
import {
    decodeDataUrl,
    isDataManifestUrl,
    isInitAppend,
    manifestTextFormat,
    MAX_HASHED_BODY,
    responseRange,
    reusableResponse,
} from './mse-rules.js';

export interface PageManifest {
    /** The `blob:` or `data:` URL the player was given. */
    url: string;
    format: 'hls' | 'dash';
    text: string;
    /** The page (frame) URL: relative references resolve against it. */
    baseUrl: string;
}

export interface AppendRecord {
    index: number;
    bytes: number;
    sha256: string;
    init: boolean;
    /** The bytes wait in the page until Node takes them (no response matched when they came). */
    kept: boolean;
    /** Neither matched nor kept (the page's memory bound): the capture cannot be complete. */
    lost: boolean;
}

export interface BufferRecord {
    id: string;
    /** Id of the MediaSource it belongs to. */
    ms: string;
    mimeType: string;
    /** The frame whose page holds the bytes. */
    frame: Frame;
    /** By append index; a hole is an append whose hash has not arrived. */
    appends: AppendRecord[];
}

/** Where an append's bytes can be fetched again. */
export interface ReusableBody {
    url: string;
    range?: ByteRange;
}

/** Appended bytes the pages of one tab may hold for us at most; beyond, appends are lost. */
export const MAX_KEPT_BYTES = 1024 * 1024 * 1024;
/** How long an append's answer waits for response bodies still being hashed. */
const HASH_WAIT_MS = 2000;
/** Responses remembered before the page showed a SourceBuffer (the init section comes first). */
const EARLY_RESPONSES = 256;
const MAX_MANIFEST_CHARS = 32 * 1024 * 1024;

export interface HooksOptions {
    /** Whether a MediaSource capture may still be needed (no manifest or file found so far). */
    mayNeedMse?: () => boolean;
}

type HookMessage =
    | { t: 'manifest'; url: string; text: string; baseUrl: string }
    | { t: 'data'; url: string; baseUrl: string }
    | { t: 'buffer'; id: string; ms: string; mime: string }
    | { t: 'append'; id: string; index: number; bytes: number; sha: string; boxes: string[]; head: string }
    | { t: 'eos'; ms: string; error: string }
    | { t: 'track'; src: string; lang: string; label: string };

const bodyKey = (bytes: number, sha256: string): string => `${bytes}:${sha256}`;
const isHttp = (url: string): boolean => /^https?:/i.test(url);

export class PageHooks {
    readonly startedAt = Date.now();
    readonly manifests = new Map<string, PageManifest>();
    /** In the order the page created them. */
    readonly buffers = new Map<string, BufferRecord>();
    /** MediaSources whose `endOfStream()` was called without an error. */
    readonly ended = new Set<string>();
    /**
     * Subtitle `<track>`s added to the page's videos, by URL (absolute, http(s)), in the order they came:
     * also those a player took out of the page before it was scanned.
     */
    readonly subtitleTracks = new Map<string, { src: string; lang: string; label: string }>();
    firstAppendAt = 0;
    lastAppendAt = 0;
    private keptBytes = 0;
    private readonly bodies = new Map<string, ReusableBody>();
    private readonly hashing = new Set<Promise<void>>();
    private early: PwResponse[] = [];
    private hashingOn = false;
    private readonly inflight = new Set<PwRequest>();

    constructor(private readonly options: HooksOptions = {}) {}

    /** Script requests (xhr, fetch) still running: a player waiting on one has not given up. */
    get inflightRequests(): number {
        return this.inflight.size;
    }

    get mayNeedMse(): boolean {
        return this.manifests.size === 0 && (this.options.mayNeedMse?.() ?? true);
    }

    /** Something to hand on: a page-built manifest, or a MediaSource that has been fed for a moment. */
    ready(now = Date.now()): boolean {
        return this.manifests.size > 0 || (this.firstAppendAt > 0 && now - this.firstAppendAt > 500);
    }

    /** The page-built manifests as candidates, in the order they were seen. */
    manifestCandidates(headers: Headers): VideoCandidate[] {
        return [...this.manifests.values()].map((m) => ({
            url: m.url,
            headers,
            source: 'page' as const,
            format: m.format,
            inline: { text: m.text, baseUrl: m.baseUrl },
        }));
    }

    /** A manifest the page built; the first text per URL wins. Refuses what is no manifest. */
    addManifest(url: string, text: string, baseUrl: string): void {
        if (this.manifests.has(url) || !/^(blob|data):/i.test(url) || text.length > MAX_MANIFEST_CHARS) return;
        const format = manifestTextFormat(text);
        if (!format || !isHttp(baseUrl)) return;
        this.manifests.set(url, { url, format, text, baseUrl });
    }

    addDataUrl(url: string, baseUrl: string): void {
        if (!isDataManifestUrl(url) || this.manifests.has(url)) return;
        const text = decodeDataUrl(url);
        if (text !== undefined) this.addManifest(url, text, baseUrl);
    }

    /** The binding's handler: what the page script reports. Answers `append` with whether to keep the bytes. */
    async onMessage(frame: Frame, raw: unknown): Promise<boolean | undefined> {
        const msg = raw as HookMessage;
        switch (msg?.t) {
            case 'manifest':
                this.addManifest(String(msg.url), String(msg.text), String(msg.baseUrl));
                return undefined;
            case 'data':
                this.addDataUrl(String(msg.url), String(msg.baseUrl));
                return undefined;
            case 'buffer': {
                const buf = this.bufferOf(String(msg.id), frame);
                buf.ms = String(msg.ms);
                buf.mimeType = String(msg.mime);
                if (this.mayNeedMse) this.startHashing();
                return undefined;
            }
            case 'append':
                return this.onAppend(frame, msg);
            case 'eos':
                if (!msg.error) this.ended.add(String(msg.ms));
                return undefined;
            case 'track': {
                const src = String(msg.src);
                if (isHttp(src) && !this.subtitleTracks.has(src) && this.subtitleTracks.size < 100) {
                    this.subtitleTracks.set(src, { src, lang: String(msg.lang ?? ''), label: String(msg.label ?? '') });
                }
                return undefined;
            }
            default:
                return undefined;
        }
    }

    private bufferOf(id: string, frame: Frame): BufferRecord {
        let buf = this.buffers.get(id);
        if (!buf) {
            buf = { id, ms: '', mimeType: '', frame, appends: [] };
            this.buffers.set(id, buf);
        }
        return buf;
    }

    private async onAppend(frame: Frame, msg: Extract<HookMessage, { t: 'append' }>): Promise<boolean> {
        const index = Number(msg.index);
        const bytes = Number(msg.bytes);
        const sha256 = String(msg.sha).toLowerCase();
        const valid = Number.isInteger(index) && index >= 0 && Number.isFinite(bytes) && /^[0-9a-f]{64}$/.test(sha256);
        if (!valid) return false;
        const rec: AppendRecord = {
            index,
            bytes,
            sha256,
            init: isInitAppend(Array.isArray(msg.boxes) ? msg.boxes.map(String) : [], String(msg.head ?? '')),
            kept: false,
            lost: false,
        };
        this.bufferOf(String(msg.id), frame).appends[index] = rec;
        const now = Date.now();
        this.firstAppendAt ||= now;
        this.lastAppendAt = now;
        if (!this.mayNeedMse) return false;
        this.startHashing();
        // The response with the same bytes is usually still being hashed: the page just read its body.
        await this.settleHashing(HASH_WAIT_MS);
        if (this.match(rec)) return false;
        if (this.keptBytes + bytes > MAX_KEPT_BYTES) {
            rec.lost = true;
            return false;
        }
        rec.kept = true;
        this.keptBytes += bytes;
        return true;
    }

    /** The response an append's bytes were, if one matched. */
    match(rec: { bytes: number; sha256: string }): ReusableBody | undefined {
        return this.bodies.get(bodyKey(rec.bytes, rec.sha256));
    }

    /** Resolves once response bodies being hashed are done, or after `maxMs`. */
    async settleHashing(maxMs: number): Promise<void> {
        if (!this.hashing.size) return;
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, maxMs)));
        await Promise.race([Promise.allSettled([...this.hashing]), timeout]);
        clearTimeout(timer);
    }

    attach(page: Page): void {
        page.on('request', (request) => {
            if (['xhr', 'fetch'].includes(request.resourceType())) this.inflight.add(request);
            const url = request.url();
            if (url.startsWith('data:') && isDataManifestUrl(url)) {
                let base = page.url();
                try {
                    base = request.frame().url();
                } catch {
                    // A service worker's request has no frame: the page's URL stands in.
                }
                this.addDataUrl(url, base);
            }
        });
        page.on('requestfinished', (request) => this.inflight.delete(request));
        page.on('requestfailed', (request) => this.inflight.delete(request));
        page.on('response', (response) => {
            const request = response.request();
            if (!['xhr', 'fetch'].includes(request.resourceType()) || request.method() !== 'GET') return;
            if (!isHttp(response.url())) return;
            if (this.hashingOn) this.hash(response);
            else {
                this.early.push(response);
                if (this.early.length > EARLY_RESPONSES) this.early.shift();
            }
        });
    }

    private startHashing(): void {
        if (this.hashingOn) return;
        this.hashingOn = true;
        for (const response of this.early) this.hash(response);
        this.early = [];
    }

    private hash(response: PwResponse): void {
        const job = this.hashBody(response)
            .catch(() => undefined)
            .finally(() => this.hashing.delete(job));
        this.hashing.add(job);
    }

    private async hashBody(response: PwResponse): Promise<void> {
        if (!this.mayNeedMse) return;
        const request = response.request();
        const [headers, requestHeaders] = await Promise.all([response.allHeaders(), request.allHeaders()]);
        const length = Number(headers['content-length']);
        const reusable = reusableResponse({
            method: request.method(),
            resourceType: request.resourceType(),
            status: response.status(),
            contentType: headers['content-type'] ?? '',
            bytes: Number.isFinite(length) && !headers['content-encoding'] ? length : undefined,
            requestHeaders,
        });
        if (!reusable) return;
        const body = await response.body();
        if (body.length === 0 || body.length > MAX_HASHED_BODY) return;
        // A body cut short is not what the server serves: never fetch it again in place of an append.
        if (Number.isFinite(length) && !headers['content-encoding'] && body.length !== length) return;
        const key = bodyKey(body.length, createHash('sha256').update(body).digest('hex'));
        if (this.bodies.has(key)) return;
        const range = responseRange(response.status(), headers['content-range'], body.length);
        this.bodies.set(key, { url: response.url(), range });
    }
}

/** The hooks of each page, for the context-wide binding to hand messages to. */
const hooksByPage = new WeakMap<Page, PageHooks>();
const preparedContexts = new WeakSet<BrowserContext>();

/**
 * The binding and the script on a whole browser context, before it has pages. Playwright sets up
 * its binding machinery in a context the first time any binding is exposed, and a page created
 * meanwhile misses it ("Cannot read properties of undefined (reading 'addBinding')" in that page,
 * whose binding then never exists): with several pages opening at once, a per-page binding lost
 * every message of the second page. Call it from the browser pool's post-launch hook.
 */
export async function prepareContext(context: BrowserContext): Promise<void> {
    if (preparedContexts.has(context)) return;
    preparedContexts.add(context);
    await context.exposeBinding(HOOK_BINDING, (source: { page: Page; frame: Frame }, msg: unknown) =>
        hooksByPage.get(source.page)?.onMessage(source.frame, msg),
    );
    await context.addInitScript(HOOK_SCRIPT);
}

/**
 * Hooks a page before it navigates. In a prepared context (`prepareContext`) the page only
 * registers; else the binding (first, so the script finds it) and the script go on the page itself.
 */
export async function installHooks(page: Page, options: HooksOptions = {}): Promise<PageHooks> {
    const hooks = new PageHooks(options);
    hooksByPage.set(page, hooks);
    if (!preparedContexts.has(page.context())) {
        await page.exposeBinding(HOOK_BINDING, (source: { frame: Frame }, msg: unknown) =>
            hooks.onMessage(source.frame, msg),
        );
        await page.addInitScript(HOOK_SCRIPT);
    }
    hooks.attach(page);
    return hooks;
}
