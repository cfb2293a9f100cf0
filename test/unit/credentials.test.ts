import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { CookieInput } from '../../src/input/input.js';
import { Credentials, credentials, fromBrowserCookie } from '../../src/net/credentials.js';
import { fetchBytes } from '../../src/net/fetch.js';

const cookie = (c: Partial<CookieInput> & { name: string; domain: string }): CookieInput => ({
    value: `${c.name}-v`,
    path: '/',
    hostOnly: false,
    ...c,
});

test('the jar answers per URL as a browser would: domain, host-only, path, secure, expiry', () => {
    const jar = new Credentials();
    const now = Date.now() / 1000;
    jar.addCookies([
        cookie({ name: 'site', domain: 'example.com' }),
        cookie({ name: 'host', domain: 'www.example.com', hostOnly: true }),
        cookie({ name: 'deep', domain: 'example.com', path: '/members' }),
        cookie({ name: 'sec', domain: 'example.com', secure: true }),
        cookie({ name: 'old', domain: 'example.com', expires: now - 10 }),
    ]);
    // A page's cookies as Playwright gives them: a leading dot means "and subdomains".
    jar.addBrowserCookies([
        { name: 'page', value: 'p', domain: 'www.example.com', path: '/', expires: -1, secure: false },
        { name: 'cdn', value: 'c', domain: '.cdn.example.net', path: '/', expires: now + 100, secure: false },
    ]);
    const table: [string, string | undefined][] = [
        ['http://www.example.com/members/x', 'deep=deep-v; site=site-v; host=host-v; page=p'],
        ['https://www.example.com/', 'site=site-v; host=host-v; sec=sec-v; page=p'],
        ['http://img.example.com/a.jpg', 'site=site-v'],
        ['http://example.com/membersonly', 'site=site-v'],
        ['http://a.cdn.example.net/x', 'cdn=c'],
        ['http://evil-example.com/', undefined],
        ['http://other.test/', undefined],
    ];
    for (const [url, expected] of table) assert.equal(jar.cookieFor(url), expected, url);
    // The same name, domain and path: the newer replaces the older.
    jar.addCookies([cookie({ name: 'site', domain: 'example.com', value: 'new' })]);
    assert.match(jar.cookieFor('http://example.com/')!, /site=new/);
    assert.deepEqual(
        fromBrowserCookie({ name: 'a', value: 'b', domain: '.x.com', path: '', expires: 5, secure: true }),
        {
            name: 'a',
            value: 'b',
            domain: 'x.com',
            path: '/',
            hostOnly: false,
            secure: true,
            expires: 5,
        },
    );
});

test('input headers by site, a source header by its page, and none of them in stripped headers', () => {
    const c = new Credentials();
    c.configure({
        cookies: [],
        headers: { 'x-api-key': 'K' },
        sites: ['example.com'],
        starts: [{ url: 'https://example.com/p', headers: { 'X-Source': 'S' } }],
    });
    assert.deepEqual(c.headersFor('https://cdn.example.com/a', 'https://example.com/p'), {
        'x-api-key': 'K',
        'x-source': 'S',
    });
    assert.deepEqual(c.headersFor('https://cdn.other.net/a', 'https://example.com/p'), {});
    assert.deepEqual(c.headersFor('https://example.com/b', 'https://example.com/other'), { 'x-api-key': 'K' });
    assert.deepEqual(
        c.strip({ referer: 'r', 'user-agent': 'u', cookie: 'a=b', 'X-Api-Key': 'K', 'x-source': 'S', range: 'x' }),
        { referer: 'r', 'user-agent': 'u', range: 'x' },
    );
    // A Referer the input gives is its value only: the browser's own Referer is no credential.
    const r = new Credentials();
    r.configure({
        cookies: [],
        headers: {},
        sites: ['example.com'],
        starts: [{ url: 'https://example.com/p', headers: { Referer: 'https://ref.example/' } }],
    });
    assert.deepEqual(r.strip({ referer: 'https://ref.example/' }), {});
    assert.deepEqual(r.strip({ referer: 'https://example.com/p' }), { referer: 'https://example.com/p' });
    const cdnHop = {
        url: 'https://cdn.other.net/s.ts',
        headers: { referer: 'https://ref.example/' } as Record<string, string>,
    };
    r.hook('https://example.com/p')(cdnHop);
    assert.equal(cdnHop.headers.referer, 'https://example.com/p');
    const siteHop = { url: 'https://example.com/s.ts', headers: {} as Record<string, string> };
    r.hook('https://example.com/p')(siteHop);
    assert.equal(siteHop.headers.referer, 'https://ref.example/');
    // The hook, per hop: what the headers carried from elsewhere goes, this hop's own come.
    const hook = c.hook('https://example.com/p');
    const other = {
        url: new URL('https://cdn.other.net/x'),
        headers: { cookie: 'a=b', 'x-api-key': 'K', referer: 'r' } as Record<string, string>,
    };
    hook(other);
    assert.deepEqual(other.headers, { referer: 'r', 'user-agent': other.headers['user-agent'] });
    const own = { url: 'https://example.com/x', headers: {} as Record<string, string> };
    hook(own);
    assert.equal(own.headers['x-api-key'], 'K');
});

test('every redirect hop gets its own host’s cookies and headers, and only those', async () => {
    const seen: { host: string; headers: IncomingHttpHeaders }[] = [];
    const server = createServer((req, res) => {
        const host = req.socket.localAddress!.replace(/^::ffff:/, '');
        seen.push({ host, headers: req.headers });
        if (req.url === '/start') return void res.writeHead(302, { location: `http://127.0.0.2:${port}/cdn` }).end();
        if (req.url === '/cdn') return void res.writeHead(302, { location: `http://127.0.0.1:${port}/back` }).end();
        res.end('done');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const cdn = createServer((req, res) => server.emit('request', req, res));
    await new Promise<void>((resolve) => cdn.listen(port, '127.0.0.2', resolve));
    try {
        credentials.configure({
            cookies: [cookie({ name: 'sid', value: 'S1', domain: '127.0.0.1', hostOnly: true })],
            headers: { 'x-api-key': 'K1' },
            sites: ['127.0.0.1'],
            starts: [],
        });
        credentials.addBrowserCookies([
            { name: 'page', value: 'P1', domain: '127.0.0.1', path: '/', expires: -1, secure: false },
        ]);
        // Headers copied from a page's request, its Cookie among them: never sent as they are.
        const res = await fetchBytes(`http://127.0.0.1:${port}/start`, {
            headers: { cookie: 'stale=1', referer: 'http://127.0.0.1/page' },
            retries: 0,
            maxBytes: 100,
        });
        assert.equal(res.body.toString(), 'done');
        assert.deepEqual(
            seen.map((s) => [s.host, s.headers.cookie, s.headers['x-api-key']]),
            [
                ['127.0.0.1', 'sid=S1; page=P1', 'K1'],
                ['127.0.0.2', undefined, undefined],
                ['127.0.0.1', 'sid=S1; page=P1', 'K1'],
            ],
        );
    } finally {
        server.close();
        cdn.close();
    }
});
