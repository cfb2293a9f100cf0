/**
 * Signed URLs whose source itself expired: when a video's manifest (or file) is refused as the download
 * reads it again for fresh unit URLs, the page the video was found on is rendered again, as a person would
 * reload it, and the same source is taken from it with a fresh signature.
 *
 * Why the page: a CDN signs the manifest URL into the page it serves; once that signature is past its
 * expiry, only the page can give a new one. Measured before this (issue 20): a 42-segment video whose
 * manifest and segments were signed for 2.5 s, on a slow CDN, failed with EXPIRED ("the source was refused
 * too"); see test/e2e-expiring-urls.test.ts for the run that now completes frame-exact.
 *
 * The renewal rules stay in download/renew.ts (when to look again, how often); this only answers the look.
 */
import { randomUUID } from 'node:crypto';
import { log } from '@crawlee/core';
import { ExpiredError } from '../errors.js';
import type { FreshUrls, SourceFormat, VideoCandidate, VideoJob } from '../model.js';
import { EXPIRY_STATUSES, refusalStatus } from '../download/renew.js';
import { openQueue } from '../run/queues.js';

/** Where a URL points, without its query and fragment (where signatures live). Pure. */
function place(url: string): string | undefined {
    try {
        const u = new URL(url);
        return `${u.origin}${u.pathname}`;
    } catch {
        return undefined;
    }
}

/**
 * The page's candidate that is the video's source again, or undefined. Pure.
 * - The same place (origin and path; the query holds the signature).
 * - Else the only candidate of the video's format on the page (a CDN that signs in the path).
 * A page that now shows two others of that format gives none: taking the wrong one would mix videos.
 */
export function sameSource(
    job: Pick<VideoJob, 'url' | 'format'>,
    candidates: readonly Pick<VideoCandidate, 'url' | 'format'>[],
    knownUrls: readonly string[] = [],
): string | undefined {
    const places = new Set([job.url, ...knownUrls].map(place));
    places.delete(undefined);
    const here = candidates.find((c) => place(c.url) !== undefined && places.has(place(c.url)));
    if (here) return here.url;
    const sameFormat = [...new Set(candidates.filter((c) => c.format === job.format).map((c) => c.url))];
    return sameFormat.length === 1 ? sameFormat[0] : undefined;
}

/** Whether reading the source failed because its own URL was refused (a signature past its expiry). Pure. */
export function sourceRefused(error: unknown): boolean {
    const status = refusalStatus(error);
    return status !== undefined && EXPIRY_STATUSES.has(status);
}

/**
 * The job as if found at `sourceUrl`: its tracks read from the job's own URL or an `earlier` source URL (a
 * media playlist with no master, an MPD, a file) read from the new one. Pure (the job is not changed).
 */
export function atSource(job: VideoJob, sourceUrl: string, earlier: readonly string[] = []): VideoJob {
    if (sourceUrl === job.url) return job;
    const before = new Set([job.url, ...earlier]);
    const tracks = job.tracks.map((t) => (before.has(t.sourceUrl) ? { ...t, sourceUrl } : t));
    return { ...job, url: sourceUrl, tracks };
}

export interface PageAgainOptions {
    /** Reads a video's source again (sources/renew.ts `refreshUnitUrls`); `job.url` is the source to read. */
    read(job: VideoJob, sourceUrl: string): Promise<FreshUrls>;
    /** Renders a page again and gives the video candidates it found; undefined when no page stage runs. */
    render?(pageUrl: string): Promise<readonly VideoCandidate[]>;
}

const FORMATS_FROM_PAGES: ReadonlySet<SourceFormat> = new Set(['hls', 'dash', 'file']);

/** A video's fresh look at its source, through its page when the source's own URL has expired. */
export class SourceLooks {
    /** Job id → the source URL the page gave last (later looks start from it). */
    private readonly latest = new Map<string, string>();
    /** Page URL → the render in flight: videos of one page that expire together share it. */
    private readonly renders = new Map<string, Promise<readonly VideoCandidate[]>>();

