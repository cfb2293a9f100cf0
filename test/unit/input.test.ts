import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { InputError, parseInput, parseVideoQuality, type CookieInput } from '../../src/input/input.js';
import {
    browserCookies,
    cookiesFor,
    directHeaders,
    onSites,
    openStartRequests,
    pageRequestHeaders,
    startSites,
    withSiteHeaders,
} from '../../src/net/site-access.js';

const fieldOf = (fn: () => unknown): string => {
    try {
        fn();
    } catch (error) {
        assert.ok(error instanceof InputError, `expected InputError, got ${String(error)}`);
        return error.field;
    }
    assert.fail('no error thrown');
};

test('defaults apply to every omitted field', () => {
    const input = parseInput({ startUrls: [{ url: 'https://example.com/play/1.html' }] });
    assert.deepEqual(input.startUrls, [{ url: 'https://example.com/play/1.html' }]);
    assert.deepEqual([input.cookies, input.headers], [[], {}]);
    assert.equal(input.maxPagesPerCrawl, 100);
    assert.equal(input.maxConcurrency, 64);
    assert.equal(input.maxRequestRetries, 5);
    assert.equal(input.pageWaitSecs, 10);
    assert.equal(input.minImageWidth, 64);
    assert.deepEqual(input.videoQuality, { kind: 'highest' });
    assert.equal(input.downloadVideos, true);
    assert.equal(input.archiveName, undefined);
});

test('startUrls accepts { url } objects and plain strings', () => {
    const { startUrls } = parseInput({ startUrls: ['http://a.test/x', { url: 'http://b.test/y' }] });
    assert.deepEqual(startUrls, [{ url: 'http://a.test/x' }, { url: 'http://b.test/y' }]);
});

test("startUrls takes the requestListSources editor's sources: list entries, remote files, per-URL headers", () => {
    const { startUrls } = parseInput({
        startUrls: [
            { url: 'https://a.test/p', headers: { Authorization: 'Bearer x', 'X-Num': 5 }, userData: { any: 1 } },
            { requestsFromUrl: 'https://lists.test/urls.txt', headers: { Referer: 'https://a.test/' } },
            // What the console gives for an uploaded file: a record URL to fetch.
            { requestsFromUrl: 'https://api.apify.com/v2/key-value-stores/abc/records/urls.txt' },
        ],
    });
    assert.deepEqual(startUrls, [
        { url: 'https://a.test/p', headers: { authorization: 'Bearer x', 'x-num': '5' } },
        { requestsFromUrl: 'https://lists.test/urls.txt', headers: { referer: 'https://a.test/' } },
        { requestsFromUrl: 'https://api.apify.com/v2/key-value-stores/abc/records/urls.txt' },
    ]);
});

test('headers and cookies: each error names the field', () => {
    const base = { startUrls: ['https://a.test/'] };
    assert.equal(
        fieldOf(() => parseInput({ ...base, headers: [] })),
        'headers',
    );
    assert.equal(
        fieldOf(() => parseInput({ ...base, headers: { 'Bad Name': 'x' } })),
        'headers.Bad Name',
    );
    assert.equal(
        fieldOf(() => parseInput({ ...base, headers: { Host: 'x' } })),
        'headers.Host',
    );
    assert.equal(
        fieldOf(() => parseInput({ ...base, headers: { 'X-A': 'a\r\nX-B: b' } })),
        'headers.X-A',
    );
    assert.equal(
        fieldOf(() => parseInput({ startUrls: [{ url: 'https://a.test/', headers: 'x' }] })),
        'startUrls[0].headers',
    );
    assert.equal(
        fieldOf(() => parseInput({ startUrls: [{ requestsFromUrl: 'ftp://x' }] })),
        'startUrls[0].requestsFromUrl',
    );
    assert.equal(
        fieldOf(() => parseInput({ ...base, cookies: {} })),
        'cookies',
    );
    assert.equal(
        fieldOf(() => parseInput({ ...base, cookies: ['a=b'] })),
        'cookies[0]',
    );
    assert.equal(
        fieldOf(() => parseInput({ ...base, cookies: [{ name: 'a', value: 'b' }] })),
        'cookies[0].domain',
    );
    assert.equal(
        fieldOf(() => parseInput({ ...base, cookies: [{ name: 'a', value: 'b;c', domain: 'a.test' }] })),
        'cookies[0].value',
    );
    const sameSite = [{ name: 'a', value: 'b', domain: 'a.test', sameSite: 'sometimes' }];
    assert.equal(
        fieldOf(() => parseInput({ ...base, cookies: sameSite })),
        'cookies[0].sameSite',
    );
});

