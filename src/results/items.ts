/**
 * Every dataset item the crawl writes is built here, from what the stage knows: pure functions, one per
 * kind of verdict, checked field by field against the public contract (test/unit/result-items.test.ts).
 * results.ts writes what they return; no other module makes an item.
 */
import type { ItemStatus, MediaItem, MediaType, SourceFormat, StoredSubtitle, VideoJob } from '../model.js';
import type { StoredFile } from './files.js';

/** Where something was found: its page, its URL as the item shows it, its title (an image's alt text). */
export interface FoundAt {
    pageUrl: string;
    url: string;
    title?: string;
}

/** A media item that was not stored (`failed` or `skipped`), with why. Pure. */
export function mediaNote(
    type: MediaType,
    status: Exclude<ItemStatus, 'ok'>,
    at: FoundAt,
    error: string,
    errorCode?: string,
): MediaItem {
    return {
        type,
        status,
        pageUrl: at.pageUrl,
        url: at.url,
        ...(at.title !== undefined ? { title: at.title } : {}),
        error,
        ...(errorCode ? { errorCode } : {}),
    };
}

/** A page that gave nothing: it could not be rendered, or showed no media. Pure. */
export function pageFailed(pageUrl: string, error: string, title?: string): MediaItem {
    return mediaNote('page', 'failed', { pageUrl, url: pageUrl, title }, error);
}

/** A video found on a page and not taken on (refused, the same as another, no usable source), with why. Pure. */
export function videoNote(
    at: FoundAt & { format?: SourceFormat },
    status: 'failed' | 'skipped',
    error: string,
    extra: Partial<MediaItem> = {},
): MediaItem {
    return {
        type: 'video',
        status,
        pageUrl: at.pageUrl,
        url: at.url,
        ...(at.format ? { format: at.format } : {}),
        ...(at.title ? { title: at.title } : {}),
        error,
        ...extra,
    };
}

/** A video taken on that was never finished (the run stopped, its worker died), with why. Pure. */
export function videoLost(job: VideoJob, error: string): MediaItem {
    const { pageUrl, url, format, title } = job;
    return { type: 'video', status: 'failed', pageUrl, url, format, title, error };
}

/** What every item of a video job shows, whatever its verdict. Pure. */
function videoBase(job: VideoJob): MediaItem {
    return {
        type: job.audioOnly ? 'audio' : 'video',
        status: 'failed',
        pageUrl: job.pageUrl,
        url: job.url,
        format: job.format,
        title: job.title,
        variantUrl: job.variantUrl !== job.url ? job.variantUrl : undefined,
        width: job.width,
        height: job.height,
        live: job.live || undefined,
    };
}

/** A video job that was downloaded (`segments` of its units) but not stored, with why. Pure. */
export function videoNotStored(
    job: VideoJob,
    status: 'failed' | 'skipped',
    segments: number,
    error: string,
    errorCode?: string,
): MediaItem {
    return { ...videoBase(job), status, segments, error, errorCode };
}

/** A merged, verified and stored video (or audio). */
export interface StoredVideo {
    kind: 'video' | 'audio';
    key: string;
    file: StoredFile;
    sha256: string;
    bytes: number;
    durationSecs: number;
    width?: number;
    height?: number;
    hasAudio?: boolean;
    thumbnail?: { key: string; url?: string };
    subtitles: StoredSubtitle[];
}

/** The `ok` item of a stored video. Pure. */
export function videoOk(job: VideoJob, v: StoredVideo): MediaItem {
    const audio = v.kind === 'audio';
    return {
        ...videoBase(job),
        type: v.kind,
        status: 'ok',
        key: v.key,
        contentType: v.file.contentType,
        bytes: v.bytes,
        sha256: v.sha256,
        // Audio has no picture: a size from the manifest would be a guess.
        width: audio ? undefined : (v.width ?? job.width),
        height: audio ? undefined : (v.height ?? job.height),
        durationSecs: v.durationSecs,
        segments: job.tracks.reduce((n, t) => n + t.segments, 0),
        hasAudio: v.hasAudio,
        fileUrl: v.file.fileUrl,
        ...(v.file.outputFile ? { localPath: v.file.outputFile } : {}),
        thumbnailKey: v.thumbnail?.key,
        thumbnailUrl: v.thumbnail?.url,
        ...(v.subtitles.length ? { subtitles: v.subtitles } : {}),
        ...(job.live ? { gaps: job.gaps ?? 0 } : {}),
    };
}

/** An image received and judged by its content: its type, size and hash. */
export interface JudgedImage extends FoundAt {
    contentType: string;
    bytes: number;
    sha256: string;
    width?: number;
    height?: number;
}

/** An image received but not stored (too small, a placeholder, the same content as one stored), with why. Pure. */
export function imageSkipped(image: JudgedImage, error: string): MediaItem {
    return { ...imageFields(image, 'skipped'), error };
}

/** The `ok` item of a stored image. Pure. */
export function imageOk(image: JudgedImage, key: string, file: StoredFile): MediaItem {
    return {
        ...imageFields(image, 'ok'),
        key,
        fileUrl: file.fileUrl,
        contentType: file.contentType,
        ...(file.outputFile ? { localPath: file.outputFile } : {}),
    };
}

function imageFields(image: JudgedImage, status: ItemStatus): MediaItem {
    return {
        type: 'image',
        status,
        pageUrl: image.pageUrl,
        url: image.url,
        title: image.title,
        contentType: image.contentType,
        bytes: image.bytes,
        sha256: image.sha256,
        width: image.width,
        height: image.height,
    };
}
