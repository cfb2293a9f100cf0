/**
 * `npm run bench -- --startup` (or `tsx bench/startup.ts`): what runs before the actor's first
 * request, for an m3u8 start URL (no page, so no browser). Runs `node dist/main.js URL` with
 * `--cpu-prof` against a local server and prints when the playlist and the first segment were
 * requested (ms after spawn) and where the CPU went before that, by package or source folder.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { makeHlsVideo } from '../src/demo/media.js';
import { startDemoServer } from '../src/demo/server.js';
import { storageDir } from '../src/run/storage.js';
import { ROOT, tempDir } from '../test/helpers/actor.js';

interface Profile {
    nodes: { id: number; callFrame: { url: string; functionName: string }; children?: number[] }[];
    startTime: number;
    samples: number[];
    timeDeltas: number[];
}

/** `node_modules/<pkg>` (scoped too), a folder of dist/, `node:` internals, or what else it is. Pure. */
export function owner(url: string): string {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (m) return m[1]!;
    const d = /\/dist\/([^/]+)\//.exec(url);
    if (d) return `dist/${d[1]}`;
    if (url.startsWith('node:')) return 'node internals';
    return url ? 'other' : '(native, GC, idle)';
}

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1] || 3);
const dir = path.join(storageDir(), 'bench-media');
await makeHlsVideo(path.join(dir, 'startup'), { width: 160, height: 90, secs: 20, segSecs: 1 });
const server = await startDemoServer({ mediaDir: dir });
const url = `${server.origin}/media/startup/index.m3u8`;
try {
    for (let r = 0; r < runs; r++) {
        const storage = await tempDir('bench-startup');
        const prof = path.join(storage, 'prof');
        const from = server.segmentStarts.length;
        const t = Date.now();
        const child = spawn(
            process.execPath,
            ['--cpu-prof', '--cpu-prof-dir', prof, path.join(ROOT, 'dist', 'main.js'), '--output-dir', storage, url],
            { cwd: ROOT, env: { ...process.env, CRAWLEE_STORAGE_DIR: storage }, stdio: 'ignore' },
        );
        await new Promise((resolve) => child.on('close', resolve));
        const total = Date.now() - t;
        const playlist = server.playlistFetches.find((p) => p >= t);
        const segment = server.segmentStarts.slice(from)[0]?.at;
        const profile = JSON.parse(await readFile(path.join(prof, (await readdir(prof))[0]!), 'utf8')) as Profile;
        // Self time by owner up to the first segment request (profile clock: µs, from its own start).
        // A sample in Node's module loader or in native code counts for the nearest caller that is not.
        const parent = new Map<number, number>();
        for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
        const urlOf = new Map(profile.nodes.map((n) => [n.id, n.callFrame.url]));
        const byId = new Map<number, string>();
        for (const n of profile.nodes) {
            let id: number | undefined = n.id;
            while (
                id !== undefined &&
                ['node internals', 'other', '(native, GC, idle)'].includes(owner(urlOf.get(id)!))
            )
                id = parent.get(id);
            byId.set(n.id, id === undefined ? urlOf.get(n.id)! : urlOf.get(id)!);
        }
        const until = segment ? (segment - t) * 1000 : Infinity;
        const self = new Map<string, number>();
        let at = 0;
        profile.samples.forEach((id, i) => {
            at += profile.timeDeltas[i]!;
            if (at > until) return;
            const o = owner(byId.get(id) ?? '');
            self.set(o, (self.get(o) ?? 0) + profile.timeDeltas[i]!);
        });
        const top = [...self]
            .sort((a, b) => b[1] - a[1])
            .slice(0, 8)
            .map(([o, us]) => `${o} ${(us / 1000).toFixed(0)}`)
            .join(', ');
        console.log(
            `run ${r + 1}: playlist requested at ${playlist ? playlist - t : '–'} ms, first segment at ` +
                `${segment ? segment - t : '–'} ms, exit at ${total} ms; CPU until the first segment (ms): ${top}`,
        );
        await rm(storage, { recursive: true, force: true });
    }
} finally {
    await server.close();
}