    constructor(private readonly options: PageAgainOptions) {}

    async refresh(job: VideoJob): Promise<FreshUrls> {
        const current = this.latest.get(job.id) ?? job.url;
        try {
            return await this.options.read(atSource(job, current), current);
        } catch (error) {
            const { render } = this.options;
            // A start URL that is the manifest itself has no page to ask.
            if (!render || !sourceRefused(error) || job.pageUrl === job.url || !FORMATS_FROM_PAGES.has(job.format))
                throw error;
            const fresh = sameSource(job, await this.renderOnce(render, job.pageUrl), [current]);
            if (!fresh || fresh === current) {
                throw new ExpiredError(
                    `the source was refused and the page, rendered again, ${fresh ? 'gave the same URL' : 'no longer shows it'}`,
                    { cause: error },
                );
            }
            log.info(`The source of a video on ${job.pageUrl} expired; the page gave it again`);
            this.latest.set(job.id, fresh);
            const looked = await this.options.read(atSource(job, fresh, [current]), fresh);
            // Tracks read from the source's own URL read from the fresh one from now on (renew.ts applies `sources`).
            const sources = new Map(looked.sources);
            for (const track of job.tracks) if (track.sourceUrl === current) sources.set(track.name, fresh);
            return { ...looked, sources };
        }
    }

    private renderOnce(
        render: (pageUrl: string) => Promise<readonly VideoCandidate[]>,
        pageUrl: string,
    ): Promise<readonly VideoCandidate[]> {
        let inFlight = this.renders.get(pageUrl);
        if (!inFlight) {
            inFlight = render(pageUrl).finally(() => this.renders.delete(pageUrl));
            this.renders.set(pageUrl, inFlight);
        }
        return inFlight;
    }
}

type PageStage = Pick<typeof import('../pages/page-crawler.js'), 'createPageCrawler'>;
type PageCrawlerOptions = import('../pages/page-crawler.js').PageCrawlerOptions;

/**
 * Renders one page again with the page stage's own crawler (the same waits, clicks, hooks, network policy
 * and site access as the first time), on a queue of its own that is dropped afterwards, and gives the
 * video candidates it found as soon as the page hands them over (signatures age: the crawler's own
 * shutdown, ~1 s, is not waited for). Nothing it finds is submitted: the caller matches the one it asked for.
 */
export async function renderPageAgain(
    stage: PageStage,
    options: Omit<PageCrawlerOptions, 'onVideos' | 'onImages' | 'onRefusedMedia' | 'onNothingFound' | 'onPageFailed'>,
    pageUrl: string,
    signal?: AbortSignal,
): Promise<VideoCandidate[]> {
    let handOver!: (found: VideoCandidate[]) => void;
    const found = new Promise<VideoCandidate[]>((resolve) => (handOver = resolve));
    const queue = await openQueue(`page-again-${randomUUID()}`);
    const crawler = stage.createPageCrawler({
        ...options,
        // One page, its videos only: images and links are not what this look is for.
        input: { ...options.input, maxPagesPerCrawl: 1, downloadImages: false },
        requestQueue: queue,
        ephemeral: true,
        onVideos: async (f) => {
            handOver(f.candidates);
            return 0;
        },
        onImages: async () => undefined,
        onRefusedMedia: async () => undefined,
        onNothingFound: async () => handOver([]),
        onPageFailed: async () => handOver([]),
    });
    const stop = () => void crawler.autoscaledPool?.abort();
    signal?.addEventListener('abort', stop, { once: true });
    void crawler
        .run([{ url: pageUrl, uniqueKey: `again ${Date.now()} ${pageUrl}` }])
        .catch((error: Error) => log.warning(`Rendering ${pageUrl} again failed: ${error.message}`))
        .finally(() => {
            signal?.removeEventListener('abort', stop);
            handOver([]);
            void queue.drop().catch(() => undefined);
        });
    return found;
}
