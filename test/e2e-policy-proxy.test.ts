/**
 * The browser's policy proxy (src/net/policy-proxy.ts) with a real Chromium: host names are resolved by
 * the proxy (an injected resolver, so no DNS and no /etc/hosts), each address is checked, and the
 * connection goes to the checked one.
 *
 * Every "refused" target here is 0.0.0.0 (as a name's answer, or inside an IPv4-mapped IPv6 literal): the
 * policy refuses it when only loopback is allowed, and should a check fail, Linux delivers a connection
 * to 0.0.0.0 to the loopback server below, which then logs the request. No packet leaves loopback.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { chromium, type Browser } from 'playwright';
import { networkPolicy, OPEN_POLICY } from '../src/net/address-policy.js';
import { refusedPageRequests, setNetworkPolicy, setResolver } from '../src/net/guard.js';
import { connectTarget, policyProxy, withoutHopHeaders } from '../src/net/policy-proxy.js';
import { CHROMIUM_ARGS, findBrowser } from '../src/pages/browser.js';
import { pageContextProxy } from '../src/pages/early-browser.js';

const seen: string[] = [];
let port = 0;
let browser: Browser;
const server = http.createServer((req, res) => {
    seen.push(`${req.headers.host} ${req.url}`);
    // A fresh connection per request: each one is checked again, as a rebinding name would need.
    res.setHeader('connection', 'close');
    if (req.url === '/redirect-mapped') {
        res.writeHead(302, { location: `http://[::ffff:0.0.0.0]:${port}/secret-mapped` }).end();
    } else if (req.url === '/redirect-name') {
        res.writeHead(302, { location: `http://evil.test:${port}/secret-name` }).end();
    } else {
        res.writeHead(200, { 'content-type': 'text/html', 'access-control-allow-origin': '*' }).end('<p>ok</p>');
    }
});

let rebindCalls = 0;

before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    setResolver((host, _options, callback) => {
        const answer = (address: string) => callback(null, [{ address, family: 4 }]);
        if (host === 'good.test') return answer('127.0.0.1');
        if (host === 'evil.test') return answer('0.0.0.0');
        // The first answer passes the check; every later one points elsewhere.
        if (host === 'rebind.test') return answer(rebindCalls++ === 0 ? '127.0.0.1' : '0.0.0.0');
        callback(Object.assign(new Error(`no such host ${host}`), { code: 'ENOTFOUND' }), []);
    });
    // As when the start URLs are on loopback: loopback allowed, the rest refused.
    setNetworkPolicy(networkPolicy(['loopback'], false));
    browser = await chromium.launch({ executablePath: findBrowser(), args: CHROMIUM_ARGS });
});

after(async () => {
    await browser?.close();
    setResolver(undefined);
    setNetworkPolicy(OPEN_POLICY);
    server.close();
    await (await policyProxy()).close();
});

test('pure parts: CONNECT targets and hop-by-hop headers', () => {
    assert.deepEqual(connectTarget('example.com:443'), { host: 'example.com', port: 443 });
    assert.deepEqual(connectTarget('[::ffff:0.0.0.0]:80'), { host: '::ffff:0.0.0.0', port: 80 });
    assert.equal(connectTarget('example.com'), undefined);
    assert.equal(connectTarget('example.com:0'), undefined);
    assert.equal(connectTarget('example.com:70000'), undefined);
    assert.deepEqual(withoutHopHeaders({ 'proxy-connection': 'keep-alive', accept: '*/*', connection: 'x' }), {
        accept: '*/*',
    });
});

test('a page context without a run proxy goes through the policy proxy, and directly when all is allowed', async () => {
    const proxy = await pageContextProxy();
    assert.equal(proxy.server, (await policyProxy()).url);
    // Loopback stays direct: without a loopback entry Playwright adds `<-loopback>` and sends it through.
    assert.equal(proxy.bypass, 'localhost');
    setNetworkPolicy(OPEN_POLICY);
    try {
        assert.equal((await pageContextProxy()).bypass, '*');
    } finally {
        setNetworkPolicy(networkPolicy(['loopback'], false));
    }
});

test('names are resolved and checked by the proxy; refused answers, mapped literals and rebinding never connect', async () => {
    const proxy = await policyProxy();
    const refusedBefore = proxy.refused.count;
    const countedBefore = refusedPageRequests.count;
    const context = await browser.newContext({ proxy: { server: proxy.url } });
    try {
        const page = await context.newPage();
        // Chromium cannot resolve .test names: the page loads only because the proxy resolved it.
        const ok = await page.goto(`http://good.test:${port}/page.html`);
        assert.equal(ok?.status(), 200);
        const fetchStatus = (url: string) =>
            page.evaluate(
                (u) =>
                    fetch(u, { cache: 'no-store' }).then(
                        (r) => r.status,
                        () => 'failed',
                    ),
                url,
            );
        assert.equal(await fetchStatus(`http://evil.test:${port}/secret-answer`), 'failed');
        // A redirect hop to an IPv4-mapped literal: Chromium's blocked-URL patterns cannot express it.
        assert.equal(await fetchStatus(`http://good.test:${port}/redirect-mapped`), 'failed');
        assert.equal(await fetchStatus(`http://good.test:${port}/redirect-name`), 'failed');
        // The first lookup passes; the next connection to the same name is looked up and refused again.
        assert.equal(await fetchStatus(`http://rebind.test:${port}/first`), 200);
        assert.equal(await fetchStatus(`http://rebind.test:${port}/second`), 'failed');
        // HTTPS goes through CONNECT: refused before any byte reaches the target.
        assert.equal(await fetchStatus(`https://evil.test:${port}/secret-tls`), 'failed');
    } finally {
        await context.close();
    }
    assert.deepEqual(
        seen.filter((s) => s.includes('secret') || s.includes('second')),
        [],
    );
    assert.ok(seen.includes(`good.test:${port} /page.html`), seen.join('\n'));
    assert.ok(seen.includes(`rebind.test:${port} /first`), seen.join('\n'));
    // evil (answer, name hop, CONNECT), the mapped hop, the rebound name: at least 5 refusals, all counted.
    assert.ok(proxy.refused.count - refusedBefore >= 5, `refused ${proxy.refused.count - refusedBefore}`);
    assert.equal(refusedPageRequests.count - countedBefore, proxy.refused.count - refusedBefore);
});
