/** Pure retry decisions, shared by playlist/key fetches and the download crawler, and the waits between tries. */
import { setTimeout as timeout } from 'node:timers/promises';

export const RETRY_BASE_MS = 400;
export const RETRY_CAP_MS = 15_000;
const RETRY_AFTER_CAP_MS = 60_000;

/**
 * Delay before retry number `attempt` (1-based): exponential from `RETRY_BASE_MS`, capped, or what
 * the server asked for in `Retry-After` (seconds or an HTTP date), itself capped so a hostile server
 * cannot park the crawl.
 */
export function retryDelayMs(attempt: number, retryAfter?: string | null, now = Date.now()): number {
    if (retryAfter) {
        const secs = Number(retryAfter);
        const ms = Number.isFinite(secs) ? secs * 1000 : Date.parse(retryAfter) - now;
        if (Number.isFinite(ms) && ms >= 0) return Math.min(ms, RETRY_AFTER_CAP_MS);
    }
    return Math.min(RETRY_BASE_MS * 2 ** Math.max(0, attempt - 1), RETRY_CAP_MS);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits `ms`, or less: ends as soon as `signal` aborts, so a stopped run is not held by a wait (a live
 * recording's next look, a Retry-After of up to 60 s). It resolves rather than rejects on abort (ky's
 * `delay` rejects): every caller looks at the signal after the wait. Node's own abortable timer.
 */
export async function delay(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return;
    await timeout(ms, undefined, { signal }).catch((error: unknown) => {
        if (!signal?.aborted) throw error;
    });
}
