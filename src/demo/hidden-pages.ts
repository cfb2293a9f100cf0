/**
 * Play pages whose video has no URL of its own, built the way such sites build them:
 *
 * - `blobPlaylist`: the page POSTs to an API, gets JSON listing segment URLs (of the `api` HLS
 *   video), writes an m3u8 from it, and hands hls.js `URL.createObjectURL(blob)`.
 * - `mseParts`: a custom player: `/api/parts.json` lists fMP4 parts (init + media of a video and an
 *   audio track); it fetches them itself, a few seconds ahead of the playhead, appends them to two
 *   SourceBuffers and ends the stream.
 * - `msePost`: the same, but one part comes from a POST whose JSON body the server requires, so
 *   fetching it again by URL is impossible: its bytes must come out of the page.
 * - `mseHalf`: the same player stops appending halfway (a capture that cannot be completed).
 *
 * Media parts are served under /media/ and fail their first request when the server has faults on.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { encode, h264Aac, runFfmpeg, testSignal } from './file-media.js';

/** The demo pages of this module: key of `DemoServer.pages` → page path. */
export const HIDDEN_PAGES = {
    blobPlaylist: '/play/blob-playlist.html',
    mseParts: '/play/mse-parts.html',
    msePost: '/play/mse-post.html',
    mseHalf: '/play/mse-half.html',
} as const;

export type HiddenPageName = keyof typeof HIDDEN_PAGES;

/** The MediaSource fixture: 12 s, 1 s parts, video and audio apart. */
export const MSE_SPEC = { width: 480, height: 270, secs: 12, toneHz: 587 } as const;
const MSE_DIR = 'mse';
/** Index of the fixture written last: its presence means the parts are complete. */
const INDEX = 'parts-index.json';
/** Which video part the `post=1` page fetches by POST. */
export const POSTED_PART = 3;
const TICKET = 'c0ffee-4-part';

interface TrackIndex {
    kind: 'video' | 'audio';
    mime: string;
    init: string;
    parts: string[];
}

export interface HiddenMedia {
    /** The MediaSource player's source: its frames are what a capture must give back. */
    mseSource: string;
    mseSecs: number;
}

/** Encodes the MSE fixture and cuts it into init + 1 s fMP4 parts per track (ffmpeg's DASH muxer). */
export async function makeHiddenMedia(root: string): Promise<HiddenMedia> {
    const dir = path.join(root, MSE_DIR);
    const source = path.join(dir, 'source.mp4');
    if (!existsSync(path.join(dir, INDEX))) {
        await encode(source, [...testSignal(MSE_SPEC), ...h264Aac()]);
        const mpd = path.join(dir, 'cut.mpd');
        await runFfmpeg([
            '-i',
            source,
            '-map',
            '0:v:0',
            '-map',
            '0:a:0',
            '-c',
            'copy',
            '-f',
            'dash',
            '-seg_duration',
            '1',
            '-use_template',
            '1',
            '-use_timeline',
            '0',
            '-adaptation_sets',
            'id=0,streams=v id=1,streams=a',
            '-init_seg_name',
            'init-$RepresentationID$.m4s',
            '-media_seg_name',
            'part-$RepresentationID$-$Number%05d$.m4s',
            mpd,
        ]);
        // The MPD only tells the codecs: no page names it, so the player's JSON stays the only list.
        const text = await readFile(mpd, 'utf8');
        await rm(mpd);
        const codecs = (id: number): string => {
            const m = new RegExp(`<Representation[^>]*\\bid="${id}"[^>]*>`).exec(text)?.[0] ?? '';
            return /codecs="([^"]+)"/.exec(m)?.[1] ?? (id === 0 ? 'avc1.42c01e' : 'mp4a.40.2');
        };
        const files = (await readdir(dir)).sort();
        const tracks: TrackIndex[] = [0, 1].map((id) => ({
            kind: id === 0 ? 'video' : 'audio',
            mime: `${id === 0 ? 'video' : 'audio'}/mp4; codecs="${codecs(id)}"`,
            init: `init-${id}.m4s`,
            parts: files.filter((f) => f.startsWith(`part-${id}-`)),
        }));
        await writeFile(path.join(dir, INDEX), JSON.stringify(tracks));
    }
    return { mseSource: source, mseSecs: MSE_SPEC.secs };
}

