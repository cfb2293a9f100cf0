/**
 * The one retry helper: tries `fn` up to `attempts` times, waiting the one backoff (backoff.ts) between
 * tries, for as long as `shouldRetry` says another try may help (errors.ts `isRetryable` for anything
 * fetched) and the run has not stopped.
 */
import { backoffMs, retryAfterOf } from './backoff.js';
import { abortError, delay } from './delay.js';

export interface RetryOptions {
    /** Tries in all, the first included (at least 1). */
    attempts: number;
    /** Whether another try may help after this error; `attempt` is the try that failed (1-based). */
    shouldRetry(error: unknown, attempt: number): boolean;
    /** The wait before the next try; by default `backoffMs(attempt, the error's Retry-After)`. */
    delayMs?(attempt: number, error: unknown): number;
    /** Told before each wait (a log line). */
    onRetry?(error: unknown, attempt: number, waitMs: number): void;
    /** The run's stop: no new try starts, and a wait between two ends at once. */
    signal?: AbortSignal;
}

/** The default wait: the server's Retry-After, else exponential from 0.4 s. */
export const defaultDelayMs = (attempt: number, error: unknown): number => backoffMs(attempt, retryAfterOf(error));

/**
 * `fn`'s result, or the error of its last try. On abort it REJECTS, with `abortError(signal)`: a caller
 * waiting for a value cannot be given one. An abort during a wait ends the wait at once; a try in flight
 * ends when `fn` honours the signal itself (the media client passes it to its requests).
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
    const { attempts, shouldRetry, signal } = options;
    const delayMs = options.delayMs ?? defaultDelayMs;
    for (let attempt = 1; ; attempt++) {
        if (signal?.aborted) throw abortError(signal);
        try {
            return await fn(attempt);
        } catch (error) {
            if (signal?.aborted) throw abortError(signal);
            if (attempt >= attempts || !shouldRetry(error, attempt)) throw error;
            const wait = delayMs(attempt, error);
            options.onRetry?.(error, attempt, wait);
            await delay(wait, signal);
        }
    }
}
