/**
 * Runs the actor the way a user does, `npm start -- [options] URL…` (or another npm script), with
 * its own storage folder, and samples the memory of everything it started: the actor's Node
 * process (RSS, the figure of earlier benchmark rounds) and, on request, the proportional set size
 * of the whole process tree (npm, Node and Chromium: shared pages counted once).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import type { MediaItem } from '../src/model.js';
import { readItems, ROOT, tempDir } from '../test/helpers/actor.js';

export interface NpmRun {
    code: number | null;
    /** Wall time from spawning npm to its exit. */
    ms: number;
    /** Output lines with their arrival time (ms since spawn). */
    lines: { at: number; text: string }[];
    items: MediaItem[];
    storage: string;
    kvDir: string;
    /** Peak RSS of the biggest Node process under npm: the actor. */
    nodeRssMb: number;
    /** Peak summed PSS of the whole tree, when `treeMemory` was asked for. */
    treePssMb?: number;
    /** With `treeMemory` and `--workers`: peak PSS of each worker process with its Chromium, by pid. */
    workerPssMb: number[];
    /** CPU seconds (user + system) of npm and everything under it, ffmpeg included (GNU time). */
    cpuSecs?: number;
    /** The largest peak RSS of any one process under npm (GNU time's %M). */
    maxRssMb?: number;
}

export interface NpmOptions {
    script?: string;
    env?: Record<string, string>;
    /** Also sample the PSS of every process in the tree (Chromium included); costs more per sample. */
    treeMemory?: boolean;
    timeoutMs?: number;
    /** Another checkout to run the script in (a base to compare with), instead of this repository. */
    cwd?: string;
}

interface Proc {
    pid: number;
    ppid: number;
    comm: string;
    /** A Node process (npm, the actor, a worker). */
    node: boolean;
}

async function processes(): Promise<Proc[]> {
    const pids = (await readdir('/proc')).filter((n) => /^\d+$/.test(n));
    const all = await Promise.all(
        pids.map(async (pid) => {
            const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
            // "pid (comm) state ppid …": comm may hold spaces and parentheses.
            const close = stat.lastIndexOf(')');
            if (close < 0) return undefined;
            const ppid = Number(stat.slice(close + 2).split(' ')[1]);
            const comm = stat.slice(stat.indexOf('(') + 1, close);
            // Node 24 names its main thread, and so the process's comm, "MainThread": the executable tells.
            const exe = await readlink(`/proc/${pid}/exe`).catch(() => '');
            return { pid: Number(pid), ppid, comm, node: comm === 'node' || path.basename(exe) === 'node' };
        }),
    );
    return all.filter((p): p is Proc => p !== undefined);
}

function descendants(all: Proc[], root: number): Proc[] {
    const out: Proc[] = [];
    const todo = [root];
    while (todo.length) {
        const pid = todo.pop()!;
        for (const p of all) {
            if (p.ppid === pid) {
                out.push(p);
                todo.push(p.pid);
            }
        }
    }
    return out;
}

/** GNU time (Debian's `time` package): CPU seconds and peak RSS of a command with all its descendants. */
export const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** `command args` under GNU time writing `user system maxrss-kB` to `out`; the command alone without it. */
export function timed(out: string, command: string, args: string[]): [string, string[]] {
    return GNU_TIME ? [GNU_TIME, ['-o', out, '-f', '%U %S %M', command, ...args]] : [command, args];
}

/** What `timed` wrote: CPU seconds and the largest peak RSS of one process (MB); {} without GNU time. */
export async function readTimed(out: string): Promise<{ cpuSecs?: number; maxRssMb?: number }> {
    const last = (await readFile(out, 'utf8').catch(() => '')).trim().split('\n').at(-1) ?? '';
    const [user, system, rssKb] = last.split(' ').map(Number);
    if (![user, system, rssKb].every((n) => Number.isFinite(n))) return {};
    return { cpuSecs: user! + system!, maxRssMb: Math.round(rssKb! / 1024) };
}

const kbField = (text: string, field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(text)?.[1] ?? 0);

