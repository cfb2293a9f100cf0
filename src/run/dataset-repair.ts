/**
 * A local dataset after `kill -9`. Crawlee's local storage (@crawlee/memory-storage 3.x,
 * `background-handler/fs-utils.js` `lockAndWrite`) writes each item with a plain `writeFile`, so a kill
 * during that write leaves an empty or cut-off item file, and every later read of the dataset throws on
 * it: the resumed run's report, `Dataset.getData`, a user's own script. Seen in CI once: the secrets
 * test's kill landed on an item write. The item was never whole, and its work was not marked done (a
 * push resolves only once its file is written), so the resumed run does it again. Such a file is moved
 * out of the dataset into `damaged-items/` beside the storages (kept, never deleted), and the items
 * after it move down one place each: the local dataset numbers its items 1..n with no gaps, and a gap
 * would throw as well.
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

const ITEM = /^(\d{9})\.json$/;
const itemName = (n: number): string => `${String(n).padStart(9, '0')}.json`;

export interface DatasetRepair {
    /** Item files that do not hold a whole item, in order. */
    damaged: string[];
    /** Whole items after them, each to its new name (lowest first, so no rename overwrites a file). */
    moves: [from: string, to: string][];
    itemCount: number;
}

/** What to do with a local dataset's item files, given which of them hold a whole item. Pure. */
export function planRepair(names: readonly string[], whole: (name: string) => boolean): DatasetRepair {
    const items = names.filter((n) => ITEM.test(n)).sort();
    const damaged: string[] = [];
    const moves: [string, string][] = [];
    let next = 1;
    for (const name of items) {
        if (!whole(name)) {
            damaged.push(name);
            continue;
        }
        const to = itemName(next++);
        if (to !== name) moves.push([name, to]);
    }
    return { damaged, moves, itemCount: next - 1 };
}

const isWhole = (text: string): boolean => {
    try {
        const value: unknown = JSON.parse(text);
        return typeof value === 'object' && value !== null;
    } catch {
        return false;
    }
};

/**
 * Repairs the local dataset in `dir` before it is opened (a resumed local run); returns the names of
 * the damaged item files moved out, if any.
 */
export async function repairLocalDataset(dir: string, damagedDir: string): Promise<string[]> {
    const names = await readdir(dir).catch(() => [] as string[]);
    const whole = new Map<string, boolean>();
    for (const name of names.filter((n) => ITEM.test(n))) {
        whole.set(name, isWhole(await readFile(path.join(dir, name), 'utf8').catch(() => '')));
    }
    const plan = planRepair(names, (n) => whole.get(n) ?? false);
    if (!plan.damaged.length) return [];
    await mkdir(damagedDir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    for (const name of plan.damaged) await rename(path.join(dir, name), path.join(damagedDir, `${stamp}-${name}`));
    for (const [from, to] of plan.moves) await rename(path.join(dir, from), path.join(dir, to));
    const metaFile = path.join(dir, '__metadata__.json');
    const meta = await readFile(metaFile, 'utf8').catch(() => undefined);
    if (meta && isWhole(meta)) {
        const data = JSON.parse(meta) as Record<string, unknown>;
        await writeFile(metaFile, JSON.stringify({ ...data, itemCount: plan.itemCount }, null, '\t'));
    }
    return plan.damaged;
}
