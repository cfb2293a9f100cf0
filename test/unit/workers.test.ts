/**
 * The parts of a split crawl that decide things: claims, the supervisor, the page queue's head limit,
 * roles; and the IPC storage transport, run against Crawlee's real local storage.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { test } from 'node:test';
import type { ChildProcess } from 'node:child_process';
import { MemoryStorage } from '@crawlee/memory-storage';
import type { StorageClient } from '@crawlee/types';
import { claimKey, Claims } from '../../src/run/claims.js';
import { LockBook, releaseLocksOf, serveStorage, storageOverIpc } from '../../src/workers/ipc-storage.js';
import { sumSummaries } from '../../src/workers/local.js';
import { headLimit } from '../../src/run/page-queue.js';
import {
    coordinatorPageCap,
    platformRole,
    roleFromInput,
    SHARED_FIELDS,
    WORKER_FIELD,
    workerInput,
} from '../../src/workers/platform-input.js';
import { pageShare } from '../../src/run/role.js';
import { afterWorkerEnd, describeEnd, MAX_RESTARTS, runFailed } from '../../src/workers/supervisor.js';
import { tempDir } from '../helpers/actor.js';

test('a worker that ends cleanly is done; one that dies is restarted, then given up', () => {
    const clean = { finished: true, code: 0, signal: null };
    const killed = { finished: false, code: null, signal: 'SIGKILL' };
    const crashed = { finished: false, code: 1, signal: null };
    assert.equal(afterWorkerEnd(clean, 0), 'done');
    assert.equal(afterWorkerEnd(killed, 0), 'restart');
    assert.equal(afterWorkerEnd(crashed, MAX_RESTARTS - 1), 'restart');
    assert.equal(afterWorkerEnd(crashed, MAX_RESTARTS), 'give-up');
    // Sent its summary, then failed on the way out: its work is not known to be delivered.
    assert.equal(afterWorkerEnd({ finished: true, code: 1, signal: null }, 0), 'restart');
    assert.equal(describeEnd(killed), 'killed by SIGKILL');
    assert.equal(describeEnd(crashed), 'exited with code 1');
    assert.equal(runFailed(['give-up', 'done']), false);
    assert.equal(runFailed(['give-up', 'give-up']), true);
});

test('a worker locks half a round of pages per ask, never more than Crawlee asked', () => {
    assert.equal(headLimit(25, 4), 2);
    assert.equal(headLimit(1, 4), 1);
    assert.equal(headLimit(undefined, 1), 1);
    assert.equal(headLimit(25, 9), 5);
});

test('the page cap is shared out so the shares add up to it', () => {
    const shares = (max: number, n: number) => Array.from({ length: n }, (_, i) => pageShare(max, i, n));
    assert.deepEqual(shares(100, 4), [25, 25, 25, 25]);
    assert.deepEqual(shares(10, 4), [3, 3, 2, 2]);
    assert.deepEqual(shares(1, 3), [1, 0, 0]);
    assert.deepEqual(shares(0, 2), [0, 0]);
});

test('claim keys: long ids are hashed, so two URLs that share a long prefix never share a key', () => {
    const base = `https://cdn.example/${'a'.repeat(300)}`;
    const [a, b] = [claimKey('item', `${base}/1`), claimKey('item', `${base}/2`)];
    assert.notEqual(a, b);
    assert.ok(a.length < 100);
    assert.equal(claimKey('video', 'abc'), 'video:abc');
});

test('claims of one process: first wins, the next is told who holds it, a given-back claim is free again', async () => {
    const claims = await Claims.open(undefined);
    assert.equal(claims.shared, false);
    assert.equal(await claims.claim('video', 'v1', 'page-a'), undefined);
    assert.equal(await claims.claim('video', 'v1', 'page-b'), 'page-a');
    await claims.release('video', 'v1');
    assert.equal(await claims.claim('video', 'v1', 'page-b'), undefined);
});

test('sums the workers’ summaries into the run’s', () => {
    const part = { pages: 3, videosOk: 1, videosFailed: 0, peakConnections: 8, bytes: 100, secs: 9, stopped: false };
    const sum = sumSummaries([part, { ...part, pages: 4, stopped: true }], 12);
    assert.deepEqual(sum, {
        pages: 7,
        videosOk: 2,
        videosFailed: 0,
        peakConnections: 16,
        bytes: 200,
        secs: 12,
        stopped: true,
    });
});

test('a worker run’s role travels in its input, the shared storages in declared resource fields', () => {
    const ids = { dataset: 'ds', store: 'kv', pageQueue: 'pq1', claims: 'cq1' };
    const role = platformRole('run1', 2, 4, ids);
    assert.deepEqual(role.shared, { pageQueue: 'pq1', claims: 'cq1', dataset: 'ds', store: 'kv' });
    assert.equal(role.scope, 'run1-w2');
    const input = JSON.parse(JSON.stringify(workerInput({ startUrls: [], workers: 4 }, role)));
    assert.equal(input.workers, 1);
    assert.deepEqual(roleFromInput(input), role);
    // Every shared storage is in a field the input schema declares with its resource type, for reading and writing.
    const schema = JSON.parse(
        readFileSync(path.join(import.meta.dirname, '..', '..', '.actor', 'input_schema.json'), 'utf8'),
    );
    const declared = (field: string) =>
        schema.properties[field] as { resourceType?: string; resourcePermissions?: string[]; editor?: string };
    assert.deepEqual(
        Object.values(SHARED_FIELDS).map((f) => [
            declared(f).resourceType,
            declared(f).resourcePermissions,
            declared(f).editor,
        ]),
        [
            ['dataset', ['READ', 'WRITE'], 'hidden'],
            ['keyValueStore', ['READ', 'WRITE'], 'hidden'],
            ['requestQueue', ['READ', 'WRITE'], 'hidden'],
        ],
    );
    assert.ok(!JSON.stringify(input[WORKER_FIELD]).includes('kv'), 'no storage id in the undeclared role');
    assert.equal(roleFromInput({ startUrls: [] }), undefined);
    assert.throws(() => roleFromInput({ [WORKER_FIELD]: { index: 'x' } }), /not a worker role/);
    assert.throws(() => roleFromInput({ ...input, [SHARED_FIELDS.queues]: ['pq1'] }), /not a worker role/);
});

test('worker runs that did not start leave their page share to the coordinator', () => {
    assert.equal(coordinatorPageCap(100, 4, []), 25);
    assert.equal(coordinatorPageCap(100, 4, [2, 3]), 75);
    assert.equal(coordinatorPageCap(10, 3, [1, 2]), 10, 'all of it when no other run started');
    assert.equal(coordinatorPageCap(0, 3, [2]), 0, 'no cap stays no cap');
});

/** A parent and a child process joined by an IPC channel, in one process: messages are v8-cloned. */
function channelPair(): { parent: ChildProcess; child: NodeJS.Process; die: () => void } {
    const toParent = new EventEmitter();
    const toChild = new EventEmitter();
    let connected = true;
    const clone = (m: unknown) => deserialize(serialize(m)) as unknown;
    const parent = Object.assign(toParent, {
        get connected() {
            return connected;
        },
        send: (m: unknown, cb?: (e: Error | null) => void) => {
            setImmediate(() => toChild.emit('message', clone(m)));
            cb?.(null);
            return true;
        },
    }) as unknown as ChildProcess;
    const child = Object.assign(toChild, {
        send: (m: unknown, _h: unknown, _o: unknown, cb?: (e: Error | null) => void) => {
            setImmediate(() => toParent.emit('message', clone(m)));
            cb?.(null);
            return true;
        },
    }) as unknown as NodeJS.Process;
    return { parent, child, die: () => ((connected = false), toChild.emit('disconnect')) };
}

