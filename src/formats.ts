/**
 * How a URL or a response's content type names a video format. Pure; the page stage (what to
 * capture) and the source stage (how to read it) both ask, so it sits below both.
 */
import type { SourceFormat } from './model.js';

const HLS_TYPES = /^(application\/(vnd\.apple\.mpegurl|x-mpegurl)|audio\/(x-)?mpegurl)/i;
const DASH_TYPES = /^application\/dash\+xml/i;
/**
 * Progressive video containers, and audio files of their own (a podcast episode, a radio show's
 * recording: MP3, M4A, AAC, Ogg, Opus, FLAC, WAV). MPEG-TS and `video/iso.segment` are left out on
 * purpose: as responses they are almost always segments of a manifest, not videos of their own.
 * (`audio/mpegurl` is an HLS playlist: `\b` keeps `audio/mpeg` from matching it.)
 */
export const FILE_TYPES =
    /^(video\/(mp4|webm|quicktime|x-flv|x-m4v|x-matroska|matroska)|audio\/(mpeg|mp3|mp4|x-m4a|aac|x-aac|ogg|opus|flac|x-flac|wav|x-wav|wave|webm))\b(?!-)/i;

/** The path of an http(s) URL; undefined for anything else (never fetched). */
function httpPath(url: string): string | undefined {
    try {
        const u = new URL(url);
        return u.protocol === 'http:' || u.protocol === 'https:' ? u.pathname : undefined;
    } catch {
        return undefined;
    }
}

export const isPlaylistUrl = (url: string): boolean => /\.m3u8?$/i.test(httpPath(url) ?? '');
export const isMpdUrl = (url: string): boolean => /\.mpd$/i.test(httpPath(url) ?? '');
/** A plain video or audio file by its name (audio: `mp3`, `m4a`, `aac`, `ogg`, `oga`, `opus`, `flac`, `wav`). */
export const isVideoFileUrl = (url: string): boolean =>
    /\.(mp4|m4v|mov|webm|mkv|flv|f4v|mp3|m4a|aac|ogg|oga|opus|flac|wav)$/i.test(httpPath(url) ?? '');
export const isPlaylistContentType = (contentType: string | undefined): boolean => HLS_TYPES.test(contentType ?? '');

/** The format a URL's path names, if any. */
export function formatFromUrl(url: string): SourceFormat | undefined {
    if (isPlaylistUrl(url)) return 'hls';
    if (isMpdUrl(url)) return 'dash';
    if (isVideoFileUrl(url)) return 'file';
    return undefined;
}

/** The format a response's content type names, if any. */
export function formatFromContentType(contentType: string | undefined): SourceFormat | undefined {
    const ct = contentType ?? '';
    if (HLS_TYPES.test(ct)) return 'hls';
    if (DASH_TYPES.test(ct)) return 'dash';
    if (FILE_TYPES.test(ct)) return 'file';
    return undefined;
}

/** The manifest format a URL or content type names, if any. */
export function manifestFormat(url: string, contentType?: string): 'hls' | 'dash' | undefined {
    const isManifest = (f: SourceFormat | undefined): f is 'hls' | 'dash' => f === 'hls' || f === 'dash';
    const byType = formatFromContentType(contentType);
    if (isManifest(byType)) return byType;
    const byUrl = formatFromUrl(url);
    return isManifest(byUrl) ? byUrl : undefined;
}
