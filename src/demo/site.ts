/**
 * What the demo server answers (server.ts creates the HTTP server around it): its counters, the state
 * of its token and live routes, and one method per family of routes, tried in a fixed order.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { demoPages } from './pages.js';
import { throttle } from './throttle.js';
import { liveMpd, livePlaylist } from './live.js';
import { bigGalleryPage, feedPage, galleryPage, syntheticBmp } from './gallery.js';
import { playerPageHtml, vendorFile } from './player-pages.js';
import { hiddenRoute } from './hidden-pages.js';

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

/** A family of routes answers false when the request is not one of its own, else true or the answer under way. */
type Answer = boolean | Promise<void>;

const html = (res: http.ServerResponse, body: string, status = 200): true => {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(body);
    return true;
};

/** A refusal: the status alone, or with a plain-text reason. */
const refuse = (res: http.ServerResponse, status: number, reason?: string): true => {
    if (reason === undefined) res.writeHead(status).end();
    else res.writeHead(status, { 'content-type': 'text/plain' }).end(reason);
    return true;
};

export class DemoSite {
    /** Requests per path. */
    readonly hits = new Map<string, number>();
    peakConnections = 0;
    readonly segmentStarts: SegmentStart[] = [];
    readonly playlistFetches: number[] = [];
    /** The sockets that carried segment requests. */
    readonly segmentSockets = new Set<object>();
    /** Set once the server listens: http://127.0.0.1:port and http://localhost:port. */
    origin = '';
    altOrigin = '';
    private active = 0;
    /** Per response: the client has every byte (counted as closed from then on). */
    private readonly transferDone = new WeakMap<http.ServerResponse, () => void>();
    // Signed segment URLs whose token is replaced after three segments have been served.
    private readonly token = { current: 'tokA', served: 0 };
    /** Live sessions: when each was first requested. */
    private readonly liveClocks = new Map<string, number>();
    private readonly hlsJs = hlsJsPath();
    private readonly options: DemoServerOptions;
    /** The links of the index page. */
    private readonly links: () => Record<string, string>;

    constructor(options: DemoServerOptions, links: () => Record<string, string>) {
        this.options = options;
        this.links = links;
    }

    /** The HTTP server's request listener. */
    serve(req: http.IncomingMessage, res: http.ServerResponse): void {
        const url = new URL(req.url ?? '/', this.origin);
        this.count(req, res, url.pathname);
        this.handle(req, res, url).catch(() => res.destroy());
    }

    /** Hits, open responses (until the client has every byte) and the segment and playlist figures. */
    private count(req: http.IncomingMessage, res: http.ServerResponse, pathname: string): void {
        this.hits.set(pathname, (this.hits.get(pathname) ?? 0) + 1);
        this.active++;
        this.peakConnections = Math.max(this.peakConnections, this.active);
        if (/\.(ts|m4s)$/.test(pathname)) {
            this.segmentStarts.push({ at: Date.now(), active: this.active });
            this.segmentSockets.add(req.socket);
        }
        if (pathname.endsWith('.m3u8')) this.playlistFetches.push(Date.now());
        let open = true;
        const done = (): void => {
            if (open) this.active--;
            open = false;
        };
        this.transferDone.set(res, done);
        res.on('close', done);
    }

    /** The route families in their order: the first that owns the path answers, else 404. */
    private async handle(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
        const p = url.pathname;
        // `?delay=ms` on a page: a slow site, so that pages of a split crawl overlap (test/e2e-workers.test.ts).
        const delay = Math.min(10_000, Number(url.searchParams.get('delay')) || 0);
        if (delay > 0 && p.endsWith('.html')) await new Promise((resolve) => setTimeout(resolve, delay));
        const answer =
            this.page(res, url) ||
            this.gallery(res, url) ||
            this.image(req, res, p) ||
            this.options.routes?.some((route) => route(p, this.origin, res)) ||
            this.live(res, url) ||
            this.tokenRoute(req, res, url) ||
            this.videoApi(res, p) ||
            this.vendor(req, res, p);
        if (answer) return answer === true ? undefined : answer;
        if (await hiddenRoute(req, res, url, this.options.mediaDir)) return;
        const playerHtml = playerPageHtml(p, url.searchParams);
        if (playerHtml) return void html(res, playerHtml);
        const media = this.media(req, res, p);
        if (media) return media === true ? undefined : media;
        html(res, '<!doctype html><title>Not found</title><h1>404</h1>', 404);
    }

