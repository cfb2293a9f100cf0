/**
 * What the page loads over the network, in every frame (Playwright page events include cross-origin
 * iframes): manifests (HLS, DASH) by URL or content type, video files a player fetched, and images,
 * with the headers the browser sent for them.
 */
import type { Request as PwRequest, Response as PwResponse } from 'playwright';
import type { FetchedText, SourceFormat } from '../model.js';
import { FILE_TYPES, manifestFormat } from '../formats.js';
import { forwardableHeaders, type Headers } from '../net/headers.js';
import { delay } from '../time/delay.js';

/**
 * A video response fetched by script (not by a `<video>` element) counts as a file only when it is
 * at least this large, or FLV, or a ranged fetch from byte 0: MSE players fetch segments the same
 * way, and a segment is not a video of its own.
 */
const SCRIPT_FILE_MIN_BYTES = 2 * 1024 * 1024;

export { isMpdUrl, isPlaylistContentType, isPlaylistUrl, isVideoFileUrl, manifestFormat } from '../formats.js';

export interface VideoResponseFacts {
    contentType: string;
    resourceType: string;
    status: number;
    /** Total size: Content-Range's total for a 206, else Content-Length. */
    totalBytes?: number;
    /** The request's Range header. */
    range?: string;
}

/** Whether a video response the page received is a video file of its own (not a segment). Pure. */
export function isVideoFileResponse(f: VideoResponseFacts): boolean {
    if (!FILE_TYPES.test(f.contentType) || f.status < 200 || f.status >= 300) return false;
    if (f.resourceType === 'media') return true;
    // Audio fetched by script is, on the pages seen, the separate audio track of a MediaSource
    // player (ranges of one file per track); an audio file of its own plays in an <audio>.
    if (/^audio\//i.test(f.contentType)) return false;
    if (/^video\/x-flv/i.test(f.contentType)) return true;
    if (f.range && /^bytes=0-/.test(f.range) && (f.totalBytes ?? 0) > 0) return (f.totalBytes ?? 0) >= 256 * 1024;
    return (f.totalBytes ?? 0) >= SCRIPT_FILE_MIN_BYTES;
}

export interface CapturedMedia {
    url: string;
    format: SourceFormat;
    headers: Headers;
    at: number;
}

export interface CapturedImage {
    url: string;
    headers: Headers;
}

type PageLike = {
    on(event: 'request', cb: (r: PwRequest) => void): unknown;
    on(event: 'response', cb: (r: PwResponse) => void): unknown;
};

function totalBytes(headers: Record<string, string>): number | undefined {
    const range = /\/(\d+)\s*$/.exec(headers['content-range'] ?? '');
    const n = Number(range ? range[1] : headers['content-length']);
    return Number.isFinite(n) && n > 0 ? n : undefined;
}

export class NetworkCapture {
    /** Manifests and video files, in the order the page requested them. */
    readonly media: CapturedMedia[] = [];
    /** Images the page loaded, by URL: lazy loaders and scripts included. */
    readonly images = new Map<string, CapturedImage>();
    /** When the page last requested something that is media (a manifest, a file, a segment, an image). */
    lastMediaRequestAt = 0;
    private readonly seen = new Set<string>();
    private readonly pending = new Set<Promise<void>>();
    /** The requests of the manifests in `media`, by URL: their answers can be read from the browser. */
    private readonly manifestRequests = new Map<string, PwRequest>();

    get manifests(): CapturedMedia[] {
        return this.media.filter((m) => m.format !== 'file');
    }

    attach(page: PageLike): void {
        page.on('request', (request) => {
            const url = request.url();
            const format = manifestFormat(url);
            if (format) this.track(this.record(request, format));
            if (['media', 'image', 'xhr', 'fetch'].includes(request.resourceType()))
                this.lastMediaRequestAt = Date.now();
        });
        page.on('response', (response) => {
            const url = response.url();
            if (this.seen.has(url) || manifestFormat(url) || !/^https?:/i.test(url)) return;
            this.track(this.inspect(response));
        });
    }

    private async inspect(response: PwResponse): Promise<void> {
        const url = response.url();
        const headers = await response.allHeaders();
        const ct = headers['content-type'] ?? '';
        const request = response.request();
        const format = manifestFormat(url, ct);
        if (format) return this.record(request, format);
        if (FILE_TYPES.test(ct)) {
            const facts: VideoResponseFacts = {
                contentType: ct,
                resourceType: request.resourceType(),
                status: response.status(),
                totalBytes: totalBytes(headers),
                range: (await request.allHeaders()).range,
            };
            if (isVideoFileResponse(facts)) return this.record(request, 'file');
            return;
        }
        // Only what the page displays: players fetch segments disguised as images over XHR.
        if (/^image\//i.test(ct) && request.resourceType() === 'image' && response.ok() && !this.images.has(url)) {
            this.images.set(url, { url, headers: forwardableHeaders(await request.allHeaders()) });
        }
    }

    /**
     * The manifest at `url` as the page received it: requested by the page, answered 2xx (a redirect's
     * answer has no body), at most `maxBytes`, and complete within `waitMs` (a manifest still loading
     * then, such as a live playlist's blocking reload, is left to the caller). Read from the browser,
     * which keeps what a page received while the page is open; undefined when it did not keep it.
     */
    async received(url: string, waitMs: number, maxBytes: number): Promise<FetchedText | undefined> {
        const request = this.manifestRequests.get(url);
        if (!request) return undefined;
        const read = async (): Promise<FetchedText | undefined> => {
            const response = await request.response();
            if (!response || response.status() < 200 || response.status() >= 300) return undefined;
            const headers = await response.allHeaders();
            if (Number(headers['content-length']) > maxBytes) return undefined;
            const body = await response.body();
            if (body.length > maxBytes) return undefined;
            return { url, text: body.toString('utf8'), contentType: headers['content-type'] ?? '' };
        };
        const done = new AbortController();
        const late = delay(waitMs, done.signal).then(() => undefined);
        try {
            return await Promise.race([read().catch(() => undefined), late]);
        } finally {
            done.abort();
        }
    }

    /** Resolves once header look-ups in flight are recorded. */
    async settle(): Promise<void> {
        await Promise.allSettled([...this.pending]);
    }

    private track(p: Promise<void>): void {
        const guarded = p.catch(() => undefined).finally(() => this.pending.delete(guarded));
        this.pending.add(guarded);
    }

    private async record(request: PwRequest, format: SourceFormat): Promise<void> {
        const url = request.url();
        if (this.seen.has(url)) return;
        this.seen.add(url);
        const at = Date.now();
        const headers = forwardableHeaders(await request.allHeaders());
        if (format !== 'file') this.manifestRequests.set(url, request);
        this.media.push({ url, format, headers, at });
        this.media.sort((a, b) => a.at - b.at);
    }
}
