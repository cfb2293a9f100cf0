/**
 * What earlier runs downloaded, for scheduled crawls (`archiveName`): a named key-value store, one
 * small record per video (playlist URL per page + variant), per image URL and per image content.
 * A record is written only after the file was stored and its `ok` item pushed.
 */
import { createHash } from 'node:crypto';
import { KeyValueStore } from '@crawlee/core';
import { normalizeUrl } from '../urls.js';

export interface ArchiveEntry {
    key: string;
    sha256?: string;
    at: string;
}

const h = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 40);

/** Record keys: `v-` video id, `u-` image URL, `s-` image content. Pure. */
export const archiveKeys = {
    video: (videoId: string): string => `v-${videoId}`,
    imageUrl: (url: string): string => `u-${h(normalizeUrl(url))}`,
    imageSha: (sha256: string): string => `s-${sha256.slice(0, 40)}`,
};

export class Archive {
    private constructor(private readonly store: KeyValueStore | undefined) {}

    /** Without a name, an archive that remembers nothing (every run downloads everything). */
    static async open(name: string | undefined): Promise<Archive> {
        return new Archive(name ? await KeyValueStore.open(name) : undefined);
    }

    get enabled(): boolean {
        return this.store !== undefined;
    }

    async get(recordKey: string): Promise<ArchiveEntry | undefined> {
        return (await this.store?.getValue<ArchiveEntry>(recordKey)) ?? undefined;
    }

    async put(recordKeys: string[], entry: Omit<ArchiveEntry, 'at'>): Promise<void> {
        if (!this.store) return;
        const value: ArchiveEntry = { ...entry, at: new Date().toISOString() };
        for (const k of recordKeys) await this.store.setValue(k, value);
    }
}

export const ALREADY_DOWNLOADED = 'already downloaded';
