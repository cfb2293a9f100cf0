#!/usr/bin/env node
// `npm start`: runs the compiled actor (dist/main.js), building it first when a source is newer
// than its output or there is no build yet (a fresh clone). Measured on the 2-core CI machine kind:
// tsx cost ~1 s per start (its loader compiles every module of the run); checking ~80 files' times
// costs ~5 ms, and a TypeScript 7 build ~1.2 s, paid once after a change.
// The actor runs in this same process (no second Node start-up); the Node flags are `start`'s own.
import module from 'node:module';
import { pathToFileURL } from 'node:url';
import { ensureBuilt } from './build.mjs';
import { ensureBrowser } from './ensure-browser.mjs';

// Node >= 22.1 keeps the compiled code of every module between runs (Node 20 has no such cache).
// Measured with Node 24 on the CI machine kind: `--help` 0.35 s -> 0.27 s once the cache is warm.
module.enableCompileCache?.();

await ensureBrowser();
const entry = ensureBuilt('npm start');

await import(pathToFileURL(entry).href);
