/**
 * The one place where input is validated. Everything downstream receives a fully defaulted,
 * well-typed `CrawlInput` and never re-checks it.
 */

export type VideoQuality = { kind: 'highest' } | { kind: 'lowest' } | { kind: 'maxHeight'; height: number };

export interface ProxyInput {
    useApifyProxy?: boolean;
    apifyProxyGroups?: string[];
    apifyProxyCountry?: string;
    proxyUrls?: string[];
}

export interface CrawlInput {
    startUrls: string[];
    linkGlobs: string[];
    maxPagesPerCrawl: number;
    downloadVideos: boolean;
    downloadImages: boolean;
    videoQuality: VideoQuality;
    minImageWidth: number;
    minImageHeight: number;
    maxConcurrency: number;
    maxRequestRetries: number;
    pageWaitSecs: number;
    proxyConfiguration: ProxyInput;
    archiveName?: string;
    /** Not in the contract's table: a guard against absurd playlists (100 000 segments). */
    maxSegmentsPerVideo: number;
    /** Local runs: folder every stored file also lands in (never deleted by a later run). */
    outputDir: string;
    workers: number;
    /** Keep subtitle tracks: `.vtt` files beside the video and muxed into the MP4. */
    subtitles: boolean;
    /** Longest recording of a live stream with no end (0: none); streams that end are followed to it. */
    maxLiveSecs: number;
}

/** Raised for input a person must fix; `field` names the offending field. */
export class InputError extends Error {
    override readonly name = 'InputError' as const;
    constructor(
        readonly field: string,
        message: string,
    ) {
        super(`Invalid input field "${field}": ${message}`);
    }
}

export const DEFAULTS = {
    linkGlobs: [] as string[],
    maxPagesPerCrawl: 100,
    downloadVideos: true,
    downloadImages: true,
    videoQuality: 'highest',
    minImageWidth: 64,
    minImageHeight: 64,
    maxConcurrency: 64,
    maxRequestRetries: 5,
    pageWaitSecs: 10,
    proxyConfiguration: { useApifyProxy: false } as ProxyInput,
    maxSegmentsPerVideo: 20_000,
    outputDir: 'downloads',
    workers: 1,
    subtitles: true,
    maxLiveSecs: 600,
} as const;

type Raw = Record<string, unknown>;

export function parseVideoQuality(value: unknown): VideoQuality {
    if (value === 'highest' || value === 'lowest') return { kind: value };
    if (typeof value === 'string') {
        const m = /^(\d{2,5})p$/.exec(value);
        if (m) return { kind: 'maxHeight', height: Number(m[1]) };
    }
    throw new InputError('videoQuality', `expected "highest", "lowest" or a height such as "720p", got ${JSON.stringify(value)}`);
}

function int(raw: Raw, field: keyof typeof DEFAULTS, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const value = raw[field] ?? DEFAULTS[field];
    if (typeof value !== 'number' || !Number.isInteger(value)) {
        throw new InputError(field, `expected an integer, got ${JSON.stringify(value)}`);
    }
    if (value < min || value > max) throw new InputError(field, `must be between ${min} and ${max}, got ${value}`);
    return value;
}

function bool(raw: Raw, field: 'downloadVideos' | 'downloadImages' | 'subtitles'): boolean {
    const value = raw[field] ?? DEFAULTS[field];
    if (typeof value !== 'boolean') throw new InputError(field, `expected true or false, got ${JSON.stringify(value)}`);
    return value;
}

