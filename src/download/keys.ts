/** AES-128 keys: fetched once per URI with the page's headers, checked, cached for the run. */
import { KeyError, redactUrl } from '../errors.js';
import type { Headers } from '../model.js';
import { fetchBytes, type FetchOptions } from '../net/fetch.js';

export { KeyError };

export function checkKey(body: Buffer, contentType: string, url: string): Buffer {
    if (body.length === 16) return body;
    const ct = contentType.split(';')[0] || 'no content type';
    throw new KeyError(`the key at ${redactUrl(url)} is ${body.length} bytes (${ct}), not a 16-byte AES-128 key`);
}

export class KeyCache {
    private readonly keys = new Map<string, Promise<Buffer>>();

    constructor(private readonly options: Omit<FetchOptions, 'headers' | 'maxBytes' | 'proxyUrl'>) {}

    get(uri: string, headers: Headers, proxyUrl?: string, pageUrl?: string): Promise<Buffer> {
        let key = this.keys.get(uri);
        if (!key) {
            key = fetchBytes(uri, { ...this.options, headers, proxyUrl, pageUrl, maxBytes: 64 * 1024 }).then((r) =>
                checkKey(r.body, r.contentType, uri),
            );
            // A failed fetch is not cached: the next segment that needs the key tries again.
            key.catch(() => this.keys.delete(uri));
            this.keys.set(uri, key);
        }
        return key;
    }
}
