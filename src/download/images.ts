/**
 * Images: one download per normalized URL per run, stored byte-for-byte under their real content
 * type, one stored file per content (sha256), small ones skipped by their own header's dimensions.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { KeyValueStore, RequestOptions, RequestProvider } from '@crawlee/core';
import type { FileDownloadCrawlingContext } from '@crawlee/http';
import { fileTypeFromBuffer } from 'file-type';
import { imageSizeFromFile } from 'image-size/fromFile';
import type { CrawlInput } from '../input.js';
import type { Headers } from '../net/headers.js';
import { keyFromText, pushItem, storeFile, type KeyAllocator, type MediaItem } from '../output.js';
import { normalizeUrl } from '../urls.js';
import { ALREADY_DOWNLOADED, archiveKeys, type Archive } from '../archive.js';
import { CorruptSegmentError } from './segment-bytes.js';
import type { StreamedResponse } from './download-crawler.js';

export interface ImageTask {
    kind: 'image';
    pageUrl: string;
    alt?: string;
    proxySession?: string;
}

export class NotAnImageError extends Error {
    override readonly name = 'NotAnImageError' as const;
    readonly permanent = true;
}

const IMAGE_EXT = /\.(jpe?g|png|gif|webp|avif|bmp|svg)$/i;

export const isImageUrl = (url: string): boolean => {
    try {
        return IMAGE_EXT.test(new URL(url).pathname);
    } catch {
        return false;
    }
};

export function imageRequest(url: string, pageUrl: string, headers: Headers, alt?: string, proxySession?: string): RequestOptions<ImageTask> {
    return { url, uniqueKey: `img:${normalizeUrl(url)}`, headers, skipNavigation: true, userData: { kind: 'image', pageUrl, alt, proxySession } };
}

/**
 * The content type to store: what the bytes are (servers send images as octet-stream or text/plain),
 * else what the server said if that is an image type the sniffer cannot see (SVG). Pure.
 */
export function imageContentType(sniffed: string | undefined, served: string | undefined): string | undefined {
    if (sniffed?.startsWith('image/')) return sniffed;
    const declared = served?.split(';')[0]?.trim().toLowerCase();
    if (!sniffed && declared === 'image/svg+xml') return declared;
    return undefined;
}

/** Base of the key: the file name without its extension. */
export function imageKeyBase(url: string): string {
    const name = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '').replace(IMAGE_EXT, '');
    return keyFromText(name, 'image', url);
}

const HEAD_BYTES = 4100;

export class ImageSaver {
    /** sha256 → key of the stored file (a promise while the first copy is being stored). */
    private readonly stored = new Map<string, Promise<string | undefined>>();
    private state?: KeyValueStore;

    constructor(
        private readonly input: CrawlInput,
        private readonly keys: KeyAllocator,
        private readonly workRoot: string,
        private readonly archive: Archive,
    ) {}

    /** Resume: the contents stored before a restart, so no copy of them is stored again. */
    async load(state: KeyValueStore): Promise<void> {
        this.state = state;
        await state.forEachKey(async (key) => {
            if (!key.startsWith('sha-')) return;
            const stored = await state.getValue<{ sha256: string; key: string }>(key);
            if (stored) this.stored.set(stored.sha256, Promise.resolve(stored.key));
        });
    }

    async enqueue(queue: RequestProvider, pageUrl: string, images: { url: string; alt?: string; headers: Headers }[], proxySession?: string): Promise<void> {
        const fresh = [];
        for (const image of images) {
            const earlier = await this.archive.get(archiveKeys.imageUrl(image.url));
            if (earlier) await pushItem({ type: 'image', status: 'skipped', pageUrl, url: image.url, title: image.alt, error: `${ALREADY_DOWNLOADED} (stored as "${earlier.key}" on ${earlier.at})` });
            else fresh.push(image);
        }
        if (fresh.length) await queue.addRequests(fresh.map((i) => imageRequest(i.url, pageUrl, i.headers, i.alt, proxySession)));
    }

    /** Downloads, checks and stores one image (or reports why not); resolves to the bytes received. */
    async handle(ctx: FileDownloadCrawlingContext, open: () => Promise<StreamedResponse>): Promise<number> {
        const task = ctx.request.userData as ImageTask;
        const url = ctx.request.url;
        const res = await open();
        const dir = path.join(this.workRoot, 'images');
        await mkdir(dir, { recursive: true });
        const tmp = path.join(dir, `${randomUUID()}.part`);
        const hash = createHash('sha256');
        let bytes = 0;
        let head = Buffer.alloc(0);
        const tap = new Transform({
            transform(chunk: Buffer, _enc, done) {
                hash.update(chunk);
                bytes += chunk.length;
                if (head.length < HEAD_BYTES) head = Buffer.concat([head, chunk.subarray(0, HEAD_BYTES - head.length)]);
                done(null, chunk);
            },
        });
        try {
            await pipeline(res.stream, tap, createWriteStream(tmp));
            const declared = Number(res.headers['content-length']);
            if (Number.isFinite(declared) && declared > 0 && declared !== bytes) throw new CorruptSegmentError(`received ${bytes} of ${declared} bytes`);
            const served = String(res.headers['content-type'] ?? '');
            const contentType = imageContentType((await fileTypeFromBuffer(head))?.mime, served);
            if (!contentType) throw new NotAnImageError(`not an image (${served.split(';')[0] || 'no content type'}, ${bytes} bytes)`);
            const sha256 = hash.digest('hex');
            const size = await imageSizeFromFile(tmp).catch(() => undefined);
            const base: MediaItem = { type: 'image', status: 'skipped', pageUrl: task.pageUrl, url, title: task.alt, contentType, bytes, sha256, width: size?.width, height: size?.height };
            if (size && (size.width < this.input.minImageWidth || size.height < this.input.minImageHeight)) {
                await pushItem({ ...base, error: `smaller than ${this.input.minImageWidth}×${this.input.minImageHeight} px (${size.width}×${size.height})` });
                return bytes;
            }
            const earlier = this.stored.get(sha256);
            if (earlier) {
                await pushItem({ ...base, error: `same content as the image stored as "${(await earlier) ?? 'another copy'}"` });
                return bytes;
            }
            const archived = await this.archive.get(archiveKeys.imageSha(sha256));
            if (archived) {
                await pushItem({ ...base, error: `${ALREADY_DOWNLOADED} (same content stored as "${archived.key}" on ${archived.at})` });
                return bytes;
            }
            const storing = this.keys.allocate(imageKeyBase(url));
            this.stored.set(sha256, storing);
            const key = await storing;
            const fileUrl = await storeFile(key, tmp, contentType);
            await this.state?.setValue(`sha-${sha256.slice(0, 40)}`, { sha256, key });
            await pushItem({ ...base, status: 'ok', key, fileUrl });
            await this.archive.put([archiveKeys.imageUrl(url), archiveKeys.imageSha(sha256)], { key, sha256 });
            return bytes;
        } finally {
            await rm(tmp, { force: true });
        }
    }

    async failed(ctx: FileDownloadCrawlingContext, error: Error): Promise<void> {
        const task = ctx.request.userData as ImageTask;
        await pushItem({ type: 'image', status: 'failed', pageUrl: task.pageUrl, url: ctx.request.url, title: task.alt, error: error.message });
    }
}
