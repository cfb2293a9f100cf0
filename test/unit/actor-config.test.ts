/**
 * The actor's platform files, checked offline: .actor/*.json against Apify's published JSON schemas,
 * the input schema against the input validator's defaults, and the Dockerfile against package.json.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
    getActorSchemaValidator,
    getDatasetSchemaValidator,
    getInputSchemaValidator,
    getOutputSchemaValidator,
} from '@apify/json_schemas';
import { DEFAULTS } from '../../src/input.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const json = (p: string): Record<string, unknown> =>
    JSON.parse(readFileSync(path.join(ROOT, p), 'utf8')) as Record<string, unknown>;

function valid(validator: ReturnType<typeof getActorSchemaValidator>, value: unknown, name: string): void {
    assert.ok(validator(value), `${name}: ${JSON.stringify(validator.errors, null, 1)}`);
}

test('.actor files validate against Apify JSON schemas', () => {
    const actor = json('.actor/actor.json');
    valid(getActorSchemaValidator(), actor, 'actor.json');
    valid(getInputSchemaValidator(), json('.actor/input_schema.json'), 'input_schema.json');
    valid(getDatasetSchemaValidator(), json('.actor/dataset_schema.json'), 'dataset_schema.json');
    valid(getOutputSchemaValidator(), json('.actor/output_schema.json'), 'output_schema.json');
    for (const ref of [
        actor.input,
        actor.output,
        (actor.storages as Record<string, string>).dataset,
        actor.dockerfile,
    ] as string[]) {
        assert.ok(existsSync(path.join(ROOT, '.actor', ref)), `actor.json refers to a missing ${ref}`);
    }
});

test('input schema agrees with the contract and the validator, field for field', () => {
    const schema = json('.actor/input_schema.json') as {
        properties: Record<string, { default?: unknown; description?: string; editor?: string }>;
        required: string[];
    };
    const contract = [
        'startUrls',
        'linkGlobs',
        'maxPagesPerCrawl',
        'downloadVideos',
        'downloadImages',
        'videoQuality',
        'minImageWidth',
        'minImageHeight',
        'maxConcurrency',
        'maxRequestRetries',
        'pageWaitSecs',
        'proxyConfiguration',
        'archiveName',
    ];
    for (const field of contract) assert.ok(schema.properties[field], `input schema misses ${field}`);
    assert.deepEqual(schema.required, ['startUrls']);
    for (const [field, value] of Object.entries(DEFAULTS))
        assert.deepEqual(schema.properties[field]?.default, value, `default of ${field}`);
    for (const [field, p] of Object.entries(schema.properties))
        assert.ok(
            p.description && (p as { example?: unknown }).example !== undefined,
            `${field} needs a description and an example`,
        );
    assert.equal(schema.properties.startUrls?.editor, 'requestListSources');
    assert.equal(schema.properties.proxyConfiguration?.editor, 'proxy');
    assert.equal(schema.properties.videoQuality?.editor, 'select');
});

test('the dataset view shows the overview columns', () => {
    const view = (
        json('.actor/dataset_schema.json') as { views: { overview: { transformation: { fields: string[] } } } }
    ).views.overview;
    for (const f of ['type', 'status', 'title', 'pageUrl', 'fileUrl', 'bytes', 'durationSecs', 'width', 'height'])
        assert.ok(view.transformation.fields.includes(f), f);
});

/**
 * apify/actor-node-playwright-chrome tags that public material shows published, each with its evidence.
 * No Docker engine runs here, so a tag joins this list only with a source; docs/deploy.md has the detail.
 */
const PUBLISHED_BASE_TAGS: Record<string, string> = {
    // apify/actor-templates a0936b2d (PR #768, 2026-05-14): templates/ts-crawlee-playwright-chrome/Dockerfile
    '24-1.60.0': 'apify/actor-templates@a0936b2d templates/ts-crawlee-playwright-chrome/Dockerfile',
    // apify/actor-templates b0c4091e (2026-07-15), still at 2b514327 (2026-07-21): the same Dockerfile
    '24-1.61.1': 'apify/actor-templates@b0c4091e templates/ts-crawlee-playwright-chrome/Dockerfile',
    // apify/apify-actor-docker c54c49a0 (2026-07-30) .github/actions/version-matrix/data/cache-states-latest.json:
    // node:playwright NODE_VERSION=22,24,26 x PLAYWRIGHT_VERSION=1.60.0..1.62.1 (unchanged at 88916eb4, 2026-08-22)
    '24-1.62.1': 'apify/apify-actor-docker@c54c49a0 .github/actions/version-matrix/data/cache-states-latest.json',
    // apify/actor-templates PRs #935..#962 (2026-09-09..18), opened by the image release workflow:
    // "Runtime Version: 24, Module Version: 1.63.0"; public actors' Dockerfiles build FROM it
    '24-1.63.0': 'apify/actor-templates PRs #935-#962 (Runtime Version 24, Module Version 1.63.0)',
};

