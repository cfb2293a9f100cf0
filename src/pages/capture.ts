/**
 * What the page loads over the network, in every frame (Playwright page events include cross-origin
 * iframes): HLS playlists by URL or content type, with the headers the browser sent for them.
 */
import type { Request as PwRequest, Response as PwResponse } from 'playwright';
import { forwardableHeaders, type Headers } from '../net/headers.js';

const PLAYLIST_TYPES = /^(application\/(vnd\.apple\.mpegurl|x-mpegurl)|audio\/(x-)?mpegurl)/i;

export function isPlaylistUrl(url: string): boolean {
    try {
        const u = new URL(url);
        return (u.protocol === 'http:' || u.protocol === 'https:') && /\.m3u8?$/i.test(u.pathname);
    } catch {
        return false;
    }
}

export const isPlaylistContentType = (contentType: string | undefined): boolean => PLAYLIST_TYPES.test(contentType ?? '');

export interface CapturedPlaylist {
    url: string;
    headers: Headers;
    at: number;
}

export interface CapturedImage {
    url: string;
    headers: Headers;
}

export class NetworkCapture {
    readonly playlists: CapturedPlaylist[] = [];
    /** Images the page loaded, by URL: lazy loaders and scripts included. */
    readonly images = new Map<string, CapturedImage>();
    private readonly seen = new Set<string>();
    private readonly pending = new Set<Promise<void>>();

    attach(page: { on(event: 'request', cb: (r: PwRequest) => void): unknown; on(event: 'response', cb: (r: PwResponse) => void): unknown }): void {
        page.on('request', (request) => {
            if (isPlaylistUrl(request.url())) this.track(this.record(request));
        });
        page.on('response', (response) => {
            const url = response.url();
            if (this.seen.has(url) || isPlaylistUrl(url) || !/^https?:/i.test(url)) return;
            this.track(
                response.headerValue('content-type').then(async (ct) => {
                    if (isPlaylistContentType(ct ?? undefined)) return this.record(response.request());
                    // Only what the page displays: players fetch segments disguised as images over XHR.
                    if (/^image\//i.test(ct ?? '') && response.request().resourceType() === 'image' && response.ok() && !this.images.has(url)) {
                        this.images.set(url, { url, headers: forwardableHeaders(await response.request().allHeaders()) });
                    }
                }),
            );
        });
    }

    /** Resolves once header look-ups in flight are recorded. */
    async settle(): Promise<void> {
        await Promise.allSettled([...this.pending]);
    }

    private track(p: Promise<void>): void {
        const guarded = p.catch(() => undefined).finally(() => this.pending.delete(guarded));
        this.pending.add(guarded);
    }

    private async record(request: PwRequest): Promise<void> {
        const url = request.url();
        if (this.seen.has(url)) return;
        this.seen.add(url);
        const at = Date.now();
        const headers = forwardableHeaders(await request.allHeaders());
        this.playlists.push({ url, headers, at });
        this.playlists.sort((a, b) => a.at - b.at);
    }
}
