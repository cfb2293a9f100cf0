import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
    addressClass,
    blockedUrlPatterns,
    hostClass,
    networkPolicy,
    refusal,
    urlRefusal,
    type AddressClass,
} from '../../src/net/address-policy.js';

/** A URL's host as a page may write it → its class (undefined: public, or a name DNS decides). */
const FORMS: [string, AddressClass | undefined][] = [
    // loopback
    ['127.0.0.1', 'loopback'],
    ['127.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['0x7f.1', 'loopback'],
    ['0x7f000001', 'loopback'],
    ['2130706433', 'loopback'],
    ['017700000001', 'loopback'],
    ['0177.0.0.1', 'loopback'],
    ['127.0.0.1.', 'loopback'],
    ['%31%32%37.0.0.1', 'loopback'],
    ['[::1]', 'loopback'],
    ['[0:0:0:0:0:0:0:1]', 'loopback'],
    ['[::ffff:127.0.0.1]', 'loopback'],
    ['[::ffff:7f00:1]', 'loopback'],
    ['[::127.0.0.1]', 'loopback'],
    ['localhost', 'loopback'],
    ['LOCALHOST.', 'loopback'],
    ['api.localhost', 'loopback'],
    // link-local and cloud metadata
    ['169.254.169.254', 'link-local'],
    ['2852039166', 'link-local'],
    ['0xa9fea9fe', 'link-local'],
    ['0251.0376.0251.0376', 'link-local'],
    ['0xa9.0xfe.0xa9.0xfe', 'link-local'],
    ['169.254.43518', 'link-local'],
    ['[::ffff:169.254.169.254]', 'link-local'],
    ['[::ffff:a9fe:a9fe]', 'link-local'],
    ['[64:ff9b::169.254.169.254]', 'link-local'],
    ['[64:ff9b::a9fe:a9fe]', 'link-local'],
    ['[2002:a9fe:a9fe::1]', 'link-local'],
    ['[::ffff:0:a9fe:a9fe]', 'link-local'],
    ['[fe80::1]', 'link-local'],
    ['[fd00:ec2::254]', 'private'],
    // private
    ['10.1.2.3', 'private'],
    ['10.0.0.9', 'private'],
    ['012.1.2.3', 'private'],
    ['167772170', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.10', 'private'],
    ['0xc0a8000a', 'private'],
    ['[::ffff:192.168.0.10]', 'private'],
    ['[fc00::1]', 'private'],
    ['[fd12:3456:789a::1]', 'private'],
    ['[64:ff9b:1::a01:203]', 'private'],
    // the rest of what is not the internet
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.254', 'cgnat'],
    ['0.0.0.0', 'unspecified'],
    ['0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['[::]', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['[ff02::1]', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['4294967295', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.0.192', 'reserved'],
    // public, and names (DNS decides)
    ['8.8.8.8', undefined],
    ['1.1.1.1', undefined],
    ['172.32.0.1', undefined],
    ['172.15.255.255', undefined],
    ['100.128.0.1', undefined],
    ['169.255.0.1', undefined],
    ['11.0.0.1', undefined],
    ['[2606:4700::1111]', undefined],
    ['[::ffff:8.8.8.8]', undefined],
    ['[64:ff9b::808:808]', undefined],
    ['news.example', undefined],
    ['localhost.example.com', undefined],
    ['mylocalhost', undefined],
    ['10.example', undefined],
];

test(`the policy classifies ${FORMS.length} host forms`, () => {
    assert.ok(FORMS.length >= 40);
    for (const [host, cls] of FORMS) assert.equal(hostClass(host), cls, host);
});

test('resolved addresses are classified as they come from DNS (no brackets, zones)', () => {
    assert.equal(addressClass('fe80::1%eth0'), 'link-local');
    assert.equal(addressClass('::ffff:10.0.0.1'), 'private');
    assert.equal(addressClass('93.184.216.34'), undefined);
    assert.equal(addressClass('not an address'), undefined);
});

test('a class is allowed when a start URL is in it, or with allowPrivateNetwork', () => {
    const publicStart = networkPolicy([undefined], false);
    assert.equal(
        urlRefusal(publicStart, 'http://10.0.0.9/seg1.ts'),
        'refused: 10.0.0.9 is in a private network (the start URL is public)',
    );
    assert.match(
        urlRefusal(publicStart, 'http://2852039166/latest/meta-data/')!,
        /^refused: 169\.254\.169\.254 is link-local/,
    );
    assert.match(urlRefusal(publicStart, 'http://[::ffff:a9fe:a9fe]/')!, /link-local/);
    assert.match(urlRefusal(publicStart, 'http://localhost:8080/x.jpg')!, /^refused: localhost is a loopback address/);
    assert.equal(urlRefusal(publicStart, 'https://news.example/a.jpg'), undefined);
    assert.equal(urlRefusal(publicStart, 'data:image/png;base64,AAAA'), undefined);
    assert.match(
        refusal(publicStart, '10.0.0.9', 'intranet.example')!,
        /intranet\.example resolves to 10\.0\.0\.9, which is in a private network/,
    );

    const localStart = networkPolicy([hostClass('127.0.0.1')], false);
    assert.equal(urlRefusal(localStart, 'http://127.0.0.1:3000/v.m3u8'), undefined);
    assert.equal(urlRefusal(localStart, 'http://localhost:3000/v.m3u8'), undefined);
    assert.match(urlRefusal(localStart, 'http://169.254.169.254/')!, /the start URLs allow only loopback addresses/);

    const intranet = networkPolicy([hostClass('10.1.0.5')], false);
    assert.equal(urlRefusal(intranet, 'http://192.168.1.1/a.jpg'), undefined);
    assert.ok(urlRefusal(intranet, 'http://127.0.0.1/a.jpg'));

    const open = networkPolicy([undefined], true);
    for (const [host] of FORMS) assert.equal(urlRefusal(open, `http://${host}/`), undefined, host);
});

test('the browser blocks refused classes on every hop by URL pattern, none when all are allowed', () => {
    const publicStart = blockedUrlPatterns(networkPolicy([undefined], false));
    for (const p of ['http://169.254.*', 'http://10.*', 'http://localhost:*', 'https://[fd*', 'http://100.64.*'])
        assert.ok(publicStart.includes(p), p);
    const local = blockedUrlPatterns(networkPolicy(['loopback'], false));
    assert.ok(!local.some((p) => p.startsWith('http://127.') || p.includes('localhost')));
    assert.ok(local.includes('http://169.254.*'));
    assert.deepEqual(blockedUrlPatterns(networkPolicy([], true)), []);
});
