/**
 * Play pages built the way real sites build theirs, around the real player libraries (served from
 * node_modules under /vendor/): shaka-player and dash.js for DASH, Plyr and a bare <video> for
 * files, mpegts.js for FLV. The server fills the media URL into the page's own script, as sites
 * do when rendering a page, so only a running page (or its HTML) tells where the video is.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { DASH_PATHS } from './dash-media.js';
import { FILE_PATHS } from './file-media.js';

/** `/vendor/<name>`: [package, path inside it]. dash.js's UMD bundle is outside its exports: read by path. */
const VENDOR: Record<string, [string, string]> = {
    'shaka-player.compiled.js': ['shaka-player', 'dist/shaka-player.compiled.js'],
    'dash.all.min.js': ['dashjs', 'dist/modern/umd/dash.all.min.js'],
    'plyr.min.js': ['plyr', 'dist/plyr.min.js'],
    'plyr.css': ['plyr', 'dist/plyr.css'],
    // Plyr fetches its icon sprite from cdn.plyr.io unless told otherwise: the pages point it here.
    'plyr.svg': ['plyr', 'dist/plyr.svg'],
    'mpegts.js': ['mpegts.js', 'dist/mpegts.js'],
};

const require = createRequire(import.meta.url);

/** A package's folder: up from its resolved entry to the package.json that names it. */
function packageDir(name: string): string | undefined {
    let dir: string;
    try {
        dir = path.dirname(require.resolve(name));
    } catch {
        return undefined;
    }
    for (; dir !== path.dirname(dir); dir = path.dirname(dir)) {
        try {
            if ((JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string }).name === name) {
                return dir;
            }
        } catch {
            // No package.json at this level (dist/ folders): keep going up.
        }
    }
    return undefined;
}

/** The file behind `/vendor/<name>`, if that player library is installed (devDependencies). */
export function vendorFile(name: string): string | undefined {
    const entry = VENDOR[name];
    if (!entry) return undefined;
    const dir = packageDir(entry[0]);
    return dir && path.join(dir, entry[1]);
}

export const PLAYER_KINDS = ['shaka', 'dashjs', 'plyr', 'native', 'mpegts', 'dual', 'preview'] as const;
export type PlayerKind = (typeof PLAYER_KINDS)[number];

const isKind = (kind: string): kind is PlayerKind => (PLAYER_KINDS as readonly string[]).includes(kind);

/** Page path of a player over `src`; `dual` also takes the MP4 of its <source>. */
export function playerPagePath(kind: PlayerKind, src: string, mp4?: string): string {
    const q = new URLSearchParams({ src, ...(mp4 ? { mp4 } : {}) });
    return `/play/${kind}.html?${q}`;
}

const media = (p: string): string => `/media/${p}`;

/** The demo pages of the new formats: key of `DemoServer.pages` → page path. */
export const PLAYER_PAGES = {
    dashShaka: playerPagePath('shaka', media(DASH_PATHS.timeline)),
    dashJs: playerPagePath('dashjs', media(DASH_PATHS.onDemand)),
    plyrMp4: playerPagePath('plyr', media(FILE_PATHS.mp4)),
    webm: playerPagePath('native', media(FILE_PATHS.webm)),
    flv: playerPagePath('mpegts', media(FILE_PATHS.flv)),
    /** The $Number$ DASH and its own source MP4: one video, two ways. */
    dashAndMp4: playerPagePath('dual', media(DASH_PATHS.number), media(DASH_PATHS.numberMp4)),
    /** The WebM beside a 0.5 s hover-preview clip. */
    preview: playerPagePath('preview', media(FILE_PATHS.webm)),
} as const;

export type PlayerPageName = keyof typeof PLAYER_PAGES;

const escapeHtml = (s: string): string =>
    s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** A JS string literal safe inside <script> (no `</script>` can close it early). */
const jsString = (s: string): string => JSON.stringify(s).replace(/</g, '\\u003c');

const TYPES: Record<string, string> = { '.mp4': 'video/mp4', '.webm': 'video/webm', '.mov': 'video/quicktime' };
const typeOf = (src: string): string => TYPES[path.extname(new URL(src, 'http://x/').pathname)] ?? 'video/mp4';

