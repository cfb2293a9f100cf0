/**
 * Which URL of each image element is its real, largest image, and why each other reference is not: the
 * rules of images.ts applied to the scans of a page's frames (`selectImages`). Pure.
 */
import { inlineLabel, judgeInline, type InlineVerdict } from '../image-content.js';
import { resolveUrl } from '../urls.js';
import { fullSizeUrl } from './full-size.js';
import {
    pickLargest,
    placeholderByRender,
    type FoundImage,
    type ImageElementScan,
    type ImageScan,
    type SkippedImage,
} from './images.js';
import { parseSrcset } from 'srcset';

/**
 * How many elements must show the same `src` while naming another image URL in some attribute for
 * that `src` to count as their shared placeholder. A photo shown twice is plausible; the same
 * picture standing in front of three or more different images is a lazy loader we do not know.
 */
export const SHARED_PLACEHOLDER_MIN = 3;

/**
 * A reference as it will be handled: an http(s) URL, a `data:` URI (judged by content), a `blob:`
 * URL (exists only inside the page), or undefined for "no image" (empty, about:, javascript:).
 * Other schemes (file:, ftp:) are noted in `refused`.
 */
function resolver(refused: Set<string>): (url: string, base: string) => string | undefined {
    return (raw, base) => {
        const url = raw.trim();
        if (!url || /^(javascript|about):/i.test(url)) return undefined;
        if (/^(data|blob):/i.test(url)) return url;
        try {
            return resolveUrl(url, base);
        } catch {
            refused.add(url.slice(0, 500));
            return undefined;
        }
    };
}

type SkipKind = 'lazy' | 'shared' | 'srcset' | 'fallback' | 'content' | 'blob' | 'attr';

interface Skip {
    url: string;
    kind: SkipKind;
    /** Elements it was found on (placeholders: the lazy images it stood in for). */
    elements: Set<string>;
    /** The URL that was taken instead, for the reason text. */
    taken?: string;
    detail?: string;
    alt?: string;
}

/** The reason text of a skipped reference. Pure. */
function reasonOf(skip: Skip): string {
    const n = skip.elements.size;
    const taken = skip.taken ? inlineLabel(skip.taken) : '';
    switch (skip.kind) {
        case 'lazy':
            return n === 1
                ? `a placeholder: it stood in for a lazy image whose own URL was taken: ${taken}`
                : `a placeholder: it stood in for ${n} lazy images whose own URLs were taken (e.g. ${taken})`;
        case 'shared':
            return (
                `a placeholder: the same image on ${n} elements that each name another image URL, ` +
                `which were taken (e.g. ${taken})`
            );
        case 'srcset':
            return `a smaller candidate of the srcset; the largest was taken: ${taken}`;
        case 'fallback':
            return `the fallback src of an image with a srcset; the largest candidate was taken: ${taken}`;
        case 'blob':
            return 'a blob: URL exists only inside the page and cannot be downloaded';
        case 'attr':
            return taken
                ? `named in another attribute of an image whose own image was taken: ${taken}`
                : 'named in another attribute of an image';
        case 'content':
            return n > 1 ? `${skip.detail} (on ${n} elements)` : (skip.detail ?? 'a placeholder');
    }
}

export interface ImageSelection {
    images: FoundImage[];
    /** URLs that are placeholders or smaller candidates of a srcset: never media, even if loaded. */
    excluded: Set<string>;
    /** Everything found and not taken, once per URL, with its reason. */
    skipped: SkippedImage[];
    /** Image references with a scheme that is never fetched (file:, ftp:, …), to be reported. */
    refused: string[];
}

/**
 * Decides which URL of each image element is the real, largest image, and why each other one is
 * not. Scans of the same frame at different times (before and after scrolling) may be passed
 * together: an element seen twice counts once. Pure.
 */
export function selectImages(scans: readonly ImageScan[]): ImageSelection {
    const selection = new Selection();
    const keys = elementKeys(scans);
    const shared = sharedPlaceholders(scans, keys, selection.resolve);
    for (const scan of scans) {
        for (const img of scan.images) selection.element(scan.url, img, keys.get(img)!, shared);
        for (const bg of scan.backgrounds) selection.take(selection.resolve(bg, scan.url), `${scan.url}#background`);
    }
    return selection.result();
}

