/**
 * Storing a finished file: into the run's key-value store, and locally also into the output folder,
 * which no run deletes from. The folder is given by whoever stores (results.ts), not read from a global.
 */
import { createHash } from 'node:crypto';
import { constants as fsConstants, createReadStream } from 'node:fs';
import { copyFile, link, mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { KeyValueStore } from '@crawlee/core';
import { fileExtension, storedType } from '../media-types.js';
import { outputFileName } from '../names.js';
import { outputName } from './keys.js';
import { suffixedName, uploadWithRetry } from './output.js';

/** Where `storeFile` put a file, and the type the store holds it as. */
export interface StoredFile {
    /** Public URL of the record (on the platform). */
    fileUrl?: string;
    /** The content type the record is stored as and read back as (media-types.ts). */
    contentType: string;
    /** Locally: the file's path in the output folder, when it was put there. */
    outputFile?: string;
}

/** Where files are stored: the store and, on the platform, nothing else; locally its folder and the output folder. */
export interface FileTarget {
    store: KeyValueStore;
    /** On the platform: records are uploaded through the API instead of renamed into a folder. */
    remote: boolean;
    /** Locally: the store's folder, where Crawlee keeps records as `<key>.<ext>`. */
    storeDir: string;
    /** Locally: the folder every stored media file also lands in (absolute); undefined on the platform. */
    outputDir?: string;
    /** The run's stop: an upload's next attempt does not start after it, a wait between two ends at once. */
    signal?: AbortSignal;
}

export interface StoreOptions {
    toOutputDir?: boolean;
    /** The file's name in the output folder, as a person wrote it (names.ts sanitises it). */
    name?: string;
}

/**
 * Moves a finished file into the key-value store without reading it into memory: locally it is renamed
 * into the store's folder (where Crawlee's local storage keeps records as `<key>.<ext>`, the extension
 * from its MIME table); on the platform it is streamed to the API. Locally the file also lands in the
 * output folder, named `name` as a person wrote it (names.ts).
 */
export async function storeFile(
    target: FileTarget,
    key: string,
    file: string,
    contentType: string,
    options: StoreOptions = {},
): Promise<StoredFile> {
    const stored = storedType(contentType);
    if (target.remote) {
        const { store } = target;
        const put = (body: Readable) => store.setValue(key, body, { contentType: stored.contentType });
        await uploadWithRetry(put, file, { signal: target.signal });
        return { fileUrl: store.getPublicUrl(key), contentType: stored.contentType };
    }
    const dest = path.join(target.storeDir, `${key}.${stored.extension}`);
    await mkdir(path.dirname(dest), { recursive: true });
    try {
        await rename(file, dest);
    } catch {
        await copyFile(file, dest);
        await rm(file, { force: true });
    }
    if (options.toOutputDir === false || !target.outputDir) return { contentType: stored.contentType };
    const ext = fileExtension(stored.contentType);
    const fallback = outputName(key, ext).slice(0, -ext.length - 1);
    const outputFile = await copyToOutputDir(target.outputDir, dest, (n) =>
        outputFileName(options.name, ext, fallback, n),
    );
    return { contentType: stored.contentType, outputFile };
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
    outputDir: string,
    stored: string,
    name: string | ((n: number) => string) = path.basename(stored),
): Promise<string> {
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
