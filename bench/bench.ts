/**
 * `npm run bench`: the actor as a user runs it (`npm start -- URL`) against a CDN-like local server
 * (100 ms to first byte, 1.5 MB/s per connection), next to the practical limit of the same machine
 * and server: a raw fetch of the same segments over 64 connections with no merge (Debian's aria2c
 * when installed, else bench/raw-fetch.mjs). Cases run in rounds, one of each per round, so that
 * the machine's drift (~30 % from minute to minute here) hits every case alike; ratios are taken
 * within a round. Prints a Markdown table for the README.
 *
 * `-- --runs N` rounds (default 3); `-- --ffmpeg` adds the bundled ffmpeg's `-i URL -c copy` (50 s);
 * yt-dlp `-N 16` runs in every round when installed (`-- --no-ytdlp` leaves it out);
 * `-- --fetcher` uses the bench's own fetcher even when aria2c is installed.
 * `-- --big`: after the usual case, the big one (the video ten times, ~940 MB, 3,300 segments, a
 * discontinuity between repeats; `--big-runs N`, default 2); `-- --big-only` runs it alone.
 * Each row also gives CPU seconds per GB of segments (the command with everything it started: npm,
 * Node, ffmpeg) and the largest peak RSS of one of its processes, from GNU time when installed.
 * `-- --base DIR`: the m3u8 cases also run in checkout DIR (before a change), in the same rounds.
 * `-- --many`: a 3,600-segment playlist, for memory and per-request overhead.
 * `-- --crawl`: 30 play and gallery pages of the demo site in one run: pages per minute, and per page
 * the time from its own last new media request to the end of its page handler. `-- --crawl --workers N`
 * splits it across N worker processes: also peak memory per worker and request-queue calls per page.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { link, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeDashMedia } from '../src/demo/dash-media.js';
import { makeFileMedia } from '../src/demo/file-media.js';
import { makeGalleryImages } from '../src/demo/gallery.js';
import { makeDemoMedia, makeHlsVideo, type HlsVideo } from '../src/demo/media.js';
import { startDemoServer, type DemoServer } from '../src/demo/server.js';
import { ffmpegPath } from '../src/merge/tools.js';
import { storageDir } from '../src/run/storage.js';
import { ROOT, tempDir } from '../test/helpers/actor.js';
import { npmRun, readTimed, timed, type NpmRun } from './npm-run.js';

const run = promisify(execFile);
const TTFB_MS = 100;
const BYTES_PER_SEC = 1_500_000;
const CONNECTIONS = 64;
const SERVER = `server: ${TTFB_MS} ms to first byte, ${BYTES_PER_SEC / 1e6} MB/s per connection`;

const argValue = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
};
const flag = (name: string): boolean => process.argv.includes(name);

interface Sample {
    secs: number;
    peak: number;
    /** When the actor's own first segment request reached the server, seconds after the command started. */
    firstSegmentSecs?: number;
    rssMb?: number;
    /** CPU seconds of the command and all its descendants (GNU time). */
    cpuSecs?: number;
    /** The largest peak RSS of one process of the command (GNU time). */
    maxRssMb?: number;
}

interface Result {
    ms: number;
    rssMb?: number;
    cpuSecs?: number;
    maxRssMb?: number;
}

interface Case {
    name: string;
    go: () => Promise<Result>;
    samples: Sample[];
}

const fmt = (n: number | undefined, digits = 1): string => (n === undefined ? '–' : n.toFixed(digits));
const spread = (xs: number[], digits = 1, unit = ''): string =>
    xs.length < 2 ? '–' : `${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)}${unit}`;

const roundLine = (s: Sample): string =>
    `${s.secs.toFixed(2)} s, peak ${s.peak} connections, CPU ${fmt(s.cpuSecs)} s, ` +
    `largest peak RSS ${s.maxRssMb ?? '–'} MB, load average ${os.loadavg()[0]!.toFixed(1)}`;

/** The actor's segments: those after the last playlist fetch (a play page's own player fetches one first). */
function firstActorSegment(server: DemoServer, from: number, since: number): number | undefined {
    const lastPlaylist = Math.max(0, ...server.playlistFetches.filter((t) => t >= since));
    const first = server.segmentStarts.slice(from).find((s) => s.at >= lastPlaylist);
    return first ? (first.at - since) / 1000 : undefined;
}

