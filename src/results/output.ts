/**
 * The dataset item of the public contract (shared/CONTRACT.md) and the rules for key-value store keys.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { constants as fsConstants } from 'node:fs';
import { copyFile, link, mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Actor } from 'apify';
import { Dataset, KeyValueStore, log } from '@crawlee/core';
import { HttpStatusError, isRetryable } from '../errors.js';
import { backoffMs, retryAfterOf } from '../time/backoff.js';
import { retry } from '../time/retry.js';
import { fileExtension, storedType } from '../media-types.js';
import { KEY_MAX, outputFileName } from '../names.js';
import { defaultKvDir } from '../run/storage.js';
import type { Claims } from '../run/claims.js';
import { workerRole } from '../run/role.js';

export type { ItemStatus, MediaItem, MediaType } from '../model.js';
import type { MediaItem } from '../model.js';

/** The dataset every item goes to: the run's, which split crawls share (run/role.ts). */
export async function pushItem(item: MediaItem): Promise<void> {
    await (await Dataset.open(workerRole()?.shared.dataset)).pushData(item);
}

/**
 * An item that says why something was not stored, pushed once per page and URL however often the page
 * is rendered: a page a dead worker had rendered is rendered again by another, a failed page is retried.
 */
export async function pushNoteOnce(item: MediaItem, claims: Claims): Promise<void> {
    const id = [item.type, item.status, item.pageUrl, item.url].join('|');
    if ((await claims.claim('item', id, item.pageUrl)) === undefined) await pushItem(item);
}

/** The key-value store every stored file goes to: the run's default, shared by its workers. */
export const fileStore = async (): Promise<KeyValueStore> => KeyValueStore.open(workerRole()?.shared.store);

// Key and file-name rules live in names.ts, content types and extensions in media-types.ts.
export { KEY_MAX, keyFromText } from '../names.js';
export { extensionFor } from '../media-types.js';

/** File names that say nothing about the video: the folders above them do. */
const GENERIC_NAME =
    /^(index|master|playlist|manifest|prog_index|chunklist|stream|video|media|main|mono|source|output|dash|hls)$/i;

/**
 * A readable name for media reached by URL alone (no page title): the file name without its
 * extension, or, when that is generic (`index.m3u8`, `manifest.mpd`), the last two folders:
 * `…/show/ep1/index.m3u8` → `show-ep1`. Undefined when the path says nothing. Pure.
 */
export function nameFromUrl(url: string): string | undefined {
    let parts: string[];
    try {
        parts = new URL(url).pathname
            .split('/')
            .filter(Boolean)
            .map((p) => {
                try {
                    return decodeURIComponent(p);
                } catch {
                    return p;
                }
            });
    } catch {
        return undefined;
    }
    const file = parts.pop()?.replace(/\.[a-z0-9]{1,5}$/i, '');
    if (file && !GENERIC_NAME.test(file) && /[a-z0-9]{2}/i.test(file)) return file;
    const folders = parts.slice(-2).filter((p) => /[a-z0-9]/i.test(p));
    return folders.length ? folders.join('-') : undefined;
}

/**
 * Key prefixes of the stored files: the key-value store schema's collections (videos, audio, images,
 * thumbnails) select records by prefix. The output folder drops the video, audio and image ones:
 * there a file is named for what it is.
 */
export const KEY_PREFIX = { video: 'video-', audio: 'audio-', image: 'image-', thumbnail: 'thumb-' } as const;

/** `base` under the collection's prefix (a base that already has it is left as it is). Pure. */
export function collectionKey(kind: keyof typeof KEY_PREFIX, base: string): string {
    const prefix = KEY_PREFIX[kind];
    if (base.startsWith(prefix)) return base;
    // Within the same bound as keys made from text, the prefix included.
    return `${prefix}${base}`.slice(0, KEY_MAX).replace(/[-.]+$/g, '');
}

/** The name a stored record gets in the output folder when no title names it: its key without a video, audio or image prefix. Pure. */
export function outputName(key: string, ext: string): string {
    const bare = key.replace(/^(video|audio|image)-(?=.)/, '');
    return `${bare}.${ext}`;
}

/** First of `base`, `base-2`, `base-3`, ... that `isTaken` rejects. */
export function uniqueKey(base: string, isTaken: (key: string) => boolean): string {
    if (!isTaken(base)) return base;
    for (let n = 2; ; n++) {
        const candidate = `${base}-${n}`;
        if (!isTaken(candidate)) return candidate;
    }
}

/**
 * Hands out unique keys of the default key-value store. Keys are reserved synchronously so two
 * videos finishing at once cannot take the same one, and claimed when workers share the store.
 */
export class KeyAllocator {
    private readonly taken = new Set<string>();

    constructor(private readonly claims?: Claims) {}

    async allocate(base: string): Promise<string> {
        const store = await fileStore();
        const holder = `worker ${workerRole()?.index ?? 0}`;
        for (;;) {
            const key = uniqueKey(base, (k) => this.taken.has(k));
            this.taken.add(key);
            if (await store.recordExists(key)) continue;
            if (this.claims?.shared && (await this.claims.claim('key', key, holder)) !== undefined) continue;
            return key;
        }
    }
}

/** Where `storeFile` put a file, and the type the store holds it as. */
export interface StoredFile {
    /** Public URL of the record (on the platform). */
    fileUrl?: string;
    /** The content type the record is stored as and read back as (media-types.ts). */
    contentType: string;
    /** Locally: the file's path in the output folder, when it was put there. */
    outputFile?: string;
}

/**
 * Moves a finished file into the default key-value store without reading it into memory: locally
 * it is renamed into the store's folder (where Crawlee's local storage keeps records as
 * `<key>.<ext>`, the extension from its MIME table); on the platform it is streamed to the API.
 * Locally the file also lands in the output folder, named `name` as a person wrote it (names.ts).
 */
