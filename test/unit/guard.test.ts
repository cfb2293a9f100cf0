/**
 * The policy in the actor's HTTP client without a proxy: a host name is resolved by the policy's
 * lookup and the connection goes to the address it checked. The names here resolve only through
 * the injected resolver (to loopback), so nothing depends on /etc/hosts and no packet leaves loopback.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { PrivateNetworkError } from '../../src/errors.js';
import { hostClass, networkPolicy, OPEN_POLICY } from '../../src/net/address-policy.js';
import { fetchBytes } from '../../src/net/fetch.js';
import { setNetworkPolicy, setProxied, setResolver, urlsRefusal } from '../../src/net/guard.js';

const hits: string[] = [];
const server = createServer((req, res) => {
    hits.push(`${req.headers.host}${req.url}`);
    res.end('hello');
});
let port = 0;
const lookups: string[] = [];

before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    setResolver((host, _options, callback) => {
        lookups.push(host);
        if (host.endsWith('.test')) callback(null, [{ address: '127.0.0.1', family: 4 }]);
        else callback(Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' }), []);
    });
    setProxied(false);
});

after(async () => {
    setResolver(undefined);
    setNetworkPolicy(OPEN_POLICY);
    await new Promise((resolve) => server.close(resolve));
});

test('a public start URL: a name that resolves to loopback is refused before any connection', async () => {
    setNetworkPolicy(networkPolicy([undefined], false));
    hits.length = 0;
    await assert.rejects(
        fetchBytes(`http://rebind.test:${port}/x`, { retries: 2, maxBytes: 1000 }),
        (error: Error) =>
            error instanceof PrivateNetworkError &&
            error.message ===
                'refused: rebind.test resolves to 127.0.0.1, which is a loopback address (the start URL is public)',
    );
    await assert.rejects(fetchBytes(`http://localhost:${port}/y`, { retries: 0, maxBytes: 1000 }), PrivateNetworkError);
    assert.deepEqual(hits, []);
    assert.match((await urlsRefusal([`http://cdn.test:${port}/seg1.ts`]))!, /cdn\.test resolves to 127\.0\.0\.1/);
});

test('a start URL on loopback: the same name is fetched, from the address the lookup gave', async () => {
    setNetworkPolicy(networkPolicy([hostClass('127.0.0.1')], false));
    hits.length = 0;
    lookups.length = 0;
    const res = await fetchBytes(`http://rebind.test:${port}/x`, { retries: 0, maxBytes: 1000 });
    assert.equal(res.body.toString(), 'hello');
    // rebind.test exists nowhere but in the injected resolver: the socket went where the checked lookup said.
    assert.deepEqual(lookups, ['rebind.test']);
    assert.deepEqual(hits, [`rebind.test:${port}/x`]);
});
