/**
 * The network policy (address-policy.ts) where Node makes requests: every HTTP client of the actor
 * (manifests, keys, probes, refreshes, segments, images) goes through `guardRequest`.
 *
 * - The URL as written (an address literal, `localhost`) is checked before anything is sent, and
 *   so is every redirect hop (got's `beforeRedirect` hook).
 * - Without a proxy, host names are resolved by `policyLookup`, which got uses to connect
 *   (`dnsLookup`): the socket goes to the very address that was checked, so a name whose DNS answer
 *   changes between a check and the connect (DNS rebinding) cannot reach a refused one. Measured with
 *   got-scraping 4.2: the lookup is used for http, https (its HTTP/2 probe included) and redirects.
 * - With a proxy the proxy resolves names: only what the URL says can be checked.
 */
import dns, { type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { PrivateNetworkError } from '../errors.js';
import {
    addressClass,
    hostClass,
    networkPolicy,
    OPEN_POLICY,
    refusal,
    urlRefusal,
    type NetworkPolicy,
} from './address-policy.js';

let policy: NetworkPolicy = OPEN_POLICY;

/** Page requests the browser was refused in this process (the report and the run summary count them). */
export const refusedPageRequests = { count: 0 };

/** Set once per run, before the first request (crawl.ts); until then nothing is refused. */
export function setNetworkPolicy(next: NetworkPolicy): void {
    policy = next;
}

export const currentNetworkPolicy = (): NetworkPolicy => policy;

/** Throws `PrivateNetworkError` when the URL as written may not be reached. */
export function checkUrl(url: string): void {
    const reason = urlRefusal(policy, url);
    if (reason) throw new PrivateNetworkError(reason);
}

/** Why a host's addresses may not be reached (the first refused one), or undefined. */
export function addressesRefusal(host: string, addresses: readonly string[]): string | undefined {
    for (const address of addresses) {
        const reason = refusal(policy, address, host);
        if (reason) return reason;
    }
    return undefined;
}

const ERROR_CODE = 'EPRIVATENETWORK';

type Resolver = (
    hostname: string,
    options: dns.LookupAllOptions,
    callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

let resolver: Resolver = dns.lookup;

/** Tests: the system resolver replaced (a name that resolves to loopback without touching /etc/hosts). */
export function setResolver(next: Resolver | undefined): void {
    resolver = next ?? dns.lookup;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * `dns.lookup` that refuses a name any of whose addresses the policy refuses (one refused address
 * is enough: the connection may pick any of them).
 */
export function policyLookup(hostname: string, options: dns.LookupOptions | LookupCallback, cb?: LookupCallback): void {
    const callback = (typeof options === 'function' ? options : cb)!;
    const opts: dns.LookupOptions = typeof options === 'function' ? {} : options;
    resolver(hostname, { ...opts, all: true }, (error, addresses) => {
        if (error) return callback(error, '');
        const reason = addressesRefusal(
            hostname,
            addresses.map((a) => a.address),
        );
        if (reason) {
            const refused = Object.assign(new Error(reason), { code: ERROR_CODE });
            return callback(refused, '');
        }
        if (opts.all) return callback(null, addresses);
        const first = addresses[0];
        if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '');
        callback(null, first.address, first.family);
    });
}

/** The same request options with the policy applied: to be spread into a got(-scraping) request. */
export function guardRequest<T extends { url: string | URL; proxyUrl?: string; hooks?: object }>(request: T): T {
    checkUrl(String(request.url));
    if (policy.all) return request;
    // The request's own hooks stay (credentials.ts sets a beforeRequest hook per hop).
    const hooks = (request.hooks ?? {}) as { beforeRedirect?: unknown[] };
    const beforeRedirect = [
        ...(hooks.beforeRedirect ?? []),
        (options: { url?: URL | string }) => checkUrl(String(options.url)),
    ];
    return {
        ...request,
        ...(request.proxyUrl ? {} : { dnsLookup: policyLookup }),
        hooks: { ...hooks, beforeRedirect },
    };
}

/** A refusal that surfaced inside got (a lookup or redirect hook) as the error the rest of the crawler knows. */
export function asPolicyError(error: unknown): unknown {
    if (error instanceof PrivateNetworkError) return error;
    let e: unknown = error;
    for (let depth = 0; e && depth < 4; depth++, e = (e as { cause?: unknown }).cause) {
        if (e instanceof PrivateNetworkError) return e;
        const { code, message } = e as { code?: string; message?: string };
        if (code === ERROR_CODE && message) return new PrivateNetworkError(message.replace(/^.*?(refused: )/, '$1'));
    }
    return error;
}

let proxied = false;

export const isProxied = (): boolean => proxied;

/** Whether requests go through a proxy (which then resolves names): set with the policy. */
export function setProxied(value: boolean): void {
    proxied = value;
}

// A name that does not resolve is refused by no policy: its fetch fails on its own.
const lookupAll = (host: string): Promise<string[]> =>
    new Promise((resolve) =>
        resolver(host, { all: true }, (error, list) => resolve(error ? [] : list.map((a) => a.address))),
    );

/**
 * Why one of these URLs may not be reached, or undefined: as written, and without a proxy by what
 * their host names resolve to (once per host). For a video's units before any is fetched, so that
 * a playlist pointing into a private network is refused whole, not downloaded in part.
 */
export async function urlsRefusal(urls: Iterable<string>): Promise<string | undefined> {
    if (policy.all) return undefined;
    const hosts = new Map<string, string>();
    for (const url of urls) {
        if (!/^https?:/i.test(url)) continue;
        const reason = urlRefusal(policy, url);
        if (reason) return reason;
        const host = new URL(url).hostname;
        if (!hosts.has(host)) hosts.set(host, url);
    }
    if (proxied) return undefined;
    for (const host of hosts.keys()) {
        if (isIP(host.replace(/^\[|\]$/g, ''))) continue;
        const reason = addressesRefusal(host, await lookupAll(host));
        if (reason) return reason;
    }
    return undefined;
}

/**
 * The run's policy from its start URLs (as written, else what their host names resolve to when no
 * proxy resolves them) and `allowPrivateNetwork`; set for every client of this process.
 */
export async function applyStartPolicy(
    startUrls: readonly string[],
    allowPrivateNetwork: boolean,
    viaProxy: boolean,
): Promise<NetworkPolicy> {
    const classes = await Promise.all(
        startUrls.map(async (url) => {
            const host = new URL(url).hostname;
            const cls = hostClass(host);
            if (cls || viaProxy || isIP(host.replace(/^\[|\]$/g, ''))) return [cls];
            return (await lookupAll(host)).map(addressClass);
        }),
    );
    const next = networkPolicy(classes.flat(), allowPrivateNetwork);
    setNetworkPolicy(next);
    setProxied(viaProxy);
    return next;
}
