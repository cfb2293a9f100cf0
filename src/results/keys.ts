/**
 * Keys of the stored files: the key-value store schema's collections select records by prefix, and two
 * files never share a key, however many workers store into one store.
 */
import type { KeyValueStore } from '@crawlee/core';
import { KEY_MAX } from '../names.js';
import type { Claims } from '../run/claims.js';

/**
 * Key prefixes of the stored files: the key-value store schema's collections (videos, audio, images,
 * thumbnails) select records by prefix. The output folder drops the video, audio and image ones:
 * there a file is named for what it is.
 */
export const KEY_PREFIX = { video: 'video-', audio: 'audio-', image: 'image-', thumbnail: 'thumb-' } as const;

/** `base` under the collection's prefix (a base that already has it is left as it is). Pure. */
export function collectionKey(kind: keyof typeof KEY_PREFIX, base: string): string {
    const prefix = KEY_PREFIX[kind];
    if (base.startsWith(prefix)) return base;
    // Within the same bound as keys made from text, the prefix included.
    return `${prefix}${base}`.slice(0, KEY_MAX).replace(/[-.]+$/g, '');
}

/** The name a stored record gets in the output folder when no title names it: its key without a video, audio or image prefix. Pure. */
export function outputName(key: string, ext: string): string {
    const bare = key.replace(/^(video|audio|image)-(?=.)/, '');
    return `${bare}.${ext}`;
}

/** First of `base`, `base-2`, `base-3`, ... that `isTaken` rejects. Pure. */
export function uniqueKey(base: string, isTaken: (key: string) => boolean): string {
    if (!isTaken(base)) return base;
    for (let n = 2; ; n++) {
        const candidate = `${base}-${n}`;
        if (!isTaken(candidate)) return candidate;
    }
}

/**
 * Hands out unique keys of the run's key-value store. Keys are reserved synchronously so two
 * videos finishing at once cannot take the same one, and claimed when workers share the store.
 */
export class KeyAllocator {
    private readonly taken = new Set<string>();

    /** `holder` names this process in a claim (`worker 2`). */
    constructor(
        private readonly store: KeyValueStore,
        private readonly claims?: Claims,
        private readonly holder = 'worker 0',
    ) {}

    async allocate(base: string): Promise<string> {
        for (;;) {
            const key = uniqueKey(base, (k) => this.taken.has(k));
            this.taken.add(key);
            if (await this.store.recordExists(key)) continue;
            if (this.claims?.shared && (await this.claims.claim('key', key, this.holder)) !== undefined) continue;
            return key;
        }
    }
}