function httpUrl(value: unknown, field: string): string {
    if (typeof value !== 'string' || value.trim() === '') throw new InputError(field, `expected a URL string, got ${JSON.stringify(value)}`);
    let url: URL;
    try {
        url = new URL(value.trim());
    } catch {
        throw new InputError(field, `"${value}" is not a valid absolute URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new InputError(field, `only http and https URLs are crawled, got "${url.protocol}"`);
    }
    return url.href;
}

function startUrls(raw: Raw): string[] {
    const value = raw.startUrls;
    if (!Array.isArray(value) || value.length === 0) {
        throw new InputError('startUrls', 'at least one start URL is required, e.g. [{ "url": "https://example.com/play/1.html" }]');
    }
    // Apify's requestListSources editor gives { url }, scripts often give plain strings: accept both.
    return value.map((entry, i) => {
        const url = typeof entry === 'object' && entry !== null ? (entry as Raw).url : entry;
        return httpUrl(url, `startUrls[${i}].url`);
    });
}

function stringList(raw: Raw, field: 'linkGlobs'): string[] {
    const value = raw[field] ?? [];
    if (!Array.isArray(value)) throw new InputError(field, 'expected an array of strings');
    return value.map((v, i) => {
        // Apify's globs editor gives { glob }, scripts give strings.
        const s = typeof v === 'object' && v !== null ? (v as Raw).glob : v;
        if (typeof s !== 'string' || s === '') throw new InputError(`${field}[${i}]`, 'expected a non-empty glob string');
        return s;
    });
}

function proxy(raw: Raw): ProxyInput {
    const value = raw.proxyConfiguration ?? DEFAULTS.proxyConfiguration;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new InputError('proxyConfiguration', 'expected an object such as { "useApifyProxy": false }');
    }
    const p = value as Raw;
    if (p.proxyUrls !== undefined) {
        if (!Array.isArray(p.proxyUrls)) throw new InputError('proxyConfiguration.proxyUrls', 'expected an array of proxy URLs');
        p.proxyUrls.forEach((u, i) => {
            try {
                new URL(String(u));
            } catch {
                throw new InputError(`proxyConfiguration.proxyUrls[${i}]`, 'not a valid proxy URL');
            }
        });
    }
    return p as ProxyInput;
}

function outputDir(raw: Raw): string {
    const value = raw.outputDir ?? DEFAULTS.outputDir;
    if (typeof value !== 'string' || value.trim() === '') {
        throw new InputError('outputDir', `expected a folder path, got ${JSON.stringify(value)}`);
    }
    return value.trim();
}

function workers(raw: Raw): number {
    const n = int(raw, 'workers', 1, 64);
    // Splitting a crawl across processes or runs is planned (shared request queue), not built yet:
    // saying so beats silently running one worker while the user waits for four.
    if (n > 1) throw new InputError('workers', `more than one worker is not available in this version yet, got ${n}; use 1`);
    return n;
}

/** Turns raw input (run input, INPUT.json or CLI) into a validated `CrawlInput`; throws `InputError`. */
export function parseInput(rawInput: unknown): CrawlInput {
    if (typeof rawInput !== 'object' || rawInput === null || Array.isArray(rawInput)) {
        throw new InputError('startUrls', 'input must be a JSON object with at least "startUrls"');
    }
    const raw = rawInput as Raw;
    const archiveName = raw.archiveName;
    if (archiveName !== undefined && archiveName !== null && archiveName !== '') {
        if (typeof archiveName !== 'string' || !/^[a-zA-Z0-9-]{1,63}$/.test(archiveName)) {
            throw new InputError('archiveName', 'a store name of 1-63 letters, digits and hyphens is required');
        }
    }
    return {
        startUrls: startUrls(raw),
        linkGlobs: stringList(raw, 'linkGlobs'),
        maxPagesPerCrawl: int(raw, 'maxPagesPerCrawl', 0),
        downloadVideos: bool(raw, 'downloadVideos'),
        downloadImages: bool(raw, 'downloadImages'),
        videoQuality: parseVideoQuality(raw.videoQuality ?? DEFAULTS.videoQuality),
        minImageWidth: int(raw, 'minImageWidth', 0),
        minImageHeight: int(raw, 'minImageHeight', 0),
        maxConcurrency: int(raw, 'maxConcurrency', 1, 1000),
        maxRequestRetries: int(raw, 'maxRequestRetries', 0, 100),
        pageWaitSecs: int(raw, 'pageWaitSecs', 0, 3600),
        proxyConfiguration: proxy(raw),
        archiveName: typeof archiveName === 'string' && archiveName !== '' ? archiveName : undefined,
        maxSegmentsPerVideo: int(raw, 'maxSegmentsPerVideo', 1),
        outputDir: outputDir(raw),
        workers: workers(raw),
        subtitles: bool(raw, 'subtitles'),
        maxLiveSecs: int(raw, 'maxLiveSecs', 0, 86_400),
    };
}
