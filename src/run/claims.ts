/**
 * Claims that workers make before they take something on: a video (downloaded once however many
 * pages and workers find it), an image's content (stored once), a key of the shared key-value store
 * (two workers must not both write `video-intro`).
 *
 * With one worker a claim is an entry in a map. With several, it is a request in the run's claims
 * queue whose unique key is the claim: adding a request is the one atomic test-and-set the storages
 * offer on the platform and locally (a key-value record has no compare-and-set), and a queue's unique
 * keys are exactly "first one wins". Nobody takes requests from this queue; it is dropped with the run.
 * The raw storage client is used, not Crawlee's RequestQueue: its cache of added keys would still say
 * "present" after a claim is given back.
 */
import { createHash } from 'node:crypto';
import { getRequestId } from '@crawlee/core';
import type { RequestQueueClient } from '@crawlee/types';
import { openQueue } from './queues.js';

/**
 * - `video`: a video id; `video-url`: a manifest, variant or file URL of a video taken on;
 *   `image`: an image's sha256; `key`: a key of the shared store;
 * - `page-image`: an image URL queued from a page (a page rendered again after its worker died, or
 *   retried, queues no second copy); `item`: an item that says why something was not stored.
 */
export type ClaimKind = 'video' | 'video-url' | 'image' | 'key' | 'page-image' | 'item';

/** The unique key of a claim; a long id (URLs) is hashed, so two never share a truncated key. Pure. */
export function claimKey(kind: ClaimKind, id: string): string {
    const short = id.length <= 200 ? id : createHash('sha256').update(id).digest('hex');
    return `${kind}:${short}`;
}

export interface ClaimData {
    holder: string;
    /** The claimed work was taken on (a job saved, requests queued): whoever holds it will deliver it. */
    confirmed?: boolean;
    /** What the claim belongs to: a `video-url` claim names its video's id. */
    of?: string;
    /** An `image` claim: the store key its content goes to, recorded before the file is stored. */
    key?: string;
}

export interface ClaimOptions {
    /**
     * A claim this same holder made and never confirmed is taken over: the page is being rendered again
     * because whoever rendered it died between the claim and the work (a page is rendered by one worker
     * at a time, so that one is gone). Without this such a video or image would be lost.
     */
    takeOverUnconfirmed?: boolean;
    /** Stored with the claim (ClaimData.of). */
    of?: string;
}

/** What a claim came to: won (fresh, or taken over from a dead holder), or held by `holder`. */
export type ClaimOutcome = { won: true; takenOver: boolean } | { won: false; holder: string };

export class Claims {
    private readonly local = new Map<string, string>();
    /** Request ids of this process's claims in the shared queue, to confirm or give them back. */
    private readonly ids = new Map<string, string>();

    private constructor(private readonly queue: RequestQueueClient | undefined) {}

    /** Claims shared through the named queue, or (no name) this process's alone. */
    static async open(queueName: string | undefined): Promise<Claims> {
        return new Claims(queueName ? (await openQueue(queueName)).client : undefined);
    }

    get shared(): boolean {
        return this.queue !== undefined;
    }

    /**
     * Claims `id` for `holder` (a page URL, a worker): resolves to undefined when this call won, else to
     * the holder of the earlier claim.
     */
    async claim(kind: ClaimKind, id: string, holder: string, options: ClaimOptions = {}): Promise<string | undefined> {
        const outcome = await this.take(kind, id, holder, options);
        return outcome.won ? undefined : outcome.holder;
    }

    /**
     * `claim`, saying whether a win took over a dead holder's unconfirmed claim: whatever that holder
     * did between its claim and its death (an item written, a file stored) may already be done.
     */
    async take(kind: ClaimKind, id: string, holder: string, options: ClaimOptions = {}): Promise<ClaimOutcome> {
        const key = claimKey(kind, id);
        const earlier = this.local.get(key);
        if (earlier !== undefined) return { won: false, holder: earlier };
        this.local.set(key, holder);
        if (!this.queue) return { won: true, takenOver: false };
        try {
            const url = `https://claims.invalid/${kind}`;
            const data: ClaimData = { holder, ...(options.of ? { of: options.of } : {}) };
            const added = await this.queue.addRequest({ url, uniqueKey: key, userData: data });
            this.ids.set(key, added.requestId);
            if (!added.wasAlreadyPresent) return { won: true, takenOver: false };
            const other = (await this.queue.getRequest(added.requestId))?.userData as ClaimData | undefined;
            if (options.takeOverUnconfirmed && other?.holder === holder && !other.confirmed)
                return { won: true, takenOver: true };
            // Not remembered: if the holder gives it back, the next sighting here asks again.
            this.local.delete(key);
            this.ids.delete(key);
            return { won: false, holder: other?.holder ?? 'another worker' };
        } catch (error) {
            this.local.delete(key);
            throw error;
        }
    }

    /** A claim as it stands, without claiming it: who holds it, whether it was confirmed. */
    async lookup(kind: ClaimKind, id: string): Promise<ClaimData | undefined> {
        const key = claimKey(kind, id);
        const here = this.local.get(key);
        if (!this.queue) return here === undefined ? undefined : { holder: here };
        const request = await this.queue.getRequest(getRequestId(key));
        return request?.userData as ClaimData | undefined;
    }

    /**
     * Marks a claim as taken on: nobody takes it over any more. One write, no read. A claim this process
     * did not make (a restarted worker resuming its videos) is named with its holder.
     */
    async confirm(kind: ClaimKind, id: string, holder?: string, extra: Pick<ClaimData, 'key'> = {}): Promise<void> {
        await this.write(kind, id, holder, { confirmed: true, ...extra });
    }

    /** Writes `extra` into a claim this holder holds, unconfirmed (an image's key before its file is stored). */
    async record(kind: ClaimKind, id: string, holder: string, extra: Pick<ClaimData, 'key'>): Promise<void> {
        await this.write(kind, id, holder, extra);
    }

    private async write(kind: ClaimKind, id: string, holder: string | undefined, extra: Partial<ClaimData>) {
        const key = claimKey(kind, id);
        const requestId = this.ids.get(key) ?? getRequestId(key);
        holder = this.local.get(key) ?? holder;
        if (holder === undefined || !this.queue) return;
        const userData: ClaimData = { holder, ...extra };
        const request = { id: requestId, url: `https://claims.invalid/${kind}`, uniqueKey: key, userData };
        await this.queue.updateRequest(request as Parameters<RequestQueueClient['updateRequest']>[0]);
    }

    /** Gives a claim back (what was claimed could not be taken on): the next one to ask gets it. */
    async release(kind: ClaimKind, id: string): Promise<void> {
        const key = claimKey(kind, id);
        this.local.delete(key);
        const requestId = this.ids.get(key);
        if (!requestId || !this.queue) return;
        this.ids.delete(key);
        await this.queue.deleteRequest(requestId);
    }
}