const layout = (title: string, body: string, head = ''): string => `<!doctype html>
<html><head><meta charset="utf-8"><title>${title}</title>${head}
<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}
video{width:640px;height:360px;background:#000} video.preview{width:160px;height:90px}</style>
</head><body><h1>${title}</h1>${body}</body></html>`;

/** shaka-player as its docs set it up: polyfills, attach, load, then play muted. */
const shakaScript = (src: string): string => `<script src="/vendor/shaka-player.compiled.js"></script>
<script>
shaka.polyfill.installAll();
(async function () {
  var video = document.querySelector('video');
  var player = new shaka.Player();
  await player.attach(video);
  await player.load(${jsString(src)});
  video.play().catch(function () {});
})().catch(function (e) { console.error('shaka error', e && e.code, e); });
</script>`;

/** Muted autoplay: what browsers allow without a click, and what sites' players ask for. */
const AUTOPLAY = 'controls muted autoplay playsinline';

const pages: Record<PlayerKind, (src: string, mp4: string) => string> = {
    shaka: (src) => layout('Shaka Player Episode', `<video ${AUTOPLAY}></video>${shakaScript(src)}`),

    dashjs: (src) =>
        layout(
            'Dash.js On Demand Show',
            `<video controls muted playsinline></video>
<script src="/vendor/dash.all.min.js"></script>
<script>
var player = dashjs.MediaPlayer().create();
player.initialize(document.querySelector('video'), ${jsString(src)}, true);
</script>`,
        ),

    plyr: (src) =>
        layout(
            'Plyr Feature Film',
            `<video id="player" playsinline controls muted>
<source src="${escapeHtml(src)}" type="${typeOf(src)}"></video>
<script src="/vendor/plyr.min.js"></script>
<script>var player = new Plyr('#player', { iconUrl: '/vendor/plyr.svg', muted: true, autoplay: true });</script>`,
            '<link rel="stylesheet" href="/vendor/plyr.css">',
        ),

    native: (src) => layout('Plain WebM Clip', `<video ${AUTOPLAY} src="${escapeHtml(src)}"></video>`),

    // mpegts.js (flv.js's successor) streams the FLV with fetch and feeds MSE.
    mpegts: (src) =>
        layout(
            'FLV Archive Broadcast',
            `<video ${AUTOPLAY}></video>
<script src="/vendor/mpegts.js"></script>
<script>
if (mpegts.getFeatureList().mseLivePlayback) {
  var player = mpegts.createPlayer({ type: 'flv', isLive: false, url: new URL(${jsString(src)}, location.href).href });
  player.attachMediaElement(document.querySelector('video'));
  player.load();
  player.play();
}
</script>`,
        ),

    // The MP4 <source> is the fallback for browsers without MSE; shaka takes the element over.
    dual: (src, mp4) =>
        layout(
            'One Video Two Ways',
            `<video ${AUTOPLAY}>
<source src="${escapeHtml(mp4)}" type="video/mp4"></video>` + shakaScript(src),
        ),

    // Video lists loop a short clip on hover; it is a preview, not the page's video.
    preview: (src) =>
        layout(
            'Clip With Previews',
            `<video ${AUTOPLAY} src="${escapeHtml(src)}"></video>
<h2>Up next</h2><a href="/play/native.html?src=${encodeURIComponent(media(FILE_PATHS.mp4))}">
<video class="preview" muted autoplay loop playsinline src="${media(FILE_PATHS.preview)}"></video> Next clip</a>`,
        ),
};

/** The HTML of `/play/<kind>.html?src=…[&mp4=…]`, or undefined when that is no player page. */
export function playerPageHtml(pathname: string, query: URLSearchParams): string | undefined {
    const kind = /^\/play\/(\w+)\.html$/.exec(pathname)?.[1];
    const src = query.get('src');
    if (!kind || !isKind(kind) || !src) return undefined;
    return pages[kind](src, query.get('mp4') ?? src);
}
