/**
 * The pipeline's shape, checked on the sources: every folder and root file of src/ has a floor, and
 * imports only from floors below its own (so no two of them import each other, even through others);
 * no module imports in a cycle; download/ and merge/ know no manifest format.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const SRC = path.resolve(import.meta.dirname, '..', '..', 'src');

function files(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
        const p = path.join(dir, name);
        return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
    });
}

/** Relative imports of a module (type-only ones too: they shape the design as much). */
function imports(file: string): string[] {
    const text = readFileSync(file, 'utf8');
    const found = [
        ...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/g),
        ...text.matchAll(/import\('(\.[^']+)'\)/g),
    ];
    return found.map((m) => path.resolve(path.dirname(file), m[1]!.replace(/\.js$/, '.ts')));
}

const rel = (p: string): string => path.relative(SRC, p);
const stage = (p: string): string => rel(p).split(path.sep)[0]!;

test('no import cycles between modules', () => {
    const graph = new Map(files(SRC).map((f) => [f, imports(f)]));
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, trail: string[]): void => {
        if (state.get(f) === 'done') return;
        if (state.get(f) === 'open') {
            cycles.push([...trail.slice(trail.indexOf(f)), f].map(rel).join(' → '));
            return;
        }
        state.set(f, 'open');
        for (const next of graph.get(f) ?? []) visit(next, [...trail, f]);
        state.set(f, 'done');
    };
    for (const f of graph.keys()) visit(f, []);
    assert.deepEqual(cycles, []);
});

test('stages import downward: download/ and merge/ never reach sources/, pages/ or the wiring above them', () => {
    const above = new Set(['sources', 'pages', 'live', 'app', 'workers', 'main.ts']);
    const wrong: string[] = [];
    for (const f of files(SRC).filter((f) => ['download', 'merge', 'net'].includes(stage(f)))) {
        for (const target of imports(f)) if (above.has(stage(target))) wrong.push(`${rel(f)} → ${rel(target)}`);
    }
    // merge/ does not call download/'s crawler either: it reads the model and the work folder.
    for (const f of files(SRC).filter((f) => stage(f) === 'merge')) {
        for (const target of imports(f)) {
            if (stage(target) === 'download' && !rel(target).endsWith('jobs.ts'))
                wrong.push(`${rel(f)} → ${rel(target)}`);
        }
    }
    assert.deepEqual(wrong, []);
});

test('download/ and merge/ name no manifest format', () => {
    const named: string[] = [];
    for (const f of files(SRC).filter((f) => ['download', 'merge'].includes(stage(f)))) {
        readFileSync(f, 'utf8')
            .split('\n')
            .forEach((line, i) => {
                if (/m3u8|\bmpd\b|\bhls\b|\bdash\b|playlist|hls-parser|mpd-parser/i.test(line))
                    named.push(`${rel(f)}:${i + 1}: ${line.trim()}`);
            });
    }
    assert.deepEqual(named, []);
});

test('the shared types live in one module', () => {
    const defining = files(SRC).filter((f) =>
        /export (interface|type) (VideoJob|TrackJob|VideoPlan|TrackPlan|MediaItem|UnitTask)\b/.test(
            readFileSync(f, 'utf8'),
        ),
    );
    assert.deepEqual(defining.map(rel), ['model.ts']);
});

/**
 * The house's floors, lowest first. A unit (a folder of src/ or a file at its root) imports only from
 * units on lower floors. A new folder or root file fails the test below until it is given a floor here:
 * deciding where it stands is part of adding it.
 */
const FLOORS: readonly (readonly string[])[] = [
    // 0. Shared words: the one model, the one error hierarchy (with its retry rules), names and types of
    //    files, the input and its checks, and the run plumbing every worker shares (role, cross-worker
    //    claims, the page queue, storage opening, the lifecycle), and time: abortable waits, the one backoff
    //    and the one retry helper.
    ['model.ts', 'errors.ts', 'names.ts', 'media-types.ts', 'image-content.ts', 'input', 'run', 'time'],
    // 1. Pure helpers over those.
    ['urls.ts', 'formats.ts'],
    // 2. The network: the one HTTP client, its policy and the credentials it carries.
    ['net'],
    // 3. What a source is (manifest formats) and where results go (items, files, the archive, the report).
    ['sources', 'results'],
    // 4. The two crawlers' stages: pages in the browser, units and images on the wire.
    ['pages', 'download'],
    // 5. What consumes downloaded units: the merge, the live recorder.
    ['merge', 'live'],
    // 6. Orchestration (the wiring of one crawl) and the demo site that `npm start` serves.
    ['app', 'demo'],
    // 7. Many crawls at once: coordinators and worker processes, each running app/'s crawl.
    ['workers'],
    // 8. The entry point.
    ['main.ts'],
];

const floorOf = new Map(FLOORS.flatMap((units, floor) => units.map((u) => [u, floor] as const)));

test('every folder and root file of src/ has a floor', () => {
    const units = [...new Set(files(SRC).map(stage))].sort();
    assert.deepEqual(
        units.filter((u) => !floorOf.has(u)),
        [],
    );
    // And the table names nothing that is gone.
    assert.deepEqual(
        [...floorOf.keys()].filter((u) => !units.includes(u)),
        [],
    );
});

test('units import only from lower floors', () => {
    const upward: string[] = [];
    for (const f of files(SRC)) {
        for (const target of imports(f)) {
            const [from, to] = [stage(f), stage(target)];
            if (from === to) continue;
            if (!((floorOf.get(to) ?? Infinity) < (floorOf.get(from) ?? -Infinity)))
                upward.push(`${rel(f)} → ${rel(target)} (floor ${floorOf.get(from)} → ${floorOf.get(to)})`);
        }
    }
    assert.deepEqual(upward, []);
});

test('no import cycles between folders and root files', () => {
    // Implied by the floors, checked on its own so a broken floor table cannot hide a cycle.
    const graph = new Map<string, Set<string>>();
    for (const f of files(SRC))
        for (const t of imports(f)) {
            if (stage(f) === stage(t)) continue;
            if (!graph.has(stage(f))) graph.set(stage(f), new Set());
            graph.get(stage(f))!.add(stage(t));
        }
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (u: string, trail: string[]): void => {
        if (state.get(u) === 'done') return;
        if (state.get(u) === 'open') return void cycles.push([...trail.slice(trail.indexOf(u)), u].join(' → '));
        state.set(u, 'open');
        for (const next of graph.get(u) ?? []) visit(next, [...trail, u]);
        state.set(u, 'done');
    };
    for (const u of graph.keys()) visit(u, []);
    assert.deepEqual(cycles, []);
});
