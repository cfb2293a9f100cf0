/**
 * The actor's platform files, checked offline: .actor/*.json against Apify's published JSON schemas,
 * the input schema against the input validator's defaults, and the Dockerfile against package.json.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
    getActorSchemaValidator,
    getDatasetSchemaValidator,
    getInputSchemaValidator,
    getKeyValueStoreSchemaValidator,
    getOutputSchemaValidator,
} from '@apify/json_schemas';
import { Ajv } from 'ajv';
import { DEFAULTS } from '../../src/input/input.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const json = (p: string): Record<string, unknown> =>
    JSON.parse(readFileSync(path.join(ROOT, p), 'utf8')) as Record<string, unknown>;

function valid(validator: ReturnType<typeof getActorSchemaValidator>, value: unknown, name: string): void {
    assert.ok(validator(value), `${name}: ${JSON.stringify(validator.errors, null, 1)}`);
}

/**
 * The same validators `apify validate-schema` (apify-cli 1.10.0) runs, offline: that command needs the CLI from
 * the registry (`npx apify-cli validate-schema`, which passed on these files), this test needs nothing.
 */
test('.actor files validate against Apify JSON schemas', () => {
    const actor = json('.actor/actor.json');
    valid(getActorSchemaValidator(), actor, 'actor.json');
    valid(getInputSchemaValidator(), json('.actor/input_schema.json'), 'input_schema.json');
    valid(getDatasetSchemaValidator(), json('.actor/dataset_schema.json'), 'dataset_schema.json');
    valid(getOutputSchemaValidator(), json('.actor/output_schema.json'), 'output_schema.json');
    valid(getKeyValueStoreSchemaValidator(), json('.actor/key_value_store_schema.json'), 'key_value_store_schema.json');
    assert.match(String(actor.$schema), /^https:\/\/apify\.com\/schemas\/v1\/actor/);
    const storages = actor.storages as Record<string, string>;
    for (const ref of [
        actor.input,
        actor.output,
        storages.dataset,
        storages.keyValueStore,
        actor.dockerfile,
        actor.readme,
        actor.changelog,
    ] as string[]) {
        assert.ok(ref && existsSync(path.join(ROOT, '.actor', ref)), `actor.json refers to a missing ${ref}`);
    }
});

/**
 * Memory, measured (docs/development.md, "Memory"): the bundled demo site (7 pages: 5 video players, 2
 * galleries) peaks at 722–740 MB PSS for Node and Chromium together (14 processes), the Node process alone at
 * 239–245 MB RSS: Chromium and its helpers take the other ~495 MB. The V8 heap limit of the start scripts
 * must fit the smallest memory a user can pick together with that Chromium share, or a heap near its limit
 * is killed by the platform instead of failing with a message.
 */
const CHROMIUM_PEAK_MB = 495;