/**
 * Writes back what the case before left in the page cache: this machine's disk writes back ~124 MB/s,
 * so the big case's gigabytes, written back during the next case, slowed it by up to a third.
 */
function settleDisk(): void {
    try {
        execFileSync('sync');
    } catch {
        // No `sync` (not POSIX): the cases then share whatever write-back is pending.
    }
}

async function measure(server: DemoServer, c: Case): Promise<Sample> {
    settleDisk();
    const from = server.segmentStarts.length;
    const since = Date.now();
    const result = await c.go();
    const peak = Math.max(0, ...server.segmentStarts.slice(from).map((s) => s.active));
    const sample = {
        secs: result.ms / 1000,
        peak,
        firstSegmentSecs: firstActorSegment(server, from, since),
        rssMb: result.rssMb,
        cpuSecs: result.cpuSecs,
        maxRssMb: result.maxRssMb,
    };
    c.samples.push(sample);
    return sample;
}

/** Every item ok, one video among them, its file in the store and as long as reported. */
async function verified(what: string, r: NpmRun): Promise<NpmRun> {
    const bad = r.items.filter((i) => i.status !== 'ok');
    const video = r.items.find((i) => i.type === 'video');
    if (r.code !== 0 || bad.length || !video) {
        const tail = r.lines
            .slice(-30)
            .map((l) => l.text)
            .join('\n');
        throw new Error(`${what}: exit ${r.code}, ${JSON.stringify(bad.length ? bad : r.items)}\n${tail}`);
    }
    const size = (await stat(path.join(r.kvDir, `${video.key}.mp4`))).size;
    if (size !== video.bytes || !video.sha256)
        throw new Error(`${what}: stored ${size} bytes, item says ${video.bytes}`);
    await rm(r.storage, { recursive: true, force: true });
    return r;
}

async function actor(what: string, url: string, script = 'start', cwd?: string): Promise<Result> {
    const storage = await tempDir('bench-out');
    const r = await verified(what, await npmRun(['--output-dir', storage, url], { script, cwd }));
    await rm(storage, { recursive: true, force: true });
    return { ms: r.ms, rssMb: r.nodeRssMb, cpuSecs: r.cpuSecs, maxRssMb: r.maxRssMb };
}

/**
 * `-- --base DIR`: the same m3u8 cases run in another checkout (the code before a change, built
 * there first), in the same rounds, so that before and after meet the same minutes of a busy machine.
 */
const BASE = argValue('--base');
function baseCases(url: string, scripts: string[]): Case[] {
    if (!BASE) return [];
    return scripts.map((script) => ({
        name: `base (${path.basename(BASE)}): \`npm ${script === 'start' ? 'start' : `run ${script}`}\`, m3u8 URL`,
        go: () => actor(`base ${script}`, url, script, BASE),
        samples: [],
    }));
}

/** Segment URLs of a media playlist, resolved against it. */
async function segmentUrls(playlistFile: string, playlistUrl: string): Promise<string[]> {
    const text = await readFile(playlistFile, 'utf8');
    return text
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => new URL(l, playlistUrl).href);
}

function onPath(name: string): string | undefined {
    for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
        if (dir && existsSync(path.join(dir, name))) return path.join(dir, name);
    }
    return undefined;
}

const aria2c = (): string | undefined => (flag('--fetcher') ? undefined : onPath('aria2c'));

/** yt-dlp when installed (Debian's `yt-dlp`): the downloader a person would pick instead. `--no-ytdlp` leaves it out. */
const ytDlp = (): string | undefined => (flag('--no-ytdlp') ? undefined : onPath('yt-dlp'));

/**
 * `yt-dlp -N 16 URL`: its HLS downloader, 16 fragments at once, then its fix-up of the MPEG-TS into an
 * MP4 (ffmpeg). Checked as the actor is: an MP4 at least as big as the segments' payload minus the
 * container's overhead.
 */
async function ytDlpRun(tool: string, url: string, segmentBytes: number): Promise<Result> {
    const dir = await tempDir('bench-ytdlp');
    const rusage = path.join(dir, 'rusage.txt');
    const out = path.join(dir, 'video.mp4');
    const args = ['-N', '16', '--no-part', '--quiet', '--no-warnings', '--no-progress', '-o', out, url];
    const t = Date.now();
    await run(...timed(rusage, tool, args), { maxBuffer: 64 * 1024 * 1024 });
    const ms = Date.now() - t;
    const size = (await stat(out)).size;
    // MPEG-TS carries ~3-4 % of overhead over the MP4 the same frames make.
    if (size < 0.9 * segmentBytes) throw new Error(`yt-dlp wrote ${size} bytes for ${segmentBytes} of segments`);
    const usage = await readTimed(rusage);
    await rm(dir, { recursive: true, force: true });
    return { ms, ...usage };
}

