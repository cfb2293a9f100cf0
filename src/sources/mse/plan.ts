/**
 * What a MediaSource-only player appended (captured by the page stage) → the video's plan: one
 * track per SourceBuffer (video `v`, audio `a`), each append one unit in append order, fetched
 * again from the network response it matched or moved from the file the page stage wrote.
 */
import { ManifestError } from '../../errors.js';
import type {
    MseAppend,
    MseBuffer,
    MseCapture,
    SegmentPlan,
    TrackName,
    TrackPlan,
    UnitSource,
    VideoPlan,
} from '../../model.js';

/**
 * An append as the page stage hands it on: the model's fields, plus whether it is an init section
 * (by its boxes) and its hash, which tells a player re-appending the same init section apart from
 * a new one.
 */
export interface CapturedAppend extends MseAppend {
    init?: boolean;
    sha256?: string;
}

/** A SourceBuffer's kind by its MIME type (`video/mp4; codecs="avc1…"`). Pure. */
export function bufferKind(mimeType: string): 'video' | 'audio' | undefined {
    const type = mimeType.trim().toLowerCase();
    if (type.startsWith('video/')) return 'video';
    if (type.startsWith('audio/')) return 'audio';
    return undefined;
}

const codecsOf = (mimeType: string): string | undefined => /codecs\s*=\s*"?([^";]+)"?/i.exec(mimeType)?.[1]?.trim();

function unitOf(append: CapturedAppend, captureUrl: string, where: string): UnitSource {
    if (append.localFile) return { url: captureUrl, localFile: append.localFile };
    if (append.url) return append.range ? { url: append.url, range: append.range } : { url: append.url };
    throw new ManifestError(`${where}: an append has neither a URL nor the page's bytes`);
}

/** One SourceBuffer → a track: init sections (each distinct one once) and the media appends. Pure. */
export function mseTrack(name: TrackName, buffer: MseBuffer, captureUrl: string, durationSecs: number): TrackPlan {
    const inits: UnitSource[] = [];
    const initBySha = new Map<string, number>();
    const segments: SegmentPlan[] = [];
    let current: number | undefined;
    for (const [i, raw] of buffer.appends.entries()) {
        const append = raw as CapturedAppend;
        const unit = unitOf(append, captureUrl, `${buffer.mimeType} append ${i}`);
        if (append.init) {
            const known = append.sha256 ? initBySha.get(append.sha256) : undefined;
            current = known ?? inits.push(unit) - 1;
            if (append.sha256) initBySha.set(append.sha256, current);
            continue;
        }
        segments.push({ ...unit, seq: segments.length, durationSecs: 0, init: current, discontinuity: false });
    }
    if (!segments.length) throw new ManifestError(`the ${buffer.mimeType || 'SourceBuffer'} got no media appends`);
    // Appends carry no durations of their own: reports get an even share.
    for (const s of segments) s.durationSecs = durationSecs / segments.length;
    return {
        name,
        sourceUrl: captureUrl,
        segments,
        inits,
        durationSecs,
        live: false,
        bytes: 'segments',
        codecs: codecsOf(buffer.mimeType),
    };
}

/** A capture → the plan; an incomplete capture is refused with its reason. Pure. */
export function planMse(url: string, capture: MseCapture): VideoPlan {
    if (!capture.complete) throw new ManifestError(capture.reason ?? 'the MediaSource capture is incomplete');
    const duration = capture.durationSecs;
    if (!(duration !== undefined && Number.isFinite(duration) && duration > 0)) {
        throw new ManifestError('the MediaSource capture has no duration');
    }
    const video = capture.buffers.find((b) => bufferKind(b.mimeType) === 'video');
    const audio = capture.buffers.find((b) => bufferKind(b.mimeType) === 'audio');
    // An audio player (a radio stream fed to an <audio>): the audio is the main track.
    const main = video ?? audio;
    if (!main) {
        const types = capture.buffers.map((b) => b.mimeType || '?').join(', ') || 'none';
        throw new ManifestError(`the page's MediaSource had no video or audio SourceBuffer (${types})`);
    }
    const tracks = [mseTrack('v', main, url, duration)];
    if (video && audio) tracks.push(mseTrack('a', audio, url, duration));
    const plan: VideoPlan = { format: 'mse', url, variantUrl: url, tracks, delivery: 'remux', relatedUrls: [] };
    return video ? plan : { ...plan, audioOnly: true };
}
