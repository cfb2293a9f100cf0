/**
 * The dataset item of the public contract (shared/CONTRACT.md) and the rules for key-value store keys.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Actor } from 'apify';
import { Dataset, KeyValueStore } from '@crawlee/core';
import { defaultKvDir } from './storage.js';

export type MediaType = 'video' | 'image' | 'page';
export type ItemStatus = 'ok' | 'failed' | 'skipped';

export interface MediaItem {
    type: MediaType;
    status: ItemStatus;
    pageUrl: string;
    url: string;
    title?: string;
    key?: string;
    contentType?: string;
    bytes?: number;
    sha256?: string;
    width?: number;
    height?: number;
    durationSecs?: number;
    segments?: number;
    error?: string;
    /** Videos whose playlist had no EXT-X-ENDLIST: only the window that was there was downloaded. */
    live?: boolean;
    /** Variant playlist actually downloaded, when `url` was a master. */
    variantUrl?: string;
    hasAudio?: boolean;
    /** Public URL of the stored file (on the Apify platform). */
    fileUrl?: string;
    /** Videos: key of a PNG frame from the first second (the run report shows it). */
    thumbnailKey?: string;
}

export async function pushItem(item: MediaItem): Promise<void> {
    await Dataset.pushData(item);
}

// Apify key rules: 1-256 chars of [a-zA-Z0-9!-_.'()]. We keep well below 256 so a "-NN" suffix fits.
const KEY_MAX = 120;

/**
 * A key-value store key from a human string (page title, file name). Pure: the same text gives the
 * same key. Text with no usable characters (e.g. a Chinese title) falls back to `prefix-<hash>` so
 * it stays recognisable and stable across runs.
 */
export function keyFromText(text: string | undefined, prefix: string, seed: string): string {
    const ascii = (text ?? '')
        .normalize('NFKD')
        .replace(/[\u0300-\u036f]/g, '')
        .replace(/[^a-zA-Z0-9!_.'()-]+/g, '-')
        .replace(/\.{2,}/g, '.')
        .replace(/-{2,}/g, '-')
        .replace(/^[-.]+|[-.]+$/g, '')
        .slice(0, KEY_MAX)
        .replace(/[-.]+$/g, '');
    if (ascii.length >= 2) return ascii;
    const hash = createHash('sha256').update(seed).digest('hex').slice(0, 10);
    return ascii ? `${prefix}-${ascii}-${hash}` : `${prefix}-${hash}`;
}

/** First of `base`, `base-2`, `base-3`, ... that `isTaken` rejects. */
export function uniqueKey(base: string, isTaken: (key: string) => boolean): string {
    if (!isTaken(base)) return base;
    for (let n = 2; ; n++) {
        const candidate = `${base}-${n}`;
        if (!isTaken(candidate)) return candidate;
    }
}

const EXTENSIONS: Record<string, string> = {
    'video/mp4': 'mp4',
    'image/jpeg': 'jpeg',
    'image/png': 'png',
    'image/gif': 'gif',
    'image/webp': 'webp',
    'image/avif': 'avif',
    'image/bmp': 'bmp',
    'image/svg+xml': 'svg',
    'text/html': 'html',
};

/** The file extension Crawlee's local storage gives a record of this content type. */
export const extensionFor = (contentType: string): string => EXTENSIONS[contentType.split(';')[0]!.trim()] ?? 'bin';

/**
 * Hands out unique keys of the default key-value store. Keys are reserved synchronously so two
 * videos finishing at once cannot take the same one.
 */
export class KeyAllocator {
    private readonly taken = new Set<string>();

    async allocate(base: string): Promise<string> {
        const store = await KeyValueStore.open();
        for (;;) {
            const key = uniqueKey(base, (k) => this.taken.has(k));
            this.taken.add(key);
            if (!(await store.recordExists(key))) return key;
        }
    }
}

/**
 * Moves a finished file into the default key-value store without reading it into memory: locally
 * it is renamed into the store's folder (where Crawlee's local storage keeps records as
 * `<key>.<ext>`); on the platform it is streamed to the API.
 */
export async function storeFile(key: string, file: string, contentType: string): Promise<string | undefined> {
    if (Actor.isAtHome()) {
        const store = await KeyValueStore.open();
        await store.setValue(key, createReadStream(file), { contentType });
        return store.getPublicUrl(key);
    }
    const dest = path.join(defaultKvDir(), `${key}.${extensionFor(contentType)}`);
    await mkdir(path.dirname(dest), { recursive: true });
    try {
        await rename(file, dest);
    } catch {
        await copyFile(file, dest);
        await rm(file, { force: true });
    }
    return undefined;
}