async function rawFetch(urls: string[], tool: string | undefined): Promise<Result> {
    const dir = await tempDir('bench-raw');
    const list = path.join(dir, 'urls.txt');
    await writeFile(list, urls.join('\n') + '\n');
    const out = path.join(dir, 'out');
    await mkdir(out);
    const rusage = path.join(dir, 'rusage.txt');
    const t = Date.now();
    if (tool) {
        // -j: downloads at once, one connection each; no preallocation (the actor does not preallocate either).
        const args = ['-q', '-j', String(CONNECTIONS), '--file-allocation=none', '--allow-overwrite=true'];
        args.push('-d', out, '-i', list);
        await run(...timed(rusage, tool, args), { maxBuffer: 64 * 1024 * 1024 });
    } else {
        const args = [path.join(ROOT, 'bench', 'raw-fetch.mjs'), String(CONNECTIONS), out, list];
        await run(...timed(rusage, process.execPath, args));
    }
    const ms = Date.now() - t;
    const usage = await readTimed(rusage);
    await rm(dir, { recursive: true, force: true });
    return { ms, ...usage };
}

function table(cases: Case[], raw: Case, runs: number, bytes: number): string {
    const lines = [
        `| case | time (s), latest | spread over ${runs} runs (s) | × raw fetch, latest (spread) ` +
            "| peak parallel connections | actor's first segment at (s) | peak RSS of the actor's Node (MB) " +
            '| CPU s per GB, all processes | largest peak RSS of one process (MB) |',
        '|---|---|---|---|---|---|---|---|---|',
    ];
    for (const c of cases) {
        const last = c.samples.at(-1)!;
        const ratios = c.samples.map((s, i) => s.secs / raw.samples[i]!.secs);
        const ratio = c === raw ? '1×' : `${fmt(ratios.at(-1), 2)}× (${spread(ratios, 2, '×')})`;
        const rss = c.samples.map((s) => s.rssMb).filter((x): x is number => x !== undefined);
        lines.push(
            `| ${c.name} | ${fmt(last.secs)} | ${spread(c.samples.map((s) => s.secs))} | ${ratio} | ${last.peak} | ` +
                `${fmt(last.firstSegmentSecs, 2)} | ${rss.length ? `${rss.at(-1)} (${spread(rss, 0)})` : '–'} | ` +
                `${fmt(last.cpuSecs === undefined ? undefined : last.cpuSecs / (bytes / 1e9))} | ${last.maxRssMb ?? '–'} |`,
        );
    }
    return lines.join('\n');
}

/** 330 one-second segments at ~2.2 Mbit/s: > 300 segments and > 80 MB. */
const longVideo = (dir: string): Promise<HlsVideo> =>
    makeHlsVideo(path.join(dir, 'long-noise'), {
        width: 640,
        height: 360,
        secs: 330,
        segSecs: 1,
        videoKbps: 2100,
        noise: true,
    });

