/**
 * `npm run bench`: throughput against a CDN-like local server (100 ms to first byte, 1.5 MB/s per
 * connection). Times the actor on the m3u8 URL, the actor on a play page, and the bundled ffmpeg's
 * own `-i URL -c copy` as the baseline. `npm run bench -- --many` measures a 3,600-segment playlist
 * for memory and per-request overhead instead. Prints a Markdown table for the README.
 */
import { execFile, execFileSync } from 'node:child_process';
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeHlsVideo, type HlsVideo } from '../src/demo/media.js';
import { startDemoServer, type DemoServer } from '../src/demo/server.js';
import { ffmpegPath } from '../src/merge/ffmpeg.js';
import { storageDir } from '../src/storage.js';
import { runActor, tempDir, type ActorRun } from '../test/helpers/actor.js';

const run = promisify(execFile);
const TTFB_MS = 100;
const BYTES_PER_SEC = 1_500_000;

interface Row {
    what: string;
    secs: number;
    peak: number;
    rampSecs?: number;
    rssMb?: number;
    note?: string;
}

/**
 * Seconds from the actor's first segment request until the server first saw 90 % of its peak. On
 * a play page the page's own player fetches the playlist and a segment before we stop it; the clock
 * starts at the first segment after the last playlist fetch (the actor's own, when it resolves it).
 */
function rampUp(server: DemoServer, from: number, since: number): number | undefined {
    const lastPlaylist = Math.max(0, ...server.playlistFetches.filter((t) => t >= since));
    const starts = server.segmentStarts.slice(from).filter((s) => s.at >= lastPlaylist);
    if (!starts.length) return undefined;
    const peak = Math.max(...starts.map((s) => s.active));
    const reached = starts.find((s) => s.active >= peak * 0.9);
    return reached ? (reached.at - starts[0]!.at) / 1000 : undefined;
}

async function measure(server: DemoServer, what: string, go: () => Promise<ActorRun | { ms: number; note?: string }>): Promise<Row> {
    const from = server.segmentStarts.length;
    const since = Date.now();
    const result = await go();
    // Open responses seen at each segment request of this case only.
    const peak = Math.max(0, ...server.segmentStarts.slice(from).map((s) => s.active));
    const actorRun = 'items' in result ? result : undefined;
    const failed = actorRun?.items.filter((i) => i.status !== 'ok');
    if (failed?.length) throw new Error(`${what}: ${JSON.stringify(failed)}`);
    return { what, secs: result.ms / 1000, peak, rampSecs: rampUp(server, from, since), rssMb: actorRun?.peakRssMb, note: 'note' in result ? result.note : undefined };
}

function table(rows: Row[], baseline?: Row): string {
    const lines = ['| case | time (s) | vs ffmpeg | peak parallel connections | ramp to 90 % of peak (s) | peak RSS (MB) |', '|---|---|---|---|---|---|'];
    for (const r of rows) {
        const speedup = baseline && r !== baseline ? `${(baseline.secs / r.secs).toFixed(1)}×` : '1×';
        lines.push(`| ${r.what} | ${r.secs.toFixed(1)} | ${baseline ? speedup : '–'} | ${r.peak} | ${r.rampSecs?.toFixed(2) ?? '–'} | ${r.rssMb ?? '–'} |`);
    }
    return lines.join('\n');
}

async function long(): Promise<void> {
    const dir = path.join(storageDir(), 'bench-media');
    // 330 one-second segments at ~2.2 Mbit/s: > 300 segments and > 80 MB.
    const video: HlsVideo = await makeHlsVideo(path.join(dir, 'long-noise'), { width: 640, height: 360, secs: 330, segSecs: 1, videoKbps: 2100, noise: true });
    const size = (await run('sh', ['-c', `cat ${video.dir}/*.ts | wc -c`])).stdout.trim();
    const server = await startDemoServer({ mediaDir: dir, ttfbMs: TTFB_MS, bytesPerSec: BYTES_PER_SEC });
    const src = '/media/long-noise/index.m3u8';
    console.log(`Media: ${video.segments} segments, ${(Number(size) / 1e6).toFixed(0)} MB of segments; server: ${TTFB_MS} ms to first byte, ${BYTES_PER_SEC / 1e6} MB/s per connection`);
    try {
        const rows: Row[] = [];
        rows.push(await measure(server, 'actor, m3u8 URL', () => runActor({ startUrls: [{ url: server.origin + src }] }, { compiled: true })));
        rows.push(await measure(server, 'actor, play page', () => runActor({ startUrls: [{ url: server.videoPage(src) }] }, { compiled: true })));
        const out = path.join(await tempDir('bench'), 'ffmpeg.mp4');
        const baseline = await measure(server, 'ffmpeg -i URL -c copy', async () => {
            const t = Date.now();
            await run(ffmpegPath, ['-hide_banner', '-loglevel', 'error', '-y', '-i', server.origin + src, '-c', 'copy', '-bsf:a', 'aac_adtstoasc', out], { maxBuffer: 64 * 1024 * 1024 });
            const bytes = (await stat(out)).size;
            await rm(out);
            return { ms: Date.now() - t, note: `${bytes} bytes` };
        });
        rows.push(baseline);
        console.log(`\n${table(rows, baseline)}\n`);
    } finally {
        await server.close();
    }
}

async function many(): Promise<void> {
    const dir = path.join(storageDir(), 'bench-media');
    const video = await makeHlsVideo(path.join(dir, 'many'), { width: 160, height: 90, secs: 3600, segSecs: 1, fps: 10, videoKbps: 100 });
    const server = await startDemoServer({ mediaDir: dir });
    console.log(`Media: ${video.segments} small segments; server: no added latency (per-request overhead)`);
    try {
        const row = await measure(server, 'actor, 3,600-segment m3u8', () => runActor({ startUrls: [{ url: `${server.origin}/media/many/index.m3u8` }] }, { timeoutMs: 900_000, compiled: true }));
        console.log(`\n${table([row])}\n\nPer segment: ${((row.secs * 1000) / video.segments).toFixed(1)} ms of wall time, end to end.\n`);
    } finally {
        await server.close();
    }
}

// The actor is measured as deployed: compiled JavaScript, not TypeScript through tsx.
execFileSync('npm', ['run', 'build'], { stdio: 'inherit' });
await (process.argv.includes('--many') ? many() : long());
