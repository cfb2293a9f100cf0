/**
 * Images: one download per normalized URL per run, stored byte-for-byte under their real content
 * type, one stored file per content (sha256); small ones and placeholders (1×1, an SVG that draws
 * nothing) skipped by their own content, never by their name. Inline `data:` images whose content
 * is a real picture are stored the same way, without a download.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { KeyValueStore, RequestProvider } from '@crawlee/core';
import type { FileDownloadCrawlingContext } from '@crawlee/http';
import { fileTypeFromBuffer } from 'file-type';
import { imageSizeFromFile } from 'image-size/fromFile';
import type { CrawlInput } from '../input/input.js';
import type { Headers } from '../net/headers.js';
import { keyFromText } from '../names.js';
import { collectionKey } from '../results/keys.js';
import { imageOk, imageSkipped, mediaNote, type JudgedImage } from '../results/items.js';
import type { Results } from '../results/results.js';
import type { StoredFile } from '../results/files.js';
import type { ImageTask, MediaItem } from '../model.js';
import { ALREADY_DOWNLOADED, archiveKeys } from '../results/archive.js';
import type { Claims } from '../run/claims.js';
import { CorruptUnitError, errorCode, NotAnImageError } from '../errors.js';
import { urlsRefusal } from '../net/guard.js';
import { decodeDataUri, inlineLabel } from '../image-content.js';
import type { StreamedResponse } from './download-crawler.js';
import { ImageLedger } from './image-ledger.js';
import {
    declaredNotAPicture,
    HEAD_BYTES,
    imageContentType,
    imageKeyBase,
    imageName,
    imageRequest,
    imageSkipReason,
    thumbnailOf,
} from './image-rules.js';

export type { ImageTask };

/** What became of a received file. */
type Kept = 'stored' | 'same content' | 'not a picture';

/** A file just received (downloaded or decoded from inline data), to be judged and stored. */
interface Received {
    file: string;
    /** What the dataset item shows as `url` (inline data: shortened). */
    url: string;
    pageUrl: string;
    alt?: string;
    bytes: number;
    sha256: string;
    head: Buffer;
    /** The type the server (or the data: URI) declared. */
    served: string;
    keyBase: string;
    /** Name of the file in the output folder (names.ts sanitises it). */
    name?: string;
    /** Archive record of the URL, for http(s) images only. */
    archiveUrl?: string;
    /** An inline image's whole data: URI, which names its items once: two can share a shortened `url`. */
    dataUri?: string;
    /**
     * Who claims the content and keeps its ledger: one process at a time, so a begun ledger of this holder is
     * a killed process's, which this one finishes. A downloaded image's URL (its request's unique key: one
     * worker holds it at a time); an inline image's page and label (a page is rendered by one worker at a time).
     */
    holder: string;
}

export class ImageSaver {
    /** One stored copy per content, across workers and runs. */
    private readonly ledger: ImageLedger;

    constructor(
        private readonly input: CrawlInput,
        /** Where items, files and archive records go. */
        private readonly results: Results,
        private readonly workRoot: string,
        /** Contents claimed across workers (one stored copy per crawl); this process's alone with one worker. */
        private readonly claims: Claims,
    ) {
        this.ledger = new ImageLedger(claims, results.archive);
    }

    /** Resume: the contents stored (or being stored) before a restart, so no copy of them is stored again. */
    async load(state: KeyValueStore): Promise<void> {
        await this.ledger.load(state);
    }

    async enqueue(
        queue: RequestProvider,
        pageUrl: string,
        images: { url: string; alt?: string; headers: Headers; thumbnail?: ImageTask['thumbnail'] }[],
        proxySession?: string,
    ): Promise<void> {
        const fresh = [];
        const claimed: string[] = [];
        for (const image of images) {
            // Queued once per page: a page rendered again (its worker died, it was retried) adds no second copy.
            const claim = `${pageUrl}|${image.url}`;
            if ((await this.claims.claim('page-image', claim, pageUrl, { takeOverUnconfirmed: true })) !== undefined)
                continue;
            claimed.push(claim);
            if (/^data:/i.test(image.url)) {
                await this.storeInline(pageUrl, image.url, image.alt);
                continue;
            }
            // A target the network policy refuses (as written, or by what its host resolves to): never fetched.
            const refused = await urlsRefusal([image.url]);
            if (refused) {
                const at = { pageUrl, url: image.url, title: image.alt };
                await this.results.note(mediaNote('image', 'skipped', at, refused, 'PRIVATE_NETWORK'));
                continue;
            }
            const earlier = await this.results.archive.get(archiveKeys.imageUrl(image.url));
            if (!earlier) {
                fresh.push(image);
                continue;
            }
            const error = `${ALREADY_DOWNLOADED} (stored as "${earlier.key}" on ${earlier.at})`;
            await this.results.note(
                mediaNote('image', 'skipped', { pageUrl, url: image.url, title: image.alt }, error),
            );
            if (image.thumbnail) await this.thumbnailSkipped(pageUrl, image.thumbnail.url, image.url, image.alt);
        }
        if (fresh.length)
            await queue.addRequests(
                fresh.map((i) => imageRequest(i.url, pageUrl, i.headers, i.alt, proxySession, i.thumbnail)),
            );
        // Queued (or stored, or reported): a page rendered again from here on takes none of them over.
        for (const claim of claimed) await this.claims.confirm('page-image', claim);
    }

