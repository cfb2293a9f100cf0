/**
 * The results of one crawl: the one module that writes dataset items, and the owner of what goes with
 * them — notes written once per page and URL, one verdict per video, key allocation, file storing into
 * the key-value store and the output folder, and the archive of earlier runs. Created once per crawl
 * (app/crawl.ts) with its storages and output folder passed in; stages build items with items.ts and
 * hand them here.
 */
import path from 'node:path';
import { Actor } from 'apify';
import { Dataset, KeyValueStore } from '@crawlee/core';
import type { MediaItem } from '../model.js';
import type { Claims } from '../run/claims.js';
import { defaultKvDir } from '../run/storage.js';
import { Archive, type ArchiveEntry } from './archive.js';
import { storeFile, type FileTarget, type StoredFile, type StoreOptions } from './files.js';
import { KeyAllocator } from './keys.js';

export interface ResultsOptions {
    /** Locally: the folder every stored media file also lands in; undefined on the platform (and in tests that want none). */
    outputDir?: string;
    /** The dataset items go to (a split crawl's shared one); default: this process's default dataset. */
    dataset?: string;
    /** The key-value store files go to (a split crawl's shared one); default: this process's default store. */
    store?: string;
    /** Claims across workers: on notes (once per page and URL) and keys. Without: this process's own memory. */
    claims?: Claims;
    /** Names this process in a key claim: `worker 2`. */
    holder?: string;
    /** `archiveName`: what earlier runs stored. */
    archiveName?: string;
    /** The run's stop: uploads retry no more after it (files.ts). */
    signal?: AbortSignal;
}

export class Results {
    /** Videos whose one verdict was written. */
    private readonly verdicts = new Set<string>();
    /** Notes written by this process, when there are no claims to remember them. */
    private readonly noted = new Set<string>();
    /**
     * Notes in the dataset before this process began, read once when a run resumes on its own (locally
     * with CRAWLEE_PURGE_ON_START=0, on the platform after a migration): a page it was rendering when it
     * stopped is rendered again, and its notes are not written twice. Split crawls ask the shared claims.
     */
    private readonly before = new Set<string>();
    readonly keys: KeyAllocator;

    private constructor(
        private readonly dataset: Dataset,
        private readonly files: FileTarget,
        readonly archive: Archive,
        private readonly claims: Claims | undefined,
        holder: string,
    ) {
        this.keys = new KeyAllocator(files.store, claims, holder);
    }

    static async open(options: ResultsOptions = {}): Promise<Results> {
        const [dataset, store, archive] = await Promise.all([
            Dataset.open(options.dataset),
            KeyValueStore.open(options.store),
            Archive.open(options.archiveName),
        ]);
        const remote = Actor.isAtHome();
        const outputDir = remote || options.outputDir === undefined ? undefined : path.resolve(options.outputDir);
        const files: FileTarget = { store, remote, storeDir: defaultKvDir(), outputDir, signal: options.signal };
        const results = new Results(dataset, files, archive, options.claims, options.holder ?? 'worker 0');
        if (!options.claims?.shared) await results.readEarlierNotes();
        return results;
    }

    private async readEarlierNotes(): Promise<void> {
        for await (const item of this.items()) if (item.status !== 'ok') this.before.add(noteKey(item));
    }

    /** Locally: where stored media also land. */
    get outputDir(): string | undefined {
        return this.files.outputDir;
    }

    /** Writes one item. The only `pushData` of src/ (test/unit/architecture.test.ts keeps it so). */
    async push(item: MediaItem): Promise<void> {
        await this.dataset.pushData(item);
    }

    /**
     * An item that says why something was not stored, written once per page and URL (or per `id`) however
     * often it is judged: a page a dead worker had rendered is rendered again by another, a failed page is
     * retried, an image request a killed worker held is handled again.
     */
    async note(item: MediaItem, id = noteKey(item)): Promise<void> {
        if (this.before.has(noteKey(item))) return;
        if (this.claims) {
            // Held by the page; one worker renders a page (or handles a request) at a time, so an unconfirmed
            // claim of the same page is a killed worker's: taken over, confirmed once written. That worker may
            // have died after its write (CI: a second "smaller than 64×64" item after kill -9), so a taken-over
            // note is looked for first; the dataset is read only then, after a kill.
            const outcome = await this.claims.take('item', id, item.pageUrl, { takeOverUnconfirmed: true });
            if (!outcome.won) return;
            if (!outcome.takenOver || !(await this.has((i) => noteKey(i) === noteKey(item)))) await this.push(item);
            await this.claims.confirm('item', id);
            return;
        }
        if (this.noted.has(id)) return;
        this.noted.add(id);
        await this.push(item);
    }

    /**
     * Writes a video's item, its one verdict: the first call for `videoId` wins, a later one is refused
     * (false) and writes nothing. A stopped run (app/crawl.ts) and a merge ending at that moment
     * (merge/finish.ts) can both judge the same video; the test-and-set is synchronous, before the write is awaited.
     * `written`: the item is in the dataset already (a killed run wrote it); the verdict is taken, nothing written.
     */
    async verdict(videoId: string, item: MediaItem, options: { written?: boolean } = {}): Promise<boolean> {
        if (this.verdicts.has(videoId)) return false;
        this.verdicts.add(videoId);
        if (!options.written) await this.push(item);
        return true;
    }

    /**
     * Whether an `ok` item of this type, content and URL is in the dataset. Read only after a kill, for a
     * store whose item may or may not have been written (download/images.ts).
     */
    async hasOk(type: MediaItem['type'], sha256: string, url: string): Promise<boolean> {
        return this.has((i) => i.type === type && i.status === 'ok' && i.sha256 === sha256 && i.url === url);
    }

    /**
     * The `ok` item that names this store key, if the dataset has one. Read only after a kill, for a video
     * whose store was begun (merge/finish.ts): its item may or may not have been written.
     */
    async okWithKey(key: string): Promise<MediaItem | undefined> {
        return this.find((i) => i.status === 'ok' && i.key === key);
    }

    private async has(match: (item: MediaItem) => boolean): Promise<boolean> {
        return (await this.find(match)) !== undefined;
    }

    /** The first item that `match`es. */
    private async find(match: (item: MediaItem) => boolean): Promise<MediaItem | undefined> {
        for await (const item of this.items()) if (match(item)) return item;
        return undefined;
    }

    /** The dataset's items, read in pages of 1,000 (a page is one API call on the platform). */
    private async *items(): AsyncGenerator<MediaItem> {
        const limit = 1000;
        for (let offset = 0; ; offset += limit) {
            const { items, total } = await this.dataset.getData({ offset, limit });
            yield* items as MediaItem[];
            if (!items.length || offset + items.length >= total) return;
        }
    }

    /** Moves a finished file into the store (and locally into the output folder). See files.ts. */
    async store(key: string, file: string, contentType: string, options?: StoreOptions): Promise<StoredFile> {
        return storeFile(this.files, key, file, contentType, options);
    }

    /** Remembers stored media for later runs: called after the file was stored and its `ok` item written. */
    async archived(records: string[], entry: Omit<ArchiveEntry, 'at'>): Promise<void> {
        await this.archive.put(records, entry);
    }
}

/**
 * What makes two notes the same: what and where. Not why: a request handled again can fail for another
 * reason, and its second item would still be a duplicate. Pure.
 */
function noteKey(item: MediaItem): string {
    return [item.type, item.status, item.pageUrl, item.url].join('|');
}
