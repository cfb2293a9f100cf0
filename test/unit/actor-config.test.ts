/**
 * The actor's platform files, checked offline: .actor/*.json against Apify's published JSON schemas,
 * the input schema against the input validator's defaults, and the Dockerfile against package.json.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { getActorSchemaValidator, getDatasetSchemaValidator, getInputSchemaValidator, getOutputSchemaValidator } from '@apify/json_schemas';
import { DEFAULTS } from '../../src/input.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const json = (p: string): Record<string, unknown> => JSON.parse(readFileSync(path.join(ROOT, p), 'utf8')) as Record<string, unknown>;

function valid(validator: ReturnType<typeof getActorSchemaValidator>, value: unknown, name: string): void {
    assert.ok(validator(value), `${name}: ${JSON.stringify(validator.errors, null, 1)}`);
}

test('.actor files validate against Apify JSON schemas', () => {
    const actor = json('.actor/actor.json');
    valid(getActorSchemaValidator(), actor, 'actor.json');
    valid(getInputSchemaValidator(), json('.actor/input_schema.json'), 'input_schema.json');
    valid(getDatasetSchemaValidator(), json('.actor/dataset_schema.json'), 'dataset_schema.json');
    valid(getOutputSchemaValidator(), json('.actor/output_schema.json'), 'output_schema.json');
    for (const ref of [actor.input, actor.output, (actor.storages as Record<string, string>).dataset, actor.dockerfile] as string[]) {
        assert.ok(existsSync(path.join(ROOT, '.actor', ref)), `actor.json refers to a missing ${ref}`);
    }
});

test('input schema agrees with the contract and the validator, field for field', () => {
    const schema = json('.actor/input_schema.json') as { properties: Record<string, { default?: unknown; description?: string; editor?: string }>; required: string[] };
    const contract = ['startUrls', 'linkGlobs', 'maxPagesPerCrawl', 'downloadVideos', 'downloadImages', 'videoQuality', 'minImageWidth', 'minImageHeight', 'maxConcurrency', 'maxRequestRetries', 'pageWaitSecs', 'proxyConfiguration', 'archiveName'];
    for (const field of contract) assert.ok(schema.properties[field], `input schema misses ${field}`);
    assert.deepEqual(schema.required, ['startUrls']);
    for (const [field, value] of Object.entries(DEFAULTS)) assert.deepEqual(schema.properties[field]?.default, value, `default of ${field}`);
    for (const [field, p] of Object.entries(schema.properties)) assert.ok(p.description && (p as { example?: unknown }).example !== undefined, `${field} needs a description and an example`);
    assert.equal(schema.properties.startUrls?.editor, 'requestListSources');
    assert.equal(schema.properties.proxyConfiguration?.editor, 'proxy');
    assert.equal(schema.properties.videoQuality?.editor, 'select');
});

test('the dataset view shows the overview columns', () => {
    const view = (json('.actor/dataset_schema.json') as { views: { overview: { transformation: { fields: string[] } } } }).views.overview;
    for (const f of ['type', 'status', 'title', 'pageUrl', 'fileUrl', 'bytes', 'durationSecs', 'width', 'height']) assert.ok(view.transformation.fields.includes(f), f);
});

test('Dockerfile pins match package.json and its build steps refer to files that exist', () => {
    const docker = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    const pkg = json('package.json') as { engines: { node: string }; dependencies: Record<string, string>; scripts: Record<string, string> };
    const node = /\d+/.exec(pkg.engines.node)![0];
    const playwright = pkg.dependencies.playwright!;
    assert.match(playwright, /^\d+\.\d+\.\d+$/, 'playwright is pinned exactly');
    const froms = [...docker.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    assert.ok(froms.length >= 2, 'multi-stage');
    for (const from of froms) assert.equal(from, `apify/actor-node-playwright-chrome:${node}-${playwright}`);
    assert.doesNotMatch(docker, /--omit=optional|--no-optional/, 'the ffmpeg binary is an optional dependency');
    for (const m of docker.matchAll(/npm run (\S+)/g)) assert.ok(pkg.scripts[m[1]!], `npm run ${m[1]} has no script`);
    for (const m of docker.matchAll(/^COPY (?!--from)(?:--\S+ )*(\S+) /gm)) {
        const src = m[1]!;
        if (src === '.') continue;
        assert.ok(existsSync(path.join(ROOT, src.replace('*', ''))) || src.includes('*'), `COPY source ${src} is missing`);
    }
    assert.ok(existsSync(path.join(ROOT, '.dockerignore')));
});

test('npm start runs with the Node flags of the deployed actor', () => {
    const { scripts } = json('package.json') as { scripts: Record<string, string> };
    const flags = (script: string): string[] => scripts[script]!.split(/\s+/).filter((a) => a.startsWith('--') && a !== '--import');
    assert.ok(flags('start:prod').some((f) => f.startsWith('--max-old-space-size=')), 'the heap limit that holds RSS down (README, benchmark)');
    assert.deepEqual(flags('start'), flags('start:prod'));
});
