/**
 * The one network policy: which hosts and addresses a page or a media request may reach. Pure.
 *
 * A cloud crawler renders pages written by strangers; a page (or a playlist, or a redirect) that
 * points at 169.254.169.254, 10.x or localhost must not make the crawler fetch from the network it
 * runs in. Refused: loopback, link-local (cloud metadata included), private (RFC 1918, IPv6 ULA),
 * carrier-grade NAT, unspecified, multicast, broadcast and reserved addresses, also when written in
 * another form: IPv4-mapped, -compatible or -translated IPv6, NAT64 (64:ff9b::/96), 6to4, and the
 * decimal, octal, hex or shortened IPv4 forms (the WHATWG URL parser turns `0x7f.1`, `2852039166`
 * and `0251.0376.0251.0376` into dotted quads; `hostClass` parses every host through it).
 *
 * A class is allowed when a start URL's own host is of that class (a local site, an intranet) or
 * with `allowPrivateNetwork`.
 */
import { BlockList, isIP } from 'node:net';

export type AddressClass =
    'loopback' | 'link-local' | 'private' | 'cgnat' | 'unspecified' | 'multicast' | 'broadcast' | 'reserved';

const RANGES: [AddressClass, string, number, 'ipv4' | 'ipv6'][] = [
    ['unspecified', '0.0.0.0', 8, 'ipv4'],
    ['private', '10.0.0.0', 8, 'ipv4'],
    ['cgnat', '100.64.0.0', 10, 'ipv4'],
    ['loopback', '127.0.0.0', 8, 'ipv4'],
    ['link-local', '169.254.0.0', 16, 'ipv4'],
    ['private', '172.16.0.0', 12, 'ipv4'],
    // IETF protocol assignments (192.0.0.0/24 holds NAT64/DS-Lite endpoints, 192.0.0.192 is Oracle's metadata).
    ['reserved', '192.0.0.0', 24, 'ipv4'],
    ['private', '192.168.0.0', 16, 'ipv4'],
    ['private', '198.18.0.0', 15, 'ipv4'],
    ['multicast', '224.0.0.0', 4, 'ipv4'],
    ['reserved', '240.0.0.0', 4, 'ipv4'],
    ['unspecified', '::', 128, 'ipv6'],
    ['loopback', '::1', 128, 'ipv6'],
    ['private', 'fc00::', 7, 'ipv6'],
    ['link-local', 'fe80::', 10, 'ipv6'],
    // Deprecated site-local: still routed inside some networks.
    ['private', 'fec0::', 10, 'ipv6'],
    ['multicast', 'ff00::', 8, 'ipv6'],
    // Local-use NAT64 (RFC 8215): a translator of the local network.
    ['private', '64:ff9b:1::', 48, 'ipv6'],
    ['reserved', '100::', 64, 'ipv6'],
];

const LISTS = new Map<AddressClass, BlockList>();
for (const [cls, net, prefix, type] of RANGES) {
    let list = LISTS.get(cls);
    if (!list) LISTS.set(cls, (list = new BlockList()));
    list.addSubnet(net, prefix, type);
}

/** 8 groups of 16 bits from an IPv6 literal (no brackets, no zone), or undefined. */
function ipv6Groups(ip: string): number[] | undefined {
    let text = ip;
    const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
    if (dotted) {
        const p = dotted[1]!.split('.').map(Number);
        text = `${text.slice(0, -dotted[1]!.length)}${((p[0]! << 8) | p[1]!).toString(16)}:${((p[2]! << 8) | p[3]!).toString(16)}`;
    }
    const [head, tail] = text.split('::');
    const parse = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
    const h = parse(head);
    const t = parse(tail);
    const groups = text.includes('::') ? [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t] : h;
    return groups.length === 8 && groups.every((g) => g >= 0 && g <= 0xffff) ? groups : undefined;
}

const v4 = (hi: number, lo: number): string => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;

/**
 * The IPv4 address an IPv6 address carries and is delivered to: IPv4-mapped (::ffff:a.b.c.d),
 * IPv4-translated (::ffff:0:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d), 6to4
 * (2002:AABB:CCDD::). Pure.
 */
export function embeddedIpv4(ip: string): string | undefined {
    const g = ipv6Groups(ip);
    if (!g) return undefined;
    const zeros = (n: number) => g.slice(0, n).every((x) => x === 0);
    if (zeros(5) && g[5] === 0xffff) return v4(g[6]!, g[7]!);
    if (zeros(4) && g[4] === 0xffff && g[5] === 0) return v4(g[6]!, g[7]!);
    if (zeros(6) && (g[6] !== 0 || g[7]! > 1)) return v4(g[6]!, g[7]!);
    if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return v4(g[6]!, g[7]!);
    if (g[0] === 0x2002) return v4(g[1]!, g[2]!);
    return undefined;
}

/** The class of an IP address (IPv6 with or without brackets), undefined for a public one. Pure. */
export function addressClass(address: string): AddressClass | undefined {
    const ip = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
    const family = isIP(ip);
    if (family === 4) {
        if (ip === '255.255.255.255') return 'broadcast';
        for (const [cls, list] of LISTS) if (list.check(ip, 'ipv4')) return cls;
        return undefined;
    }
    if (family !== 6) return undefined;
    const inner = embeddedIpv4(ip);
    if (inner) return addressClass(inner);
    for (const [cls, list] of LISTS) if (list.check(ip, 'ipv6')) return cls;
    return undefined;
}