const layout = (title: string, body: string): string => `<!doctype html>
<html><head><meta charset="utf-8"><title>${title}</title>
<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}
video{width:640px;height:360px;background:#000}</style>
</head><body><h1>${title}</h1>${body}</body></html>`;

const VIDEO = '<video controls muted autoplay playsinline></video>';

const blobPlaylistPage = (): string =>
    layout(
        'Blob Playlist Episode',
        `${VIDEO}
<script src="/vendor/hls.min.js"></script>
<script>
(async function () {
  var res = await fetch('/api/playlist', { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ video: 'api' }) });
  var data = await res.json();
  var lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:' + data.targetDuration,
    '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-PLAYLIST-TYPE:VOD'];
  // Absolute URIs: hls.js resolves a blob: playlist's relative ones against the blob: URL.
  data.segments.forEach(function (s) {
    lines.push('#EXTINF:' + s.duration + ',', new URL(s.url, location.href).href);
  });
  lines.push('#EXT-X-ENDLIST');
  var blob = new Blob([lines.join('\\n') + '\\n'], { type: 'application/x-mpegurl' });
  var video = document.querySelector('video');
  var hls = new Hls();
  hls.loadSource(URL.createObjectURL(blob));
  hls.attachMedia(video);
  video.play().catch(function () {});
})().catch(function (e) { console.error('player error', e); });
</script>`,
    );

/** The custom MediaSource player: its own list, its own fetch-and-retry, a few seconds ahead of the playhead. */
const msePartsPage = (query: '' | '?post=1' | '?stop=half'): string =>
    layout(
        'MediaSource Parts Player',
        `${VIDEO}
<script>
(async function () {
  var video = document.querySelector('video');
  var sleep = function (ms) { return new Promise(function (r) { setTimeout(r, ms); }); };
  async function load(part) {
    for (var attempt = 0; ; attempt++) {
      try {
        var res = part.post
          ? await fetch(part.post, { method: 'POST', headers: { 'content-type': 'application/json' },
              body: JSON.stringify(part.body) })
          : await fetch(part.url);
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return await res.arrayBuffer();
      } catch (e) {
        if (attempt >= 8) throw e;
        await sleep(200);
      }
    }
  }
  var list = JSON.parse(new TextDecoder().decode(await load({ url: '/api/parts.json${query}' })));
  var ms = new MediaSource();
  video.src = URL.createObjectURL(ms);
  await new Promise(function (r) { ms.addEventListener('sourceopen', r, { once: true }); });
  ms.duration = list.duration;
  var tracks = list.tracks.map(function (t) { return { t: t, sb: ms.addSourceBuffer(t.mime), next: 0 }; });
  function append(sb, buf) {
    return new Promise(function (resolve, reject) {
      sb.addEventListener('updateend', resolve, { once: true });
      sb.addEventListener('error', reject, { once: true });
      sb.appendBuffer(new Uint8Array(buf));
    });
  }
  for (var tr of tracks) await append(tr.sb, await load(tr.t.init));
  var stopAt = typeof list.stopAt === 'number' ? list.stopAt : Infinity;
  video.play().catch(function () {});
  for (;;) {
    var left = tracks.filter(function (x) { return x.next < x.t.parts.length && x.t.parts[x.next].start < stopAt; });
    if (!left.length) break;
    var appended = false;
    for (var x of left) {
      var part = x.t.parts[x.next];
      if (part.start > video.currentTime + list.aheadSecs) continue;
      await append(x.sb, await load(part));
      x.next++;
      appended = true;
    }
    if (!appended) await sleep(100);
  }
  if (stopAt === Infinity) ms.endOfStream();
})().catch(function (e) { console.error('player error', e); });
</script>`,
    );