test('IPC storage: requests one worker adds are seen by another; a dead worker’s locks are given back', async () => {
    const dir = await tempDir('ipc');
    const storage: StorageClient = new MemoryStorage({ localDataDirectory: dir, persistStorage: false });
    const locks = new LockBook();
    const pair = [channelPair(), channelPair()];
    pair.forEach((p, i) => serveStorage(p.parent, i, storage, locks));
    const [a, b] = pair.map((p) => storageOverIpc(p.child));
    const { id } = await a!.requestQueues().getOrCreate('pages');
    const added = await a!.requestQueue(id).addRequest({ url: 'https://site.example/1', uniqueKey: 'p1' });
    assert.equal(added.wasAlreadyPresent, false);
    // Worker b locks what worker a added later: the case Crawlee's per-process local storage misses.
    const head = await b!.requestQueue(id).listAndLockHead({ limit: 25, lockSecs: 600 });
    assert.deepEqual(
        head.items.map((i) => i.uniqueKey),
        ['p1'],
    );
    assert.equal((await a!.requestQueue(id).listAndLockHead({ limit: 25, lockSecs: 600 })).items.length, 0);
    // b dies holding it: the coordinator gives it back at once, and a takes it.
    pair[1]!.die();
    assert.equal(await releaseLocksOf(1, storage, locks), 1);
    const again = await a!.requestQueue(id).listAndLockHead({ limit: 25, lockSecs: 600 });
    assert.deepEqual(
        again.items.map((i) => i.uniqueKey),
        ['p1'],
    );
    // Records travel whole, binary ones as Buffers.
    const kv = await a!.keyValueStores().getOrCreate('state');
    await a!.keyValueStore(kv.id).setRecord({ key: 'bin', value: Buffer.from([0, 1, 2]), contentType: 'image/png' });
    const record = await a!.keyValueStore(kv.id).getRecord('bin');
    assert.ok(Buffer.isBuffer(record?.value));
    assert.deepEqual([...(record!.value as Buffer)], [0, 1, 2]);
    // Two workers racing for one claim: exactly one wins (local storage alone lets both win).
    const third = channelPair();
    serveStorage(third.parent, 2, storage, locks);
    const c = storageOverIpc(third.child);
    const claims = await a!.requestQueues().getOrCreate('claims');
    const race = await Promise.all(
        [a!, c, a!].map((w, i) =>
            w
                .requestQueue(claims.id)
                .addRequest({ url: 'https://claims.invalid/video', uniqueKey: 'video:v1', userData: { i } }),
        ),
    );
    assert.deepEqual(
        race.map((r) => r.wasAlreadyPresent),
        [false, true, true],
    );
    // A storage error reaches the worker as an error.
    await assert.rejects(a!.requestQueue(id).deleteRequestLock('nope'), /not found/);
});
