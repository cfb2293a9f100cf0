/**
 * Bad input as a person runs it locally: an unknown field is warned about with the field it may be a
 * typo of, and the run goes on; an `outputDir` that is a file, or an INPUT.json with a trailing comma,
 * stops the run before `Actor.init()` purges anything, naming the field or the line and column.
 */
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runActor, tempDir } from './helpers/actor.js';
import { galleryImages } from './helpers/fixture-cache.js';

let server: Server;
let origin: string;

before(async () => {
    const dir = await tempDir('bad-input');
    await galleryImages(dir);
    server = createServer((_req, res) =>
        createReadStream(path.join(dir, 'g1.jpg')).pipe(res.writeHead(200, { 'content-type': 'image/jpeg' })),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server?.close());

test('unknown fields are warned about; a file as outputDir or a trailing comma stops before the purge', async () => {
    const storage = await tempDir('bad-input-run');
    const first = await runActor(
        { startUrls: [{ url: `${origin}/photo.jpg` }], videoQualty: '720p', minImageWidth: 1, minImageHeight: 1 },
        { storage },
    );
    assert.equal(first.code, 0, first.output.slice(-2000));
    assert.match(first.output, /Unknown input field ignored: "videoQualty" \(did you mean "videoQuality"\?\)/);
    const stored = path.join(first.kvDir, `${first.items[0]!.key}.jpeg`);
    const inode = (await stat(stored)).ino;
    const items = async () =>
        (await readdir(path.join(storage, 'datasets', 'default'))).filter((f) => f.endsWith('.json')).length;
    assert.equal(await items(), 1);

    const file = path.join(storage, 'not-a-folder');
    await writeFile(file, 'x');
    const asFile = await runActor({ startUrls: [{ url: `${origin}/other.jpg` }], outputDir: file }, { storage });
    assert.equal(asFile.code, 1);
    assert.match(asFile.output, /Invalid input field "outputDir": .*not-a-folder is a file, not a folder/);
    const comma = await runActor(`{\n  "startUrls": [{ "url": "${origin}/x.jpg" }],\n}`, { storage });
    assert.equal(comma.code, 1);
    assert.match(comma.output, /INPUT\.json is not valid JSON at line 3, column 1: trailing comma/);
    assert.equal((await stat(stored)).ino, inode, 'the stored file is still there');
    assert.equal(await items(), 1, 'the dataset of the earlier run is still there');
});
