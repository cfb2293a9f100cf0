import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { decryptInputSecrets } from '@apify/input_secrets';
import { platformRole, withWorkerSecrets, workerInput, WORKER_FIELD } from '../../src/workers/platform-input.js';

test('a platform worker run’s input holds its credentials encrypted, and the worker gets them back', () => {
    // A key pair as the platform gives a run: the private key PEM, base64, with a passphrase.
    const passphrase = 'pass';
    const { privateKey: pem } = generateKeyPairSync('rsa', {
        modulusLength: 2048,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase },
    });
    const privateKey = createPrivateKey({ key: pem, passphrase });
    const raw = {
        startUrls: [{ url: 'https://example.com/a', headers: { 'X-Source': 'SRC-SECRET' } }, 'https://example.com/b'],
        cookies: [{ name: 'sid', value: 'COOKIE-SECRET', domain: '.example.com' }],
        headers: { Authorization: 'Bearer HEADER-SECRET' },
        maxConcurrency: 3,
    };
    const role = platformRole('run', 1, 2, { dataset: 'd', store: 's', pageQueue: 'q', claims: 'c' });
    const sent = workerInput(raw, role, createPublicKey(privateKey));
    const text = JSON.stringify(sent);
    for (const secret of ['SRC-SECRET', 'COOKIE-SECRET', 'HEADER-SECRET']) assert.ok(!text.includes(secret), secret);
    assert.deepEqual(sent.startUrls, [{ url: 'https://example.com/a' }, 'https://example.com/b']);
    assert.equal(sent.workers, 1);
    const { shared: _shared, ...own } = role;
    assert.deepEqual(sent[WORKER_FIELD], own);
    // Without a key (not on the platform) the credentials go as they are, beside the role and shared storages.
    const plain = workerInput(raw, role);
    assert.deepEqual(
        { ...plain, [WORKER_FIELD]: undefined, workerDataset: undefined },
        {
            ...raw,
            workers: 1,
            [WORKER_FIELD]: undefined,
            workerDataset: undefined,
            workerKeyValueStore: 's',
            workerRequestQueues: ['q', 'c'],
        },
    );
    // What the worker's Actor.getInput() does with the run's private key, then main.ts: the same input back.
    const received = withWorkerSecrets(decryptInputSecrets({ input: sent, privateKey }));
    assert.deepEqual(received, plain);
    assert.throws(() => withWorkerSecrets({ _workerSecrets: 'ENCRYPTED_JSON:x:y' }), /could not be decrypted/);
});