test('Dockerfile base image is published and matches package.json, and its steps refer to files that exist', () => {
    const docker = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    const ci = readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8');
    const pkg = json('package.json') as {
        engines: { node: string };
        dependencies: Record<string, string>;
        scripts: Record<string, string>;
    };
    const playwright = pkg.dependencies.playwright!;
    assert.match(playwright, /^\d+\.\d+\.\d+$/, 'playwright is pinned exactly');
    const froms = [...docker.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]!);
    assert.ok(froms.length >= 2, 'multi-stage');
    const tag = /^apify\/actor-node-playwright-chrome:(\d+)-(\d+\.\d+\.\d+)$/.exec(froms[0]!);
    assert.ok(tag, `unexpected base image ${froms[0]}`);
    for (const from of froms) assert.equal(from, froms[0], 'every stage builds on the same image');
    const [, nodeMajor, imagePlaywright] = tag;
    assert.ok(PUBLISHED_BASE_TAGS[`${nodeMajor}-${imagePlaywright}`], `${froms[0]} is not known to be published`);
    // The image's Playwright is the one npm installs: its browsers are the ones in the image.
    assert.equal(playwright, imagePlaywright, `package.json "playwright" must be the image's ${imagePlaywright}`);
    // The image's Node is within engines, and is the Node that .ci/run tests besides the machine's.
    const floor = /^>=\s*(\d+)(?:\.\d+){0,2}$/.exec(pkg.engines.node.trim());
    assert.ok(floor, `engines.node "${pkg.engines.node}" should be a plain ">=N" floor`);
    assert.ok(
        Number(nodeMajor) >= Number(floor[1]),
        `the image's Node ${nodeMajor} is below engines ${pkg.engines.node}`,
    );
    assert.match(ci, new RegExp(`\\bnode@${nodeMajor}\\b`), `.ci/run must test under the image's Node ${nodeMajor}`);
    // ffmpeg: Debian's in the image, found through the variables src/merge/ffmpeg.ts reads.
    assert.match(docker, /apt-get install[^\n]*\bffmpeg\b/);
    assert.match(docker, /FFMPEG_PATH=\/usr\/bin\/ffmpeg/);
    assert.match(docker, /FFPROBE_PATH=\/usr\/bin\/ffprobe/);
    assert.match(docker, /^USER myuser$/m, "back to the base image's user after apt-get");
    assert.doesNotMatch(docker, /--omit=optional|--no-optional/, 'the bundled ffmpeg is an optional dependency');
    for (const m of docker.matchAll(/npm run (\S+)/g)) assert.ok(pkg.scripts[m[1]!], `npm run ${m[1]} has no script`);
    for (const m of docker.matchAll(/^COPY (?!--from)(?:--\S+ )*(\S+) /gm)) {
        const src = m[1]!;
        if (src === '.') continue;
        assert.ok(
            existsSync(path.join(ROOT, src.replace('*', ''))) || src.includes('*'),
            `COPY source ${src} is missing`,
        );
    }
    const ignored = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const needed of [
        'src',
        'package.json',
        'package-lock.json',
        'tsconfig.json',
        'tsconfig.build.json',
        '.actor',
    ]) {
        assert.ok(!ignored.includes(needed), `.dockerignore leaves out ${needed}, which the build needs`);
    }
});

test('npm start runs with the Node flags of the deployed actor', () => {
    const { scripts } = json('package.json') as { scripts: Record<string, string> };
    const flags = (script: string): string[] =>
        scripts[script]!.split(/\s+/).filter((a) => a.startsWith('--') && a !== '--import');
    assert.ok(
        flags('start:prod').some((f) => f.startsWith('--max-old-space-size=')),
        'the heap limit that holds RSS down (README, benchmark)',
    );
    assert.deepEqual(flags('start'), flags('start:prod'));
});
