/**
 * A forward proxy on loopback through which the browser's pages reach the network when the run has no
 * proxy of its own: it resolves each host name itself, checks every address with the run's policy
 * (guard.ts `policyLookup`) and connects to the very address it checked.
 *
 * Why: with a direct connection Chromium resolves names itself, after the page route's check
 * (pages/network-guard.ts), so a name whose DNS answer changes in between (rebinding) could reach a
 * private address from the browser; and Chromium's `Network.setBlockedURLs` patterns cannot express every
 * form a redirect hop may take (`[::ffff:10.0.0.9]`), nor see the hops of out-of-process iframes. Here each
 * connection, whatever led to it (a redirect, an iframe, a worker, a WebSocket), is checked on the address
 * it goes to. The route stays: it turns refusals into `skipped` items and counts them.
 *
 * Cost: every byte a page loads from a named host passes through Node. Measured (a page fetching 200 MB
 * from a loopback server by a name, 3 rounds, load average 21 on 2 cores): 10.4-12.2 s through this proxy
 * against 8.3-8.8 s directly, about 1.4 s of Node CPU per 200 MB including the server's share: ~17 MB/s
 * where a player needs a few. Loopback itself is never sent here: Chromium bypasses a proxy for loopback
 * hosts by default, and the route checks those as written.
 */
import http, { type IncomingMessage } from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { pipeline } from 'node:stream';
import { urlRefusal } from './address-policy.js';
import { currentNetworkPolicy, policyLookup, refusedPageRequests } from './guard.js';

export interface PolicyProxy {
    /** `http://127.0.0.1:<port>`, for Playwright's `proxy.server`. */
    url: string;
    /** Connections refused because of where their host name resolved (or its address as written). */
    refused: { count: number };
    close(): Promise<void>;
}

/** `host:port` of a CONNECT line (`[::1]:443` too), or undefined. Pure. */
export function connectTarget(authority: string | undefined): { host: string; port: number } | undefined {
    const m = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(authority ?? '');
    const port = Number(m?.[2]);
    if (!m || !(port > 0 && port < 65536)) return undefined;
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/** Why this host may not be reached as written (an address literal, `localhost`), or undefined. */
function asWrittenRefusal(host: string, port: number): string | undefined {
    const policy = currentNetworkPolicy();
    if (policy.all) return undefined;
    const literal = net.isIPv6(host) ? `[${host}]` : host;
    return urlRefusal(policy, `http://${literal}:${port}/`);
}

/** Connects to host:port through the policy: the socket, or the reason it was refused. */
function connectChecked(host: string, port: number): Promise<Socket | string> {
    const reason = asWrittenRefusal(host, port);
    if (reason) return Promise.resolve(reason);
    return new Promise((resolve) => {
        // `lookup` is used for names only; literals were checked above. The socket goes to the checked address.
        const socket = net.connect({ host, port, lookup: policyLookup });
        const fail = (error: NodeJS.ErrnoException) => {
            socket.destroy();
            resolve(error.code === 'EPRIVATENETWORK' ? error.message : socket);
        };
        socket.once('error', fail);
        socket.once('connect', () => {
            socket.off('error', fail);
            resolve(socket);
        });
    });
}

const refuse = (client: Socket, status: string): void => {
    client.end(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
};

export async function startPolicyProxy(): Promise<PolicyProxy> {
    const refused = { count: 0 };
    const counted = (reason: string | Socket): reason is string => {
        if (typeof reason !== 'string') return false;
        refused.count++;
        refusedPageRequests.count++;
        return true;
    };
    const server = http.createServer();
    // HTTPS, and WebSockets (Chromium tunnels ws:// through a proxy too).
    server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
        client.on('error', () => undefined);
        const target = connectTarget(req.url);
        if (!target) return refuse(client, '400 Bad Request');
        void connectChecked(target.host, target.port).then((upstream) => {
            if (counted(upstream)) return refuse(client, '403 Forbidden');
            if (typeof upstream === 'string') return;
            if (!upstream.writable) return refuse(client, '502 Bad Gateway');
            client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
            if (head.length) upstream.write(head);
            pipeline(client, upstream, client, () => {
                client.destroy();
                upstream.destroy();
            });
        });
    });
    // Plain http:// requests arrive with an absolute URL.
    server.on('request', (req: IncomingMessage, res: http.ServerResponse) => {
        let target: URL;
        try {
            target = new URL(req.url ?? '');
        } catch {
            return void res.writeHead(400).end();
        }
        const host = target.hostname.replace(/^\[|\]$/g, '');
        const port = Number(target.port) || 80;
        const reason = asWrittenRefusal(host, port);
        if (reason) {
            counted(reason);
            return void res.writeHead(403).end();
        }
        const upstream = http.request(
            {
                host,
                port,
                method: req.method,
                path: `${target.pathname}${target.search}`,
                headers: withoutHopHeaders(req.headers),
                lookup: policyLookup,
            },
            (answer) => {
                res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders);
                pipeline(answer, res, () => undefined);
            },
        );
        upstream.on('error', (error: NodeJS.ErrnoException) => {
            if (error.code === 'EPRIVATENETWORK') counted(error.message);
            if (!res.headersSent) res.writeHead(error.code === 'EPRIVATENETWORK' ? 403 : 502).end();
            else res.destroy();
        });
        pipeline(req, upstream, () => undefined);
    });
    server.on('clientError', (_error, socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    server.unref();
    return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        refused,
        close: () =>
            new Promise((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}

const HOP_HEADERS = new Set(['proxy-connection', 'proxy-authorization', 'connection', 'keep-alive']);

/** A proxied request's headers without those meant for the proxy. Pure. */
export function withoutHopHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
    return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_HEADERS.has(name.toLowerCase())));
}

let shared: Promise<PolicyProxy> | undefined;

/** The process's one policy proxy, started on first use. */
export const policyProxy = (): Promise<PolicyProxy> => (shared ??= startPolicyProxy());