/** A key per element: scans of one frame at different times name an element by the same id. Pure. */
function elementKeys(scans: readonly ImageScan[]): Map<ImageElementScan, string> {
    const keys = new Map<ImageElementScan, string>();
    let anonymous = 0;
    for (const scan of scans)
        for (const img of scan.images) keys.set(img, `${scan.url}#${img.id ?? `anon-${++anonymous}`}`);
    return keys;
}

/** Which srcs are shown by many elements that each name another image URL: src → the elements. Pure. */
function sharedPlaceholders(
    scans: readonly ImageScan[],
    keys: Map<ImageElementScan, string>,
    resolve: (url: string, base: string) => string | undefined,
): Map<string, Set<string>> {
    const sharedBy = new Map<string, Set<string>>();
    for (const scan of scans) {
        for (const img of scan.images) {
            if (img.srcsets.length || img.lazy.length) continue;
            const src = resolve(img.src, scan.url);
            const others = img.urlAttrs.map((u) => resolve(u, scan.url)).filter((u) => u && u !== src);
            if (!src || !others.length) continue;
            let set = sharedBy.get(src);
            if (!set) sharedBy.set(src, (set = new Set()));
            set.add(keys.get(img)!);
        }
    }
    return sharedBy;
}

/** What selectImages gathers while it reads the elements: taken images and skipped references. */
class Selection {
    private readonly images = new Map<string, FoundImage>();
    private readonly skips = new Map<string, Skip>();
    private readonly refused = new Set<string>();
    private readonly verdicts = new Map<string, InlineVerdict>();
    readonly resolve = resolver(this.refused);

    private inline(uri: string): InlineVerdict {
        let v = this.verdicts.get(uri);
        if (!v) this.verdicts.set(uri, (v = judgeInline(uri)));
        return v;
    }

    /** A reference that can be an image of its own: http(s), or inline data whose content is a picture. */
    private usable(url: string | undefined): url is string {
        return url !== undefined && !/^blob:/i.test(url) && (!/^data:/i.test(url) || this.inline(url).image);
    }

    private skip(url: string | undefined, kind: SkipKind, element: string, extra: Partial<Skip> = {}): void {
        if (!url) return;
        let s = this.skips.get(url);
        // 'attr' only informs: any rule that excludes the URL replaces it.
        if (!s || (s.kind === 'attr' && kind !== 'attr')) {
            this.skips.set(url, (s = { url, kind, elements: new Set(), ...extra }));
        }
        // The first reason found for a URL is its reason; later elements of the same kind add to its count.
        if (s.kind === kind) s.elements.add(element);
    }

    take(url: string | undefined, element: string, alt?: string): void {
        if (!url) return;
        if (/^blob:/i.test(url)) return this.skip(url, 'blob', element);
        if (/^data:/i.test(url)) {
            const v = this.inline(url);
            if (!v.image) return this.skip(url, 'content', element, { detail: v.reason, alt });
        }
        if (!this.images.has(url)) this.images.set(url, { url, alt: alt || undefined });
    }

    /** A thumbnail whose link names another URL: that URL is taken, the thumbnail goes with it as its fallback. */
    private takeFull(full: string, thumbnail: string, element: string, alt?: string): void {
        const known = this.images.get(full);
        if (!known) this.images.set(full, { url: full, alt: alt || undefined, thumbnail });
        else if (!known.thumbnail) known.thumbnail = thumbnail;
        // Many thumbnails, one link (every tile to the same shop page): each other thumbnail is its own image.
        else if (known.thumbnail !== thumbnail) this.take(thumbnail, element, alt);
    }

