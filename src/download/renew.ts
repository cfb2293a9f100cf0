/**
 * Signed URLs that expire mid-download. CDNs sign unit URLs with tokens that live seconds to
 * minutes; on a slow connection a long video outlives them. When a unit is refused after other units
 * of the same video arrived, its source is read again for fresh URLs, as often as that keeps the
 * download moving, and every later unit of the video starts from the fresh URLs.
 *
 * Measured before this (issue 20): URLs that expire a few seconds after the list was served, a slow
 * CDN, 40 segments: the video failed with 13 segments missing, because the source was read again once
 * per video and a failed refresh was remembered for the rest of the run.
 */
import { ExpiredError, HttpStatusError, isRetryable, KeyError, MediaError } from '../errors.js';
import type { FreshUnit, FreshUrls, VideoJob } from '../model.js';

/** Statuses a CDN answers an expired signature with. */
export const EXPIRY_STATUSES: ReadonlySet<number> = new Set([401, 403, 410]);

/** Renewals in a row that gave URLs no unit could be fetched with: the signature is not the problem. */
export const MAX_FRUITLESS_RENEWALS = 2;
/** Fresh looks for a video none of whose units arrived yet. */
export const MAX_PROBES = 2;
/** Fresh looks at the source in a row that failed (network, 5xx): then the video fails. */
export const MAX_FAILED_RENEWALS = 3;

/**
 * The expiry rule. Pure. A refusal (401/403/410) means "expired" only when units of the same video
 * were fetched before it: the same URLs worked, so the token aged. A refusal of the very first unit
 * is a refusal (wrong headers, a geo block), and no fresh URL helps it.
 */
export function looksExpired(status: number, unitsStoredBefore: number): boolean {
    return EXPIRY_STATUSES.has(status) && unitsStoredBefore > 0;
}

/**
 * What to do about a unit (or key) refused with `status`. Pure.
 * - `renew`: expiry (`looksExpired`): read the source again, as often as that helps.
 * - `probe`: nothing of the video arrived yet: a refusal, or URLs that expired while the video waited
 *   in the queue behind others (or, on a slow CDN, while a unit waited for its turn). Up to
 *   `MAX_PROBES` fresh looks tell them apart; when their URLs are refused too, the refusal stands as it
 *   is (no expiry is claimed).
 * - `fail`: anything else.
 */
export function refusalAction(
    status: number | undefined,
    stored: number,
    generation: number,
): 'renew' | 'probe' | 'fail' {
    if (status === undefined || !EXPIRY_STATUSES.has(status)) return 'fail';
    if (looksExpired(status, stored)) return 'renew';
    return generation < MAX_PROBES ? 'probe' : 'fail';
}

/** The status of an error that may mean expiry (a unit's or a key's refusal), if any. Pure. */
export function refusalStatus(error: unknown): number | undefined {
    if (error instanceof HttpStatusError) return error.statusCode;
    if (error instanceof KeyError && error.cause instanceof HttpStatusError) return error.cause.statusCode;
    return undefined;
}

/** An error after which no unit of the video can be used: the video fails at once, with its code. */
export function isVideoFatal(error: unknown): error is KeyError | ExpiredError {
    return error instanceof KeyError || error instanceof ExpiredError;
}

interface JobRenewal {
    /** Bumped by each successful renewal: a unit refused at an older generation just takes the fresh URL. */
    generation: number;
    units: Map<string, FreshUnit>;
    inFlight?: Promise<void>;
    failed: number;
    fruitless: number;
    /** Units stored when the last renewal was made: none since means it did not help. */
    storedAtLast?: number;
    /** The video's URLs cannot be renewed: every later refusal gets this answer without asking again. */
    gaveUp?: ExpiredError;
}

export interface RenewerOptions {
    /** A fresh look at the video's source. */
    refresh(job: VideoJob): Promise<FreshUrls>;
    /** Units of the video stored so far. */
    stored(jobId: string): number;
}

/**
 * Fresh URLs per video, renewed on demand. A failed renewal is not remembered as an answer: the
 * next expiry tries again, up to `MAX_FAILED_RENEWALS` in a row.
 */
export class UrlRenewer {
    private readonly jobs = new Map<string, JobRenewal>();

    constructor(private readonly options: RenewerOptions) {}

    private state(id: string): JobRenewal {
        let s = this.jobs.get(id);
        if (!s) {
            s = { generation: 0, units: new Map(), failed: 0, fruitless: 0 };
            this.jobs.set(id, s);
        }
        return s;
    }

    generation(id: string): number {
        return this.jobs.get(id)?.generation ?? 0;
    }

    /** The unit's latest URLs, if its source was read again since it was planned. */
    fresh(id: string, unit: string): FreshUnit | undefined {
        return this.jobs.get(id)?.units.get(unit);
    }

    /**
     * Makes sure the video's URLs are newer than generation `seen` (the one the refused request used).
     * Resolves when they are; throws `ExpiredError` when they cannot be, or the refresh's own error
     * when another attempt may still work (a network error within the bound).
     */
    async renew(job: VideoJob, seen: number): Promise<void> {
        const s = this.state(job.id);
        if (s.generation > seen) return;
        if (s.inFlight) return s.inFlight;
        if (s.gaveUp) throw s.gaveUp;
        const stored = this.options.stored(job.id);
        if (s.storedAtLast !== undefined) s.fruitless = stored > s.storedAtLast ? 0 : s.fruitless + 1;
        if (s.fruitless >= MAX_FRUITLESS_RENEWALS) {
            s.gaveUp = new ExpiredError(
                `the URLs of ${s.fruitless} fresh looks at the source in a row were refused too`,
            );
            throw s.gaveUp;
        }
        s.inFlight = this.options
            .refresh(job)
            .then(
                (fresh) => {
                    for (const [unit, urls] of fresh.units) s.units.set(unit, urls);
                    for (const track of job.tracks) {
                        const moved = fresh.sources.get(track.name);
                        if (moved) track.sourceUrl = moved;
                    }
                    s.generation++;
                    s.failed = 0;
                    s.storedAtLast = stored;
                },
                (error: Error) => {
                    s.failed++;
                    // The refresh has already rendered the page again where it could (app/page-again.ts).
                    if (error instanceof ExpiredError) throw (s.gaveUp = error);
                    // The source itself refused, or is no longer usable: the video fails here.
                    if (!isRetryable(error) || s.failed >= MAX_FAILED_RENEWALS) {
                        const what =
                            error instanceof HttpStatusError && EXPIRY_STATUSES.has(error.statusCode)
                                ? 'the source was refused too'
                                : `reading the source again failed${s.failed > 1 ? ` ${s.failed} times` : ''}`;
                        s.gaveUp = new ExpiredError(`${what} (${error.message})`, { cause: error });
                        throw s.gaveUp;
                    }
                    // Retryable: the request is tried again later and so is the renewal (a failure is not kept).
                    throw new MediaError(
                        'NETWORK',
                        `reading the source again for fresh URLs failed: ${error.message}`,
                        {
                            cause: error,
                        },
                    );
                },
            )
            .finally(() => {
                s.inFlight = undefined;
            });
        return s.inFlight;
    }
}
