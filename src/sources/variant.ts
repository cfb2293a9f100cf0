import type { VideoQuality } from '../input/input.js';

export interface VariantLike {
    bandwidth: number;
    resolution?: { width: number; height: number };
    isIFrameOnly?: boolean;
}

const area = (v: VariantLike): number => (v.resolution ? v.resolution.width * v.resolution.height : 0);

/** Larger picture first, then higher bandwidth: the order "highest" means. */
function compareQuality(a: VariantLike, b: VariantLike): number {
    return area(a) - area(b) || a.bandwidth - b.bandwidth;
}

/**
 * Picks the variant of a master playlist that `quality` asks for. `"720p"` means the best variant at
 * most 720 px high; when every variant is taller, the smallest one is taken rather than nothing.
 * I-frame-only variants are trick-play tracks, never a video to download.
 */
export function chooseVariant<T extends VariantLike>(variants: readonly T[], quality: VideoQuality): T | undefined {
    const playable = variants.filter((v) => !v.isIFrameOnly);
    if (playable.length === 0) return undefined;
    const ascending = [...playable].sort(compareQuality);
    switch (quality.kind) {
        case 'highest':
            return ascending[ascending.length - 1];
        case 'lowest':
            return ascending[0];
        case 'maxHeight': {
            const fitting = ascending.filter((v) => v.resolution && v.resolution.height <= quality.height);
            return fitting[fitting.length - 1] ?? ascending[0];
        }
    }
}
