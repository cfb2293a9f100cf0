import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { MemoryStorage } from '@crawlee/memory-storage';
import { planRepair, repairLocalDataset } from '../../src/run/dataset-repair.js';
import { tempDir } from '../helpers/actor.js';

const name = (n: number): string => `${String(n).padStart(9, '0')}.json`;

test('dataset repair plan: damaged items leave, the later ones close the gap, nothing else moves', () => {
    const names = [name(1), name(2), name(3), name(4), '__metadata__.json'];
    assert.deepEqual(
        planRepair(names, () => true),
        { damaged: [], moves: [], itemCount: 4 },
    );
    assert.deepEqual(
        planRepair(names, (n) => n !== name(2)),
        {
            damaged: [name(2)],
            moves: [
                [name(3), name(2)],
                [name(4), name(3)],
            ],
            itemCount: 3,
        },
    );
    assert.deepEqual(
        planRepair(names, (n) => n !== name(4)),
        { damaged: [name(4)], moves: [], itemCount: 3 },
    );
});

test('a dataset with an item cut off by a kill reads back whole after the repair; the cut-off file is kept', async () => {
    const root = await tempDir('dataset-repair');
    const dir = path.join(root, 'datasets', 'default');
    await mkdir(dir, { recursive: true });
    for (let i = 1; i <= 4; i++) await writeFile(path.join(dir, name(i)), JSON.stringify({ n: i }, null, '\t'));
    await writeFile(path.join(dir, name(3)), '{\n\t"n": '); // cut off mid-write
    await writeFile(path.join(dir, name(5)), ''); // created, never written
    await writeFile(
        path.join(dir, '__metadata__.json'),
        JSON.stringify({ id: 'default', name: 'default', itemCount: 5 }),
    );
    const damaged = path.join(root, 'damaged-items');
    assert.deepEqual(await repairLocalDataset(dir, damaged), [name(3), name(5)]);
    assert.equal((await readdir(damaged)).length, 2);
    const meta = JSON.parse(await readFile(path.join(dir, '__metadata__.json'), 'utf8')) as { itemCount: number };
    assert.equal(meta.itemCount, 3);
    // Crawlee's own local storage reads every item back (before the repair, it threw on item 3).
    const storage = new MemoryStorage({ localDataDirectory: root, persistStorage: true });
    const { items, total } = await storage.dataset('default').listItems();
    assert.deepEqual(items, [{ n: 1 }, { n: 2 }, { n: 4 }]);
    assert.equal(total, 3);
    // A whole dataset is left as it is.
    assert.deepEqual(await repairLocalDataset(dir, damaged), []);
});
