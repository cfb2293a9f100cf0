/**
 * The rules of an image download: which URLs are images, the request for one, its content type, name and
 * key, and why its own content keeps it from being stored. Pure but for `imageRequest`, which strips the
 * credentials a queued request must not carry.
 */
import type { RequestOptions } from '@crawlee/core';
import type { ImageTask } from '../model.js';
import type { Headers } from '../net/headers.js';
import { credentials } from '../net/credentials.js';
import { keyFromText } from '../names.js';
import { normalizeUrl } from '../urls.js';
import { placeholderByContent } from '../image-content.js';

const IMAGE_EXT = /\.(jpe?g|png|apng|gif|webp|avif|bmp|svg)$/i;

export const isImageUrl = (url: string): boolean => {
    try {
        return IMAGE_EXT.test(new URL(url).pathname);
    } catch {
        return false;
    }
};

export function imageRequest(
    url: string,
    pageUrl: string,
    headers: Headers,
    alt?: string,
    proxySession?: string,
    thumbnail?: ImageTask['thumbnail'],
): RequestOptions<ImageTask> {
    const userData: ImageTask = {
        kind: 'image',
        pageUrl,
        alt,
        proxySession,
        ...(thumbnail ? { thumbnail: { ...thumbnail, headers: credentials.strip(thumbnail.headers) } } : {}),
    };
    // Cookies and the input's headers are added as the request leaves (credentials.ts), never queued.
    return {
        url,
        uniqueKey: `img:${normalizeUrl(url)}`,
        headers: credentials.strip(headers),
        skipNavigation: true,
        userData,
    };
}

/**
 * The content type to store: what the bytes are (servers send images as octet-stream or text/plain),
 * else what the server said if that is an image type the sniffer cannot see (SVG). Pure.
 */
export function imageContentType(sniffed: string | undefined, served: string | undefined): string | undefined {
    if (sniffed?.startsWith('image/')) return sniffed;
    const declared = served?.split(';')[0]?.trim().toLowerCase();
    if (!sniffed && declared === 'image/svg+xml') return declared;
    return undefined;
}

/** The image's name as its site wrote it: the URL's file name, decoded, without its extension. Pure. */
export function imageName(url: string): string {
    const file = new URL(url).pathname.split('/').pop() ?? '';
    let name = file;
    try {
        name = decodeURIComponent(file);
    } catch {
        // A stray % in the name: the name as it is.
    }
    return name.replace(IMAGE_EXT, '');
}

/** Base of the key: the file name without its extension, transliterated. */
export function imageKeyBase(url: string): string {
    return keyFromText(imageName(url), 'image', url);
}

/** Bytes of a file's start kept to sniff its type (file-type reads at most 4100). */
export const HEAD_BYTES = 4100;

/** The reason a thumbnail is not stored: its full-size picture is. Pure. */
export const thumbnailOf = (fullSizeUrl: string): string => `thumbnail of ${fullSizeUrl}`;

/**
 * A link target whose declared type says it is no picture (a page, a video, a PDF): its body is not
 * read, so a thumbnail linking to a 1 GB video costs only the response's headers. Images, and the
 * types servers wrongly send images as (octet-stream, text/plain) or no type at all, are judged by
 * their bytes. Pure.
 */
export function declaredNotAPicture(contentType: string | undefined): boolean {
    const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
    if (!type || type.startsWith('image/')) return false;
    return !/^(application\/(octet-stream|unknown|binary)|binary\/octet-stream|text\/plain)$/.test(type);
}

/**
 * Why an image's own content means it is not stored as a picture, or undefined. Pure.
 * The whole SVG text is only known when the file fits in the head.
 */
export function imageSkipReason(
    size: { width: number; height: number } | undefined,
    min: { width: number; height: number },
    svgText?: string,
): string | undefined {
    const placeholder = placeholderByContent(size, svgText);
    if (placeholder) return placeholder;
    if (size && (size.width < min.width || size.height < min.height)) {
        return `smaller than ${min.width}×${min.height} px (${size.width}×${size.height})`;
    }
    return undefined;
}