async function readBody(req: http.IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
}

const json = (res: http.ServerResponse, body: unknown, status = 200): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

/** `/api/playlist`: the `api` HLS video's segments as JSON (paths and durations). */
async function playlistJson(mediaDir: string): Promise<unknown> {
    const text = await readFile(path.join(mediaDir, 'api', 'index.m3u8'), 'utf8');
    const segments: { url: string; duration: number }[] = [];
    let duration = 0;
    for (const line of text.split('\n').map((l) => l.trim())) {
        const inf = /^#EXTINF:([\d.]+)/.exec(line);
        if (inf) duration = Number(inf[1]);
        else if (line && !line.startsWith('#')) segments.push({ url: `/media/api/${line}`, duration });
    }
    return { targetDuration: Math.ceil(Math.max(...segments.map((s) => s.duration))), segments };
}

/** `/api/parts.json`: the player's list. `post=1` turns one video part into a POST; `stop=half` stops halfway. */
async function partsJson(mediaDir: string, query: URLSearchParams): Promise<unknown> {
    const tracks = JSON.parse(await readFile(path.join(mediaDir, MSE_DIR, INDEX), 'utf8')) as TrackIndex[];
    const media = (name: string): string => `/media/${MSE_DIR}/${name}`;
    return {
        duration: MSE_SPEC.secs,
        aheadSecs: 3,
        ...(query.get('stop') === 'half' ? { stopAt: MSE_SPEC.secs / 2 } : {}),
        tracks: tracks.map((t) => ({
            kind: t.kind,
            mime: t.mime,
            init: { url: media(t.init) },
            parts: t.parts.map((p, i) =>
                query.get('post') === '1' && t.kind === 'video' && i === POSTED_PART
                    ? { post: '/api/part', body: { track: t.kind, n: i, ticket: TICKET }, start: i }
                    : { url: media(p), start: i },
            ),
        })),
    };
}

/** `POST /api/part`: a part for a JSON body with the right ticket; anything else is refused. */
async function postedPart(req: http.IncomingMessage, res: http.ServerResponse, mediaDir: string): Promise<void> {
    const text = (status: number, body: string): void => {
        res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
    };
    if (req.method !== 'POST') return text(405, 'POST only');
    let body: { track?: string; n?: number; ticket?: string } = {};
    try {
        body = JSON.parse(await readBody(req)) as typeof body;
    } catch {
        // answered below
    }
    const tracks = JSON.parse(await readFile(path.join(mediaDir, MSE_DIR, INDEX), 'utf8')) as TrackIndex[];
    const name = tracks.find((t) => t.kind === body.track)?.parts[Number(body.n)];
    if (body.ticket !== TICKET || !name) return text(403, 'bad ticket');
    const bytes = await readFile(path.join(mediaDir, MSE_DIR, name));
    res.writeHead(200, { 'content-type': 'video/iso.segment', 'content-length': bytes.length }).end(bytes);
}

/** The routes of these pages and their APIs; false when `url` is none of them. */
export async function hiddenRoute(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    mediaDir: string,
): Promise<boolean> {
    const html = (body: string): void => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
    };
    switch (url.pathname) {
        case HIDDEN_PAGES.blobPlaylist:
            html(blobPlaylistPage());
            return true;
        // One player; each page passes its variant of the list on to /api/parts.json.
        case HIDDEN_PAGES.mseParts:
            html(msePartsPage(''));
            return true;
        case HIDDEN_PAGES.msePost:
            html(msePartsPage('?post=1'));
            return true;
        case HIDDEN_PAGES.mseHalf:
            html(msePartsPage('?stop=half'));
            return true;
        case '/api/playlist':
            if (req.method !== 'POST') res.writeHead(405, { allow: 'POST' }).end();
            else json(res, await playlistJson(mediaDir));
            return true;
        case '/api/parts.json':
            json(res, await partsJson(mediaDir, url.searchParams));
            return true;
        case '/api/part':
            await postedPart(req, res, mediaDir);
            return true;
        default:
            return false;
    }
}
