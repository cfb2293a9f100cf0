/**
 * One verdict per video: a run stopped while a video is being merged or reported gives that video one
 * item, never an `ok` and a `failed` one, never two `failed` ones. Drives the real VideoJobs, VideoFinisher
 * (ffmpeg included) and the stopped crawl's abandonDownloads on Crawlee's local storage in a temp folder.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { ffmpegPath } from '../../src/merge/tools.js';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/actor.js';
import type { MediaItem, VideoJob } from '../../src/model.js';

const dir = await tempDir('verdict');
// Crawlee reads its storage folder when it first opens a storage: set before anything opens one.
process.env.CRAWLEE_STORAGE_DIR = path.join(dir, 'storage');
const { Dataset, KeyValueStore } = await import('@crawlee/core');
const { VideoJobs } = await import('../../src/download/jobs.js');
const { VideoFinisher } = await import('../../src/merge/finish.js');
const { abandonDownloads } = await import('../../src/app/crawl-end.js');
const { Results } = await import('../../src/results/results.js');

/** A plain-file video job of one unit; `file`, when given, is that unit's bytes on disk. */
async function fileJob(jobs: InstanceType<typeof VideoJobs>, id: string, file?: string): Promise<VideoJob> {
    const url = `https://cdn.site.test/${id}.mp4`;
    const job: VideoJob = {
        id,
        format: 'file',
        pageUrl: `https://site.test/play/${id}.html`,
        url,
        variantUrl: url,
        headers: {},
        durationSecs: 2,
        live: false,
        tracks: [{ name: 'v', sourceUrl: url, segments: 1, inits: 0, firstSeq: 0, bytes: 'ranges' }],
        delivery: 'as-served',
        contentType: 'video/mp4',
        status: 'downloading',
    };
    await jobs.add(job, []);
    await mkdir(jobs.workDir(id), { recursive: true });
    if (file) {
        execFileSync('cp', [file, path.join(jobs.workDir(id), 'v-seg-000000.bin')]);
        jobs.unitDone(id, 'v-seg-000000.bin');
    } else jobs.unitFailed(id, 'v-seg-000000.bin', 'HTTP 404');
    return job;
}

async function itemsOf(id: string): Promise<MediaItem[]> {
    const all = (await (await Dataset.open()).getData()).items as MediaItem[];
    return all.filter((i) => i.url.endsWith(`/${id}.mp4`));
}

async function setUp(): Promise<{
    jobs: InstanceType<typeof VideoJobs>;
    finisher: InstanceType<typeof VideoFinisher>;
    results: Awaited<ReturnType<typeof Results.open>>;
}> {
    const jobs = new VideoJobs(await KeyValueStore.open('state-verdict'), path.join(dir, 'work'));
    const results = await Results.open();
    const finisher = new VideoFinisher(jobs, results);
    return { jobs, finisher, results };
}

test('a run stopped while a failed video is being reported: one failed item', async () => {
    const { jobs, finisher, results } = await setUp();
    await fileJob(jobs, 'lost');
    finisher.settle('lost'); // its missing unit makes it a failed item
    await abandonDownloads(jobs, results, 'aborting'); // the stop comes while that item is on its way
    await finisher.drain();
    const items = await itemsOf('lost');
    assert.equal(items.length, 1, JSON.stringify(items, null, 1));
    assert.equal(items[0]!.status, 'failed');
});

test('a run stopped while a stored video’s item is being written: one ok item, no failed one', async () => {
    const { jobs, finisher, results } = await setUp();
    const mp4 = path.join(dir, 'clip.mp4');
    execFileSync(ffmpegPath, [
        ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=160x120:r=10:d=2'],
        ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', mp4],
    ]);
    const job = await fileJob(jobs, 'stored', mp4);
    // The stop arrives just as the video's ok item is written (the real push runs; only the moment is chosen).
    const proto = Dataset.prototype as unknown as { pushData(data: unknown): Promise<void> };
    const push = proto.pushData;
    let stopped: Promise<void> | undefined;
    proto.pushData = async function (this: unknown, data: unknown) {
        if (!stopped && (data as MediaItem).status === 'ok') stopped = abandonDownloads(jobs, results, 'aborting');
        return push.call(this, data);
    };
    try {
        finisher.settle('stored');
        await finisher.drain();
        await stopped;
    } finally {
        proto.pushData = push;
    }
    assert.ok(stopped, 'the stop came while the ok item was written');
    const items = await itemsOf('stored');
    assert.deepEqual(
        items.map((i) => i.status),
        ['ok'],
        JSON.stringify(items, null, 1),
    );
    assert.equal(job.status, 'done');
});
