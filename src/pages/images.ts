/**
 * Finding a gallery's real images: lazy attributes, the largest srcset candidate, <picture>
 * sources, CSS backgrounds; and telling placeholders and smaller srcset candidates apart so they
 * are never downloaded.
 */
import { parseSrcset, type SrcSetDefinition } from 'srcset';
import { resolveUrl } from '../urls.js';

export interface ImageElementScan {
    src: string;
    currentSrc: string;
    srcsets: string[];
    lazy: string[];
    urlAttrs: string[];
    alt: string;
}

export interface ImageScan {
    url: string;
    images: ImageElementScan[];
    backgrounds: string[];
}

export interface FoundImage {
    url: string;
    alt?: string;
}

/** Lazy-loading attributes seen in the wild, most specific first; data-backup is the seed's site. */
export const LAZY_ATTRS = ['data-src', 'data-original', 'data-backup', 'data-lazy-src', 'data-lazy', 'data-url', 'data-full', 'data-hi-res'];

/** Runs inside each frame (source text: see dom-scan.ts for why). */
export const SCAN_IMAGES = `(() => {
    const LAZY = ${JSON.stringify(LAZY_ATTRS)};
    const IMG_URL = /\\.(jpe?g|png|gif|webp|avif|bmp)([?#]|$)/i;
    const images = [];
    for (const img of document.querySelectorAll('img')) {
        const srcsets = [img.getAttribute('srcset'), img.getAttribute('data-srcset')].filter(Boolean);
        const picture = img.parentElement && img.parentElement.tagName === 'PICTURE' ? img.parentElement : null;
        if (picture) for (const s of picture.querySelectorAll('source')) {
            const v = s.getAttribute('srcset') || s.getAttribute('data-srcset');
            if (v) srcsets.push(v);
        }
        const lazy = LAZY.map((a) => img.getAttribute(a)).filter(Boolean);
        const urlAttrs = [];
        for (const a of img.attributes) if (a.name !== 'src' && !LAZY.includes(a.name) && IMG_URL.test(a.value) && !/srcset/.test(a.name)) urlAttrs.push(a.value);
        images.push({ src: img.getAttribute('src') || '', currentSrc: img.currentSrc || '', srcsets, lazy, urlAttrs, alt: (img.getAttribute('alt') || '').trim() });
    }
    const backgrounds = [];
    const all = document.querySelectorAll('body *');
    for (let i = 0; i < all.length && i < 20000; i++) {
        const bg = getComputedStyle(all[i]).backgroundImage;
        if (bg && bg !== 'none') for (const m of bg.matchAll(/url\\(["']?([^"')]+)["']?\\)/g)) backgrounds.push(m[1]);
    }
    return { url: location.href, images, backgrounds };
})()`;

const PLACEHOLDER_NAME = /(^|[/_.-])(loading|loader|placeholder|blank|spacer|lazy|grey|gray|pixel|transparent|dummy|empty)[^/]*\.(gif|png|svg|jpe?g|webp)([?#]|$)/i;

export function isPlaceholderUrl(url: string): boolean {
    return url === '' || /^data:/i.test(url) || /^about:/i.test(url) || PLACEHOLDER_NAME.test(url);
}

/** The largest candidate of parsed srcsets: by width descriptor, else by density. Pure. */
export function pickLargest(candidates: readonly SrcSetDefinition[]): SrcSetDefinition | undefined {
    const score = (c: SrcSetDefinition): number => c.width ?? (c.density ?? 1) * 1e-3;
    return candidates.reduce<SrcSetDefinition | undefined>((best, c) => (!best || score(c) > score(best) ? c : best), undefined);
}

/** http(s) URL, or undefined; other schemes than the harmless in-page ones are noted in `refused`. */
function resolver(refused: Set<string>): (url: string, base: string) => string | undefined {
    return (url, base) => {
        if (!url || /^(data|blob|javascript|about):/i.test(url.trim())) return undefined;
        try {
            return resolveUrl(url, base);
        } catch {
            refused.add(url.trim().slice(0, 500));
            return undefined;
        }
    };
}

export interface ImageSelection {
    images: FoundImage[];
    /** URLs that are placeholders or smaller candidates of a srcset: never media, even if loaded. */
    excluded: Set<string>;
    /** Image references with a scheme that is never fetched (file:, ftp:, …), to be reported. */
    refused: string[];
}

/** Decides which URL of each image element is the real, largest image. Pure. */
export function selectImages(scans: readonly ImageScan[]): ImageSelection {
    const images = new Map<string, FoundImage>();
    const excluded = new Set<string>();
    const refused = new Set<string>();
    const resolve = resolver(refused);
    const add = (url: string | undefined, alt?: string): void => {
        if (url && !images.has(url)) images.set(url, { url, alt: alt || undefined });
    };
    for (const scan of scans) {
        for (const img of scan.images) {
            const candidates = img.srcsets.flatMap((s) => parseSrcset(s)).map((c) => ({ ...c, url: resolve(c.url, scan.url) ?? '' })).filter((c) => c.url);
            const src = resolve(img.src, scan.url);
            const current = resolve(img.currentSrc, scan.url);
            const lazy = img.lazy.map((u) => resolve(u, scan.url)).find((u) => u && !isPlaceholderUrl(u));
            let best: string | undefined;
            if (candidates.length) {
                best = pickLargest(candidates)?.url;
                for (const c of candidates) if (c.url !== best) excluded.add(c.url);
                for (const u of [src, current]) if (u && u !== best) excluded.add(u);
            } else if (lazy) {
                best = lazy;
                for (const u of [src, current]) if (u && u !== lazy) excluded.add(u);
            } else if (src && !isPlaceholderUrl(img.src)) {
                best = src;
            } else {
                best = img.urlAttrs.map((u) => resolve(u, scan.url)).find((u) => u && !isPlaceholderUrl(u));
                if (src) excluded.add(src);
            }
            add(best, img.alt);
        }
        for (const bg of scan.backgrounds) {
            const url = resolve(bg, scan.url);
            if (url && !isPlaceholderUrl(url)) add(url);
        }
    }
    for (const url of excluded) images.delete(url);
    return { images: [...images.values()], excluded, refused: [...refused] };
}