test('memory limits: sized from measurements, and the heap flag fits the smallest memory allowed', () => {
    const actor = json('.actor/actor.json') as {
        minMemoryMbytes: number;
        maxMemoryMbytes: number;
        defaultMemoryMbytes: number;
    };
    const { scripts } = json('package.json') as { scripts: Record<string, string> };
    const heap = Number(/--max-old-space-size=(\d+)/.exec(scripts['start:prod']!)?.[1]);
    assert.ok(heap > 0, 'start:prod sets the heap limit');
    assert.ok(
        heap + CHROMIUM_PEAK_MB <= actor.minMemoryMbytes,
        `heap ${heap} MB + Chromium ${CHROMIUM_PEAK_MB} MB must fit minMemoryMbytes ${actor.minMemoryMbytes}`,
    );
    assert.ok(actor.minMemoryMbytes <= actor.defaultMemoryMbytes && actor.defaultMemoryMbytes <= actor.maxMemoryMbytes);
    // Apify offers powers of two.
    for (const mb of [actor.minMemoryMbytes, actor.defaultMemoryMbytes, actor.maxMemoryMbytes]) {
        assert.equal(Math.log2(mb) % 1, 0, `${mb} MB is not a memory size Apify offers`);
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
        'maxLiveSecs',
        'subtitles',
        'cookies',
        'headers',
        'outputDir',
        'workers',
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
    assert.equal(schema.properties.linkGlobs?.editor, 'globs');
    for (const secret of ['cookies', 'headers']) {
        const p = schema.properties[secret] as { editor?: string; isSecret?: boolean };
        assert.deepEqual([p.editor, p.isSecret], ['json', true], `${secret}: a JSON field stored encrypted`);
    }
});

/** MediaItem's fields, read from the source: the dataset schema must declare every one. */
function mediaItemFields(): string[] {
    const model = readFileSync(path.join(ROOT, 'src', 'model.ts'), 'utf8');
    const body = /export interface MediaItem \{([\s\S]*?)\n\}/.exec(model)?.[1] ?? '';
    return [...body.matchAll(/^ {4}(\w+)\??:/gm)].map((m) => m[1]!);
}

interface DatasetSchema {
    fields: { properties: Record<string, { type?: string; description?: string }> };
    views: Record<
        string,
        { transformation: { fields: string[] }; display: { properties: Record<string, { format?: string }> } }
    >;
}

test('the dataset schema declares every item field with a type and a description', () => {
    const { fields } = json('.actor/dataset_schema.json') as unknown as DatasetSchema;
    const declared = fields.properties;
    const model = mediaItemFields();
    assert.ok(model.length >= 20, `MediaItem parsed: ${model.join(', ')}`);
    for (const field of model) {
        assert.ok(declared[field], `dataset schema misses ${field}`);
        assert.ok(declared[field].type && declared[field].description, `${field} needs a type and a description`);
    }
    assert.deepEqual(
        Object.keys(declared).filter((f) => !model.includes(f)),
        [],
        'fields no item has',
    );
});

test('real items pass the dataset schema (the platform validates pushed items against it)', () => {
    const { fields } = json('.actor/dataset_schema.json') as unknown as DatasetSchema;
    const validate = new Ajv({ strict: false }).compile(fields);
    const page = 'https://example.com/play/1.html';
    const items = [
        {
            type: 'video',
            status: 'ok',
            pageUrl: page,
            url: 'https://cdn.example.com/v/master.m3u8',
            format: 'hls',
            title: 'Episode 1',
            key: 'video-Episode-1',
            contentType: 'video/mp4',
            bytes: 93_100_000,
            sha256: 'ab'.repeat(32),
            width: 1280,
            height: 720,
            durationSecs: 330.2,
            segments: 330,
            hasAudio: true,
            fileUrl: 'https://api/x',
            variantUrl: 'https://cdn.example.com/v/720.m3u8',
            thumbnailKey: 'thumb-video-Episode-1',
            thumbnailUrl: 'https://api/t',
            subtitles: [{ lang: 'en', name: 'English', key: 'video-Episode-1.en' }],
            live: true,
            gaps: 0,
            localPath: '/d/x.mp4',
        },
        { type: 'page', status: 'failed', pageUrl: page, url: page, error: 'page could not be rendered: HTTP 404' },
        {
            type: 'image',
            status: 'skipped',
            pageUrl: page,
            url: 'https://example.com/s.gif',
            error: 'a placeholder',
            errorCode: 'NOT_AN_IMAGE',
        },
    ];
    for (const item of items) assert.ok(validate(item), `${JSON.stringify(item)}: ${JSON.stringify(validate.errors)}`);
    assert.ok(
        !validate({ type: 'video', status: 'done', pageUrl: page, url: page }),
        'a status outside the contract is refused',
    );
});

test('views: an overview with a thumbnail image, and the failures; the output schema links what exists', async () => {
    const { views } = json('.actor/dataset_schema.json') as unknown as DatasetSchema;
    const overview = views.overview!;
    const columns = [
        'thumbnailUrl',
        'title',
        'type',
        'format',
        'status',
        'durationSecs',
        'bytes',
        'pageUrl',
        'fileUrl',
    ];
    for (const f of columns) assert.ok(overview.transformation.fields.includes(f), f);
    assert.equal(overview.display.properties.thumbnailUrl?.format, 'image');
    for (const f of ['status', 'error', 'errorCode', 'url'])
        assert.ok(views.failures!.transformation.fields.includes(f), f);
    for (const view of Object.values(views)) {
        for (const f of Object.keys(view.display.properties)) assert.ok(view.transformation.fields.includes(f), f);
    }
    const kvs = json('.actor/key_value_store_schema.json') as { collections: Record<string, { key?: string }> };
    assert.equal(kvs.collections.report?.key, 'REPORT');
    // Every kind of stored file has its collection, selected by the key prefix the actor gives it.
    const { KEY_PREFIX } = await import('../../src/results/output.js');
    const prefixes = kvs.collections as Record<string, { keyPrefix?: string }>;
    assert.equal(prefixes.videos?.keyPrefix, KEY_PREFIX.video);
    assert.equal(prefixes.images?.keyPrefix, KEY_PREFIX.image);
    assert.equal(prefixes.thumbnails?.keyPrefix, KEY_PREFIX.thumbnail);
    // Every type a record is stored as is listed in its collection (media-types.ts decides the type).
    const { storedType } = await import('../../src/media-types.js');
    const { videoFileKind } = await import('../../src/sources/file/ranges.js');
    const { supportedMimeTypes } = await import('file-type');
    const types = kvs.collections as Record<string, { contentTypes?: string[] }>;
    const sniffedImages = [...supportedMimeTypes].filter((t) => t.startsWith('image/')).concat('image/svg+xml');
    for (const t of sniffedImages)
        assert.ok(
            types.images?.contentTypes?.includes(storedType(t).contentType),
            `images: ${storedType(t).contentType}`,
        );
    const videoTypes = [...supportedMimeTypes]
        .map((t) => videoFileKind(t))
        .flatMap((kind) => (kind && kind.delivery !== 'remux' ? [kind.contentType] : []))
        .concat('video/mp4', 'text/vtt');
    for (const t of videoTypes) {
        // Audio-only files are audio items, under their own prefix.
        const collection = t.startsWith('audio/') ? 'audio' : 'videos';
        assert.ok(
            types[collection]?.contentTypes?.includes(storedType(t).contentType),
            `${collection}: ${storedType(t).contentType}`,
        );
    }
    assert.deepEqual(types.thumbnails?.contentTypes, [storedType('image/png').contentType]);
    const output = json('.actor/output_schema.json') as { properties: Record<string, { template: string }> };
    const templates = Object.values(output.properties).map((p) => p.template);
    assert.ok(templates.includes('{{links.apiDefaultKeyValueStoreUrl}}/records/REPORT'), 'the report');
    assert.ok(templates.includes('{{links.apiDefaultKeyValueStoreUrl}}/keys'), 'the files');
    // One download of every stored file: the API's "Download records" (a ZIP), whole and per collection.
    assert.ok(templates.includes('{{links.apiDefaultKeyValueStoreUrl}}/records'), 'all files as one download');
    assert.ok(templates.includes('{{links.apiDefaultKeyValueStoreUrl}}/records?collection=videos'), 'the videos');
    assert.ok(templates.includes('{{links.apiDefaultKeyValueStoreUrl}}/records?collection=images'), 'the images');
    for (const t of templates) {
        const view = /[?&]view=(\w+)/.exec(t)?.[1];
        if (view) assert.ok(views[view], `output links a view that does not exist: ${view}`);
        const collection = /[?&]collection=(\w+)/.exec(t)?.[1];
        if (collection) assert.ok(kvs.collections[collection], `output links a missing collection: ${collection}`);
    }
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
    // ffmpeg: Debian's in the image, found through the variables src/merge/tools.ts reads.
    assert.match(docker, /apt-get install[^\n]*\bffmpeg\b/);
    assert.match(docker, /FFMPEG_PATH=\/usr\/bin\/ffmpeg/);
    assert.match(docker, /FFPROBE_PATH=\/usr\/bin\/ffprobe/);
    assert.match(docker, /^USER myuser$/m, "back to the base image's user after apt-get");
    // The bundled 2018 ffmpeg is an optional dependency: optional ones are installed (others may need
    // theirs), and its binary package is removed after install; the resolver's package stays.
    assert.doesNotMatch(docker, /--omit=optional|--no-optional/, 'optional dependencies are installed');
    assert.match(docker, /npm ci --omit=dev[^\n]*(\\\n[^\n]*)*rm -rf node_modules\/@ffmpeg-installer\/linux-\*/);
    assert.match(docker, /m\.bundledFfmpeg\(\)/, 'the image checks that the bundled build is gone');
    // The template's Playwright version check, with the files it reads copied beside it.
    assert.match(docker, /^COPY --chown=myuser package\*\.json Dockerfile \.\/$/m);
    assert.match(docker, /^RUN node check-playwright-version\.mjs$/m);
    // Exec-form CMD running the build with start:prod's Node flags.
    const cmd = /^CMD (.+)$/m.exec(docker)?.[1];
    assert.ok(cmd?.startsWith('['), `CMD is not exec form: ${cmd}`);
    const argv = JSON.parse(cmd!) as string[];
    const prod = pkg.scripts['start:prod']!.split(/\s+/);
    assert.deepEqual(argv, prod, 'CMD runs what start:prod runs');
    for (const m of docker.matchAll(/npm run (\S+)/g)) assert.ok(pkg.scripts[m[1]!], `npm run ${m[1]} has no script`);
    // Every source of every COPY from the build context (all words but the destination) names a file
    // that exists; a glob matches at least one.
    for (const m of docker.matchAll(/^COPY (?!--from)(?:--\S+ )*(.+) \S+$/gm)) {
        for (const src of m[1]!.split(' ')) {
            if (src === '.') continue;
            const dir = path.join(ROOT, path.dirname(src));
            const glob = new RegExp(
                `^${path
                    .basename(src)
                    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                    .replace(/\*/g, '.*')}$`,
            );
            const found = src.includes('*')
                ? existsSync(dir) && readdirSync(dir).some((f) => glob.test(f))
                : existsSync(path.join(ROOT, src));
            assert.ok(found, `COPY source ${src} is missing`);
        }
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
    assert.ok(
        flags('start:prod').includes('--max-semi-space-size=16'),
        "Node 20's young generation: Node 24's own grew to 128 MB on 3,600 segments (RSS 393 MB, 303 MB with it)",
    );
    assert.deepEqual(flags('start'), flags('start:prod'));
});
