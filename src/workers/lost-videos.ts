/**
 * A worker given up for good leaves videos it claimed and did not finish: nobody else may take them
 * (their claims stand), so they become failed items that say why, and the worker's storages go.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { KeyValueStore } from '@crawlee/core';
import type { VideoJob } from '../model.js';
import { videoLost } from '../results/items.js';
import { Results } from '../results/results.js';
import { runStorageNames, storageDir } from '../run/storage.js';
import { openQueue } from '../run/queues.js';

/** The items go to `results`, by default the coordinator's own dataset (where its workers' items went). */
export async function reportLostVideos(scope: string, why: string, results?: Results): Promise<number> {
    const names = runStorageNames(scope);
    const to = results ?? (await Results.open());
    const state = await KeyValueStore.open(names.state);
    let lost = 0;
    await state.forEachKey(async (key) => {
        if (!key.startsWith('job-')) return;
        const job = await state.getValue<VideoJob>(key);
        if (!job || job.status === 'done' || job.status === 'failed') return;
        await to.push(videoLost(job, `the worker downloading it ${why} and could not be restarted`));
        lost++;
    });
    await Promise.all([state.drop(), (await openQueue(names.downloads)).drop()]);
    await rm(path.join(storageDir(), 'work', scope), { recursive: true, force: true });
    return lost;
}
