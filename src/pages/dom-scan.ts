/**
 * Finding manifests in a frame's DOM and source text, for players that have not fetched yet and for
 * pages like the seed's that only mention the URL in a script (`var now="https://…/index.m3u8"`).
 */
import { resolveUrl } from '../urls.js';

// Quoted strings that mention .m3u8 or .mpd, possibly JSON-escaped (https:\/\/…) or with a query.
const QUOTED_MANIFEST = /(["'`])((?:(?!\1)[^\s<>])*?\.(?:m3u8|mpd)(?:[?#](?:(?!\1)[^\s<>])*)?)\1/gi;

/**
 * Absolute http(s) manifest URLs (HLS, DASH) mentioned in HTML or script text, in order of
 * appearance. Video files are not looked for here: pages mention ads, trailers and thumbnails'
 * previews the same way, and the player's own requests and elements show the real one. Pure.
 */
export function findManifestUrls(text: string, baseUrl: string): string[] {
    const found = new Set<string>();
    for (const m of text.matchAll(QUOTED_MANIFEST)) {
        const raw = (m[2] ?? '')
            .replace(/\\\//g, '/')
            .replace(/\\u002[fF]/g, '/')
            .replace(/&amp;/g, '&');
        try {
            found.add(resolveUrl(raw, baseUrl));
        } catch {
            // Not an http(s) URL (e.g. file: or javascript:): never fetched.
        }
    }
    return [...found];
}

export interface FrameScan {
    url: string;
    lang: string;
    title: string;
    heading: string;
    html: string;
    mediaSrcs: string[];
    /** `<track kind="subtitles|captions">` of video elements. (`mediaSrcs` include `<audio>` ones: radio, podcasts.) */
    tracks: { src: string; lang: string; label: string }[];
}

/**
 * Runs inside the page. Kept as source text rather than a function: transpilers add helpers to
 * functions (esbuild's `__name`) that do not exist in the page.
 */
export const SCAN_FRAME = `(() => {
    const srcs = [];
    const players = 'video, video source, audio, audio source';
    for (const el of document.querySelectorAll(players + ', source[type*="mpegurl" i], source[type*="dash" i]')) {
        const s = el.currentSrc || el.src || el.getAttribute('src') || el.getAttribute('data-src');
        if (s && !s.startsWith('blob:')) srcs.push(s);
    }
    const tracks = [];
    for (const t of document.querySelectorAll('video track')) {
        const kind = (t.getAttribute('kind') || 'subtitles').toLowerCase();
        const src = t.getAttribute('src');
        if (src && (kind === 'subtitles' || kind === 'captions')) {
            tracks.push({ src, lang: t.getAttribute('srclang') || '', label: t.getAttribute('label') || '' });
        }
    }
    const h = document.querySelector('h1, h2, .title, [class*="title" i]');
    return {
        url: location.href,
        lang: document.documentElement.lang || '',
        title: (document.querySelector('meta[property="og:title"]')?.content || document.title || '').trim(),
        heading: (h ? h.textContent || '' : '').trim(),
        html: document.documentElement.outerHTML.slice(0, 5000000),
        mediaSrcs: srcs,
        tracks,
    };
})()`;
