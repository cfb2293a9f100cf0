#!/usr/bin/env node
// `npm start`: runs the compiled actor (dist/main.js), building it first when a source is newer
// than its output or there is no build yet (a fresh clone). Measured on the 2-core CI machine kind:
// tsx cost ~1 s per start (its loader compiles every module of the run); checking ~80 files' times
// costs ~5 ms, and a TypeScript 7 build ~1.2 s, paid once after a change.
// The actor runs in this same process (no second Node start-up); the Node flags are `start`'s own.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import module, { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

// Node >= 22.1 keeps the compiled code of every module between runs (Node 20 has no such cache).
// Measured with Node 24 on the CI machine kind: `--help` 0.35 s -> 0.27 s once the cache is warm.
module.enableCompileCache?.();

const root = path.resolve(import.meta.dirname, '..');
const src = path.join(root, 'src');
const dist = path.join(root, 'dist');
const entry = path.join(dist, 'main.js');

const mtime = (file) => {
    try {
        return statSync(file).mtimeMs;
    } catch {
        return undefined;
    }
};

/** The first source whose compiled file is missing or older than it, if any. */
function staleSource() {
    const configs = ['tsconfig.json', 'tsconfig.build.json'].map((f) => mtime(path.join(root, f)) ?? 0);
    if ((mtime(entry) ?? 0) < Math.max(...configs)) return 'tsconfig changed';
    const walk = (dir) => {
        for (const e of readdirSync(dir, { withFileTypes: true })) {
            const file = path.join(dir, e.name);
            if (e.isDirectory()) {
                const found = walk(file);
                if (found) return found;
            } else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
                const out = path.join(dist, path.relative(src, file)).replace(/\.ts$/, '.js');
                if ((mtime(out) ?? 0) < (mtime(file) ?? Infinity)) return `${path.relative(root, file)} changed`;
            }
        }
        return undefined;
    };
    return walk(src);
}

const stale = existsSync(entry) ? staleSource() : 'none yet';
if (stale) {
    let tsc;
    try {
        // TypeScript 7 exports no `bin/tsc` subpath, but it does export its package.json.
        const pkg = createRequire(import.meta.url).resolve('typescript/package.json');
        tsc = path.join(path.dirname(pkg), 'bin', 'tsc');
    } catch {
        tsc = undefined;
    }
    if (!tsc && !existsSync(entry)) {
        console.error('npm start: no build in dist/ and no TypeScript to make one: run `npm install` first.');
        process.exit(1);
    }
    if (tsc) {
        console.error(`npm start: building dist/ (${stale})…`);
        const config = path.join(root, 'tsconfig.build.json');
        const build = spawnSync(process.execPath, [tsc, '-p', config], { stdio: 'inherit' });
        // Type errors still emit JavaScript (as tsx ran sources regardless): run it, but say so.
        if (build.status !== 0 && existsSync(entry)) console.error('npm start: the build reported errors (above).');
        if (!existsSync(entry)) process.exit(build.status ?? 1);
    } else {
        console.error(`npm start: dist/ is stale (${stale}), and TypeScript is not installed to rebuild it.`);
    }
}

await import(pathToFileURL(entry).href);
