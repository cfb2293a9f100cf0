/**
 * Issue "One crawl, many workers" end to end, locally: `--workers 2` runs two worker processes, each
 * with its own Chromium, over one shared page queue, dataset and key-value store. The crawl gives the
 * same items, files and hashes as one worker; a worker killed with `kill -9` mid-crawl is restarted,
 * resumes, and the result is the same again; a video shown on many pages rendered by both workers is
 * stored once.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { DemoServer } from '../src/demo/server.js';
import { runActor, spawnActor, tempDir, type ActorRun } from './helpers/actor.js';
import { frameHashes, sha256 } from './helpers/media.js';
import { COPIES, outcome, startWorkersSite, workersInput } from './helpers/workers-site.js';

let server: DemoServer;

before(async () => {
    server = await startWorkersSite(await tempDir('workers'));
});
after(() => server?.close());

const input = (): Record<string, unknown> => workersInput(server);

/** sha256 of every stored media file, in the store and in the output folder. */
async function storedHashes(run: ActorRun): Promise<{ store: string[]; output: string[] }> {
    const hashes = async (dir: string, keep: (f: string) => boolean) =>
        Promise.all((await readdir(dir)).filter(keep).map((f) => sha256(path.join(dir, f)))).then((h) => h.sort());
    const media = (f: string) => /^(video|image|thumb)-/.test(f);
    return {
        store: await hashes(run.kvDir, media),
        output: await hashes(path.join(run.storage, 'downloads'), () => true),
    };
}

/**
 * What a kill must not change: the items (videos without their container bytes), each video's decoded
 * frames, and the images' bytes. A video resumed after a kill is merged from its segments instead of the
 * MP4 remuxed during its download: with ffmpeg 5.1 (Debian's, the image's) the two hold the same frames
 * in different container bytes (seen in CI on Node 24); with the bundled ffmpeg they are byte-identical.
 */
async function afterKill(run: ActorRun): Promise<{ items: string[]; frames: string[]; images: string[] }> {
    const items = outcome(run.items).map((o) => o.replace(/^video ok \S+$/, 'video ok'));
    const videos = run.items.filter((i) => i.type === 'video' && i.status === 'ok');
    const frames = await Promise.all(
        videos.map(async (v) => (await frameHashes(path.join(run.kvDir, `${v.key}.mp4`))).join(',')),
    );
    const images = (await readdir(run.kvDir)).filter((f) => f.startsWith('image-'));
    return {
        items,
        frames: frames.sort(),
        images: (await Promise.all(images.map((f) => sha256(path.join(run.kvDir, f))))).sort(),
    };
}

/** Which worker rendered which page, from the workers' log lines (query strings are shortened there). */
function rendered(run: ActorRun): { worker: string; url: string }[] {
    return [...run.output.matchAll(/ (w\d+):\S* Page done in .*?: (\S+)/g)].map((m) => ({ worker: m[1]!, url: m[2]! }));
}

let single: ActorRun;

test('one worker: the reference crawl', async () => {
    single = await runActor(input(), { timeoutMs: 300_000 });
    assert.equal(single.code, 0, single.output.slice(-3000));
    const videos = single.items.filter((i) => i.type === 'video');
    assert.equal(videos.filter((i) => i.status === 'ok').length, 4, JSON.stringify(videos, null, 1));
    assert.equal(videos.filter((i) => i.status === 'skipped').length, COPIES - 1);
    assert.ok(
        single.items.some((i) => i.pageUrl.endsWith('/gallery/page3.html')),
        'links were not followed',
    );
});

test('two workers give the same items, files and hashes; a video on pages both rendered is stored once', async () => {
    const run = await runActor(input(), { args: ['--workers', '2'], timeoutMs: 300_000 });
    assert.equal(run.code, 0, run.output.slice(-3000));
    assert.deepEqual(outcome(run.items), outcome(single.items));
    assert.deepEqual(await storedHashes(run), await storedHashes(single));
    // Both workers rendered pages, and both rendered copies of the shared video's page.
    // The copies are the only /play/video.html pages of the input.
    const pages = rendered(run);
    const log = pages.map((p) => `${p.worker} ${p.url}`).join('\n');
    const copyWorkers = new Set(pages.filter((p) => p.url.includes('/play/video.html')).map((p) => p.worker));
    assert.deepEqual([...copyWorkers].sort(), ['w0', 'w1'], log);
    // The dataset holds each item once: one process wrote it.
    assert.equal(run.items.length, single.items.length);
});

test('a worker killed with kill -9 mid-crawl is restarted; the crawl gives the same again', async () => {
    const { child, done } = await spawnActor(input(), { args: ['--workers', '2'], timeoutMs: 300_000 });
    let output = '';
    const killed = new Promise<number>((resolve) => {
        const look = (d: Buffer) => {
            output += d.toString();
            // Worker 1's first video is being downloaded: kill it there.
            const pid = /Worker 1 started \(pid (\d+)\)/.exec(output)?.[1];
            if (!pid || !/ w1:\S* Page done in/.test(output)) return;
            child.stdout!.off('data', look);
            process.kill(Number(pid), 'SIGKILL');
            resolve(Number(pid));
        };
        child.stdout!.on('data', look);
    });
    await killed;
    const run = await done;
    assert.equal(run.code, 0, run.output.slice(-3000));
    assert.match(
        run.output,
        /Worker 1 killed by SIGKILL; \d+ requests it held went back to the queues; starting it again/,
    );
    assert.match(run.output, /Worker 1 restarted \(pid \d+\)/);
    const story = run.output
        .split('\n')
        .filter((l) => /Worker|Page done|Video stored|Resuming/.test(l))
        .join('\n');
    const [got, want] = await Promise.all([afterKill(run), afterKill(single)]);
    assert.deepEqual(got.items, want.items, story);
    assert.deepEqual(got.frames, want.frames, 'decoded frames of the stored videos differ');
    assert.deepEqual(got.images, want.images);
});