async function long(runs: number): Promise<void> {
    const dir = path.join(storageDir(), 'bench-media');
    const video = await longVideo(dir);
    const size = (await run('sh', ['-c', `cat ${video.dir}/*.ts | wc -c`])).stdout.trim();
    const server = await startDemoServer({ mediaDir: dir, ttfbMs: TTFB_MS, bytesPerSec: BYTES_PER_SEC });
    const src = '/media/long-noise/index.m3u8';
    const m3u8 = server.origin + src;
    const urls = await segmentUrls(path.join(video.dir, 'index.m3u8'), m3u8);
    const tool = aria2c();
    console.log(
        `Media: ${video.segments} segments, ${(Number(size) / 1e6).toFixed(0)} MB of segments; ${SERVER}; ` +
            `raw fetch: ${tool ? 'aria2c' : 'bench/raw-fetch.mjs'}; ${runs} rounds`,
    );
    const raw: Case = {
        name: `raw fetch, ${tool ? 'aria2c' : 'bench fetcher'} ${CONNECTIONS} connections, no merge`,
        go: () => rawFetch(urls, tool),
        samples: [],
    };
    const start: Case = { name: 'actor: `npm start`, m3u8 URL', go: () => actor('npm start, m3u8', m3u8), samples: [] };
    const prod: Case = {
        name: 'actor: `npm run start:prod`, m3u8 URL',
        go: () => actor('start:prod, m3u8', m3u8, 'start:prod'),
        samples: [],
    };
    const page: Case = {
        name: 'actor: `npm start`, play page',
        go: () => actor('npm start, play page', server.videoPage(src)),
        samples: [],
    };
    const ytdlpTool = ytDlp();
    const ytdlp: Case | undefined =
        ytdlpTool === undefined
            ? undefined
            : {
                  name: 'yt-dlp `-N 16`, m3u8 URL, to MP4',
                  go: () => ytDlpRun(ytdlpTool, m3u8, Number(size)),
                  samples: [],
              };
    const cases = [raw, start, prod, page, ...(ytdlp ? [ytdlp] : []), ...baseCases(m3u8, ['start', 'start:prod'])];
    try {
        for (let round = 1; round <= runs; round++) {
            for (const c of cases) {
                const s = await measure(server, c);
                console.log(`round ${round}: ${c.name}: ${roundLine(s)}`);
            }
        }
        console.log(`\n${table(cases, raw, runs, Number(size))}\n`);
        const over = page.samples.map((s, i) => s.secs - start.samples[i]!.secs);
        console.log(
            `Play page over the m3u8 URL (same round): latest +${fmt(over.at(-1))} s, spread ${spread(over)} s.`,
        );
        if (ytdlp) {
            const slower = ytdlp.samples.map((s, i) => s.secs / start.samples[i]!.secs);
            console.log(
                `yt-dlp over \`npm start\` (same round): latest ${fmt(slower.at(-1), 2)}× as long, spread ${spread(slower, 2, '×')}.`,
            );
        } else if (flag('--no-ytdlp')) console.log('yt-dlp was left out (--no-ytdlp).');
        else console.log('yt-dlp is not installed (Debian: apt-get install yt-dlp): its row is left out.');
        if (flag('--ffmpeg')) {
            const out = path.join(await tempDir('bench'), 'ffmpeg.mp4');
            const t = Date.now();
            await run(
                ffmpegPath,
                ['-hide_banner', '-loglevel', 'error', '-y', '-i', m3u8, '-c', 'copy', '-bsf:a', 'aac_adtstoasc', out],
                { maxBuffer: 64 * 1024 * 1024 },
            );
            await rm(out);
            console.log(`ffmpeg -i URL -c copy: ${((Date.now() - t) / 1000).toFixed(1)} s`);
        }
    } finally {
        await server.close();
    }
}

/**
 * The big case of issue 24: the long video ten times over (~940 MB, 3,300 segments), every repeat
 * under URLs of its own (hard links, no extra disk) and a discontinuity between repeats, as a
 * playlist that stitches episodes or ad breaks together has.
 */
async function big(runs: number): Promise<void> {
    const dir = path.join(storageDir(), 'bench-media');
    const video: HlsVideo = await longVideo(dir);
    const bigDir = path.join(dir, 'big');
    const entries = (await readFile(path.join(video.dir, 'index.m3u8'), 'utf8')).split('\n');
    const pairs: [string, string][] = [];
    entries.forEach((line, i) => {
        if (line.startsWith('#EXTINF')) pairs.push([line, entries[i + 1]!.trim()]);
    });
    const target = entries.find((l) => l.startsWith('#EXT-X-TARGETDURATION')) ?? '#EXT-X-TARGETDURATION:2';
    const lines = ['#EXTM3U', '#EXT-X-VERSION:3', target, '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-PLAYLIST-TYPE:VOD'];
    await mkdir(bigDir, { recursive: true });
    let bytes = 0;
    for (let r = 0; r < 10; r++) {
        if (r > 0) lines.push('#EXT-X-DISCONTINUITY');
        for (const [inf, uri] of pairs) {
            const name = `r${r}-${uri}`;
            const file = path.join(bigDir, name);
            if (!existsSync(file)) await link(path.join(video.dir, uri), file);
            bytes += (await stat(file)).size;
            lines.push(inf, name);
        }
    }
    lines.push('#EXT-X-ENDLIST');
    await writeFile(path.join(bigDir, 'index.m3u8'), lines.join('\n') + '\n');
    const server = await startDemoServer({ mediaDir: dir, ttfbMs: TTFB_MS, bytesPerSec: BYTES_PER_SEC });
    const m3u8 = `${server.origin}/media/big/index.m3u8`;
    const urls = await segmentUrls(path.join(bigDir, 'index.m3u8'), m3u8);
    const tool = aria2c();
    console.log(
        `\nBig case: ${urls.length} segments (the long video 10 times, a discontinuity between repeats), ` +
            `${(bytes / 1e6).toFixed(0)} MB; ${SERVER}; raw fetch: ${tool ? 'aria2c' : 'bench/raw-fetch.mjs'}; ${runs} rounds`,
    );
    const raw: Case = {
        name: `raw fetch, ${tool ? 'aria2c' : 'bench fetcher'} ${CONNECTIONS} connections, no merge`,
        go: () => rawFetch(urls, tool),
        samples: [],
    };
    const prod: Case = {
        name: 'actor: `npm run start:prod`, m3u8 URL',
        go: () => actor('start:prod, big m3u8', m3u8, 'start:prod'),
        samples: [],
    };
    const cases = [raw, prod, ...baseCases(m3u8, ['start:prod'])];
    try {
        for (let round = 1; round <= runs; round++) {
            for (const c of cases) {
                const s = await measure(server, c);
                console.log(`round ${round}: ${c.name}: ${roundLine(s)}`);
            }
        }
        console.log(`\n${table(cases, raw, runs, bytes)}\n`);
    } finally {
        await server.close();
    }
}

