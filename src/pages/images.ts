/**
 * Finding a gallery's real images: lazy attributes, the largest srcset candidate, <picture>
 * sources, CSS backgrounds; and telling placeholders and smaller srcset candidates apart so they
 * are never downloaded.
 *
 * A file's name never decides anything: `gray-whale.jpg` and `loading-dock-7.jpg` are photos. What
 * decides is the page's structure (an element whose lazy attribute names another URL shows its
 * `src` only until that URL loads) and content: what the browser rendered (1×1, fully transparent)
 * and what inline `data:` URIs decode to. Whatever is found and not taken is reported as skipped,
 * with its reason, once per URL. Which URL is taken is decided in image-selection.ts.
 */
import type { SrcSetDefinition } from 'srcset';
import { placeholderByContent } from '../image-content.js';
import { IMG_FULL_ATTRS, LINK_FULL_ATTRS, type FullSizeHints } from './full-size.js';

/** What the browser shows for an element's `currentSrc`, once it has loaded. */
export interface RenderedImage {
    width: number;
    height: number;
    /** Every pixel has alpha 0; undefined when it could not be read (cross-origin, too large). */
    transparent?: boolean;
}

export interface ImageElementScan {
    /** The element's identity in its frame, stable across scans (a placeholder's elements are counted once). */
    id?: number;
    src: string;
    currentSrc: string;
    srcsets: string[];
    lazy: string[];
    urlAttrs: string[];
    alt: string;
    rendered?: RenderedImage;
    /** Where a full-size picture of this image may be named (a wrapping link, lightbox attributes). */
    full?: FullSizeHints;
}

export interface ImageScan {
    url: string;
    images: ImageElementScan[];
    backgrounds: string[];
}

export interface FoundImage {
    /** http(s) URL, or a `data:` URI whose content is a real image (stored like any other). */
    url: string;
    alt?: string;
    /**
     * The image the page shows for it, when `url` is what its link or lightbox attribute names: the
     * full-size picture if what is fetched from `url` is one, else this thumbnail is the image.
     */
    thumbnail?: string;
}

/** An image reference that was found and will not be downloaded, and why. */
export interface SkippedImage {
    url: string;
    reason: string;
    alt?: string;
}

/** Lazy-loading attributes seen in the wild, most specific first; data-backup is the seed's site. */
export const LAZY_ATTRS = [
    'data-src',
    'data-original',
    'data-backup',
    'data-lazy-src',
    'data-lazy',
    'data-url',
    'data-full',
    'data-hi-res',
];

/**
 * Runs inside each frame (source text: see dom-scan.ts for why). Elements get an id kept in a
 * WeakMap across calls, so the scan before scrolling and the one after describe the same elements.
 * Transparency is read from a ≤64×64 high-quality downscale (area averaging keeps any visible
 * content above alpha 0), only for loaded images of at most 4 megapixels and 400 distinct URLs per
 * scan: a real transparent placeholder is never larger, and decoding thousands of photos costs seconds.
 */