    /** The demo's pages (pages.ts), and the HTML some URLs answer in place of a key or a playlist. */
    private page(res: http.ServerResponse, url: URL): boolean {
        const p = url.pathname;
        if (p === '/' || p === '/index.html') return html(res, demoPages.index(this.links()));
        if (p === '/play/api.html') return html(res, demoPages.api());
        if (p === '/play/iframe.html') return html(res, demoPages.iframe(this.altOrigin));
        if (p === '/embed/player.html') return html(res, demoPages.embed());
        if (p === '/play/seed.html') return html(res, demoPages.seed(`${this.origin}/media/seed/index.m3u8`));
        if (p === '/play/novideo.html') return html(res, demoPages.noVideo());
        if (p === '/play/video.html') return html(res, demoPages.video());
        if (p === '/play/tracks.html') return html(res, demoPages.tracks(url.searchParams));
        if (p === '/play/click.html') return html(res, demoPages.click());
        if (p === '/play/hidden.html') return html(res, demoPages.hidden());
        if (p === '/broken/key.html') return html(res, '<!doctype html><title>Forbidden</title><p>Session expired</p>');
        if (p === '/broken/index.m3u8')
            return html(res, '<!doctype html><title>Login required</title><p>Please log in</p>');
        if (p === '/gallery/big.html')
            return html(res, bigGalleryPage(Math.min(5000, Number(url.searchParams.get('n') ?? 300))));
        return false;
    }

    /** The galleries' other routes (gallery.ts): synthetic big images, gallery pages and the feed API. */
    private gallery(res: http.ServerResponse, url: URL): Answer {
        const p = url.pathname;
        if (p.startsWith('/bigimg/')) return this.bigImage(res, p);
        if (p.startsWith('/gallery/')) {
            const body = galleryPage(p.slice('/gallery/'.length).replace(/\.html$/, ''), this.origin);
            return body ? html(res, body) : html(res, '<h1>404</h1>', 404);
        }
        if (p === '/api/feed') {
            res.writeHead(200, { 'content-type': 'application/json' }).end(
                JSON.stringify(feedPage(Number(url.searchParams.get('page')))),
            );
            return true;
        }
        return false;
    }

    private async bigImage(res: http.ServerResponse, p: string): Promise<void> {
        const body = syntheticBmp(Number(p.slice('/bigimg/'.length).replace('.bmp', '')) || 0);
        if (this.options.ttfbMs) await new Promise((r) => setTimeout(r, this.options.ttfbMs));
        res.writeHead(200, { 'content-type': 'image/bmp', 'content-length': body.length }).end(body);
    }

    /** Gallery images from `imagesDir`: their own paths, a mirror's copy and a hotlink-protected one. */
    private image(req: http.IncomingMessage, res: http.ServerResponse, p: string): Answer {
        const { imagesDir } = this.options;
        if (!(imagesDir && (p.startsWith('/img/') || p === '/mirror/g1-copy.jpg' || p === '/protected/hot.jpg')))
            return false;
        // Hotlink protection: the image host answers 403 unless the request comes from our pages.
        if (p.startsWith('/protected/')) {
            const referer = req.headers.referer ?? '';
            if (!referer.startsWith(this.origin) && !referer.startsWith(this.altOrigin))
                return refuse(res, 403, 'hotlinking forbidden');
        }
        const name =
            p === '/mirror/g1-copy.jpg'
                ? 'g1.jpg'
                : p.startsWith('/protected/')
                  ? 'hot.jpg'
                  : decodeURIComponent(p.slice('/img/'.length));
        const file = path.resolve(imagesDir, name);
        if (!file.startsWith(path.resolve(imagesDir) + path.sep)) return refuse(res, 403);
        // A server that lies about the type: the bytes are PNG.
        return this.sendFile(req, res, file, false, name === 'lie.png' ? 'application/octet-stream' : undefined);
    }

    /** Live HLS and DASH made from VOD fixtures. */
    private live(res: http.ServerResponse, url: URL): Answer {
        const p = url.pathname;
        if (p === '/live/event.m3u8' || p === '/live/window.m3u8') return this.liveHls(res, url);
        if (p === '/live/dash.mpd') return this.liveDash(res, url);
        return false;
    }

    /** When the live session was first requested (now, if this is its first request). */
    private liveClock(session: string): number {
        if (!this.liveClocks.has(session)) this.liveClocks.set(session, Date.now());
        return this.liveClocks.get(session)!;
    }