test('cookies: the EditThisCookie export the console users paste, and the Playwright shape', () => {
    const { cookies } = parseInput({
        startUrls: ['https://www.site.test/'],
        cookies: [
            {
                domain: '.site.test',
                expirationDate: 4102444800,
                hostOnly: false,
                httpOnly: true,
                name: 'session',
                path: '/',
                sameSite: 'no_restriction',
                secure: true,
                session: false,
                storeId: '0',
                value: 'abc',
                id: 1,
            },
            {
                domain: 'www.site.test',
                hostOnly: true,
                name: 'pref',
                path: '/',
                sameSite: 'unspecified',
                session: true,
                value: '1',
            },
            { name: 'pw', value: 'x', domain: 'site.test', path: '/a', expires: -1, sameSite: 'Lax' },
        ],
    });
    assert.deepEqual(cookies, [
        {
            name: 'session',
            value: 'abc',
            domain: '.site.test',
            path: '/',
            hostOnly: false,
            expires: 4102444800,
            secure: true,
            httpOnly: true,
            sameSite: 'None',
        },
        { name: 'pref', value: '1', domain: 'www.site.test', path: '/', hostOnly: true },
        { name: 'pw', value: 'x', domain: 'site.test', path: '/a', hostOnly: true, sameSite: 'Lax' },
    ]);
    assert.deepEqual(
        browserCookies(cookies).map((c) => [c.name, c.domain, c.expires, c.sameSite]),
        [
            ['session', '.site.test', 4102444800, 'None'],
            ['pref', 'www.site.test', -1, undefined],
            ['pw', 'site.test', -1, 'Lax'],
        ],
    );
    // Chromium drops SameSite=None without Secure: such a cookie gets the browser's default instead.
    const [insecure] = browserCookies([{ ...cookies[0]!, secure: false }]);
    assert.equal(insecure?.sameSite, undefined);
});

const cookie = (over: Partial<CookieInput>): CookieInput => ({
    name: 'c',
    value: 'v',
    domain: 'site.test',
    path: '/',
    hostOnly: true,
    ...over,
});

test('cookies go where a browser would send them (RFC 6265 domain, path, secure, expiry)', () => {
    const names = (url: string, list: CookieInput[]) => cookiesFor(url, list, 1_000).map((c) => c.name);
    const list = [
        cookie({ name: 'host', domain: 'site.test' }),
        cookie({ name: 'dom', domain: '.site.test', hostOnly: false }),
        cookie({ name: 'path', path: '/media' }),
        cookie({ name: 'secure', secure: true }),
        cookie({ name: 'old', expires: 999 }),
    ];
    assert.deepEqual(names('https://site.test/media/x.m3u8', list), ['host', 'dom', 'path', 'secure']);
    assert.deepEqual(names('http://site.test/mediafile', list), ['host', 'dom']);
    assert.deepEqual(names('https://cdn.site.test/x', list), ['dom']);
    assert.deepEqual(names('https://notsite.test/x', list), []);
    assert.deepEqual(names('https://site.test.evil.test/x', list), []);
});

test("the input's headers go to the start URLs' sites only; a source's headers to its own page's site", () => {
    const sites = startSites([
        { url: 'https://www.site.test/p', headers: {} },
        { url: 'https://video.other.test/v.m3u8', headers: {} },
    ]);
    assert.deepEqual(sites, ['site.test', 'video.other.test']);
    assert.ok(onSites('https://cdn.site.test/a.ts', sites));
    assert.ok(!onSites('https://other.test/', sites), 'a start URL on a subdomain does not widen to its parent');
    assert.ok(!onSites('https://ads.test/pixel', sites));
    const page = { url: 'https://www.site.test/p', headers: { 'x-page': '1' } };
    const global = { authorization: 'Bearer t' };
    assert.deepEqual(pageRequestHeaders('https://img.site.test/a.jpg', page, global, sites), {
        authorization: 'Bearer t',
        'x-page': '1',
    });
    assert.deepEqual(pageRequestHeaders('https://video.other.test/seg.ts', page, global, sites), {
        authorization: 'Bearer t',
    });
    assert.deepEqual(pageRequestHeaders('https://ads.test/pixel', page, global, sites), {});
    const input = { headers: global, cookies: [cookie({ name: 'sid', domain: 'video.other.test' })] };
    assert.deepEqual(directHeaders('https://video.other.test/v.m3u8', { 'x-own': 'y' }, input), {
        authorization: 'Bearer t',
        'x-own': 'y',
        cookie: 'sid=v',
    });
});

