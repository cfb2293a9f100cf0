/**
 * URL rules shared by every stage: what may be fetched, and how references are made absolute.
 * Pages and playlists are hostile input: only http(s) is ever fetched from their content.
 */

import { UnsafeUrlError } from './errors.js';

export { UnsafeUrlError };

/**
 * Resolves `ref` against `base` and refuses any scheme but http(s) (and `data:` where the caller
 * allows it, which is only for AES keys).
 */
export function resolveUrl(ref: string, base: string, options: { allowData?: boolean } = {}): string {
    const trimmed = ref.trim();
    if (options.allowData && /^data:/i.test(trimmed)) return trimmed;
    let url: URL;
    try {
        url = new URL(trimmed, base);
    } catch {
        throw new UnsafeUrlError(trimmed);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UnsafeUrlError(url.href);
    return url.href;
}

/** Same resource regardless of fragment: the normalisation used for de-duplication. */
export function normalizeUrl(url: string): string {
    const u = new URL(url);
    u.hash = '';
    return u.href;
}
