/**
 * Which Representations of a Period become the video and its separate audio. Pure.
 */
import { DrmError } from '../../errors.js';
import type { VideoQuality } from '../../input/input.js';
import { chooseVariant } from '../variant.js';
import type { Representation } from './mpd.js';

/** The primary language subtag, lower case: `en-US` and `EN` are both `en`. */
const primaryLang = (lang: string | undefined): string | undefined =>
    lang?.split(/[-_]/)[0]?.toLowerCase() || undefined;

/** Same rule as an HLS master playlist's variants (variant.ts): highest, lowest, best at most N px. */
export function chooseVideo(period: readonly Representation[], quality: VideoQuality): Representation | undefined {
    return chooseVariant(
        period.filter((r) => r.kind === 'video'),
        quality,
    );
}

/**
 * The audio Representation for a video without its own: Role "main" first (what a player starts
 * with), then the page's language, then the highest bandwidth.
 */
export function chooseAudio(period: readonly Representation[], preferredLang?: string): Representation | undefined {
    const want = primaryLang(preferredLang);
    const rank = (r: Representation): number[] => [
        r.main ? 1 : 0,
        want && primaryLang(r.lang) === want ? 1 : 0,
        r.bandwidth,
    ];
    const byRank = (a: Representation, b: Representation): number => {
        const [ra, rb] = [rank(a), rank(b)];
        const i = ra.findIndex((x, k) => x !== rb[k]);
        return i < 0 ? 0 : rb[i]! - ra[i]!;
    };
    return period.filter((r) => r.kind === 'audio').sort(byRank)[0];
}

/**
 * Encrypted media cannot be used: refused when any video Representation (a player could switch to
 * any of them) or the chosen audio carries ContentProtection, before anything is fetched.
 */
export function refuseDrm(periods: readonly Representation[][], audio: readonly (Representation | undefined)[]): void {
    const protectedReps = [...periods.flat().filter((r) => r.kind === 'video'), ...audio].filter(
        (r) => r && r.drm.length > 0,
    );
    if (protectedReps.length === 0) return;
    const schemes = [...new Set(protectedReps.flatMap((r) => r!.drm))];
    throw new DrmError(`DASH ContentProtection: ${schemes.join(', ')}`);
}
