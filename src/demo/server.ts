/**
 * The demo site the tests and the benchmark also use: a real HTTP server on loopback that serves
 * pages, HLS playlists and segments, with optional CDN-like latency and per-connection bandwidth.
 */
import { createReadStream, existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { demoPages } from './pages.js';
import { throttle } from './throttle.js';
import { liveMpd, livePlaylist } from './live.js';
import { bigGalleryPage, feedPage, galleryPage, syntheticBmp } from './gallery.js';
import { PLAYER_PAGES, playerPageHtml, playerPagePath, vendorFile } from './player-pages.js';
import type { PlayerKind, PlayerPageName } from './player-pages.js';
import { HIDDEN_PAGES, hiddenRoute, type HiddenPageName } from './hidden-pages.js';

export interface SegmentStart {
    at: number;
    active: number;
}

export interface DemoServerOptions {
    mediaDir: string;
    /** Gallery images (see gallery.ts); galleries answer 404 without it. */
    imagesDir?: string;
    /** Delay before the first byte of every media response. */
    ttfbMs?: number;
    /** Per-connection bandwidth of media responses. */
    bytesPerSec?: number;
    port?: number;
    /**
     * CDN trouble: which fault the first request of a media file gets, by its path: 503 (Retry-After: 1),
     * or the body stops halfway and the connection drops. The tests choose (test/fixtures/faults.ts).
     */
    faults?: (pathname: string) => 'busy' | 'cut' | undefined;
    /**
     * More routes, tried after the pages and images and before live, token and media paths: each answers
     * and returns true, or returns false (the tests' hostile pages, test/fixtures/hostile.ts).
     */
    routes?: ExtraRoute[];
}

/** A route a caller adds to the site: answers the request and returns true, else returns false. */
export type ExtraRoute = (path: string, origin: string, res: http.ServerResponse) => boolean;

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

const TYPES: Record<string, string> = {
    '.m3u8': 'application/vnd.apple.mpegurl',
    '.ts': 'video/mp2t',
    '.mp4': 'video/mp4',
    '.m4s': 'video/iso.segment',
    '.m4a': 'audio/mp4',
    '.m4v': 'video/x-m4v',
    '.mpd': 'application/dash+xml',
    '.webm': 'video/webm',
    '.flv': 'video/x-flv',
    '.mov': 'video/quicktime',
    '.css': 'text/css',
    '.svg': 'image/svg+xml',
    '.aac': 'audio/aac',
    '.key': 'application/octet-stream',
    '.vtt': 'text/vtt',
    '.jpg': 'image/jpeg',
    '.png': 'image/png',
    '.gif': 'image/gif',
    '.webp': 'image/webp',
    '.js': 'text/javascript',
};

/** Files whose first request may fail (faults): segments, keys, plain videos, images; never playlists or MPDs. */
const MEDIA_FAULTS = /\.(ts|m4s|key|aac|mp4|m4a|m4v|webm|flv|mov|jpe?g|png|gif|webp)$/;

function hlsJsPath(): string | undefined {
    try {
        const require = createRequire(import.meta.url);
        return require.resolve('hls.js/dist/hls.min.js');
    } catch {
        return undefined;
    }
}

export async function startDemoServer(options: DemoServerOptions): Promise<DemoServer> {
    const hits = new Map<string, number>();
    let active = 0;
    const state = { peakConnections: 0 };
    const segmentStarts: SegmentStart[] = [];
    const playlistFetches: number[] = [];
    const segmentSockets = new Set<object>();
    /** Per response: the client has every byte (counted as closed from then on). */
    const transferDone = new WeakMap<http.ServerResponse, () => void>();
    // Signed segment URLs whose token is replaced after three segments have been served.
    const token = { current: 'tokA', served: 0 };
    /** Live sessions: when each was first requested. */
    const liveClocks = new Map<string, number>();
    const hlsJs = hlsJsPath();
    let origin = '';
    let altOrigin = '';

    async function sendFile(
        req: http.IncomingMessage,
        res: http.ServerResponse,
        file: string,
        throttled: boolean,
        typeOverride?: string,
    ): Promise<void> {
        const info = await stat(file).catch(() => undefined);
        if (!info?.isFile()) {
            res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
            return;
        }
        const type = typeOverride ?? TYPES[path.extname(file)] ?? 'application/octet-stream';
        let start = 0;
        let end = info.size - 1;
        let status = 200;
        const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
        if (range) {
            start = range[1] ? Number(range[1]) : info.size - Number(range[2]);
            end = range[1] && range[2] ? Math.min(Number(range[2]), info.size - 1) : info.size - 1;
            status = 206;
        }
        if (throttled && options.ttfbMs) await new Promise((r) => setTimeout(r, options.ttfbMs));
        const pathname = new URL(req.url ?? '/', origin).pathname;
        const faulty = options.faults && hits.get(pathname) === 1 && MEDIA_FAULTS.test(file);
        const fault = faulty ? options.faults!(pathname) : undefined;
        if (fault === 'busy') {
            res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' }).end('busy');
            return;
        }
        const headers: http.OutgoingHttpHeaders = {
            'content-type': type,
            'content-length': end - start + 1,
            'accept-ranges': 'bytes',
            'access-control-allow-origin': '*',
        };
        if (status === 206) headers['content-range'] = `bytes ${start}-${end}/${info.size}`;
        res.writeHead(status, headers);
        if (fault === 'cut') {
            // Half the body, then the connection drops: Content-Length promised more.
            res.flushHeaders();
            const half = createReadStream(file, { start, end: start + Math.floor((end - start) / 2) });
            half.on('data', (chunk) => res.write(chunk));
            half.on('end', () => setTimeout(() => res.destroy(), 20));
            return;
        }
        const body = createReadStream(file, { start, end });
        if (!throttled || !options.bytesPerSec) return pipeline(body, res);
        // Counted as closed once its last part is out, not when the throttle lets the response end a tick later.
        const paced = throttle(options.bytesPerSec, end - start + 1, () => transferDone.get(res)?.());
        await pipeline(body, paced, res);
    }

    const server = http.createServer((req, res) => {
        const url = new URL(req.url ?? '/', origin);
        hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
        active++;
        state.peakConnections = Math.max(state.peakConnections, active);
        if (/\.(ts|m4s)$/.test(url.pathname)) {
            segmentStarts.push({ at: Date.now(), active });
            segmentSockets.add(req.socket);
        }
        if (url.pathname.endsWith('.m3u8')) playlistFetches.push(Date.now());
        let open = true;
        const done = (): void => {
            if (open) active--;
            open = false;
        };
        transferDone.set(res, done);
        res.on('close', done);
        const html = (body: string, status = 200): void => {
            res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(body);
        };
        const p = url.pathname;
        const handle = async (): Promise<void> => {
            // `?delay=ms` on a page: a slow site, so that pages of a split crawl overlap (test/e2e-workers.test.ts).
            const delay = Math.min(10_000, Number(url.searchParams.get('delay')) || 0);
            if (delay > 0 && p.endsWith('.html')) await new Promise((resolve) => setTimeout(resolve, delay));
            if (p === '/' || p === '/index.html') return html(demoPages.index(server_pages()));
            if (p === '/play/api.html') return html(demoPages.api());
            if (p === '/play/iframe.html') return html(demoPages.iframe(altOrigin));
            if (p === '/embed/player.html') return html(demoPages.embed());
            if (p === '/play/seed.html') return html(demoPages.seed(`${origin}/media/seed/index.m3u8`));
            if (p === '/play/novideo.html') return html(demoPages.noVideo());
            if (p === '/play/video.html') return html(demoPages.video());
            if (p === '/play/tracks.html') return html(demoPages.tracks(url.searchParams));
            if (p === '/play/click.html') return html(demoPages.click());
            if (p === '/play/hidden.html') return html(demoPages.hidden());
            if (p === '/broken/key.html') return html('<!doctype html><title>Forbidden</title><p>Session expired</p>');
            if (p === '/broken/index.m3u8')
                return html('<!doctype html><title>Login required</title><p>Please log in</p>');
            if (p === '/gallery/big.html')
                return html(bigGalleryPage(Math.min(5000, Number(url.searchParams.get('n') ?? 300))));
            if (p.startsWith('/bigimg/')) {
                const body = syntheticBmp(Number(p.slice('/bigimg/'.length).replace('.bmp', '')) || 0);
                if (options.ttfbMs) await new Promise((r) => setTimeout(r, options.ttfbMs));
                res.writeHead(200, { 'content-type': 'image/bmp', 'content-length': body.length }).end(body);
                return;
            }
            if (p.startsWith('/gallery/')) {
                const body = galleryPage(p.slice('/gallery/'.length).replace(/\.html$/, ''), origin);
                return body ? html(body) : html('<h1>404</h1>', 404);
            }
            if (p === '/api/feed') {
                res.writeHead(200, { 'content-type': 'application/json' }).end(
                    JSON.stringify(feedPage(Number(url.searchParams.get('page')))),
                );
                return;
            }
            if (
                options.imagesDir &&
                (p.startsWith('/img/') || p === '/mirror/g1-copy.jpg' || p === '/protected/hot.jpg')
            ) {
                // Hotlink protection: the image host answers 403 unless the request comes from our pages.
                if (p.startsWith('/protected/')) {
                    const referer = req.headers.referer ?? '';
                    if (!referer.startsWith(origin) && !referer.startsWith(altOrigin))
                        return void res.writeHead(403, { 'content-type': 'text/plain' }).end('hotlinking forbidden');
                }
                const name =
                    p === '/mirror/g1-copy.jpg'
                        ? 'g1.jpg'
                        : p.startsWith('/protected/')
                          ? 'hot.jpg'
                          : decodeURIComponent(p.slice('/img/'.length));
                const file = path.resolve(options.imagesDir, name);
                if (!file.startsWith(path.resolve(options.imagesDir) + path.sep)) return void res.writeHead(403).end();
                // A server that lies about the type: the bytes are PNG.
                return sendFile(req, res, file, false, name === 'lie.png' ? 'application/octet-stream' : undefined);
            }
            if (options.routes?.some((route) => route(p, origin, res))) return;
            if (p === '/live/event.m3u8' || p === '/live/window.m3u8') {
                // Live from a VOD fixture and a clock that starts at the session's first request.
                const q = url.searchParams;
                const dir = (q.get('dir') ?? 'live').replace(/[^a-z0-9_-]/gi, '');
                const vod = await readFile(path.join(options.mediaDir, dir, 'index.m3u8'), 'utf8');
                const segments = vod.split('\n').filter((l) => l.endsWith('.ts'));
                const segmentSecs = Number(/#EXTINF:([\d.]+)/.exec(vod)?.[1] ?? 2);
                const session = `${p}|${q.get('s') ?? ''}`;
                if (!liveClocks.has(session)) liveClocks.set(session, Date.now());
                const num = (name: string): number | undefined => (q.has(name) ? Number(q.get(name)) : undefined);
                const text = livePlaylist({
                    kind: p === '/live/event.m3u8' ? 'event' : 'window',
                    elapsedSecs: (Date.now() - liveClocks.get(session)!) / 1000,
                    segments,
                    segmentSecs: Math.round(segmentSecs),
                    windowSize: num('window'),
                    jumpAtSecs: num('jumpAt'),
                    jumpBy: num('jumpBy'),
                    base: `/media/${dir}/`,
                });
                res.writeHead(200, {
                    'content-type': 'application/vnd.apple.mpegurl',
                    'cache-control': 'no-cache',
                }).end(text);
                return;
            }
            if (p === '/live/dash.mpd') {
                // A DASH fixture as a live MPD that grows with the session's clock, then turns static.
                const q = url.searchParams;
                const dir = (q.get('dir') ?? 'dash/timeline').replace(/[^a-z0-9_/-]/gi, '').replace(/\.\./g, '');
                const text = await readFile(path.join(options.mediaDir, dir, 'manifest.mpd'), 'utf8');
                const session = `${p}|${q.get('s') ?? ''}`;
                if (!liveClocks.has(session)) liveClocks.set(session, Date.now());
                const started = liveClocks.get(session)!;
                const mpd = liveMpd(
                    text,
                    (Date.now() - started) / 1000,
                    Number(q.get('start') ?? 2),
                    `/media/${dir}/`,
                    new Date(started),
                );
                res.writeHead(200, { 'content-type': 'application/dash+xml', 'cache-control': 'no-cache' }).end(mpd);
                return;
            }
            if (p === '/token/index.m3u8') {
                const text = await readFile(path.join(options.mediaDir, 'api', 'index.m3u8'), 'utf8');
                res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' }).end(
                    text.replace(/^(seg_\d+\.ts)$/gm, `/token/$1?t=${token.current}`),
                );
                return;
            }
            if (p.startsWith('/token/seg_')) {
                if (url.searchParams.get('t') !== token.current)
                    return void res.writeHead(403, { 'content-type': 'text/plain' }).end('token expired');
                if (++token.served === 3) token.current = 'tokB';
                return sendFile(req, res, path.join(options.mediaDir, 'api', p.slice('/token/'.length)), true);
            }
            if (p === '/api/video/1') {
                res.writeHead(200, { 'content-type': 'application/json' }).end(
                    JSON.stringify({ src: '/media/api/index.m3u8' }),
                );
                return;
            }
            if (p === '/vendor/hls.min.js') {
                if (!hlsJs) return void res.writeHead(404).end();
                return sendFile(req, res, hlsJs, false);
            }
            if (p.startsWith('/vendor/')) {
                const file = vendorFile(p.slice('/vendor/'.length));
                if (!file) return void res.writeHead(404).end();
                return sendFile(req, res, file, false);
            }
            if (await hiddenRoute(req, res, url, options.mediaDir)) return;
            const playerHtml = playerPageHtml(p, url.searchParams);
            if (playerHtml) return html(playerHtml);
            if (p.startsWith('/media/')) {
                // Key servers check where the request comes from: one of the site's pages, not a media URL
                // (a downloader sends a direct playlist's own URL as Referer).
                if (p.endsWith('.key')) {
                    const referer = req.headers.referer ?? '';
                    const fromPage = [origin, altOrigin].some(
                        (o) => referer.startsWith(o) && !referer.startsWith(`${o}/media/`),
                    );
                    if (!fromPage)
                        return void res.writeHead(403, { 'content-type': 'text/plain' }).end('no key for you');
                }
                const file = path.resolve(options.mediaDir, `.${decodeURIComponent(p.slice('/media'.length))}`);
                if (!file.startsWith(path.resolve(options.mediaDir) + path.sep)) return void res.writeHead(403).end();
                return sendFile(req, res, file, true);
            }
            html('<!doctype html><title>Not found</title><h1>404</h1>', 404);
        };
        handle().catch(() => res.destroy());
    });
    // Many parallel slow responses are the point of the benchmark.
    server.maxConnections = 10_000;
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    origin = `http://127.0.0.1:${port}`;
    altOrigin = `http://localhost:${port}`;
    const server_pages = (): DemoServer['pages'] => ({
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
    return {
        origin,
        altOrigin,
        pages: server_pages(),
        videoPage: (src) => `${origin}/play/video.html?src=${encodeURIComponent(src)}`,
        playerPage: (kind, src, mp4) => origin + playerPagePath(kind, src, mp4),
        hits,
        segmentStarts,
        playlistFetches,
        get peakConnections() {
            return state.peakConnections;
        },
        get segmentConnections() {
            return segmentSockets.size;
        },
        close: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}

export const demoMediaAvailable = (dir: string): boolean => existsSync(path.join(dir, 'api', 'index.m3u8'));
