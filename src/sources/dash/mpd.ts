/**
 * MPD text → its Representations, Period by Period, with everything the choice of tracks needs.
 *
 * Why mpd-parser (video.js's parser, the one VHS plays DASH with): it implements the parts of
 * ISO/IEC 23009-1 that are easy to get subtly wrong: BaseURL inheritance (MPD, Period,
 * AdaptationSet, Representation), attribute inheritance, SegmentTemplate with $Number$/$Time$/
 * $RepresentationID$/$Bandwidth$ and %0Nd padding, SegmentTimeline with @r repeats, SegmentList
 * with mediaRange, SegmentBase, Period@start chaining and the live window of a dynamic MPD.
 *
 * Its `parse()` is not used: its last step (toM3u8) shapes the result as HLS and loses what we
 * need. It renumbers every segment from 0, joins Periods only when their BaseURL and
 * Representation@id are equal (ad periods have their own), and reads ContentProtection only on an
 * AdaptationSet and only for schemes it knows. So this module calls the steps before it
 * (stringToMpdXml → inheritAttributes → toPlaylists) and does the rest itself: Period joining, DRM
 * detection, trick-play and Role flags read from the DOM, Period@duration filled in (the library
 * otherwise spreads a whole MPD's duration of @duration segments over its last Period), a guard
 * against absurd segment counts before the library allocates them (segments.ts), and the sidx
 * index of SegmentBase (sidx.ts).
 */
import { inheritAttributes, stringToMpdXml, type RepresentationInfo } from 'mpd-parser';
import { ManifestError } from '../../errors.js';
import { resolveUrl } from '../../urls.js';

export type RepresentationKind = 'video' | 'audio' | 'other';

export interface Representation {
    /** `period.adaptationSet.representation`, indexes from 0: unique even without @id. */
    key: string;
    period: number;
    id: string;
    kind: RepresentationKind;
    bandwidth: number;
    resolution?: { width: number; height: number };
    /** A trick-play (I-frame) track: never the video to download. */
    isIFrameOnly: boolean;
    codecs?: string;
    lang?: string;
    /** Role value="main" on its AdaptationSet or itself. */
    main: boolean;
    /** A video that carries its own audio (audio codec in @codecs, or an audio ContentComponent). */
    muxedAudio: boolean;
    /** ContentProtection schemes on its AdaptationSet or itself, by name. */
    drm: string[];
    info: RepresentationInfo;
}

export interface ParsedMpd {
    dynamic: boolean;
    /** Dynamic with no stated duration: a stream with no promised end. */
    endless: boolean;
    /** MPD@minimumUpdatePeriod in seconds: how often a dynamic MPD is looked at again. */
    refreshSecs?: number;
    /** Representations of each Period, in document order. */
    periods: Representation[][];
}

/** The `<MPD` root, after an optional BOM, XML declaration and comments. */
const MPD_ROOT = /^\uFEFF?\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--[\s\S]*?-->\s*)*<(?:[\w.-]+:)?MPD[\s>/]/;

export function looksLikeMpd(text: string, contentType?: string): boolean {
    if (contentType?.split(';')[0]?.trim().toLowerCase() === 'application/dash+xml') return true;
    return MPD_ROOT.test(text.slice(0, 4096));
}

/** Not an MPD: say what it was instead (an HTML error page, JSON), like the HLS source does. */
export function notAnMpd(text: string, contentType: string): ManifestError {
    const what = contentType ? contentType.split(';')[0] : 'unknown content type';
    const preview = text
        .replace(/^\uFEFF/, '')
        .trimStart()
        .slice(0, 40)
        .replace(/\s+/g, ' ');
    return new ManifestError(`not a DASH MPD (${what}, starts with ${JSON.stringify(preview)})`);
}

const KEY_ATTRIBUTE = 'data-media-crawler-key';

const DRM_SYSTEMS: Record<string, string> = {
    'edef8ba9-79d6-4ace-a3c8-27dcd51d21ed': 'Widevine',
    '9a04f079-9840-4286-ab92-e65be0885f95': 'PlayReady',
    '94ce86fb-07ff-4f43-adb8-93d2fa968ca2': 'FairPlay',
    '1077efec-c0b2-4d02-ace3-3c1e52e2fb4b': 'ClearKey',
    'e2719d58-a985-b3c9-781a-b030af78d30e': 'ClearKey',
    'f239e769-efa3-4850-9c16-a903c6932efb': 'Adobe Primetime',
    '5e629af5-38da-4063-8977-97ffbd9902d4': 'Marlin',
};

