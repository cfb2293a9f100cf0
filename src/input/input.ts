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

/** Header name → value, names lower-cased (the form the rest of the crawler uses). */
export type HeaderMap = Record<string, string>;

/**
 * One source of Apify's `requestListSources` editor, as Crawlee's `RequestList` reads it: a URL, or a
 * remote text file of URLs (`requestsFromUrl`, also what an uploaded file becomes); `headers` travel
 * with every URL of the source.
 */
export type StartSource = { url: string; headers?: HeaderMap } | { requestsFromUrl: string; headers?: HeaderMap };

/** A cookie in the shape Playwright's `addCookies` takes; `hostOnly` cookies match their domain only. */
export interface CookieInput {
    name: string;
    value: string;
    domain: string;
    path: string;
    hostOnly: boolean;
    /** Unix time in seconds; absent for a session cookie. */
    expires?: number;
    httpOnly?: boolean;
    secure?: boolean;
    sameSite?: 'Strict' | 'Lax' | 'None';
}

export interface CrawlInput {
    startUrls: StartSource[];
    /** Sent to the start URLs' sites with every page and media request (sites behind a login). */
    cookies: CookieInput[];
    headers: HeaderMap;
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
    /** Let pages and media reach loopback, link-local and private addresses (net/address-policy.ts). */
    allowPrivateNetwork: boolean;
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
    allowPrivateNetwork: false,
} as const;

type Raw = Record<string, unknown>;

export function parseVideoQuality(value: unknown): VideoQuality {
    if (value === 'highest' || value === 'lowest') return { kind: value };
    if (typeof value === 'string') {
        const m = /^(\d{2,5})p$/.exec(value);
        if (m) return { kind: 'maxHeight', height: Number(m[1]) };
    }
    throw new InputError(
        'videoQuality',
        `expected "highest", "lowest" or a height such as "720p", got ${JSON.stringify(value)}`,
    );
}

function int(raw: Raw, field: keyof typeof DEFAULTS, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const value = raw[field] ?? DEFAULTS[field];
    if (typeof value !== 'number' || !Number.isInteger(value)) {
        throw new InputError(field, `expected an integer, got ${JSON.stringify(value)}`);
    }
    if (value < min || value > max) throw new InputError(field, `must be between ${min} and ${max}, got ${value}`);
    return value;
}

function bool(raw: Raw, field: 'downloadVideos' | 'downloadImages' | 'subtitles' | 'allowPrivateNetwork'): boolean {
    const value = raw[field] ?? DEFAULTS[field];
    if (typeof value !== 'boolean') throw new InputError(field, `expected true or false, got ${JSON.stringify(value)}`);
    return value;
}

function httpUrl(value: unknown, field: string): string {
    if (typeof value !== 'string' || value.trim() === '')
        throw new InputError(field, `expected a URL string, got ${JSON.stringify(value)}`);
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

// RFC 9110 token; values may not break the header block.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Set by the HTTP client or the browser for each request: a user's value would break the request.
const CRAWLER_HEADERS = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'keep-alive', 'upgrade']);

function headerMap(value: unknown, field: string): HeaderMap {
    if (value === undefined || value === null) return {};
    if (typeof value !== 'object' || Array.isArray(value)) {
        throw new InputError(field, 'expected an object of header names and values, e.g. { "Authorization": "…" }');
    }
    const out: HeaderMap = {};
    for (const [name, v] of Object.entries(value as Raw)) {
        if (!HEADER_NAME.test(name)) throw new InputError(`${field}.${name}`, 'not a valid HTTP header name');
        if (CRAWLER_HEADERS.has(name.toLowerCase())) {
            throw new InputError(`${field}.${name}`, 'this header is set by the crawler for each request');
        }
        if ((typeof v !== 'string' && typeof v !== 'number') || /[\r\n\0]/.test(String(v))) {
            throw new InputError(`${field}.${name}`, `expected a one-line string value, got ${JSON.stringify(v)}`);
        }
        out[name.toLowerCase()] = String(v);
    }
    return out;
}

function startUrls(raw: Raw): StartSource[] {
    const value = raw.startUrls;
    if (!Array.isArray(value) || value.length === 0) {
        throw new InputError(
            'startUrls',
            'at least one start URL is required, e.g. [{ "url": "https://example.com/play/1.html" }]',
        );
    }
    // Apify's requestListSources editor gives { url } (a list), { requestsFromUrl } (a remote text file or an
    // upload), either with `headers`; scripts often give plain strings: accept all three.
    return value.map((entry, i): StartSource => {
        if (typeof entry !== 'object' || entry === null) return { url: httpUrl(entry, `startUrls[${i}].url`) };
        const e = entry as Raw;
        const headers = headerMap(e.headers, `startUrls[${i}].headers`);
        const withHeaders = Object.keys(headers).length ? { headers } : {};
        if (e.url === undefined && e.requestsFromUrl !== undefined) {
            return { requestsFromUrl: httpUrl(e.requestsFromUrl, `startUrls[${i}].requestsFromUrl`), ...withHeaders };
        }
        return { url: httpUrl(e.url, `startUrls[${i}].url`), ...withHeaders };
    });
}

