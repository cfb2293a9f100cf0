/**
 * Image content rules, the same for inline data, rendered images and downloaded files: what makes
 * an image a placeholder is what it holds, never its name. Pure; shared by the page stage and the
 * download stage, so it sits below both.
 */
import { imageSize } from 'image-size';

/** Elements that put something on an SVG's canvas (a <g> or <defs> alone draws nothing). */
const SVG_DRAWS = /<(path|rect|circle|ellipse|line|polyline|polygon|text|image|use|foreignObject)\b/i;

/** An SVG document that draws nothing: lazy loaders' favourite inline placeholder. Pure. */
export function svgDrawsNothing(text: string): boolean {
    if (!/<svg\b/i.test(text)) return false;
    const visible = text
        .replace(/<!--[\s\S]*?-->/g, '')
        .replace(/<(defs|title|desc|metadata|style)\b[\s\S]*?<\/\1\s*>/gi, '');
    return !SVG_DRAWS.test(visible);
}

/**
 * Why an image's content makes it a placeholder rather than a picture, or undefined. Pure.
 * Below the configured minimum size is judged where the file is stored (the input knows the
 * minimum); these rules hold whatever the minimum is: a 1×1 image is a spacer or a tracking pixel.
 */
export function placeholderByContent(
    size: { width: number; height: number } | undefined,
    svgText?: string,
): string | undefined {
    if (size && size.width * size.height <= 1) {
        return `${size.width}×${size.height} px: a spacer or tracking pixel, not a picture`;
    }
    if (svgText !== undefined && svgDrawsNothing(svgText)) return 'an SVG that draws nothing: a placeholder';
    return undefined;
}

/** The bytes and media type of a `data:` URI (base64 or percent-encoded), or undefined. Pure. */
export function decodeDataUri(uri: string): { mime: string; bytes: Buffer } | undefined {
    const m = /^data:([^,]*?),([\s\S]*)$/i.exec(uri.trim());
    if (!m) return undefined;
    const params = (m[1] ?? '').split(';').map((p) => p.trim());
    const mime = (params[0] || 'text/plain').toLowerCase();
    const body = m[2] ?? '';
    try {
        if (params.slice(1).some((p) => p.toLowerCase() === 'base64')) {
            return { mime, bytes: Buffer.from(body.replace(/\s+/g, ''), 'base64') };
        }
        return { mime, bytes: Buffer.from(decodeURIComponent(body), 'utf8') };
    } catch {
        return undefined;
    }
}

export type InlineVerdict =
    { image: true; width: number; height: number; bytes: Buffer; mime: string } | { image: false; reason: string };

/**
 * What an inline `data:` image is, judged by its decoded content. Pure.
 * A tiny or empty one is a placeholder; a real image (an inline photo) is handed on to be stored
 * like any downloaded one, where the minimum size and duplicate content are checked as usual.
 */
export function judgeInline(uri: string): InlineVerdict {
    const decoded = decodeDataUri(uri);
    if (!decoded || decoded.bytes.length === 0) {
        return { image: false, reason: 'an inline data: URI with nothing decodable in it' };
    }
    const looksSvg = /^\s*(<\?xml|<svg)/i.test(decoded.bytes.subarray(0, 100).toString('latin1'));
    const svgText = decoded.mime === 'image/svg+xml' || looksSvg ? decoded.bytes.toString('utf8') : undefined;
    let size: { width: number; height: number } | undefined;
    try {
        size = imageSize(decoded.bytes);
    } catch {
        size = undefined;
    }
    if (svgText !== undefined && svgDrawsNothing(svgText)) {
        return { image: false, reason: 'an inline SVG that draws nothing: a placeholder' };
    }
    if (!size || !size.width || !size.height) {
        // An SVG without intrinsic size still draws: stored, as a downloaded one would be.
        const { bytes, mime } = decoded;
        if (svgText !== undefined) return { image: true, width: 0, height: 0, bytes, mime: 'image/svg+xml' };
        return { image: false, reason: `inline data that is not an image (${mime}, ${bytes.length} bytes)` };
    }
    const placeholder = placeholderByContent(size);
    if (placeholder) return { image: false, reason: `an inline image of ${placeholder}` };
    return { image: true, width: size.width, height: size.height, bytes: decoded.bytes, mime: decoded.mime };
}

/** A `data:` URI short enough for a dataset item; other URLs unchanged. Pure. */
export function inlineLabel(url: string): string {
    if (!/^data:/i.test(url) || url.length <= 100) return url;
    return `${url.slice(0, 80)}… (${url.length} characters)`;
}