/** `npm <script> -- ...args` in the repository, as a user types it. */
export async function npmRun(args: string[], options: NpmOptions = {}): Promise<NpmRun> {
    const storage = await tempDir('bench-run');
    const kvDir = path.join(storage, 'key_value_stores', 'default');
    const script = options.script ?? 'start';
    const npmArgs = script === 'start' ? ['start', '--', ...args] : ['run', script, '--', ...args];
    const rusage = path.join(storage, 'rusage.txt');
    const [command, commandArgs] = timed(rusage, 'npm', npmArgs);
    const started = Date.now();
    const child = spawn(command, commandArgs, {
        cwd: options.cwd ?? ROOT,
        env: { ...process.env, CRAWLEE_STORAGE_DIR: storage, APIFY_LOG_LEVEL: 'INFO', ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: NpmRun['lines'] = [];
    for (const stream of [child.stdout, child.stderr]) {
        let rest = '';
        stream.on('data', (d: Buffer) => {
            const at = Date.now() - started;
            const parts = (rest + d.toString()).split('\n');
            rest = parts.pop() ?? '';
            for (const text of parts) lines.push({ at, text: text.replace(/\x1b\[[0-9;]*m/g, '') });
        });
        stream.on('end', () => rest && lines.push({ at: Date.now() - started, text: rest }));
    }
    let nodeRssKb = 0;
    let treePssKb = 0;
    let tree: Proc[] = [];
    /** Worker processes (workers/worker-main) → peak PSS of their subtree. */
    const workerPeaks = new Map<number, number>();
    let workerRoots: number[] = [];
    let all: Proc[] = [];
    let sampling = false;
    let samples = 0;
    const sampler = setInterval(() => {
        if (sampling) return;
        sampling = true;
        void (async () => {
            // The tree changes slowly (npm → sh → node → Chromium): look it up every 5th sample.
            if (samples++ % 5 === 0) {
                all = await processes();
                tree = descendants(all, child.pid!);
                const cmdlines = await Promise.all(
                    tree.map(async (p) => readFile(`/proc/${p.pid}/cmdline`, 'utf8').catch(() => '')),
                );
                // A worker is a node process running worker-main whose parent does not (its own children
                // inherit the command line for a moment after fork).
                const isWorker = new Set(
                    tree.filter((p, i) => p.node && cmdlines[i]!.includes('worker-main')).map((p) => p.pid),
                );
                workerRoots = tree.filter((p) => isWorker.has(p.pid) && !isWorker.has(p.ppid)).map((p) => p.pid);
            }
            let pss = 0;
            const pssOf = new Map<number, number>();
            for (const p of tree) {
                if (p.node) {
                    const status = await readFile(`/proc/${p.pid}/status`, 'utf8').catch(() => '');
                    nodeRssKb = Math.max(nodeRssKb, kbField(status, 'VmRSS'));
                }
                if (options.treeMemory) {
                    const kb = kbField(await readFile(`/proc/${p.pid}/smaps_rollup`, 'utf8').catch(() => ''), 'Pss');
                    pssOf.set(p.pid, kb);
                    pss += kb;
                }
            }
            treePssKb = Math.max(treePssKb, pss);
            for (const root of workerRoots) {
                const sub = [root, ...descendants(all, root).map((p) => p.pid)];
                const kb = sub.reduce((n, pid) => n + (pssOf.get(pid) ?? 0), 0);
                workerPeaks.set(root, Math.max(workerPeaks.get(root) ?? 0, kb));
            }
        })().finally(() => (sampling = false));
    }, 100);
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const ms = Date.now() - started;
    clearTimeout(timer);
    clearInterval(sampler);
    return {
        code,
        ms,
        lines,
        items: await readItems(storage),
        storage,
        kvDir,
        nodeRssMb: Math.round(nodeRssKb / 1024),
        treePssMb: options.treeMemory ? Math.round(treePssKb / 1024) : undefined,
        workerPssMb: [...workerPeaks.values()].map((kb) => Math.round(kb / 1024)),
        ...(await readTimed(rusage)),
    };
}