const AUDIO_CODEC = /^(mp4a|ac-3|ec-3|ac-4|opus|vorbis|flac|mp3|dtsc|dtse|dtsh|dtsl|alac)/i;
const VIDEO_CODEC = /^(avc[13]|hvc1|hev1|dvh1|dvhe|vp0[89]|vp8|vp9|av01|mp4v)/i;
const TEXT_CODEC = /^(stpp|wvtt|tx3g|c608|c708)/i;

interface DomFacts {
    drm: string[];
    trick: boolean;
    main: boolean;
    muxedAudio: boolean;
}

/** xmldom nodes: children by tag name, as mpd-parser itself finds them. */
function children(el: Element, name: string): Element[] {
    const out: Element[] = [];
    for (let i = 0; i < el.childNodes.length; i++) {
        const node = el.childNodes[i] as Element;
        if (node.tagName === name) out.push(node);
    }
    return out;
}

function drmName(cp: Element): string {
    const scheme = (cp.getAttribute('schemeIdUri') ?? '').trim().toLowerCase();
    if (scheme === 'urn:mpeg:dash:mp4protection:2011') return cp.getAttribute('value') || 'cenc';
    const uuid = scheme.replace(/^urn:uuid:/, '');
    return DRM_SYSTEMS[uuid] ?? (scheme || 'unknown scheme');
}

function facts(adaptationSet: Element, representation: Element): DomFacts {
    const both = [adaptationSet, representation];
    const all = (name: string) => both.flatMap((el) => children(el, name));
    const drm = [...new Set(all('ContentProtection').map(drmName))];
    const trick = all('EssentialProperty').some((p) => /trickmode/i.test(p.getAttribute('schemeIdUri') ?? ''));
    const main = all('Role').some((r) => r.getAttribute('value') === 'main');
    const muxedAudio = children(adaptationSet, 'ContentComponent').some(
        (c) => c.getAttribute('contentType') === 'audio',
    );
    return { drm, trick, main, muxedAudio };
}

const ISO_DURATION = /^P(?:([\d.]+)Y)?(?:([\d.]+)M)?(?:([\d.]+)D)?(?:T(?:([\d.]+)H)?(?:([\d.]+)M)?(?:([\d.]+)S)?)?$/;
/** Seconds per unit of ISO_DURATION's groups; a year and a month as mpd-parser counts them. */
const ISO_UNITS = [365 * 86400, 30 * 86400, 86400, 3600, 60, 1];

/** ISO 8601 durations as MPDs write them (`PT1H2M3.5S`, also `P0Y0M0DT0H3M30.000S`). */
export function isoSeconds(value: string | null): number | undefined {
    const m = value ? ISO_DURATION.exec(value.trim()) : null;
    if (!m) return undefined;
    const seconds = ISO_UNITS.reduce((sum, unit, i) => sum + Number(m[i + 1] ?? 0) * unit, 0);
    return Number.isFinite(seconds) ? seconds : undefined;
}

/** Period@start, else the previous Period's end; the first Period of a static MPD starts at 0. */
function periodStarts(periods: Element[], staticMpd: boolean): (number | undefined)[] {
    const starts: (number | undefined)[] = [];
    periods.forEach((p, i) => {
        let start = isoSeconds(p.getAttribute('start'));
        if (start === undefined && i === 0 && staticMpd) start = 0;
        if (start === undefined && i > 0) {
            const prev = starts[i - 1];
            const prevDuration = isoSeconds(periods[i - 1]!.getAttribute('duration'));
            if (prev !== undefined && prevDuration !== undefined) start = prev + prevDuration;
        }
        starts.push(start);
    });
    return starts;
}

/**
 * Gives every Period whose end is known (next Period@start, or the presentation's duration for the
 * last one of a static MPD) a @duration, which is what mpd-parser counts @duration segments with.
 */
function fillPeriodDurations(mpd: Element, periods: Element[]): void {
    const staticMpd = mpd.getAttribute('type') !== 'dynamic';
    const starts = periodStarts(periods, staticMpd);
    const total = isoSeconds(mpd.getAttribute('mediaPresentationDuration'));
    periods.forEach((p, i) => {
        if (p.hasAttribute('duration')) return;
        const start = starts[i];
        const end = i + 1 < periods.length ? starts[i + 1] : staticMpd ? total : undefined;
        if (start !== undefined && end !== undefined && end > start) p.setAttribute('duration', `PT${end - start}S`);
    });
}