/**
 * A URL's host as the WHATWG URL parser (Chromium's too) reads it: lower case, IPv4 in any
 * notation as a dotted quad, IPv6 compressed, no trailing dot. Pure.
 */
export function canonicalHost(host: string): string | undefined {
    try {
        const h = /^[^[].*:/.test(host) ? `[${host}]` : host;
        return new URL(`http://${h}/`).hostname.replace(/\.$/, '');
    } catch {
        return undefined;
    }
}

/**
 * The class of a URL's host as written: an IP literal's, `localhost` and `*.localhost` are loopback
 * (browsers resolve them there without asking DNS); a host name is undefined (what it resolves to
 * decides). Pure.
 */
export function hostClass(host: string): AddressClass | undefined {
    const h = canonicalHost(host);
    if (h === undefined) return undefined;
    if (h === 'localhost' || h.endsWith('.localhost')) return 'loopback';
    return isIP(h.replace(/^\[|\]$/g, '')) ? addressClass(h) : undefined;
}

const WHAT: Record<AddressClass, string> = {
    loopback: 'is a loopback address',
    'link-local': 'is link-local (where cloud metadata services answer)',
    private: 'is in a private network',
    cgnat: 'is in the carrier-grade NAT range',
    unspecified: 'is the unspecified address',
    multicast: 'is a multicast address',
    broadcast: 'is the broadcast address',
    reserved: 'is in a reserved range',
};

/** What the run may reach beyond the public internet. */
export interface NetworkPolicy {
    /** Every class allowed (`allowPrivateNetwork`). */
    all: boolean;
    /** The classes the start URLs' own hosts are in. */
    allowed: ReadonlySet<AddressClass>;
}

export const OPEN_POLICY: NetworkPolicy = { all: true, allowed: new Set() };

/** The policy from the classes of the start URLs' hosts (as written or resolved) and the input field. Pure. */
export function networkPolicy(
    startClasses: readonly (AddressClass | undefined)[],
    allowPrivateNetwork: boolean,
): NetworkPolicy {
    return {
        all: allowPrivateNetwork,
        allowed: new Set(startClasses.filter((c): c is AddressClass => c !== undefined)),
    };
}

function because(policy: NetworkPolicy): string {
    if (!policy.allowed.size) return 'the start URL is public';
    return `the start URLs allow only ${[...policy.allowed].join(', ')} addresses`;
}

/**
 * Why `address` (the host as written, or what it resolved to) may not be reached, or undefined when
 * it may. `host` names the host in the reason when it differs from the address. Pure.
 */
export function refusal(policy: NetworkPolicy, address: string, host?: string): string | undefined {
    if (policy.all) return undefined;
    const cls = hostClass(address);
    if (!cls || policy.allowed.has(cls)) return undefined;
    const shown = canonicalHost(address) ?? address;
    const subject = host && host !== shown && host !== address ? `${host} resolves to ${shown}, which` : shown;
    return `refused: ${subject} ${WHAT[cls]} (${because(policy)})`;
}

/** Why a URL may not be fetched as written (its host an address or `localhost`), or undefined. Pure. */
export function urlRefusal(policy: NetworkPolicy, url: string): string | undefined {
    if (policy.all) return undefined;
    let host: string;
    try {
        const u = new URL(url);
        if (u.protocol !== 'http:' && u.protocol !== 'https:' && u.protocol !== 'ws:' && u.protocol !== 'wss:')
            return undefined;
        host = u.hostname;
    } catch {
        return undefined;
    }
    return refusal(policy, host);
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Host patterns (as Chromium writes URLs: dotted quads, compressed IPv6) of each refused class. */
const PATTERNS: Record<AddressClass, string[]> = {
    loopback: ['127.*', 'localhost', 'localhost:*', '*.localhost', '*.localhost:*', '[::1]*'],
    'link-local': ['169.254.*', '[fe8*', '[fe9*', '[fea*', '[feb*'],
    private: [
        '10.*',
        '192.168.*',
        ...range(16, 31).map((n) => `172.${n}.*`),
        '198.18.*',
        '198.19.*',
        '[fc*',
        '[fd*',
        '[fec*',
        '[fed*',
        '[fee*',
        '[fef*',
        '[64:ff9b:1:*',
    ],
    cgnat: range(64, 127).map((n) => `100.${n}.*`),
    unspecified: ['0.*', '[::]*'],
    multicast: [...range(224, 239).map((n) => `${n}.*`), '[ff*'],
    broadcast: ['255.255.255.255*'],
    reserved: [...range(240, 254).map((n) => `${n}.*`), '192.0.0.*'],
};

/**
 * URL patterns for Chromium's `Network.setBlockedURLs` that match URLs whose host, as written, is
 * of a refused class: the browser checks them on every redirect hop too, which a route does not
 * see. They may also catch a rare public name that starts like an address (`10.example`). The
 * IPv6 forms that embed an IPv4 address have no exact wildcard: the route refuses them as a first
 * request, a redirect hop to one is not caught in the browser (the downloader checks every hop). Pure.
 */
export function blockedUrlPatterns(policy: NetworkPolicy): string[] {
    if (policy.all) return [];
    const classes = (Object.keys(PATTERNS) as AddressClass[]).filter((c) => !policy.allowed.has(c));
    return classes.flatMap((c) =>
        PATTERNS[c].flatMap((host) => [`http://${host}/*`, `https://${host}/*`].map((p) => p.replace('*/*', '*'))),
    );
}
