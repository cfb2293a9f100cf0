/**
 * The demo site the tests and the benchmark also use: a real HTTP server on loopback that serves
 * pages, HLS playlists and segments, with optional CDN-like latency and per-connection bandwidth.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { PLAYER_PAGES, playerPagePath } from './player-pages.js';
import type { PlayerKind, PlayerPageName } from './player-pages.js';
import { HIDDEN_PAGES, type HiddenPageName } from './hidden-pages.js';
import { DemoSite, type DemoServerOptions, type SegmentStart } from './site.js';

export type { DemoServerOptions, ExtraRoute, SegmentStart } from './site.js';

export interface DemoServer {
    /** http://127.0.0.1:port: pages and most media. */
    origin: string;
    /** http://localhost:port: the "other origin" of iframe players. */
    altOrigin: string;
    pages: Record<
        | 'api'
        | 'iframe'
        | 'seed'
        | 'noVideo'
        | 'missing'
        | 'htmlPlaylist'
        | 'gallerySeed'
        | 'galleryLazy'
        | 'galleryFeed'
        | 'galleryPage1'
        | 'click'
        | 'hidden'
        | 'fmp4'
        // DASH and plain-file pages of the real player libraries (player-pages.ts).
        | PlayerPageName
        // Sources with no URL: a blob: playlist, MediaSource players (hidden-pages.ts).
        | HiddenPageName,
        string
    >;
    /** A play page for any playlist of this server. */
    videoPage(src: string): string;
    /** A page of one of the real player libraries (player-pages.ts) over `src`; `dual` also shows `mp4`. */
    playerPage(kind: PlayerKind, src: string, mp4?: string): string;
    /** Requests per path. */
    hits: Map<string, number>;
    peakConnections: number;
    /** Every segment request: when, and how many responses were open then (benchmark ramp-up figures). */
    segmentStarts: SegmentStart[];
    /** When each playlist was requested. */
    playlistFetches: number[];
    /**
     * TCP connections that carried segment requests. A keep-alive client opens one only when all
     * its open ones are busy, so this is its peak number of segment requests at once.
     */
    segmentConnections: number;
    close(): Promise<void>;
}

/** The named pages of the site at `origin` (also the links of its index page). */
const pageUrls = (origin: string): DemoServer['pages'] => ({
    api: `${origin}/play/api.html`,
    iframe: `${origin}/play/iframe.html`,
    seed: `${origin}/play/seed.html`,
    noVideo: `${origin}/play/novideo.html`,
    missing: `${origin}/play/does-not-exist.html`,
    htmlPlaylist: `${origin}/broken/index.m3u8`,
    gallerySeed: `${origin}/gallery/seed.html`,
    galleryLazy: `${origin}/gallery/lazy.html`,
    galleryFeed: `${origin}/gallery/feed.html`,
    galleryPage1: `${origin}/gallery/page1.html`,
    click: `${origin}/play/click.html?src=${encodeURIComponent('/media/disguised/index.m3u8')}`,
    hidden: `${origin}/play/hidden.html`,
    fmp4: `${origin}/play/video.html?src=/media/fmp4/index.m3u8`,
    ...(Object.fromEntries(Object.entries(PLAYER_PAGES).map(([k, v]) => [k, origin + v])) as Record<
        PlayerPageName,
        string
    >),
    ...(Object.fromEntries(Object.entries(HIDDEN_PAGES).map(([k, v]) => [k, origin + v])) as Record<
        HiddenPageName,
        string
    >),
});

export async function startDemoServer(options: DemoServerOptions): Promise<DemoServer> {
    const site = new DemoSite(options, () => pageUrls(site.origin));
    const server = http.createServer((req, res) => site.serve(req, res));
    // Many parallel slow responses are the point of the benchmark.
    server.maxConnections = 10_000;
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const origin = `http://127.0.0.1:${port}`;
    site.origin = origin;
    site.altOrigin = `http://localhost:${port}`;
    return {
        origin,
        altOrigin: site.altOrigin,
        pages: pageUrls(origin),
        videoPage: (src) => `${origin}/play/video.html?src=${encodeURIComponent(src)}`,
        playerPage: (kind, src, mp4) => origin + playerPagePath(kind, src, mp4),
        hits: site.hits,
        segmentStarts: site.segmentStarts,
        playlistFetches: site.playlistFetches,
        get peakConnections() {
            return site.peakConnections;
        },
        get segmentConnections() {
            return site.segmentSockets.size;
        },
        close: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}

export const demoMediaAvailable = (dir: string): boolean => existsSync(path.join(dir, 'api', 'index.m3u8'));
