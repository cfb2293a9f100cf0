/**
 * Waiting, and ending a wait when the run stops. Every wait in src/ that can outlast a moment takes the
 * run's `AbortSignal` (run/lifecycle.ts): a Retry-After of up to 60 s, a live recording's next look (up
 * to 10 s), the backoff between two tries. Waits without one: a page's own polls (pages/), tens of
 * milliseconds each and ended with the page; the wind-down's after the stop (app/crawl.ts), bounded by
 * their deadlines; uploads' backoff (results/output.ts: 15 s in all), whose callers pass no signal yet;
 * and key fetches (download/keys.ts turns any failure into the video's KEY failure).
 */
import { setTimeout as timeout } from 'node:timers/promises';

/**
 * Waits `ms`, or less: ends as soon as `signal` aborts, and at once for a signal already aborted.
 *
 * It RESOLVES on abort (ky's `delay` rejects): a wait is never the thing that failed, and every caller
 * looks at its signal after the wait (the live recorder ends its recording, the download error handler
 * lets Crawlee's aborted pool drop the request, time/retry.ts rejects with `abortError`), so no caller
 * needs a try/catch around a wait. A caller that must not go on calls `throwIfStopped` after it. Node's
 * own abortable timer.
 */
export async function delay(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return;
    await timeout(ms, undefined, { signal }).catch((error: unknown) => {
        if (!signal?.aborted) throw error;
    });
}

/**
 * The error an aborted operation ends with: the signal's reason when it is an Error, else an
 * `AbortError` carrying it as its cause (the run's stop aborts with the strings `aborting` and `timeout`,
 * which `crawl()` reads; a thrown string would have no message for an item). Pure.
 */
export function abortError(signal: AbortSignal): Error {
    const reason: unknown = signal.reason;
    if (reason instanceof Error) return reason;
    const error = new Error(`stopped: ${describe(reason)}`, { cause: reason });
    error.name = 'AbortError';
    return error;
}

/** In the words crawl-end.ts's `abandonDownloads` uses for the same stops. */
const describe = (reason: unknown): string =>
    reason === 'aborting'
        ? 'the run was aborted'
        : reason === 'timeout'
          ? 'the run stopped before its timeout'
          : reason === 'interrupted'
            ? 'the run was interrupted'
            : 'the run was stopped';

/** Throws `abortError(signal)` when `signal` has aborted. */
export function throwIfStopped(signal: AbortSignal | undefined): void {
    if (signal?.aborted) throw abortError(signal);
}