const SAME_SITE: Record<string, CookieInput['sameSite']> = {
    strict: 'Strict',
    lax: 'Lax',
    none: 'None',
    no_restriction: 'None',
};

/**
 * Cookies as the console's users paste them: the "EditThisCookie"/Cookie-Editor export (`expirationDate`,
 * `hostOnly`, `sameSite: "no_restriction"`) or Playwright's own shape (`expires`, `sameSite: "Lax"`).
 */
function cookies(raw: Raw): CookieInput[] {
    const value = raw.cookies ?? [];
    if (!Array.isArray(value)) {
        throw new InputError('cookies', 'expected an array of cookies such as [{ "name", "value", "domain" }]');
    }
    return value.map((entry, i): CookieInput => {
        const field = `cookies[${i}]`;
        if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
            throw new InputError(field, 'expected an object with "name", "value" and "domain"');
        }
        const c = entry as Raw;
        if (typeof c.name !== 'string' || !HEADER_NAME.test(c.name)) {
            throw new InputError(`${field}.name`, `not a valid cookie name: ${JSON.stringify(c.name)}`);
        }
        if (typeof c.value !== 'string' || /[;\r\n\0]/.test(c.value)) {
            throw new InputError(`${field}.value`, 'expected a string without ";" or line breaks');
        }
        if (typeof c.domain !== 'string' || !/^\.?[a-z0-9.-]+$/i.test(c.domain) || !/[a-z0-9]/i.test(c.domain)) {
            const got = JSON.stringify(c.domain);
            throw new InputError(`${field}.domain`, `expected a host name such as ".example.com", got ${got}`);
        }
        const path = c.path ?? '/';
        if (typeof path !== 'string' || !path.startsWith('/')) {
            throw new InputError(`${field}.path`, 'expected a path starting with "/"');
        }
        const expires = c.expirationDate ?? c.expires;
        if (expires !== undefined && expires !== null && (typeof expires !== 'number' || !Number.isFinite(expires))) {
            throw new InputError(`${field}.expirationDate`, 'expected Unix time in seconds');
        }
        const sameSiteRaw = c.sameSite;
        let sameSite: CookieInput['sameSite'];
        if (typeof sameSiteRaw === 'string' && sameSiteRaw !== 'unspecified') {
            sameSite = SAME_SITE[sameSiteRaw.toLowerCase()];
            const expected = 'expected "Strict", "Lax" or "None"';
            if (!sameSite) throw new InputError(`${field}.sameSite`, `${expected}, got "${sameSiteRaw}"`);
        }
        for (const flag of ['secure', 'httpOnly', 'hostOnly'] as const) {
            if (c[flag] !== undefined && typeof c[flag] !== 'boolean') {
                throw new InputError(`${field}.${flag}`, 'expected true or false');
            }
        }
        // A cookie exported with hostOnly (or written without a leading dot by hand) matches that host only.
        const hostOnly = c.hostOnly === true || (c.hostOnly === undefined && !c.domain.startsWith('.'));
        const cookie: CookieInput = { name: c.name, value: c.value, domain: c.domain.toLowerCase(), path, hostOnly };
        // A session cookie (EditThisCookie's `session: true`, or -1 from Playwright) has no expiry.
        if (typeof expires === 'number' && expires > 0 && c.session !== true) cookie.expires = expires;
        if (c.secure !== undefined) cookie.secure = c.secure as boolean;
        if (c.httpOnly !== undefined) cookie.httpOnly = c.httpOnly as boolean;
        if (sameSite) cookie.sameSite = sameSite;
        return cookie;
    });
}

function stringList(raw: Raw, field: 'linkGlobs'): string[] {
    const value = raw[field] ?? [];
    if (!Array.isArray(value)) throw new InputError(field, 'expected an array of strings');
    return value.map((v, i) => {
        // Apify's globs editor gives { glob }, scripts give strings.
        const s = typeof v === 'object' && v !== null ? (v as Raw).glob : v;
        if (typeof s !== 'string' || s === '')
            throw new InputError(`${field}[${i}]`, 'expected a non-empty glob string');
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
        if (!Array.isArray(p.proxyUrls))
            throw new InputError('proxyConfiguration.proxyUrls', 'expected an array of proxy URLs');
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

/**
 * Locally each worker is a Node process with its own Chromium (~300–700 MB each on the demo); on the
 * platform each is a run. 32 is far above what one machine runs well and keeps a typo from starting 500 runs.
 */
export const MAX_WORKERS = 32;

function workers(raw: Raw): number {
    return int(raw, 'workers', 1, MAX_WORKERS);
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
        cookies: cookies(raw),
        headers: headerMap(raw.headers, 'headers'),
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
        allowPrivateNetwork: bool(raw, 'allowPrivateNetwork'),
    };
}
