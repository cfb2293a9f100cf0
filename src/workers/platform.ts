/**
 * `workers` > 1 on the Apify platform: this run is worker 0 and the coordinator. It starts N − 1 more
 * runs of the same actor and build with `Actor.start`, each told its role (`_worker` in its input) and
 * given the shared storages in declared resource fields of the input schema: this run's default dataset
 * and key-value store, where every item and file goes, and the shared page and claims queues. A run under
 * the platform's default "limited permissions" may use another run's storages only when they come in
 * such a field (`resourceType`, `resourcePermissions: READ, WRITE`); an undeclared field's ids are refused.
 * The platform's request queue does the rest: locked pages, links followed into the same queue, a dead
 * run's locks expiring so another run takes its pages.
 *
 * A worker run that cannot start (the account's memory limit: a Free plan's 8 GB hold two 4 GB runs) is
 * logged and named in the report; the crawl goes on with the runs that did start, this run taking the
 * missing runs' share of `maxPagesPerCrawl`. The shared queues are dropped however the crawl ends.
 *
 * This run crawls too, then waits for the others, starts a replacement for one that failed (it resumes
 * the dead run's videos from their named state, supervisor.ts), aborts them all when it is aborted, and
 * leaves the one report to main.ts. A worker run writes its summary as its OUTPUT record.
 */
import { Actor } from 'apify';
import { log } from '@crawlee/core';
import { crawl, type CrawlOptions, type CrawlSummary } from '../app/crawl.js';
import type { CrawlInput } from '../input/input.js';
import { setWorkerRole, type WorkerRole } from '../run/role.js';
import { sumSummaries } from './local.js';
import { coordinatorPageCap } from './platform-input.js';
import { WorkerRuns } from './platform-runs.js';

export interface PlatformWorkersOptions extends CrawlOptions {
    /** The run's input as given: worker runs get the same, with their role. */
    rawInput: Record<string, unknown>;
}

/**
 * This run's part of the crawl beside N − 1 worker runs it starts and supervises (WorkerRuns); the shared
 * queues are dropped however it ends.
 */
export async function runPlatformWorkers(input: CrawlInput, options: PlatformWorkersOptions): Promise<CrawlSummary> {
    const started = Date.now();
    const workers = await WorkerRuns.open(input.workers, options);
    await workers.startAll();
    // Watched from the start: a worker run that fails early is restarted while this run still crawls.
    const watching = workers.superviseAll();
    try {
        const { missing } = workers;
        const pageCap = missing.length ? coordinatorPageCap(input.maxPagesPerCrawl, input.workers, missing) : undefined;
        const own = await crawl(input, { ...options, pageCap });
        log.info(`This run's part of the crawl is done: waiting for ${workers.count} worker run(s)`);
        const ends = await Promise.all(watching);
        const summaries: CrawlSummary[] = [own, ...ends.flatMap((e) => (e.summary ? [e.summary] : []))];
        const summary = sumSummaries(summaries, (Date.now() - started) / 1000);
        return workers.notices.length ? { ...summary, notices: workers.notices } : summary;
    } catch (error) {
        // A failed run leaves no worker run crawling on into its storages.
        workers.abortAll();
        throw error;
    } finally {
        // However the crawl ends, no shared queue is left in the user's account (kept only when migrating).
        workers.stopListening();
        await workers.dropShared().catch((e: Error) => log.warning(`Could not drop the shared queues: ${e.message}`));
    }
}

/** A worker run: its part of the crawl, its summary as OUTPUT for the coordinator. */
export async function runAsWorker(input: CrawlInput, role: WorkerRole, options: CrawlOptions): Promise<CrawlSummary> {
    setWorkerRole(role);
    const summary = await crawl(input, options);
    await Actor.setValue('OUTPUT', summary);
    return summary;
}