    private async liveHls(res: http.ServerResponse, url: URL): Promise<void> {
        // Live from a VOD fixture and a clock that starts at the session's first request.
        const p = url.pathname;
        const q = url.searchParams;
        const dir = (q.get('dir') ?? 'live').replace(/[^a-z0-9_-]/gi, '');
        const vod = await readFile(path.join(this.options.mediaDir, dir, 'index.m3u8'), 'utf8');
        const segments = vod.split('\n').filter((l) => l.endsWith('.ts'));
        const segmentSecs = Number(/#EXTINF:([\d.]+)/.exec(vod)?.[1] ?? 2);
        const started = this.liveClock(`${p}|${q.get('s') ?? ''}`);
        const num = (name: string): number | undefined => (q.has(name) ? Number(q.get(name)) : undefined);
        const text = livePlaylist({
            kind: p === '/live/event.m3u8' ? 'event' : 'window',
            elapsedSecs: (Date.now() - started) / 1000,
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
    }

    private async liveDash(res: http.ServerResponse, url: URL): Promise<void> {
        // A DASH fixture as a live MPD that grows with the session's clock, then turns static.
        const q = url.searchParams;
        const dir = (q.get('dir') ?? 'dash/timeline').replace(/[^a-z0-9_/-]/gi, '').replace(/\.\./g, '');
        const text = await readFile(path.join(this.options.mediaDir, dir, 'manifest.mpd'), 'utf8');
        const started = this.liveClock(`${url.pathname}|${q.get('s') ?? ''}`);
        const mpd = liveMpd(
            text,
            (Date.now() - started) / 1000,
            Number(q.get('start') ?? 2),
            `/media/${dir}/`,
            new Date(started),
        );
        res.writeHead(200, { 'content-type': 'application/dash+xml', 'cache-control': 'no-cache' }).end(mpd);
    }

    /** A playlist of signed segment URLs, and its segments (403 once their token is replaced). */
    private tokenRoute(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Answer {
        const p = url.pathname;
        if (p === '/token/index.m3u8') return this.tokenPlaylist(res);
        if (!p.startsWith('/token/seg_')) return false;
        if (url.searchParams.get('t') !== this.token.current) return refuse(res, 403, 'token expired');
        if (++this.token.served === 3) this.token.current = 'tokB';
        return this.sendFile(req, res, path.join(this.options.mediaDir, 'api', p.slice('/token/'.length)), true);
    }

    private async tokenPlaylist(res: http.ServerResponse): Promise<void> {
        const text = await readFile(path.join(this.options.mediaDir, 'api', 'index.m3u8'), 'utf8');
        res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' }).end(
            text.replace(/^(seg_\d+\.ts)$/gm, `/token/$1?t=${this.token.current}`),
        );
    }

    /** The API the api page asks for its playlist. */
    private videoApi(res: http.ServerResponse, p: string): boolean {
        if (p !== '/api/video/1') return false;
        res.writeHead(200, { 'content-type': 'application/json' }).end(
            JSON.stringify({ src: '/media/api/index.m3u8' }),
        );
        return true;
    }

    /** The player libraries' scripts: hls.js, and the others of player-pages.ts. */
    private vendor(req: http.IncomingMessage, res: http.ServerResponse, p: string): Answer {
        if (p === '/vendor/hls.min.js') {
            if (!this.hlsJs) return refuse(res, 404);
            return this.sendFile(req, res, this.hlsJs, false);
        }
        if (p.startsWith('/vendor/')) {
            const file = vendorFile(p.slice('/vendor/'.length));
            if (!file) return refuse(res, 404);
            return this.sendFile(req, res, file, false);
        }
        return false;
    }

    /** Files of `mediaDir` under /media/; keys only for requests from the site's pages. */
    private media(req: http.IncomingMessage, res: http.ServerResponse, p: string): Answer {
        if (!p.startsWith('/media/')) return false;
        // Key servers check where the request comes from: one of the site's pages, not a media URL
        // (a downloader sends a direct playlist's own URL as Referer).
        if (p.endsWith('.key')) {
            const referer = req.headers.referer ?? '';
            const fromPage = [this.origin, this.altOrigin].some(
                (o) => referer.startsWith(o) && !referer.startsWith(`${o}/media/`),
            );
            if (!fromPage) return refuse(res, 403, 'no key for you');
        }
        const file = path.resolve(this.options.mediaDir, `.${decodeURIComponent(p.slice('/media'.length))}`);
        if (!file.startsWith(path.resolve(this.options.mediaDir) + path.sep)) return refuse(res, 403);
        return this.sendFile(req, res, file, true);
    }

    /** A file with byte ranges; media ones (`throttled`) with the options' latency, bandwidth and faults. */
    private async sendFile(
        req: http.IncomingMessage,
        res: http.ServerResponse,
        file: string,
        throttled: boolean,
        typeOverride?: string,
    ): Promise<void> {
        const { options } = this;
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
        const pathname = new URL(req.url ?? '/', this.origin).pathname;
        const faulty = options.faults && this.hits.get(pathname) === 1 && MEDIA_FAULTS.test(file);
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
        const paced = throttle(options.bytesPerSec, end - start + 1, () => this.transferDone.get(res)?.());
        await pipeline(body, paced, res);
    }
}
