/** AES-128 keys: fetched once per URI with the page's headers, checked, cached for the run. */
import { HttpStatusError, KeyError, redactUrl } from '../errors.js';
import type { Headers } from '../model.js';
import { fetchBytes, type FetchOptions } from '../net/fetch.js';

export { KeyError };

export function checkKey(body: Buffer, contentType: string, url: string): Buffer {
    if (body.length === 16) return body;
    const ct = contentType.split(';')[0] || 'no content type';
    throw new KeyError(`the key at ${redactUrl(url)} is ${body.length} bytes (${ct}), not a 16-byte AES-128 key`);
}

/** A key fetch that failed after its retries, as the `KeyError` every unit that needs the key gets. Pure. */
export function keyFailure(error: unknown, url: string): KeyError {
    if (error instanceof KeyError) return error;
    const why = error instanceof HttpStatusError ? `HTTP ${error.statusCode}` : (error as Error).message;
    return new KeyError(`the key at ${redactUrl(url)} could not be fetched (${why})`, { cause: error });
}

export class KeyCache {
    private readonly keys = new Map<string, Promise<Buffer>>();
    private readonly refused = new Set<string>();

    constructor(private readonly options: Omit<FetchOptions, 'headers' | 'maxBytes' | 'proxyUrl'>) {}

    /**
     * The key at `uri`. A fetch is retried within the retry budget (`fetchBytes`); one that still fails
     * is kept as a `KeyError`: asking again for every remaining segment only repeated the refusal
     * (issue 21: a key answering 403 was fetched once per segment). A key whose signed URL expired is
     * renewed by the caller under a fresh URI, which this cache has not seen.
     */
    get(uri: string, headers: Headers, proxyUrl?: string, pageUrl?: string): Promise<Buffer> {
        let key = this.keys.get(uri);
        if (!key) {
            key = fetchBytes(uri, { ...this.options, headers, proxyUrl, pageUrl, maxBytes: 64 * 1024 }).then(
                (r) => checkKey(r.body, r.contentType, uri),
                (error: unknown) => {
                    this.refused.add(uri);
                    throw keyFailure(error, uri);
                },
            );
            this.keys.set(uri, key);
        }
        return key;
    }

    /** Whether the key at `uri` was asked for and could not be had (its `get` rejects at once). */
    failed(uri: string): boolean {
        return this.refused.has(uri);
    }
}
