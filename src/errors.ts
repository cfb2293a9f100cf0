/**
 * One error hierarchy, named for what the crawler should do next (after crawlee's core/errors.ts).
 *
 * - `MediaError`: another attempt may help (a flaky CDN, a body cut short). Crawlee retries it.
 * - `PermanentMediaError` extends Crawlee's `NonRetryableError`: no attempt can help (DRM, a wrong
 *   key, a 404, an HTML page where a manifest should be). Crawlee does not retry it.
 *
 * Every error has a stable `code` (items carry it as `errorCode`) and keeps its `cause`.
 * `isRetryable` is the one place that decides.
 */
import { NonRetryableError } from '@crawlee/core';

export type ErrorCode =
    | 'HTTP_STATUS'
    | 'NETWORK'
    | 'TOO_LARGE'
    | 'UNSAFE_URL'
    | 'PRIVATE_NETWORK'
    | 'DRM'
    | 'MANIFEST'
    | 'KEY'
    | 'EXPIRED'
    | 'CORRUPT_UNIT'
    | 'UNITS_FAILED'
    | 'NOT_AN_IMAGE'
    | 'NOT_A_VIDEO'
    | 'MERGE'
    | 'INPUT'
    | 'BROWSER';

interface Options {
    cause?: unknown;
}

/** Something went wrong that another attempt may fix. */
export class MediaError extends Error {
    override name = 'MediaError';
    constructor(
        readonly code: ErrorCode,
        message: string,
        options?: Options,
    ) {
        super(message, options);
    }
}

/** Something no further attempt can fix: Crawlee sees a `NonRetryableError` and stops retrying. */
export class PermanentMediaError extends NonRetryableError {
    override name = 'PermanentMediaError';
    constructor(
        readonly code: ErrorCode,
        message: string,
        options?: Options,
    ) {
        super(message);
        if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
    }
}

/** Query strings carry tokens: messages show the path only. Pure. */
export function redactUrl(url: string): string {
    try {
        const u = new URL(url);
        if (u.protocol === 'data:') return 'data:…';
        if (u.protocol === 'blob:') return 'blob:…';
        u.username = '';
        u.password = '';
        return u.search ? `${u.origin}${u.pathname}?…` : `${u.origin}${u.pathname}`;
    } catch {
        return url.slice(0, 100);
    }
}

/** A response with a status outside 2xx. Retryable exactly when the status is (408, 425, 429, 5xx). */
export class HttpStatusError extends MediaError {
    override name = 'HttpStatusError';
    constructor(
        readonly url: string,
        readonly statusCode: number,
        readonly retryAfter?: string,
    ) {
        super('HTTP_STATUS', `HTTP ${statusCode} from ${redactUrl(url)}`);
    }
}

export class ResponseTooLargeError extends PermanentMediaError {
    override name = 'ResponseTooLargeError';
    constructor(url: string, limit: number) {
        super('TOO_LARGE', `response from ${redactUrl(url)} is larger than ${limit} bytes`);
    }
}

export class UnsafeUrlError extends PermanentMediaError {
    override name = 'UnsafeUrlError';
    constructor(readonly url: string) {
        super(
            'UNSAFE_URL',
            `refused to fetch "${url.slice(0, 200)}": only http and https URLs are fetched from page or manifest content`,
        );
    }
}

/** A target in a private network that the start URLs do not allow (net/address-policy.ts): never fetched. */
export class PrivateNetworkError extends PermanentMediaError {
    override name = 'PrivateNetworkError';
    constructor(reason: string) {
        super('PRIVATE_NETWORK', reason);
    }
}

export class DrmError extends PermanentMediaError {
    override name = 'DrmError';
    constructor(detail: string) {
        super(
            'DRM',
            `DRM-protected (${detail}): the stream cannot be decrypted without a licence, nothing was downloaded`,
        );
    }
}

/** A playlist or MPD that cannot be used as it is (not a manifest, no segments, a loop, too long). */
export class ManifestError extends PermanentMediaError {
    override name = 'ManifestError';
    constructor(message: string, options?: Options) {
        super('MANIFEST', message, options);
    }
}

/** An AES key that is not one, or a body it does not decrypt: no unit of the video can be used. */
export class KeyError extends PermanentMediaError {
    override name = 'KeyError';
    constructor(message: string, options?: Options) {
        super('KEY', message, options);
    }
}

/** Signed URLs expired mid-download and a fresh look at their source gave none that work. */
export class ExpiredError extends PermanentMediaError {
    override name = 'ExpiredError';
    constructor(detail: string, options?: Options) {
        super('EXPIRED', `the URLs expired and could not be renewed: ${detail}`, options);
    }
}

/** A unit's bytes are incomplete or not what they claim (truncated TS, short body): fetch again. */
export class CorruptUnitError extends MediaError {
    override name = 'CorruptUnitError';
    constructor(message: string, options?: Options) {
        super('CORRUPT_UNIT', message, options);
    }
}

export class NotAnImageError extends PermanentMediaError {
    override name = 'NotAnImageError';
    constructor(message: string) {
        super('NOT_AN_IMAGE', message);
    }
}

/** A URL that looked like a video file and is not one (an HTML page, a 0.3 s preview clip). */
export class NotAVideoError extends PermanentMediaError {
    override name = 'NotAVideoError';
    constructor(message: string) {
        super('NOT_A_VIDEO', message);
    }
}

/** ffmpeg could not make or verify the output from complete units: fetching again does not help. */
export class MergeError extends PermanentMediaError {
    override name = 'MergeError';
    constructor(message: string, options?: Options) {
        super('MERGE', message, options);
    }
}

/** Some units of a request failed; a retry fetches them again unless none of them can succeed. */
export class UnitsFailedError extends MediaError {
    override name = 'UnitsFailedError';
    constructor(
        readonly errors: Error[],
        units: number,
    ) {
        super('UNITS_FAILED', `${errors.length} of ${units} units failed, first: ${errors[0]?.message}`, {
            cause: errors[0],
        });
    }

    /** The longest wait any refusing server asked for. */
    get retryAfter(): string | undefined {
        return this.errors.find((e): e is HttpStatusError => e instanceof HttpStatusError && e.retryAfter !== undefined)
            ?.retryAfter;
    }
}

/** Status codes worth another try: the server may answer differently in a moment. Pure. */
export function isRetryableStatus(status: number): boolean {
    return status === 408 || status === 425 || status === 429 || status >= 500;
}

/**
 * The one retry decision. Permanent errors never; HTTP statuses by `isRetryableStatus`; a request
 * whose units failed only when one of them may still succeed; anything else (network errors,
 * timeouts, bodies cut short) yes.
 */
export function isRetryable(error: unknown): boolean {
    if (error instanceof NonRetryableError) return false;
    if (error instanceof HttpStatusError) return isRetryableStatus(error.statusCode);
    if (error instanceof UnitsFailedError) return error.errors.some(isRetryable);
    return true;
}

/** The stable code of any error, for items and logs. */
export function errorCode(error: unknown): ErrorCode | undefined {
    if (error instanceof MediaError || error instanceof PermanentMediaError) return error.code;
    return undefined;
}
