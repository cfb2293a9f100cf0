/**
 * Which part of a crawl this process does when the crawl is split across workers (`workers` > 1).
 * Set once at start, before any storage opens; read by the few places that name storages. A
 * process with no role is the whole crawl, as with `workers: 1`.
 */
export interface WorkerRole {
    /** 0 … count − 1. Worker 0 also downloads the manifests, files and images given as start URLs. */
    index: number;
    count: number;
    /** Names this worker's own storages (download queue, state, work folder): `<run>-w<index>`. */
    scope: string;
    /** A worker started again after it died: its own storages are resumed, not cleared. */
    resumed: boolean;
    /** Shared by every worker. Names or ids; unset means this process's default storage. */
    shared: {
        /** The page queue every worker takes pages from and adds links to. */
        pageQueue?: string;
        /** The dataset every worker's items go to. */
        dataset?: string;
        /** The key-value store every stored file goes to. */
        store?: string;
        /** The request queue whose unique keys are the claims on videos, images and keys (run/claims.ts). */
        claims: string;
    };
}

let role: WorkerRole | undefined;

export function setWorkerRole(value: WorkerRole | undefined): void {
    role = value;
}

export const workerRole = (): WorkerRole | undefined => role;

/** The scope of worker `index` of the run scoped `run`. Pure. */
export const workerScope = (run: string, index: number): string => `${run}-w${index}`;

/** The claims queue of the run scoped `run`. Pure. */
export const claimsQueueName = (run: string): string => `claims-${run}`;

/** The shared page queue of the run scoped `run` (on the platform; locally the default queue is shared). Pure. */
export const pageQueueName = (run: string): string => `pages-${run}`;

/**
 * Worker `index`'s share of the crawl's page cap (`maxPagesPerCrawl`, 0 = none): the cap split so the
 * shares add up to it, the remainder to the first workers. All take from one queue, so the crawl
 * renders the cap's pages whenever the site has that many. Pure.
 */
export function pageShare(max: number, index: number, count: number): number {
    if (max <= 0) return 0;
    return Math.floor(max / count) + (index < max % count ? 1 : 0);
}
