/**
 * A local worker process (workers/local.ts forks it): its storage is the coordinator's, reached over
 * the IPC channel; it runs the crawl with the role it is sent, reports its summary and exits. It
 * never purges (the coordinator did, once) and writes no report (the coordinator does, once).
 */
import { Actor } from 'apify';
import { log } from '@crawlee/core';
import { crawl } from '../app/crawl.js';
import { installLogRedaction } from '../net/redact-log.js';
import { storageOverIpc } from './ipc-storage.js';
import type { WorkerDone, WorkerStart } from './local.js';
import { setWorkerRole } from '../run/role.js';

installLogRedaction();
// The coordinator gone (killed, Ctrl-C) means nobody can take this worker's items: stop at once.
process.on('disconnect', () => process.exit(1));
// Ctrl-C reaches every process of the terminal's group: the coordinator decides (it stops its workers with
// SIGTERM, run/lifecycle.ts), so a worker does not die of it on its own, half-way through a reply.
process.on('SIGINT', () => undefined);

const storage = storageOverIpc();
const start = await new Promise<WorkerStart>((resolve) => {
    const listen = (m: unknown) => {
        if ((m as WorkerStart | undefined)?.kind !== 'start') return;
        process.off('message', listen);
        resolve(m as WorkerStart);
    };
    process.on('message', listen);
});
setWorkerRole(start.role);
log.setOptions({ prefix: `w${start.role.index}` });

await Actor.init({ storage, gracefulShutdown: false });
const summary = await crawl(start.input, { outputDir: start.outputDir });
const done: WorkerDone = { kind: 'done', summary };
await new Promise<void>((resolve) => process.send!(done, undefined, undefined, () => resolve()));
await Actor.exit({ exitCode: 0, timeoutSecs: 10 });