export const SCAN_IMAGES = `(() => {
    const LAZY = ${JSON.stringify(LAZY_ATTRS)};
    const LINK_FULL = ${JSON.stringify(LINK_FULL_ATTRS)};
    const IMG_FULL = ${JSON.stringify(IMG_FULL_ATTRS)};
    const pick = (el, names) => {
        const out = {};
        let any = false;
        for (const n of names) { const v = el.getAttribute(n); if (v) { out[n] = v; any = true; } }
        return any ? out : undefined;
    };
    // The nearest link or lightbox element a few levels up that holds this image alone (a container
    // of many images is a gallery, not one picture's link).
    const fullHints = (img) => {
        let link;
        for (let el = img.parentElement, d = 0; el && d < 4 && el !== document.body; el = el.parentElement, d++) {
            const attrs = pick(el, LINK_FULL);
            if (!attrs) continue;
            if (el.tagName !== 'A' && el.tagName !== 'AREA' && Object.keys(attrs).every((k) => k === 'href')) continue;
            if (el.querySelectorAll('img').length === 1) link = { tag: el.tagName.toLowerCase(), attrs };
            break;
        }
        const own = pick(img, IMG_FULL);
        return link || own ? { link, own } : undefined;
    };
    const IMG_URL = /\\.(jpe?g|png|gif|webp|avif|bmp)([?#]|$)/i;
    const KEY = Symbol.for('media-crawler.image-ids');
    const ids = window[KEY] || (window[KEY] = { next: 1, map: new WeakMap() });
    const canvas = document.createElement('canvas');
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    const alphaOf = new Map();
    const transparent = (img) => {
        const url = img.currentSrc;
        if (alphaOf.has(url)) return alphaOf.get(url);
        let result;
        if (ctx && alphaOf.size < 400 && img.naturalWidth * img.naturalHeight <= 4e6) {
            try {
                canvas.width = Math.min(64, img.naturalWidth);
                canvas.height = Math.min(64, img.naturalHeight);
                ctx.imageSmoothingQuality = 'high';
                ctx.clearRect(0, 0, canvas.width, canvas.height);
                ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
                const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
                result = true;
                for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) { result = false; break; }
            } catch (e) { result = undefined; }
        }
        alphaOf.set(url, result);
        return result;
    };
    const images = [];
    for (const img of document.querySelectorAll('img')) {
        let id = ids.map.get(img);
        if (!id) { id = ids.next++; ids.map.set(img, id); }
        const srcsets = [img.getAttribute('srcset'), img.getAttribute('data-srcset')].filter(Boolean);
        const picture = img.parentElement && img.parentElement.tagName === 'PICTURE' ? img.parentElement : null;
        if (picture) for (const s of picture.querySelectorAll('source')) {
            const v = s.getAttribute('srcset') || s.getAttribute('data-srcset');
            if (v) srcsets.push(v);
        }
        const lazy = LAZY.map((a) => img.getAttribute(a)).filter(Boolean);
        const urlAttrs = [];
        for (const a of img.attributes) {
            // Text attributes only describe (an alt that is the file's name is still text).
            const text = a.name === 'alt' || a.name === 'title' || a.name.startsWith('aria-');
            const other = a.name !== 'src' && !text && !LAZY.includes(a.name) && !/srcset/.test(a.name);
            if (other && IMG_URL.test(a.value)) urlAttrs.push(a.value);
        }
        const loaded = img.complete && img.naturalWidth > 0 && img.currentSrc;
        const rendered = loaded
            ? { width: img.naturalWidth, height: img.naturalHeight, transparent: transparent(img) }
            : undefined;
        images.push({ id, src: img.getAttribute('src') || '', currentSrc: img.currentSrc || '', srcsets, lazy, urlAttrs,
            alt: (img.getAttribute('alt') || '').trim(), rendered, full: fullHints(img) });
    }
    const backgrounds = [];
    const all = document.querySelectorAll('body *');
    for (let i = 0; i < all.length && i < 20000; i++) {
        const bg = getComputedStyle(all[i]).backgroundImage;
        if (bg && bg !== 'none') for (const m of bg.matchAll(/url\\(["']?([^"')]+)["']?\\)/g)) backgrounds.push(m[1]);
    }
    return { url: location.href, images, backgrounds };
})()`;

// ---------------------------------------------------------------------------------------------
// Content rules live in ../image-content.ts (the download stage applies them too).

export {
    decodeDataUri,
    inlineLabel,
    judgeInline,
    placeholderByContent,
    svgDrawsNothing,
    type InlineVerdict,
} from '../image-content.js';

/** Why what the browser rendered is a placeholder, or undefined. Pure. */
export function placeholderByRender(rendered: RenderedImage): string | undefined {
    const bySize = placeholderByContent(rendered);
    if (bySize) return `${bySize} (as rendered)`;
    if (rendered.transparent === true) {
        return `fully transparent as rendered (${rendered.width}×${rendered.height} px): a placeholder`;
    }
    return undefined;
}

// ---------------------------------------------------------------------------------------------
// Structure rules.

/** The largest candidate of parsed srcsets: by width descriptor, else by density. Pure. */
export function pickLargest(candidates: readonly SrcSetDefinition[]): SrcSetDefinition | undefined {
    const score = (c: SrcSetDefinition): number => c.width ?? (c.density ?? 1) * 1e-3;
    return candidates.reduce<SrcSetDefinition | undefined>(
        (best, c) => (!best || score(c) > score(best) ? c : best),
        undefined,
    );
}
