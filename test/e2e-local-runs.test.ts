/**
 * Issue "Your files are safe", as a person runs it locally: default storage, purge on start.
 * A second run keeps every file of the first in the output folder; a broken INPUT.json or a
 * mistyped option stops before anything is touched; --help explains the command line.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startDemoServer, type DemoServer } from '../src/demo/server.js';
import { runActor, tempDir } from './helpers/actor.js';
import { sha256 } from './helpers/media.js';
import { demoMedia } from './helpers/fixture-cache.js';

let server: DemoServer;

before(async () => {
    const dir = await tempDir('media');
    await demoMedia(dir);
    server = await startDemoServer({ mediaDir: dir });
});
after(() => server?.close());

const hashes = async (dir: string): Promise<Map<string, string>> => {
    const files = (await readdir(dir)).sort();
    return new Map(await Promise.all(files.map(async (f) => [f, await sha256(path.join(dir, f))] as [string, string])));
};

test('a second run with other URLs keeps every file of the first in the output folder', async () => {
    const storage = await tempDir('local');
    const out = path.join(storage, 'my-downloads');
    const first = await runActor(undefined, {
        storage,
        args: ['--output-dir', out, `${server.origin}/media/api/index.m3u8`],
    });
    assert.equal(first.code, 0, first.output.slice(-2000));
    assert.equal(first.items[0]?.status, 'ok');
    assert.match(first.output, new RegExp(`Files: ${out.replace(/[/.]/g, '\\$&')}`), 'the log names the folder');
    const afterFirst = await hashes(out);
    assert.deepEqual([...afterFirst.keys()], ['media-api.mp4'], 'named from the URL path');
    // The same name again with other content, and a second video.
    const second = await runActor(undefined, {
        storage,
        args: [
            '--output-dir',
            out,
            `${server.origin}/media/seed/index.m3u8`,
            `${server.origin}/media/iframe/low/index.m3u8`,
        ],
    });
    assert.equal(second.code, 0, second.output.slice(-2000));
    const afterSecond = await hashes(out);
    for (const [name, hash] of afterFirst) assert.equal(afterSecond.get(name), hash, `${name} was changed or deleted`);
    assert.equal(afterSecond.size, 3, [...afterSecond.keys()].join(', '));
    // The key-value store is the run's (purged on start); the folder is the person's.
    for (const item of second.items.filter((i) => i.status === 'ok')) {
        const inStore = path.join(second.kvDir, `${item.key}.mp4`);
        assert.equal(await sha256(inStore), item.sha256);
    }
    // Running the same video again stores nothing twice.
    const third = await runActor(undefined, {
        storage,
        args: ['--output-dir', out, `${server.origin}/media/api/index.m3u8`],
    });
    assert.equal(third.code, 0);
    assert.equal((await hashes(out)).size, 3, 'same content under the same name is not copied again');
});

test('a broken INPUT.json exits 1 naming the file and position, and deletes nothing', async () => {
    const storage = await tempDir('broken');
    const ok = await runActor({ startUrls: [{ url: `${server.origin}/media/seed/index.m3u8` }] }, { storage });
    assert.equal(ok.code, 0, ok.output.slice(-2000));
    const stored = path.join(ok.kvDir, `${ok.items[0]!.key}.mp4`);
    const before = await stat(stored);
    const broken = await runActor('{"startUrls": [', { storage });
    assert.equal(broken.code, 1);
    assert.match(broken.output, /INPUT\.json is not valid JSON at line 1, column 16/);
    assert.doesNotMatch(broken.output, /demo site/);
    assert.equal((await stat(stored)).ino, before.ino, 'the stored file is still there');
    assert.equal(broken.items.length, 1, 'the dataset of the earlier run is still there');
    const array = await runActor('[{"url": "https://a.test"}]', { storage });
    assert.equal(array.code, 1);
    assert.match(array.output, /must hold a JSON object/);
    const invalid = await runActor({ startUrls: [{ url: 'https://a.test' }], videoQuality: 'best' }, { storage });
    assert.equal(invalid.code, 1);
    assert.match(invalid.output, /Invalid input field "videoQuality"/);
    assert.equal(
        (await readdir(path.join(storage, 'datasets', 'default'))).filter((f) => f.endsWith('.json')).length,
        1,
    );
});

test('--help explains; an unknown option is an error, not a URL', async () => {
    const help = await runActor(undefined, { args: ['--help'] });
    assert.equal(help.code, 0);
    assert.match(help.output, /Usage: npm start -- \[options\] URL/);
    assert.match(help.output, /--quality <value>/);
    assert.match(help.output, /startUrls \(array\)/);
    const storage = await tempDir('badopt');
    await writeFile(path.join(storage, 'marker'), 'x');
    const bad = await runActor(undefined, { storage, args: ['--qualty', '720p', 'https://a.test/'] });
    assert.equal(bad.code, 2);
    assert.match(bad.output, /--qualty/);
    assert.match(bad.output, /--help/);
    assert.doesNotMatch(bad.output, /Crawler|crawling/i);
    assert.equal(await readFile(path.join(storage, 'marker'), 'utf8'), 'x');
});