    /** Downloads, checks and stores one image (or reports why not); resolves to the bytes received. */
    async handle(ctx: FileDownloadCrawlingContext, open: () => Promise<StreamedResponse>): Promise<number> {
        const task = ctx.request.userData as ImageTask;
        const url = ctx.request.url;
        const res = await open();
        if (task.thumbnail && declaredNotAPicture(String(res.headers['content-type'] ?? ''))) {
            // The thumbnail links to a page (the photo's own page, an article) or a video: the thumbnail is the image.
            res.stream.destroy();
            await this.useThumbnail(ctx, task);
            return 0;
        }
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
            if (Number.isFinite(declared) && declared > 0 && declared !== bytes) {
                throw new CorruptUnitError(`received ${bytes} of ${declared} bytes`);
            }
            const kept = await this.keep({
                file: tmp,
                url,
                pageUrl: task.pageUrl,
                alt: task.alt,
                bytes,
                sha256: hash.digest('hex'),
                head,
                served: String(res.headers['content-type'] ?? ''),
                keyBase: imageKeyBase(url),
                name: imageName(url),
                archiveUrl: url,
                holder: url,
                // A link target that is no picture is not an item of its own: its thumbnail is the image.
                quietIfNotAnImage: task.thumbnail !== undefined,
            });
            if (task.thumbnail) {
                // The full-size picture is stored (or is the same as one that is): the thumbnail is only its preview.
                if (kept === 'stored' || kept === 'same content')
                    await this.thumbnailSkipped(task.pageUrl, task.thumbnail.url, url, task.alt);
                else await this.useThumbnail(ctx, task);
            }
            return bytes;
        } finally {
            await rm(tmp, { force: true });
        }
    }

    /**
     * An inline `data:` image the page stage judged to be a picture (a small or empty one never
     * gets here): stored like a downloaded one, with the same size and duplicate checks. A page
     * that inlines a photo shows that photo; dropping it would lose an image the page really has.
     */
    async storeInline(pageUrl: string, uri: string, alt?: string): Promise<void> {
        const label = inlineLabel(uri);
        const decoded = decodeDataUri(uri);
        if (!decoded) {
            const error = 'inline data: URI that cannot be decoded';
            await this.results.note(mediaNote('image', 'skipped', { pageUrl, url: label, title: alt }, error), uri);
            return;
        }
        const dir = path.join(this.workRoot, 'images');
        await mkdir(dir, { recursive: true });
        const tmp = path.join(dir, `${randomUUID()}.part`);
        try {
            await writeFile(tmp, decoded.bytes);
            const sha256 = createHash('sha256').update(decoded.bytes).digest('hex');
            const keyBase = keyFromText(alt ? `inline ${alt}` : undefined, 'inline', sha256);
            const head = decoded.bytes.subarray(0, HEAD_BYTES);
            const bytes = decoded.bytes.length;
            const served = decoded.mime;
            const name = alt ? `inline ${alt}` : undefined;
            const holder = `${pageUrl}|${label}`;
            await this.keep({
                file: tmp,
                url: label,
                pageUrl,
                alt,
                bytes,
                sha256,
                head,
                served,
                keyBase,
                name,
                holder,
                dataUri: uri,
            });
        } catch (error) {
            const message = (error as Error).message;
            await this.results.note(mediaNote('image', 'failed', { pageUrl, url: label, title: alt }, message), uri);
        } finally {
            await rm(tmp, { force: true });
        }
    }

    /** The thumbnail of a full-size picture that was stored: reported as skipped, once per page. */
    private async thumbnailSkipped(pageUrl: string, thumbnail: string, fullSize: string, alt?: string): Promise<void> {
        const at = { pageUrl, url: inlineLabel(thumbnail), title: alt };
        await this.results.note(mediaNote('image', 'skipped', at, thumbnailOf(fullSize)));
    }

    /** The link target gave no picture: the thumbnail is the image, downloaded (or decoded) as any other. */
    private async useThumbnail(ctx: FileDownloadCrawlingContext, task: ImageTask): Promise<void> {
        const thumb = task.thumbnail!;
        if (/^data:/i.test(thumb.url)) return this.storeInline(task.pageUrl, thumb.url, task.alt);
        const request = imageRequest(thumb.url, task.pageUrl, thumb.headers, task.alt, task.proxySession);
        await ctx.addRequests([request]);
    }

    /** Judges a received file by its content and stores it, or pushes the item saying why not. */
    private async keep(r: Received & { quietIfNotAnImage?: boolean }): Promise<Kept> {
        const contentType = imageContentType((await fileTypeFromBuffer(r.head))?.mime, r.served);
        if (!contentType) {
            if (r.quietIfNotAnImage) return 'not a picture';
            const served = r.served.split(';')[0] || 'no content type';
            throw new NotAnImageError(`not an image (${served}, ${r.bytes} bytes)`);
        }
        const size = await imageSizeFromFile(r.file).catch(() => undefined);
        const image: JudgedImage = {
            pageUrl: r.pageUrl,
            url: r.url,
            title: r.alt,
            contentType,
            bytes: r.bytes,
            sha256: r.sha256,
            width: size?.width,
            height: size?.height,
        };
        const svgText = contentType === 'image/svg+xml' && r.bytes <= HEAD_BYTES ? r.head.toString('utf8') : undefined;
        const min = { width: this.input.minImageWidth, height: this.input.minImageHeight };
        const tooSmall = imageSkipReason(size, min, svgText);
        if (tooSmall) {
            await this.noteOf(r, imageSkipped(image, tooSmall));
            return 'not a picture';
        }
        // A worker killed while storing this very content for this very request (or this page's inline image)
        // left its ledger: done means its item is written (a retry after a kill between the item and the
        // request's end, seen in CI as an extra "same content" item); begun means the key, and maybe the
        // file and the item, are there (seen in CI as a second `ok` item and file), and the store is finished.
        const prior = await this.ledger.prior(r.sha256, r.holder);
        if (prior?.done) return 'stored';
        if (prior && (await this.results.hasOk('image', r.sha256, r.url))) {
            await this.ledger.write(r.sha256, { key: prior.key!, holder: r.holder, done: true });
            return 'stored';
        }
        if (!prior) {
            const copy = await this.ledger.copyOf(r.sha256, r.holder);
            if (copy) {
                await this.noteOf(r, imageSkipped(image, copy));
                return 'same content';
            }
        }
        const storing = prior?.key
            ? Promise.resolve(prior.key)
            : this.results.keys.allocate(collectionKey('image', r.keyBase));
        this.ledger.storing(r.sha256, storing);
        let key: string;
        let file: StoredFile;
        try {
            key = await storing;
            await this.ledger.write(r.sha256, { key, holder: r.holder, done: false });
            // A key whose file a killed holder stored already is written again: the same bytes.
            file = await this.results.store(key, r.file, contentType, { name: r.name });
        } catch (error) {
            await this.ledger.giveBack(r.sha256);
            throw error;
        }
        await this.results.push(imageOk(image, key, file));
        await this.ledger.write(r.sha256, { key, holder: r.holder, done: true });
        const records = [...(r.archiveUrl ? [archiveKeys.imageUrl(r.archiveUrl)] : []), archiveKeys.imageSha(r.sha256)];
        await this.results.archived(records, { key, sha256: r.sha256 });
        return 'stored';
    }

    /**
     * Reports an image not stored, once: a request a killed worker held is handled again, and its item may
     * already be written (CI: a second "smaller than 64×64" item after kill -9).
     */
    private async noteOf(r: Received, item: MediaItem): Promise<void> {
        await this.results.note(item, r.dataUri && [item.type, item.status, item.pageUrl, r.dataUri].join('|'));
    }

    /**
     * An image that could not be downloaded. When it is what a thumbnail links to, the thumbnail is
     * not lost: it is downloaded in the picture's place, and the failed item says so (a dead link to
     * a full-size picture is worth knowing; a thumbnail stored with no word would hide it).
     */
    async failed(ctx: FileDownloadCrawlingContext, error: Error): Promise<void> {
        const task = ctx.request.userData as ImageTask;
        const message = task.thumbnail
            ? `the full-size picture a thumbnail links to could not be downloaded (${error.message}); ` +
              `the thumbnail ${inlineLabel(task.thumbnail.url)} is downloaded in its place`
            : error.message;
        const at = { pageUrl: task.pageUrl, url: ctx.request.url, title: task.alt };
        // Refused by the network policy on the way (a redirect into a private network): skipped, with why.
        if (errorCode(error) === 'PRIVATE_NETWORK') {
            await this.results.note(mediaNote('image', 'skipped', at, message, 'PRIVATE_NETWORK'));
            if (task.thumbnail) await this.useThumbnail(ctx, task);
            return;
        }
        await this.results.note(mediaNote('image', 'failed', at, message));
        if (task.thumbnail) await this.useThumbnail(ctx, task);
    }
}
