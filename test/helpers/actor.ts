/** Runs the real actor as a child process against a temporary storage folder. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { MediaItem } from '../../src/results/output.js';
import { ensureBuilt } from '../../scripts/build.mjs';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** The Node flags the deployed actor runs with: those of package.json's `start:prod` (the Docker CMD). */
const NODE_FLAGS: string[] = (
    JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
).scripts['start:prod']!.split(/\s+/).filter((arg) => arg.startsWith('--'));

export interface ActorRun {
    code: number | null;
    output: string;
    storage: string;
    kvDir: string;
    items: MediaItem[];
    ms: number;
    /** Highest resident set size of the actor's Node process, sampled every 100 ms. */
    peakRssMb: number;
}

/** The temporary folders this test process made: removed when it exits, unless `KEEP_TEST_DIRS` is set. */
const made: string[] = [];
process.once('exit', () => {
    if (process.env.KEEP_TEST_DIRS) return;
    for (const dir of made) rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
});

export async function tempDir(prefix: string): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), `mca-${prefix}-`));
    made.push(dir);
    return dir;
}

/**
 * The run's dataset items. After `kill -9` an item being written at the kill may be cut off
 * (src/run/dataset-repair.ts): with `killed`, such a file is left out; otherwise it throws.
 */
export async function readItems(storage: string, killed = false): Promise<MediaItem[]> {
    const dir = path.join(storage, 'datasets', 'default');
    const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => /^\d+\.json$/.test(f)).sort();
    const items = await Promise.all(
        files.map(async (f) => {
            const text = await readFile(path.join(dir, f), 'utf8');
            try {
                return JSON.parse(text) as MediaItem;
            } catch (error) {
                if (killed) return undefined;
                throw error;
            }
        }),
    );
    return items.filter((i): i is MediaItem => i !== undefined);
}

export interface ActorOptions {
    storage?: string;
    env?: Record<string, string>;
    args?: string[];
    timeoutMs?: number;
}

/**
 * Node's compile cache for the actors the tests start (Node >= 22.1; older Nodes ignore it). The actor
 * runs as deployed, from `dist/` (built here when a source is newer, as `npm start` does), not from the
 * sources through tsx: measured on the 2-core test machine, tsx cost 0.6-1 s per start, and the
 * end-to-end tests start the actor and its workers about 100 times.
 */
const COMPILE_CACHE = process.env.NODE_COMPILE_CACHE ?? path.join(os.tmpdir(), 'mca-node-compile-cache');
let entry: string | undefined;

export async function runActor(input: unknown, options: ActorOptions = {}): Promise<ActorRun> {
    return (await spawnActor(input, options)).done;
}

/** Starts the actor; `done` resolves when it exits (also after a kill). */
export async function spawnActor(
    input: unknown,
    options: ActorOptions = {},
): Promise<{ child: ChildProcess; done: Promise<ActorRun> }> {
    const storage = options.storage ?? (await tempDir('run'));
    const kvDir = path.join(storage, 'key_value_stores', 'default');
    await mkdir(kvDir, { recursive: true });
    // Files that also land in the output folder land beside the run's storage, not in the repository.
    const withOutput =
        input && typeof input === 'object' && !Array.isArray(input) && !('outputDir' in input)
            ? { ...input, outputDir: path.join(storage, 'downloads') }
            : input;
    if (input !== undefined)
        await writeFile(path.join(kvDir, 'INPUT.json'), typeof input === 'string' ? input : JSON.stringify(withOutput));
    entry ??= ensureBuilt('the tests');
    const started = Date.now();
    const child = spawn(process.execPath, [...NODE_FLAGS, entry, ...(options.args ?? [])], {
        cwd: ROOT,
        env: {
            ...process.env,
            CRAWLEE_STORAGE_DIR: storage,
            APIFY_LOG_LEVEL: 'INFO',
            NODE_COMPILE_CACHE: COMPILE_CACHE,
            ...options.env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    let peakRssKb = 0;
    const sampler = setInterval(() => {
        readFile(`/proc/${child.pid}/status`, 'utf8')
            .then((status) => {
                const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
                peakRssKb = Math.max(peakRssKb, kb);
            })
            .catch(() => undefined);
    }, 100);
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 240_000);
    let signal: NodeJS.Signals | null = null;
    const done = new Promise<number | null>((resolve) =>
        child.on('close', (code, sig) => {
            signal = sig;
            resolve(code);
        }),
    ).then(async (code) => {
        clearTimeout(timer);
        clearInterval(sampler);
        return {
            code,
            output,
            storage,
            kvDir,
            items: await readItems(storage, signal === 'SIGKILL'),
            ms: Date.now() - started,
            peakRssMb: Math.round(peakRssKb / 1024),
        };
    });
    return { child, done };
}
