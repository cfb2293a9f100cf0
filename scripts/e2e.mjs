#!/usr/bin/env node
// The end-to-end files (`test/*.test.ts`), the last part of `npm test`: two files at a time, except the
// files listed below, which run one at a time after them. Each file starts its own actors, Chromium and
// servers; on the 2-core test machine one file at a time left half the CPU idle (the whole suite used
// ~0.9 of 2 cores), and two at a time took the parallel files from ~390 s to ~210 s.
// The files run alone are those whose checks depend on timing or on having the machine to themselves:
// kills and restarts at a chosen moment, aborts and migrations within a wind-down, a recording's
// timeline, signed URLs that expire on a clock, and counts of parallel connections. A new file runs in
// the parallel group unless it is added here.
// `node scripts/e2e.mjs [files…]` runs the given files the same way (default: all of them).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

const ALONE = [
    'e2e-concurrency', // parallel connections counted
    'e2e-expiring-urls', // signed URLs that expire after a few seconds
    'e2e-gallery', // parallel image downloads counted
    'e2e-lifecycle', // aborts, migration and the run timeout, each within a wind-down
    'e2e-live', // recordings on a timeline, a kill mid-recording
    'e2e-platform-workers', // worker runs aborted, refused and restarted on the fake platform
    'e2e-resilience', // kill -9 and Ctrl-C halfway, refetches counted
    'e2e-secrets', // killed and resumed
    'e2e-workers', // a worker killed mid-crawl
];

const root = path.resolve(import.meta.dirname, '..');
const given = process.argv.slice(2);
const files = given.length
    ? given
    : readdirSync(path.join(root, 'test'))
          .filter((f) => f.endsWith('.test.ts'))
          .sort()
          .map((f) => path.join('test', f));
const alone = (f) => ALONE.includes(path.basename(f, '.test.ts'));

let failed = false;
for (const [group, concurrency] of [
    [files.filter((f) => !alone(f)), 2],
    [files.filter(alone), 1],
]) {
    if (!group.length) continue;
    const args = ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...group];
    // Both groups run even when the first fails: one run shows every failure.
    const run = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
    if (run.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
