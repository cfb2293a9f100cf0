/**
 * Names of stored media (a name from a URL, a suffix for a taken name) and the upload of a file to the
 * platform's key-value store with its retries. Items are written by results.ts alone; keys are handed
 * out by keys.ts and files stored by files.ts.
 */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { log } from '@crawlee/core';
import { HttpStatusError, isRetryable } from '../errors.js';
import { backoffMs, retryAfterOf } from '../time/backoff.js';
import { retry } from '../time/retry.js';

export type { ItemStatus, MediaItem, MediaType } from '../model.js';

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

// Key rules and allocation live in keys.ts (re-exported for the tests that name them here).
export { collectionKey, KEY_PREFIX, outputName, uniqueKey } from './keys.js';

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

/** `name.ext`, `name-2.ext`, `name-3.ext`, … Pure. */
export function suffixedName(file: string, n: number): string {
    if (n <= 1) return file;
    const ext = path.extname(file);
    return `${file.slice(0, file.length - ext.length)}-${n}${ext}`;
}
