/**
 * One stored copy per image content (sha256) in a crawl and across runs with an archive: which contents
 * are stored or being stored, by whom, and how far each store got, so that a process killed while storing
 * one is finished by whoever takes its request up, and never stored twice. The image saver (images.ts)
 * asks it before storing and tells it what it stored.
 */
import type { KeyValueStore } from '@crawlee/core';
import { ALREADY_DOWNLOADED, archiveKeys, type Archive } from '../results/archive.js';
import type { Claims } from '../run/claims.js';

/**
 * A content's store as its holder left it: the key chosen before the file was stored, and whether its `ok`
 * item is written (done). Kept in the state store (`sha-…` records) and, when workers share the crawl, in the
 * content's claim, where any worker that takes the holder's request up finds it.
 */
export interface Ledger {
    key?: string;
    holder: string;
    done: boolean;
}

/** The state store's key of a content's record. Pure. */
const shaKey = (sha256: string): string => `sha-${sha256.slice(0, 40)}`;

/** A `sha-…` record of the state store: a ledger (records written before ledgers have only the key). */
type ShaRecord = { sha256: string; key: string } & Partial<Ledger>;

export class ImageLedger {
    /** sha256 → key of the stored file (a promise while the first copy is being stored). */
    private readonly stored = new Map<string, Promise<string | undefined>>();
    /** sha256 → this worker's stores, begun or done (its state records; with one worker, the only ledger). */
    private readonly own = new Map<string, Ledger>();
    private state?: KeyValueStore;

    constructor(
        /** Contents claimed across workers (one stored copy per crawl); this process's alone with one worker. */
        private readonly claims: Claims,
        /** What earlier runs stored. */
        private readonly archive: Archive,
    ) {}

    /** Resume: the contents stored (or being stored) before a restart, so no copy of them is stored again. */
    async load(state: KeyValueStore): Promise<void> {
        this.state = state;
        await state.forEachKey(async (key) => {
            if (!key.startsWith('sha-')) return;
            const record = await state.getValue<ShaRecord>(key);
            if (!record) return;
            this.stored.set(record.sha256, Promise.resolve(record.key));
            // Records written before holders were kept count as done.
            if (record.holder)
                this.own.set(record.sha256, { key: record.key, holder: record.holder, done: record.done !== false });
        });
    }

    /** This holder's earlier store of this content, if one was begun: the claim's record, else this worker's. */
    async prior(sha256: string, holder: string): Promise<Ledger | undefined> {
        if (this.claims.shared) {
            const claim = await this.claims.lookup('image', sha256);
            return claim?.holder === holder ? { key: claim.key, holder, done: claim.confirmed === true } : undefined;
        }
        const own = this.own.get(sha256);
        return own?.holder === holder ? own : undefined;
    }

    /**
     * Why the content is not this holder's to store, when it was stored before (this run, another worker, an
     * earlier run with the archive). Else undefined, and the content is claimed for this holder.
     */
    async copyOf(sha256: string, holder: string): Promise<string | undefined> {
        const earlier = this.stored.get(sha256);
        if (earlier) return `same content as the image stored as "${(await earlier) ?? 'another copy'}"`;
        const archived = await this.archive.get(archiveKeys.imageSha(sha256));
        if (archived) return `${ALREADY_DOWNLOADED} (same content stored as "${archived.key}" on ${archived.at})`;
        const claimedBy = await this.claims.claim('image', sha256, holder);
        if (claimedBy === undefined) return undefined;
        const here = this.stored.get(sha256);
        const key = here && (await here);
        return key ? `same content as the image stored as "${key}"` : `same content as ${claimedBy}`;
    }

    /** The content is being stored under the key `storing` resolves to: copies found meanwhile name it. */
    storing(sha256: string, storing: Promise<string>): void {
        this.stored.set(sha256, storing);
    }

    /** Writes a store's ledger: the state record, and the claim when workers share the crawl (confirmed when done). */
    async write(sha256: string, entry: Ledger & { key: string }): Promise<void> {
        this.own.set(sha256, entry);
        if (entry.done) await this.claims.confirm('image', sha256, entry.holder, { key: entry.key });
        else await this.claims.record('image', sha256, entry.holder, { key: entry.key });
        const record: ShaRecord = { sha256, ...entry };
        await this.state?.setValue(shaKey(sha256), record);
    }

    /**
     * Nothing was stored: the content is not "the image stored as …". Given back, so a retry (this request's,
     * or another page's copy of the same picture) stores it.
     */
    async giveBack(sha256: string): Promise<void> {
        this.stored.delete(sha256);
        this.own.delete(sha256);
        await this.state?.setValue(shaKey(sha256), null);
        await this.claims.release('image', sha256);
    }
}
