// Builds dist/ from src/ when a source is newer than its output or there is no build yet (a fresh
// clone): `npm start` runs the build, and so do the end-to-end tests (test/helpers/actor.ts), which
// launch the actor as deployed. Checking ~200 files' times costs ~5 ms; a TypeScript 7 build ~1.5 s.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

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

/**
 * Makes sure `dist/main.js` is built from the current sources; returns its path. `who` names the caller
 * in what it prints. Exits the process when there is no build and none can be made.
 */
export function ensureBuilt(who = 'npm start') {
    const stale = existsSync(entry) ? staleSource() : 'none yet';
    if (!stale) return entry;
    let tsc;
    try {
        // TypeScript 7 exports no `bin/tsc` subpath, but it does export its package.json.
        const pkg = createRequire(import.meta.url).resolve('typescript/package.json');
        tsc = path.join(path.dirname(pkg), 'bin', 'tsc');
    } catch {
        tsc = undefined;
    }
    if (!tsc && !existsSync(entry)) {
        console.error(`${who}: no build in dist/ and no TypeScript to make one: run \`npm install\` first.`);
        process.exit(1);
    }
    if (tsc) {
        console.error(`${who}: building dist/ (${stale})…`);
        const config = path.join(root, 'tsconfig.build.json');
        const build = spawnSync(process.execPath, [tsc, '-p', config], { stdio: 'inherit' });
        // Type errors still emit JavaScript (as tsx ran sources regardless): run it, but say so.
        if (build.status !== 0 && existsSync(entry)) console.error(`${who}: the build reported errors (above).`);
        if (!existsSync(entry)) process.exit(build.status ?? 1);
    } else {
        console.error(`${who}: dist/ is stale (${stale}), and TypeScript is not installed to rebuild it.`);
    }
    return entry;
}

// `node scripts/build.mjs`: build when stale (`npm test` does, before the end-to-end files start actors).
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) ensureBuilt('build');