async function many(runs: number): Promise<void> {
    const dir = path.join(storageDir(), 'bench-media');
    const video = await makeHlsVideo(path.join(dir, 'many'), {
        width: 160,
        height: 90,
        secs: 3600,
        segSecs: 1,
        fps: 10,
        videoKbps: 100,
    });
    const server = await startDemoServer({ mediaDir: dir });
    console.log(
        `Media: ${video.segments} small segments; server: no added latency (per-request overhead); ${runs} rounds`,
    );
    const url = `${server.origin}/media/many/index.m3u8`;
    const cases: Case[] = [
        { name: 'actor: `npm start`, 3,600-segment m3u8', go: () => actor('many', url), samples: [] },
        // `--base DIR`: the other checkout in the same rounds, alternated.
        ...baseCases(url, ['start']).map((c) => ({ ...c, name: c.name.replace('m3u8 URL', '3,600-segment m3u8') })),
    ];
    try {
        for (let round = 1; round <= runs; round++) {
            for (const c of cases) {
                const s = await measure(server, c);
                console.log(
                    `round ${round}: ${c.name}: ${s.secs.toFixed(2)} s, ` +
                        `${((s.secs * 1000) / video.segments).toFixed(1)} ms per segment, peak RSS ${s.rssMb} MB`,
                );
            }
        }
        console.log();
        for (const c of cases) {
            const secs = c.samples.map((s) => s.secs);
            const rss = c.samples.map((s) => s.rssMb ?? 0);
            console.log(
                `${c.name}: ${spread(secs)} s (latest ${fmt(secs.at(-1))}), ` +
                    `peak RSS ${spread(rss, 0)} MB (latest ${rss.at(-1)}).`,
            );
        }
    } finally {
        await server.close();
    }
}

/** The per-page line of src/pages/page-crawler.ts. */
const PAGE_LINE = /Page done in ([\d.]+) s, ([\d.]+) s after its last new media request: (\S+)/;