test("media found in a page's DOM get the input's headers for their site; the browser's own headers win", () => {
    const access = { headers: { 'x-token': 't', referer: 'input' }, sites: ['site.test'] };
    const page = { url: 'https://site.test/p', headers: { 'x-page': '1' } };
    const media: { url: string; headers: Record<string, string>; source: string }[] = [
        { url: 'https://cdn.site.test/v.m3u8', headers: { referer: 'https://site.test/p' }, source: 'dom' },
        { url: 'https://other.test/v.m3u8', headers: {}, source: 'html' },
    ];
    const found = withSiteHeaders(media, page, access);
    assert.deepEqual(found, [
        {
            url: 'https://cdn.site.test/v.m3u8',
            headers: { 'x-token': 't', referer: 'https://site.test/p', 'x-page': '1' },
            source: 'dom',
        },
        { url: 'https://other.test/v.m3u8', headers: {}, source: 'html' },
    ]);
});

test('openStartRequests: a RequestList of the sources, each URL with its headers', async () => {
    const starts = await openStartRequests({
        startUrls: [
            { url: 'https://a.test/1', headers: { 'x-a': '1' } },
            { url: 'https://a.test/1' },
            { url: 'https://b.test/2' },
        ],
    });
    assert.deepEqual(starts, [
        { url: 'https://a.test/1', headers: { 'x-a': '1' } },
        { url: 'https://b.test/2', headers: {} },
    ]);
});

test('openStartRequests: a remote URL list is fetched, its headers go with each URL; a dead one fails', async () => {
    const server = createServer((req, res) => {
        if (req.url !== '/urls.txt') return void res.writeHead(404).end();
        res.end('https://c.test/1\nnot a url\nhttps://c.test/2.m3u8, ftp://c.test/x\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
        const starts = await openStartRequests({
            startUrls: [{ requestsFromUrl: `${origin}/urls.txt`, headers: { 'x-list': '1' } }],
        });
        assert.deepEqual(starts, [
            { url: 'https://c.test/1', headers: { 'x-list': '1' } },
            { url: 'https://c.test/2.m3u8', headers: { 'x-list': '1' } },
        ]);
        await assert.rejects(
            openStartRequests({ startUrls: [{ requestsFromUrl: `${origin}/gone.txt` }] }),
            /no http\(s\) URL/,
        );
    } finally {
        server.close();
    }
    const dead = openStartRequests({ startUrls: [{ requestsFromUrl: `${origin}/urls.txt` }] });
    await assert.rejects(dead, /Cannot fetch a request list/);
});

test('bad input names the field', () => {
    assert.equal(
        fieldOf(() => parseInput({})),
        'startUrls',
    );
    assert.equal(
        fieldOf(() => parseInput(null)),
        'startUrls',
    );
    assert.equal(
        fieldOf(() => parseInput({ startUrls: [] })),
        'startUrls',
    );
    assert.equal(
        fieldOf(() => parseInput({ startUrls: [{ url: 'not a url' }] })),
        'startUrls[0].url',
    );
    assert.equal(
        fieldOf(() => parseInput({ startUrls: ['file:///etc/passwd'] })),
        'startUrls[0].url',
    );
    assert.equal(
        fieldOf(() => parseInput({ startUrls: ['http://a.test'], videoQuality: 'best' })),
        'videoQuality',
    );
    assert.equal(
        fieldOf(() => parseInput({ startUrls: ['http://a.test'], maxConcurrency: -1 })),
        'maxConcurrency',
    );
    assert.equal(
        fieldOf(() => parseInput({ startUrls: ['http://a.test'], maxPagesPerCrawl: 1.5 })),
        'maxPagesPerCrawl',
    );
    assert.equal(
        fieldOf(() => parseInput({ startUrls: ['http://a.test'], downloadImages: 'yes' })),
        'downloadImages',
    );
    assert.equal(
        fieldOf(() => parseInput({ startUrls: ['http://a.test'], archiveName: '../x' })),
        'archiveName',
    );
    assert.equal(
        fieldOf(() => parseInput({ startUrls: ['http://a.test'], linkGlobs: 'x' })),
        'linkGlobs',
    );
    assert.equal(
        fieldOf(() => parseInput({ startUrls: ['http://a.test'], linkGlobs: [{ glob: '' }] })),
        'linkGlobs[0]',
    );
});

test("linkGlobs: the globs editor's { glob } objects and plain strings", () => {
    const { linkGlobs } = parseInput({
        startUrls: ['http://a.test'],
        linkGlobs: [{ glob: 'http://a.test/p/*' }, 'http://a.test/q/*'],
    });
    assert.deepEqual(linkGlobs, ['http://a.test/p/*', 'http://a.test/q/*']);
});

test('videoQuality forms', () => {
    assert.deepEqual(parseVideoQuality('lowest'), { kind: 'lowest' });
    assert.deepEqual(parseVideoQuality('720p'), { kind: 'maxHeight', height: 720 });
    assert.throws(() => parseVideoQuality('720'), InputError);
});