function kindOf(info: RepresentationInfo): RepresentationKind {
    const { mimeType = '', contentType = '', codecs = '', width, height } = info.attributes;
    const mime = mimeType.toLowerCase();
    const firstCodec = codecs.split(',')[0]?.trim() ?? '';
    if (contentType === 'text' || contentType === 'image' || /^(text|image)\/|ttml/.test(mime)) return 'other';
    if (TEXT_CODEC.test(firstCodec)) return 'other';
    if (contentType === 'video' || mime.startsWith('video/')) return 'video';
    if (contentType === 'audio' || mime.startsWith('audio/')) return 'audio';
    if (width || height || VIDEO_CODEC.test(firstCodec)) return 'video';
    return AUDIO_CODEC.test(firstCodec) ? 'audio' : 'other';
}

function representation(info: RepresentationInfo, key: string, fact: DomFacts): Representation {
    const a = info.attributes;
    const kind = kindOf(info);
    const codecs = a.codecs?.trim() || undefined;
    const audioCodec = (codecs ?? '').split(',').some((c) => AUDIO_CODEC.test(c.trim()));
    return {
        key,
        period: Number(key.split('.')[0]),
        id: a.id?.trim() || key,
        kind,
        bandwidth: Number.isFinite(a.bandwidth) ? a.bandwidth! : 0,
        resolution: a.width && a.height ? { width: a.width, height: a.height } : undefined,
        isIFrameOnly: fact.trick,
        codecs,
        lang: a.lang?.trim() || undefined,
        main: fact.main,
        muxedAudio: kind === 'video' && (audioCodec || fact.muxedAudio),
        drm: fact.drm,
        info,
    };
}

/** Library failures (malformed XML, a SegmentList without timing) as the pipeline's error. */
export function library<T>(what: string, run: () => T): T {
    try {
        return run();
    } catch (error) {
        if (error instanceof ManifestError) throw error;
        throw new ManifestError(`unusable DASH MPD (${what}: ${(error as Error).message})`, { cause: error });
    }
}

/**
 * Parses and annotates the MPD. `manifestUrl` is where it was fetched from (after redirects): the
 * base of relative BaseURLs. Every BaseURL is checked here, so a `file:` one is refused even when
 * mpd-parser's own resolver would mangle it into something relative.
 */
export function parseMpd(text: string, manifestUrl: string, now = Date.now()): ParsedMpd {
    const mpd = library('XML', () => stringToMpdXml(text.replace(/^\uFEFF/, '')));
    const periods = children(mpd, 'Period');
    for (const el of Array.from(mpd.getElementsByTagName('BaseURL'))) resolveUrl(el.textContent ?? '', manifestUrl);
    fillPeriodDurations(mpd, periods);
    const domFacts = new Map<string, DomFacts>();
    periods.forEach((period, p) =>
        children(period, 'AdaptationSet').forEach((set, a) =>
            children(set, 'Representation').forEach((rep, r) => {
                const key = `${p}.${a}.${r}`;
                // A mark that inheritAttributes carries into the attributes: ties each result to its node.
                rep.setAttribute(KEY_ATTRIBUTE, key);
                domFacts.set(key, facts(set, rep));
            }),
        ),
    );
    const { representationInfo } = library('structure', () =>
        inheritAttributes(mpd, { manifestUri: manifestUrl, NOW: now }),
    );
    const byPeriod: Representation[][] = periods.map(() => []);
    const seen = new Set<string>();
    for (const info of representationInfo) {
        const key = String(info.attributes[KEY_ATTRIBUTE]);
        // Several BaseURLs (CDN alternatives) repeat a Representation once per URL: the first is used.
        if (seen.has(key)) continue;
        seen.add(key);
        const rep = representation(info, key, domFacts.get(key)!);
        byPeriod[rep.period]!.push(rep);
    }
    const dynamic = mpd.getAttribute('type') === 'dynamic';
    return {
        dynamic,
        // A dynamic MPD that states no presentation duration promises no end: a live channel.
        endless: dynamic && !mpd.getAttribute('mediaPresentationDuration'),
        refreshSecs: isoSeconds(mpd.getAttribute('minimumUpdatePeriod')),
        periods: byPeriod,
    };
}