async function crawlPages(runs: number): Promise<void> {
    const workers = Number(argValue('--workers') ?? 1);
    const dir = path.join(storageDir(), 'bench-media', 'demo');
    const imagesDir = path.join(dir, 'images');
    await Promise.all([makeDemoMedia(dir), makeGalleryImages(imagesDir), makeDashMedia(dir), makeFileMedia(dir)]);
    const server = await startDemoServer({ mediaDir: dir, imagesDir, ttfbMs: TTFB_MS, bytesPerSec: BYTES_PER_SEC });
    const p = server.pages;
    const hls = [
        'api/index.m3u8',
        'enc/index.m3u8',
        'seed/index.m3u8',
        'range/index.m3u8',
        'disc/index.m3u8',
        'alt-audio/master.m3u8',
        'iframe-enc/master.m3u8',
        'disguised/index.m3u8',
    ];
    const play = [
        p.api,
        p.iframe,
        p.seed,
        p.click,
        p.hidden,
        p.fmp4,
        ...hls.map((m) => server.videoPage(`/media/${m}`)),
    ];
    const players = [p.dashShaka, p.dashJs, p.plyrMp4, p.webm, p.flv, p.dashAndMp4, p.preview];
    const galleries = [
        p.gallerySeed,
        p.galleryLazy,
        p.galleryFeed,
        p.galleryPage1,
        ...['page2', 'page3', 'names', 'pixel-lazy'].map((g) => `${server.origin}/gallery/${g}.html`),
        `${server.origin}/gallery/big.html?n=60`,
    ];
    const urls = [...play, ...players, ...galleries];
    console.log(
        `${urls.length} pages (${play.length + players.length} play, ${galleries.length} gallery); ${SERVER}; ` +
            `${runs} rounds`,
    );
    const summaries: string[] = [];
    try {
        for (let round = 1; round <= runs; round++) {
            const out = await tempDir('bench-out');
            const r = await npmRun(['--output-dir', out, '--workers', String(workers), ...urls], {
                treeMemory: true,
            });
            await rm(out, { recursive: true, force: true });
            if (r.code !== 0)
                throw new Error(
                    `crawl: exit ${r.code}\n${r.lines
                        .slice(-30)
                        .map((l) => l.text)
                        .join('\n')}`,
                );
            const pages = r.lines.flatMap((l) => {
                const m = PAGE_LINE.exec(l.text);
                return m ? [{ at: l.at / 1000, secs: Number(m[1]), beyond: Number(m[2]), url: m[3]! }] : [];
            });
            const failed = r.items.filter((i) => i.status === 'failed');
            console.log(
                `\nround ${round}: ${pages.length} pages rendered, ${r.items.length} items, ${failed.length} failed`,
            );
            for (const f of failed) console.log(`  failed ${f.type} ${f.pageUrl}: ${f.error}`);
            for (const pg of [...pages].sort((a, b) => b.beyond - a.beyond)) {
                console.log(
                    `  ${pg.beyond.toFixed(2).padStart(5)} s beyond, ${pg.secs.toFixed(1).padStart(4)} s in all  ` +
                        pg.url.replace(server.origin, ''),
                );
            }
            // Page stage: from the first page's start to the last page's end, as the actor logged them.
            const stage = Math.max(...pages.map((x) => x.at)) - Math.min(...pages.map((x) => x.at - x.secs));
            const beyond = pages.map((x) => x.beyond).sort((a, b) => a - b);
            const median = beyond[Math.floor(beyond.length / 2)] ?? 0;
            const summary =
                `${pages.length} pages: ${((pages.length / stage) * 60).toFixed(0)} pages/min over the page stage ` +
                `(${stage.toFixed(1)} s), ${((pages.length / r.ms) * 60_000).toFixed(0)} per min over the whole run ` +
                `(${(r.ms / 1000).toFixed(1)} s); beyond the last media request: median ${median.toFixed(2)} s, ` +
                `max ${Math.max(...beyond).toFixed(2)} s; peak RSS of the actor's Node ` +
                `${r.nodeRssMb} MB, peak PSS of Node + Chromium ${r.treePssMb} MB` +
                (workers > 1
                    ? `; ${workers} workers, peak PSS per worker (Node + Chromium) ${r.workerPssMb.join(', ')} MB; ` +
                      (r.lines
                          .find((l) => l.text.includes('Request-queue calls per page'))
                          ?.text.replace(/^.*?Request/, 'request') ?? '')
                    : '');
            summaries.push(summary);
            console.log(summary);
            await rm(r.storage, { recursive: true, force: true });
        }
        console.log(`\n${summaries.map((s, i) => `round ${i + 1}: ${s}`).join('\n')}`);
    } finally {
        await server.close();
    }
}

// `npm start` builds dist/ itself when it is stale; build here so that no round pays for a build.
execFileSync('npm', ['run', 'build'], { stdio: 'inherit' });
if (BASE) execFileSync('npm', ['run', 'build'], { stdio: 'inherit', cwd: BASE });
const runs = Number(argValue('--runs') ?? (flag('--crawl') ? 2 : flag('--many') ? 2 : 3));
if (flag('--many')) await many(runs);
else if (flag('--crawl')) await crawlPages(runs);
else if (flag('--big-only')) await big(Number(argValue('--runs') ?? 2));
else {
    await long(runs);
    // ~940 MB and a minute or more per round: asked for.
    if (flag('--big')) await big(Number(argValue('--big-runs') ?? 2));
}
