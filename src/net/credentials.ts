/**
 * Credentials live here, in memory only, and are added to each request as it leaves (every redirect hop
 * included), never copied from another request's headers nor written to a storage record:
 *
 * - the input's `cookies`, and the browser's own cookies (what pages set), in one jar that answers, per
 *   URL, what a browser would send there (RFC 6265 §5.4: domain, host-only, path, secure, expiry). The
 *   downloader used to reuse a page's Cookie header for an image on another host.
 * - the input's `headers` (to the start URLs' sites) and each start source's own headers (to its page's
 *   site), by the rules of site-access.ts.
 *
 * Headers that travel with media (jobs in the state store, requests in the queues) are `strip`ped of
 * these, so no record holds a secret: a resumed run gets them from its input again. The browser's own
 * cookies are not kept across a resume (a resumed download goes with the input's cookies only).
 */
import type { CookieInput, HeaderMap } from '../input/input.js';
import { cookiesFor, pageRequestHeaders } from './site-access.js';
import { cookieHeader, DEFAULT_USER_AGENT, type Headers } from './headers.js';

/** A cookie as Playwright's `context.cookies()` gives it: a leading dot means "and subdomains". */
export interface BrowserCookie {
    name: string;
    value: string;
    domain: string;
    path: string;
    /** Unix time in seconds, -1 for a session cookie. */
    expires: number;
    secure: boolean;
}

/** A browser cookie in the jar's form. Pure. */
export function fromBrowserCookie(c: BrowserCookie): CookieInput {
    const cookie: CookieInput = {
        name: c.name,
        value: c.value,
        domain: c.domain.replace(/^\./, '').toLowerCase(),
        path: c.path || '/',
        hostOnly: !c.domain.startsWith('.'),
        secure: c.secure,
    };
    if (c.expires > 0) cookie.expires = c.expires;
    return cookie;
}

export interface CredentialSources {
    cookies: readonly CookieInput[];
    /** The input's `headers`, for the start URLs' sites. */
    headers: HeaderMap;
    sites: readonly string[];
    /** The start requests with their source's own headers. */
    starts: readonly { url: string; headers: HeaderMap }[];
}

/** got's options as its `beforeRequest` hook sees them: the URL of this hop and its headers. */
interface HopOptions {
    url?: URL | string;
    headers: Record<string, string | string[] | undefined>;
}

/**
 * Headers every request carries anyway: when the input gives them (a Referer a site checks), only the
 * input's value is a credential; the browser's own (the page as Referer) still goes to every host.
 */
const ALWAYS_SENT = new Set(['referer', 'user-agent']);

export class Credentials {
    private readonly jar = new Map<string, CookieInput>();
    private global: HeaderMap = {};
    private sites: readonly string[] = [];
    private readonly own = new Map<string, HeaderMap>();
    /** Header names that only this class may set on a request (lower case). */
    private readonly names = new Set(['cookie']);
    /** The input's values of the headers every request has anyway (Referer, User-Agent). */
    private readonly values = new Set<string>();

    configure(sources: CredentialSources): void {
        this.global = { ...sources.headers };
        this.sites = [...sources.sites];
        const secret = (name: string, value: string): void => {
            if (ALWAYS_SENT.has(name)) this.values.add(value);
            else this.names.add(name);
        };
        for (const [name, value] of Object.entries(sources.headers)) secret(name.toLowerCase(), value);
        for (const s of sources.starts) {
            const own: HeaderMap = {};
            for (const [name, value] of Object.entries(s.headers)) {
                own[name.toLowerCase()] = value;
                secret(name.toLowerCase(), value);
            }
            if (Object.keys(own).length) this.own.set(s.url, own);
        }
        this.addCookies(sources.cookies);
    }

    /** Cookies into the jar; a newer cookie of the same name, domain and path replaces the older (RFC 6265 §5.3). */
    addCookies(cookies: readonly CookieInput[]): void {
        for (const c of cookies) this.jar.set(`${c.name}\t${c.domain.replace(/^\./, '')}\t${c.path}`, c);
    }

    addBrowserCookies(cookies: readonly BrowserCookie[]): void {
        this.addCookies(cookies.map(fromBrowserCookie));
    }

    /** A start source's own headers, for its page's requests in the browser. */
    ownHeaders(pageUrl: string): HeaderMap {
        return { ...this.own.get(pageUrl) };
    }

    /** The Cookie header a browser would send to `url`, longer paths first (RFC 6265 §5.4). */
    cookieFor(url: string): string | undefined {
        const matching = cookiesFor(url, [...this.jar.values()]).sort((a, b) => b.path.length - a.path.length);
        return matching.length ? cookieHeader(matching) : undefined;
    }

    /** The secret headers a request to `url` carries, for media of the page at `pageUrl`. */
    headersFor(url: string, pageUrl?: string): Headers {
        const page = { url: pageUrl ?? url, headers: pageUrl ? (this.own.get(pageUrl) ?? {}) : {} };
        const headers: Headers = pageRequestHeaders(url, page, this.global, this.sites);
        const cookie = this.cookieFor(url);
        if (cookie) headers.cookie = cookie;
        return headers;
    }

    /** Headers without any credential: what may travel with media and be stored. */
    strip(headers: Headers): Headers {
        return Object.fromEntries(Object.entries(headers).filter(([name, value]) => !this.isSecret(name, value)));
    }

    /** Whether a header is a credential: a cookie, an input header, a Referer or User-Agent the input gave. */
    private isSecret(name: string, value: unknown): boolean {
        const lower = name.toLowerCase();
        return ALWAYS_SENT.has(lower) ? typeof value === 'string' && this.values.has(value) : this.names.has(lower);
    }

    /**
     * A got `beforeRequest` hook: runs for the first request and again for every redirect hop, with that
     * hop's URL. Whatever credential the headers carry is dropped and this hop's own are set.
     */
    hook(pageUrl?: string): (options: HopOptions) => void {
        return (options) => {
            for (const [name, value] of Object.entries(options.headers)) {
                if (this.isSecret(name, value)) delete options.headers[name];
            }
            const url = String(options.url ?? '');
            if (url) Object.assign(options.headers, this.headersFor(url, pageUrl));
            // An input Referer or User-Agent is for its sites only (and stored nowhere): elsewhere the page
            // goes as the Referer, as from a browser, and the default User-Agent.
            options.headers['user-agent'] ??= DEFAULT_USER_AGENT;
            if (pageUrl && pageUrl !== url) options.headers.referer ??= pageUrl;
        };
    }

    /** An HTTP client request with the headers stripped and the hook on (Crawlee's `HttpRequest` shape). */
    apply<T extends { url: string; headers?: Headers }>(request: T, pageUrl?: string): T & { hooks: object } {
        return {
            ...request,
            headers: this.strip(request.headers ?? {}),
            hooks: { beforeRequest: [this.hook(pageUrl)] },
        };
    }
}

/** This process's credentials (every worker process configures its own from the input). */
export const credentials = new Credentials();
