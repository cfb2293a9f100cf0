/**
 * The one backoff formula: how long to wait before another try of anything fetched (manifests, keys,
 * probes, segments, images, uploads). Pure.
 */

/** The first wait: 0.4 s, then 0.8, 1.6, 3.2, … */
export const BACKOFF_BASE_MS = 400;
/** No computed wait is longer: 15 s. */
export const BACKOFF_CAP_MS = 15_000;
/** No server-asked wait is longer: a hostile or confused server cannot park the crawl. */
export const RETRY_AFTER_CAP_MS = 60_000;

export interface BackoffOptions {
    baseMs?: number;
    capMs?: number;
    /** The clock a Retry-After date is read against. */
    now?: number;
}

/**
 * A `Retry-After` header as milliseconds from `now`: seconds or an HTTP date (RFC 9110 10.2.3);
 * undefined when it is neither or lies in the past. Pure.
 */
export function retryAfterMs(header: string | null | undefined, now = Date.now()): number | undefined {
    if (!header) return undefined;
    const secs = Number(header);
    const ms = Number.isFinite(secs) ? secs * 1000 : Date.parse(header) - now;
    return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/**
 * The wait before retry number `attempt` (1-based: the wait after the first failure is attempt 1): what
 * the server asked for in `Retry-After`, capped at `RETRY_AFTER_CAP_MS`, else exponential from `baseMs`,
 * capped at `capMs`. Pure.
 */
export function backoffMs(attempt: number, retryAfter?: string | null, options: BackoffOptions = {}): number {
    const { baseMs = BACKOFF_BASE_MS, capMs = BACKOFF_CAP_MS, now = Date.now() } = options;
    const asked = retryAfterMs(retryAfter, now);
    if (asked !== undefined) return Math.min(asked, RETRY_AFTER_CAP_MS);
    return Math.min(baseMs * 2 ** Math.max(0, attempt - 1), capMs);
}

/**
 * The `Retry-After` an error carries, if any: errors.ts's `HttpStatusError` and `UnitsFailedError`
 * keep it as `retryAfter` (read by shape: time/ stands below errors.ts). Pure.
 */
export function retryAfterOf(error: unknown): string | undefined {
    const value = (error as { retryAfter?: unknown } | null | undefined)?.retryAfter;
    return typeof value === 'string' ? value : undefined;
}
