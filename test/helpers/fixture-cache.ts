/**
 * One media fixture cache for every test file of a run. Each builder (makeDemoMedia, makeFileMedia, …)
 * runs once per recipe; every later call, in this process or another test file's, links the built
 * files into the caller's folder. Before this, about 15 test files encoded the same media again in
 * fresh temporary folders: the demo, MSE, plain-file and gallery sets alone took 21 s to build and
 * 0.15 s to link from the cache (measured at a load average of 11 on the 2-core test machine).
 *
 * - An entry is keyed by its recipe: the builder's name and arguments, the version lines of the ffmpeg
 *   binaries the builders run, and the text of every file that holds a builder (the ffmpeg arguments
 *   live there). Any change there is another entry; an entry is never updated.
 * - Entries are built in a temporary folder and renamed into place, so a half-built entry is never
 *   seen, and two test processes building the same entry at once both end with one whole entry (the
 *   second rename fails and its copy is dropped).
 * - Built files are shared: tests read them (servers, frame hashes, sha256) and never write them.
 *   The caller's folder gets a symlink per top-level entry, so it can still hold files of its own.
 * - The cache lives under the OS temp folder (`MCA_FIXTURE_CACHE` moves it); `rm -rf` it any time.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { makeDashMedia } from '../../src/demo/dash-media.js';
import { makeFileMedia, SYSTEM_FFMPEG } from '../../src/demo/file-media.js';
import { makeGalleryImages } from '../../src/demo/gallery.js';
import { makeHiddenMedia } from '../../src/demo/hidden-pages.js';
import { makeDemoMedia, makeHlsVideo, type VideoSpec } from '../../src/demo/media.js';
import { ffmpegPath } from '../../src/merge/tools.js';
import { makeAudioMedia } from '../fixtures/audio-site.js';
import { makeExpiringMedia } from '../fixtures/expiring-server.js';
import { makeActionImages } from '../fixtures/gallery-actions.js';
import { makeNamesMedia } from '../fixtures/names-site.js';
import { makeClips } from '../fixtures/player-site.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

export const FIXTURE_CACHE = process.env.MCA_FIXTURE_CACHE ?? path.join(os.tmpdir(), 'mca-fixture-cache');

/** Folders whose files hold builders: a change to any of them is a new recipe. */
const RECIPE_DIRS = ['src/demo', 'test/fixtures'];

let recipeBase: string | undefined;

function baseRecipe(): string {
    if (recipeBase) return recipeBase;
    const hash = createHash('sha256');
    for (const bin of [ffmpegPath, SYSTEM_FFMPEG]) {
        if (!existsSync(bin)) continue;
        const version = execFileSync(bin, ['-version'], { encoding: 'utf8' }).split('\n')[0];
        hash.update(`${bin}\0${version}\0`);
    }
    for (const dir of RECIPE_DIRS) {
        for (const file of readdirSync(path.join(ROOT, dir)).sort()) {
            if (!file.endsWith('.ts')) continue;
            hash.update(`${dir}/${file}\0`).update(readFileSync(path.join(ROOT, dir, file)));
        }
    }
    recipeBase = hash.digest('hex');
    return recipeBase;
}

const PLACEHOLDER = '<fixture>';

/** `value` with every string under `from` moved under `to` (paths in a builder's result). */
function movePaths<T>(value: T, from: string, to: string): T {
    const walk = (v: unknown): unknown => {
        if (typeof v === 'string') return v === from || v.startsWith(from + path.sep) ? to + v.slice(from.length) : v;
        if (Array.isArray(v)) return v.map(walk);
        if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
        return v;
    };
    return walk(value) as T;
}

/** The entry for this recipe, built now when no test process has built it yet. */
async function entry<T>(name: string, args: unknown, build: (dir: string) => Promise<T>): Promise<string> {
    const key = createHash('sha256')
        .update(`${baseRecipe()}\0${name}\0${JSON.stringify(args) ?? ''}`)
        .digest('hex')
        .slice(0, 20);
    const final = path.join(FIXTURE_CACHE, `${name}-${key}`);
    if (existsSync(path.join(final, 'value.json'))) return final;
    await mkdir(FIXTURE_CACHE, { recursive: true });
    const tmp = await mkdtemp(`${final}.tmp-`);
    try {
        const out = path.join(tmp, 'out');
        await mkdir(out);
        const value = await build(out);
        await writeFile(path.join(tmp, 'value.json'), JSON.stringify(movePaths(value ?? null, out, PLACEHOLDER)));
        await rename(tmp, final).catch(async (error: NodeJS.ErrnoException) => {
            // Another test process finished the same entry first: theirs stands.
            if (!existsSync(path.join(final, 'value.json'))) throw error;
        });
    } finally {
        await rm(tmp, { recursive: true, force: true });
    }
    return final;
}

/**
 * Runs `build(dir)` once per recipe and makes its files appear in `target` (created if missing): one
 * symlink per top-level file or folder the builder wrote. Returns the builder's result with its paths
 * moved under `target`. `args` are what the builder is called with besides the folder.
 */
export async function cachedMedia<T>(
    name: string,
    target: string,
    build: (dir: string) => Promise<T>,
    args: unknown = null,
): Promise<T> {
    const dir = await entry(name, args, build);
    const out = path.join(dir, 'out');
    await mkdir(target, { recursive: true });
    for (const child of await readdir(out)) {
        const link = path.join(target, child);
        const to = path.join(out, child);
        const there = await lstat(link).catch(() => undefined);
        if (there?.isSymbolicLink() && (await readlink(link)) === to) continue;
        if (there) throw new Error(`${link} exists: two fixtures write ${child} into the same folder`);
        await symlink(to, link);
    }
    const value = JSON.parse(await readFile(path.join(dir, 'value.json'), 'utf8')) as T;
    return movePaths(value, PLACEHOLDER, target);
}

// The builders the tests share, each through the cache: same arguments as the builder, same result.
export const demoMedia = (root: string) => cachedMedia('demo-media', root, makeDemoMedia);
export const galleryImages = (dir: string) => cachedMedia('gallery-images', dir, makeGalleryImages);
export const hlsVideo = (dir: string, spec: VideoSpec) =>
    cachedMedia('hls-video', dir, (d) => makeHlsVideo(d, spec), spec);
export const fileMedia = (root: string) => cachedMedia('file-media', root, makeFileMedia);
export const dashMedia = (root: string) => cachedMedia('dash-media', root, makeDashMedia);
export const hiddenMedia = (root: string) => cachedMedia('hidden-media', root, makeHiddenMedia);
export const audioMedia = (root: string) => cachedMedia('audio-media', root, makeAudioMedia);
export const namesMedia = (dir: string) => cachedMedia('names-media', dir, makeNamesMedia);
export const clipMedia = (dir: string) => cachedMedia('clips', dir, makeClips);
export const expiringMedia = (dir: string) => cachedMedia('expiring-media', dir, makeExpiringMedia);
export const actionImages = (dir: string) => cachedMedia('action-images', dir, makeActionImages);
