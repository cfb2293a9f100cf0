/**
 * The pipeline's shape, checked on the sources: stages import downward through src/model.ts and
 * never each other in a cycle; download/ and merge/ know no manifest format.
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
    const above = new Set(['sources', 'pages', 'live', 'crawl.ts', 'main.ts', 'video-submitter.ts']);
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