    /** One element's image, and the reason for each of its other references. */
    element(base: string, img: ImageElementScan, el: string, sharedBy: Map<string, Set<string>>): void {
        const alt = img.alt || undefined;
        const src = this.resolve(img.src, base);
        const others = img.urlAttrs
            .map((u) => this.resolve(u, base))
            .filter((u): u is string => this.usable(u) && u !== src);
        const chosen = this.choose(
            base,
            img,
            el,
            src,
            others,
            (sharedBy.get(src ?? '')?.size ?? 0) >= SHARED_PLACEHOLDER_MIN,
        );
        const full = chosen && img.full ? fullSizeUrl(img.full, base, chosen) : undefined;
        if (full && this.usable(chosen)) this.takeFull(full, chosen!, el, alt);
        else this.take(chosen, el, alt);
        // Other image URLs the element names (zoom, "large image" attributes): reported, not fetched.
        for (const u of others) if (u !== chosen) this.skip(u, 'attr', el, { taken: chosen });
    }

    /** The URL that is the element's image (largest srcset candidate, lazy attribute, src or another attribute). */
    private choose(
        base: string,
        img: ImageElementScan,
        el: string,
        src: string | undefined,
        others: string[],
        shared: boolean,
    ): string | undefined {
        const alt = img.alt || undefined;
        const candidates = img.srcsets
            .flatMap((s) => parseSrcset(s))
            .map((c) => ({ ...c, url: this.resolve(c.url, base) ?? '' }))
            .filter((c) => this.usable(c.url));
        const current = this.resolve(img.currentSrc, base);
        const lazy = img.lazy.map((u) => this.resolve(u, base)).find((u) => this.usable(u));
        if (candidates.length) {
            const chosen = pickLargest(candidates)!.url;
            for (const c of candidates) if (c.url !== chosen) this.skip(c.url, 'srcset', el, { taken: chosen });
            // With a lazy attribute as well (lazysizes: data-srcset + data-src), src is the placeholder.
            for (const u of [src, current]) {
                if (!u || u === chosen || u === lazy) continue;
                this.skip(u, lazy ? 'lazy' : 'fallback', el, { taken: lazy ?? chosen, alt });
            }
            if (lazy && lazy !== chosen) this.skip(lazy, 'fallback', el, { taken: chosen });
            return chosen;
        }
        if (lazy) {
            // Structure: the lazy attribute names the image; whatever src shows until then is its placeholder.
            for (const u of [src, current]) if (u && u !== lazy) this.skip(u, 'lazy', el, { taken: lazy, alt });
            return lazy;
        }
        if (!src) return others[0];
        const verdict = this.ownVerdict(src, current, img);
        if (verdict) this.skip(src, 'content', el, { detail: verdict, alt });
        if ((verdict || shared) && others.length) {
            if (!verdict) this.skip(src, 'shared', el, { taken: others[0] });
            return others[0];
        }
        return verdict ? undefined : src;
    }

    /** Why an element's src is a placeholder by its own content, or undefined. */
    private ownVerdict(src: string, current: string | undefined, img: ImageElementScan): string | undefined {
        if (/^data:/i.test(src)) {
            const v = this.inline(src);
            return v.image ? undefined : v.reason;
        }
        // What the browser rendered belongs to currentSrc only (a swapped src may still be loading).
        return src === current && img.rendered ? placeholderByRender(img.rendered) : undefined;
    }

    /** A reference that is another element's image is not skipped; one that is an excluded kind is never taken. */
    result(): ImageSelection {
        const excluded = new Set<string>();
        for (const s of this.skips.values()) {
            if (s.kind === 'attr' && this.images.has(s.url)) this.skips.delete(s.url);
            else if (s.kind !== 'attr') excluded.add(s.url);
        }
        for (const url of excluded) {
            const image = this.images.get(url);
            this.images.delete(url);
            // A link to an image excluded elsewhere (a smaller srcset candidate) is no full-size picture.
            if (image?.thumbnail && !excluded.has(image.thumbnail) && !this.images.has(image.thumbnail))
                this.images.set(image.thumbnail, { url: image.thumbnail, alt: image.alt });
        }
        const skipped = [...this.skips.values()].map((s) => ({
            url: inlineLabel(s.url),
            reason: reasonOf(s),
            ...(s.alt && s.elements.size === 1 ? { alt: s.alt } : {}),
        }));
        return { images: [...this.images.values()], excluded, skipped, refused: [...this.refused] };
    }
}