export async function storeFile(
    key: string,
    file: string,
    contentType: string,
    options: { toOutputDir?: boolean; name?: string } = {},
): Promise<StoredFile> {
    const stored = storedType(contentType);
    if (Actor.isAtHome()) {
        const store = await fileStore();
        await uploadWithRetry((body) => store.setValue(key, body, { contentType: stored.contentType }), file);
        return { fileUrl: store.getPublicUrl(key), contentType: stored.contentType };
    }
    const dest = path.join(defaultKvDir(), `${key}.${stored.extension}`);
    await mkdir(path.dirname(dest), { recursive: true });
    try {
        await rename(file, dest);
    } catch {
        await copyFile(file, dest);
        await rm(file, { force: true });
    }
    if (options.toOutputDir === false) return { contentType: stored.contentType };
    const ext = fileExtension(stored.contentType);
    const fallback = outputName(key, ext).slice(0, -ext.length - 1);
    const outputFile = await copyToOutputDir(dest, (n) => outputFileName(options.name, ext, fallback, n));
    return { contentType: stored.contentType, outputFile };
}

/** Local file errors no second attempt fixes. */
const FILE_ERRORS = new Set(['ENOENT', 'EISDIR', 'EACCES', 'EPERM']);

/**
 * Whether a failed upload is worth another attempt: the API's HTTP status decides as for any fetch
 * (429 and 5xx yes; 400 a bad key, 403 no permission: no), a local file error never, anything else
 * (a connection reset mid-body, a timeout) yes. Pure.
 */
export function uploadRetryable(error: unknown): boolean {
    const { statusCode, code } = (error ?? {}) as { statusCode?: unknown; code?: unknown };
    if (typeof code === 'string' && FILE_ERRORS.has(code)) return false;
    const asHttp = typeof statusCode === 'number' ? new HttpStatusError('key-value store record', statusCode) : error;
    return isRetryable(asHttp);
}

export interface UploadRetryOptions {
    attempts?: number;
    /** Waits 1×, 2×, 4×, … this between attempts (time/backoff.ts, capped at 15 s). */
    baseDelayMs?: number;
    /** The run's stop: no attempt starts after it, a wait between two ends at once. */
    signal?: AbortSignal;
}

/**
 * Uploads a file with `put`, opening it afresh for every attempt. The API client retries its own
 * requests, but not one whose body is a stream (apify-client http_client.js: "Request body was a stream
 * - retrying will not work"), and a stream half sent cannot be sent again: so a 503 or a reset connection
 * in the middle of a 2 GB video would fail a video that was complete on disk. Five attempts with waits of
 * 1, 2, 4 and 8 s ride out a ~15 s API hiccup.
 */
export async function uploadWithRetry(
    put: (body: Readable) => Promise<unknown>,
    file: string,
    { attempts = 5, baseDelayMs = 1000, signal }: UploadRetryOptions = {},
): Promise<void> {
    await retry(
        async () => {
            const body = createReadStream(file);
            try {
                await put(body);
            } finally {
                body.destroy();
            }
        },
        {
            attempts,
            signal,
            shouldRetry: uploadRetryable,
            delayMs: (attempt, error) => backoffMs(attempt, retryAfterOf(error), { baseMs: baseDelayMs }),
            onRetry(error, attempt, wait) {
                const why = (error as Error).message?.split('\n')[0];
                const next = `attempt ${attempt + 1} of ${attempts} in ${wait} ms`;
                log.warning(`Upload of ${path.basename(file)} failed (${why}); ${next}`);
            },
        },
    );
}

let outputDir: string | undefined;

/** Locally, every stored media file also lands in this folder, which no run deletes from. */
export function setOutputDir(dir: string | undefined): void {
    outputDir = dir === undefined ? undefined : path.resolve(dir);
}

export const getOutputDir = (): string | undefined => outputDir;

/** `name.ext`, `name-2.ext`, `name-3.ext`, … Pure. */
export function suffixedName(file: string, n: number): string {
    if (n <= 1) return file;
    const ext = path.extname(file);
    return `${file.slice(0, file.length - ext.length)}-${n}${ext}`;
}

async function sameContent(a: string, b: string): Promise<boolean> {
    const [sa, sb] = await Promise.all([stat(a), stat(b)]);
    if (sa.ino === sb.ino && sa.dev === sb.dev) return true;
    if (sa.size !== sb.size) return false;
    return (await sha256OfFile(a)) === (await sha256OfFile(b));
}

async function sha256OfFile(file: string): Promise<string> {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
    return hash.digest('hex');
}

/**
 * Puts a stored file into the output folder: a hard link when the file system allows (no second
 * copy of a large video), else a copy. Never overwrites: a name taken by other content gets a
 * suffix, a name holding the same content is left as it is. Resolves to the path there.
 */
export async function copyToOutputDir(
    stored: string,
    name: string | ((n: number) => string) = path.basename(stored),
): Promise<string | undefined> {
    if (!outputDir) return undefined;
    await mkdir(outputDir, { recursive: true });
    const nth = typeof name === 'string' ? (n: number) => suffixedName(name, n) : name;
    for (let n = 1; ; n++) {
        const dest = path.join(outputDir, nth(n));
        try {
            // link and COPYFILE_EXCL fail on an existing name instead of replacing it, even in a race.
            await link(stored, dest).catch(async (error: NodeJS.ErrnoException) => {
                if (error.code === 'EEXIST') throw error;
                await copyFile(stored, dest, fsConstants.COPYFILE_EXCL);
            });
            return dest;
        } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
            if (await sameContent(stored, dest)) return dest;
        }
    }
}
