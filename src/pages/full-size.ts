/**
 * Galleries show thumbnails and keep the picture one click away: the thumbnail is wrapped in a link
 * to the full-size file, or the link (or the image) carries the full-size URL in an attribute a
 * lightbox library reads. This names that URL; whether it really is a picture is decided by what is
 * fetched from it (download/images.ts), never by its name: a link to an HTML page is not a picture,
 * and then the thumbnail stays the image.
 */
import { resolveUrl } from '../urls.js';

/**
 * Attributes of the element wrapping a thumbnail (an `<a>`, or any element a lightbox reads) that
 * name the full-size picture, most specific first; `href` last, as the plainest. Seen in the wild:
 * PhotoSwipe `data-pswp-src`, lightGallery `data-src`, GLightbox/Fancybox/baguetteBox/lightbox2
 * `href`, jQuery zoom plugins `data-zoom-image`, WooCommerce `data-large_image`, and the generic
 * `data-full`, `data-large`, `data-original`, `data-hi-res`, `data-highres`, `data-big`.
 */
export const LINK_FULL_ATTRS = [
    'data-pswp-src',
    'data-src',
    'data-full',
    'data-full-src',
    'data-fullsrc',
    'data-large',
    'data-large-src',
    'data-large_image',
    'data-original',
    'data-zoom-image',
    'data-zoom-src',
    'data-hi-res',
    'data-highres',
    'data-hires',
    'data-big',
    'data-image',
    'href',
];

/**
 * Attributes of the `<img>` itself that name its full-size picture (zoom plugins). `data-src`,
 * `data-original`, `data-full` and `data-hi-res` on an `<img>` are lazy loaders' (images.ts
 * `LAZY_ATTRS`): the image's own URL, not a larger one.
 */
export const IMG_FULL_ATTRS = [
    'data-pswp-src',
    'data-full-src',
    'data-fullsrc',
    'data-large',
    'data-large-src',
    'data-large_image',
    'data-zoom-image',
    'data-zoom-src',
    'data-highres',
    'data-hires',
    'data-big',
];

/** What the page scan reports about where an image's full-size picture may be. */
export interface FullSizeHints {
    /**
     * The nearest ancestor (a few levels up) that is a link or carries a lightbox attribute, and that
     * holds no other image: its tag and the attributes of `LINK_FULL_ATTRS` it has.
     */
    link?: { tag: string; attrs: Record<string, string> };
    /** The image's own attributes of `IMG_FULL_ATTRS`. */
    own?: Record<string, string>;
}

const sameDocument = (a: string, b: string): boolean => a.split('#')[0] === b.split('#')[0];

/**
 * The URL of the full-size picture an image leads to, or undefined: the image's own zoom attribute,
 * else its link's lightbox attribute, else the link's `href`. Only http(s); never the page itself
 * (`href="#"`), never the image it would replace. Pure.
 */
export function fullSizeUrl(hints: FullSizeHints, pageUrl: string, shown: string | undefined): string | undefined {
    const raw: string[] = [];
    for (const a of IMG_FULL_ATTRS) if (hints.own?.[a]) raw.push(hints.own[a]!);
    if (hints.link) {
        for (const a of LINK_FULL_ATTRS) {
            // href names a picture only on a link (<area> too); on other elements it is not an attribute of theirs.
            if (a === 'href' && !/^(a|area)$/i.test(hints.link.tag)) continue;
            const v = hints.link.attrs[a];
            if (v) raw.push(v);
        }
    }
    for (const value of raw) {
        const v = value.trim();
        if (!v || v.startsWith('#') || /^(javascript|data|blob|about|mailto|tel):/i.test(v)) continue;
        let url: string;
        try {
            url = resolveUrl(v, pageUrl);
        } catch {
            continue;
        }
        if (sameDocument(url, pageUrl) || (shown !== undefined && sameDocument(url, shown))) continue;
        return url;
    }
    return undefined;
}
