/**
 * Entry point: read and validate the input, run the crawl, report. `npm start -- [options] URL…`
 * crawls the given URLs; with no input at all (locally) it crawls the bundled demo site.
 *
 * Locally everything about the input is decided before `Actor.init()`, which purges the default
 * dataset and key-value store: a mistyped option or a broken INPUT.json must not cost the files
 * and items of the previous run.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Actor } from 'apify';
import { Dataset, log } from '@crawlee/core';
import { CliError, mergeInput, parseCli, usage, type CliArgs } from './input/cli.js';
import { crawl } from './app/crawl.js';
import type { DemoServer } from './demo/server.js';
import { InputError, parseInput, type CrawlInput } from './input/input.js';
import { InputFileError, readLocalInput } from './input/local-input.js';
import { unknownFieldsWarning } from './input/did-you-mean.js';
import { checkOutputDir } from './input/output-dir.js';
import type { MediaItem } from './model.js';
import { repairLocalDataset } from './run/dataset-repair.js';
import { defaultKvDir, dropRunStorages, purgeOnStart, storageDir } from './run/storage.js';
import { writeReport } from './results/report.js';
import { RunLifecycle } from './run/lifecycle.js';
import { runStatus, summaryMessage } from './app/progress.js';
import { installLogRedaction } from './net/redact-log.js';
import { runAsWorker, runPlatformWorkers } from './workers/platform.js';
import { roleFromInput, withWorkerSecrets, WORKER_FIELD, WORKER_SECRETS_FIELD } from './workers/platform-input.js';

const SUMMARY_LINES = 40;

function inputSchema(): { properties?: Record<string, { description?: string }> } | undefined {
    try {
        const file = path.join(import.meta.dirname, '..', '.actor', 'input_schema.json');
        return JSON.parse(readFileSync(file, 'utf8')) as { properties?: Record<string, { description?: string }> };
    } catch {
        return undefined;
    }
}

/** A warning naming input fields the schema does not have, with the near miss each may be a typo of. */
function warnUnknownFields(raw: Record<string, unknown> | undefined): void {
    const known = Object.keys(inputSchema()?.properties ?? {});
    const warning =
        raw && known.length ? unknownFieldsWarning(raw, [...known, WORKER_FIELD, WORKER_SECRETS_FIELD]) : undefined;
    if (warning) log.warning(warning);
}

/** Stops before anything is touched: no purge, no browser, no download. */
function stop(message: string, code = 1): never {
    process.stderr.write(`${message}\n`);
    process.exit(code);
}

installLogRedaction();

let cli: CliArgs;
try {
    cli = parseCli(process.argv.slice(2));
} catch (error) {
    if (!(error instanceof CliError)) throw error;
    stop(`${error.message}\nRun \`npm start -- --help\` for the options.`, 2);
}
if (cli.help) stop(usage(inputSchema()), 0);

const atHome = Actor.isAtHome();
let localInput: CrawlInput | undefined;
let runDemo = false;
if (!atHome) {
    try {
        const fromFile = readLocalInput(storageDir());
        runDemo = fromFile === undefined && cli.urls.length === 0;
        warnUnknownFields(fromFile);
        if (!runDemo) localInput = parseInput(mergeInput(fromFile, cli));
        // Files are copied to outputDir: a file or a read-only folder there is refused before the purge.
        checkOutputDir(
            localInput?.outputDir ?? parseInput(mergeInput({ startUrls: ['http://demo.invalid/'] }, cli)).outputDir,
        );
    } catch (error) {
        if (error instanceof InputFileError || error instanceof InputError) stop(error.message);
        throw error;
    }
}

// A local run resumed after `kill -9` may find an item that was being written at the kill (dataset-repair.ts).
if (!atHome && !purgeOnStart()) {
    const datasets = path.join(storageDir(), 'datasets');
    const moved = await repairLocalDataset(path.join(datasets, 'default'), path.join(storageDir(), 'damaged-items'));
    if (moved.length)
        log.warning(
            `The dataset held ${moved.length} item(s) cut off by the last run's end (${moved.join(', ')}): moved to ` +
                `${path.join(storageDir(), 'damaged-items')}; this run writes them again.`,
        );
}

// The platform's `aborting` and `migrating` are handled in lifecycle.ts: the SDK's own handlers would
// exit on `aborting` without a report and with the run's named storages left behind.
await Actor.init({ gracefulShutdown: false });
const lifecycle = new RunLifecycle();
lifecycle.install();
let demo: DemoServer | undefined;

async function readItems(): Promise<MediaItem[]> {
    const { items } = await (await Dataset.open()).getData({ clean: true });
    return items as MediaItem[];
}

const stopNotice = (): string | undefined =>
    lifecycle.reason === 'aborting'
        ? 'The run was aborted: this report shows what was stored until then; downloads in progress were dropped.'
        : lifecycle.reason === 'timeout'
          ? 'The run stopped before its timeout: this report shows what was stored; downloads in progress were dropped.'
          : lifecycle.reason === 'interrupted'
            ? 'The run was interrupted: this report shows what was stored until then; the same command with ' +
              'CRAWLEE_PURGE_ON_START=0 resumes the videos in progress.'
            : undefined;

try {
    let input: CrawlInput;
    let rawInput: Record<string, unknown> = {};
    if (localInput) input = localInput;
    else if (runDemo) {
        const { startDemo } = await import('./demo/demo.js');
        const started = await startDemo(path.join(storageDir(), 'demo-media'));
        demo = started.server;
        input = parseInput(mergeInput(started.input, cli));
        log.info(`No input given: crawling the bundled demo site at ${demo.origin}`);
    } else {
        // A worker run's credentials come encrypted in one field (workers/platform.ts).
        rawInput = withWorkerSecrets((await Actor.getInput<Record<string, unknown>>()) ?? {});
        warnUnknownFields(rawInput);
        input = parseInput(mergeInput(rawInput, cli));
    }
    // On the platform a run can be one worker of another's crawl (workers/platform.ts).
    const role = atHome ? roleFromInput(rawInput) : undefined;
    // Locally every stored file also lands here; the crawl is given it (results/results.ts).
    const outputDir = atHome ? undefined : path.resolve(input.outputDir);
    await runStatus.update(`Starting: ${input.startUrls.length} start URL source(s)`);

    const crawlOptions = { signal: lifecycle.signal, keepStorages: () => lifecycle.keepsStorages, outputDir };
    const crawling = role
        ? runAsWorker(input, role, crawlOptions)
        : input.workers > 1 && atHome
          ? runPlatformWorkers(input, { ...crawlOptions, rawInput })
          : input.workers > 1
            ? import('./workers/local.js').then(({ runLocalWorkers }) =>
                  runLocalWorkers(input, { outputDir, signal: lifecycle.signal }),
              )
            : crawl(input, crawlOptions);
    // After a stop the crawl gets WIND_DOWN_MS; the report and the drop must happen before the platform kills the run.
    const summary = await Promise.race([crawling, lifecycle.windDownOver().then(() => undefined)]);
    if (lifecycle.migrating) await lifecycle.migrated();
    if (!summary) {
        log.warning('The crawl did not wind down in time: reporting what was stored so far');
        crawling.catch(() => undefined);
        if (!lifecycle.keepsStorages) await dropRunStorages();
    }
    if (role) {
        // A worker run: the coordinator run reports the whole crawl.
        const done = `Worker ${role.index} of ${role.count} done: ${summary?.pages ?? 0} pages, ${summary?.videosOk ?? 0} videos stored`;
        log.info(done);
        await runStatus.finish(done, lifecycle.reason ? 'WARNING' : 'INFO');
        lifecycle.dispose();
        // As below: after a stop, whatever is left may not hold the run past its 30 s.
        if (lifecycle.reason) setTimeout(() => process.exit(0), 5_000).unref();
        await Actor.exit({ timeoutSecs: lifecycle.reason ? 5 : 30 });
    }
    const all = await readItems();
    const byStatus = (s: string): number => all.filter((i) => i.status === s).length;
    const outcome = {
        ok: byStatus('ok'),
        failed: byStatus('failed'),
        skipped: byStatus('skipped'),
        secs: summary?.secs ?? process.uptime(),
        bytes: summary?.bytes ?? 0,
        stopped: lifecycle.reason,
        refused: summary?.refusedRequests,
    };
    log.info(`${summaryMessage(outcome)}${summary ? ` Up to ${summary.peakConnections} connections at once.` : ''}`);
    // Failures first: they are what a person has to act on.
    const ordered = [...all].sort((a, b) => Number(a.status === 'ok') - Number(b.status === 'ok'));
    for (const item of ordered.slice(0, SUMMARY_LINES)) {
        const what = item.status === 'ok' ? `${item.key} (${item.contentType}, ${item.bytes} bytes)` : item.error;
        log.info(`  ${item.status.padEnd(7)} ${item.type.padEnd(5)} ${item.title ?? item.url}: ${what}`);
    }
    if (ordered.length > SUMMARY_LINES) {
        log.info(`  … and ${ordered.length - SUMMARY_LINES} more items in the dataset and the report`);
    }
    const notices = [stopNotice(), ...(summary?.notices ?? [])].filter(Boolean);
    const report = await writeReport(all, notices.length ? notices.join(' ') : undefined, summary?.refusedRequests);
    if (atHome) log.info(`Report: ${report}`);
    else {
        const dataset = path.join(storageDir(), 'datasets', 'default');
        log.info(`Files: ${outputDir} (kept across runs; also in ${defaultKvDir()})`);
        log.info(`Dataset: ${dataset}  Report: ${path.join(defaultKvDir(), report)}`);
    }
    await runStatus.finish(summaryMessage(outcome), lifecycle.reason ? 'WARNING' : 'INFO');
    await demo?.close();
    lifecycle.dispose();
    // After a stop, Crawlee's own `aborting` handler may wait up to 20 s for requests in flight, and
    // `Actor.exit` waits for every listener before its own timeout starts; everything that matters
    // (items, report, drop, status) is done by now, so the run ends within 5 s whatever is left.
    if (lifecycle.reason) setTimeout(() => process.exit(lifecycle.exitCode), 5_000).unref();
    await Actor.exit({ timeoutSecs: lifecycle.reason ? 5 : 30, exitCode: lifecycle.exitCode });
} catch (error) {
    await demo?.close();
    const message =
        error instanceof InputError ? error.message : `The crawl could not run: ${(error as Error).message}`;
    // On the platform the SDK logs the status message; locally nothing else prints it.
    if (error instanceof InputError && !atHome) log.error(message);
    if (!(error instanceof InputError)) {
        log.exception(error as Error, 'The crawl could not run');
        // A failed run leaves nothing behind on the platform but what it stored, and says what that was.
        if (!lifecycle.keepsStorages)
            await dropRunStorages().catch((e: Error) => log.warning(`Drop failed: ${e.message}`));
        await readItems()
            .then(async (items) => items.length && writeReport(items, `The crawl failed: ${message}`))
            .catch((e: Error) => log.warning(`No report: ${e.message}`));
    }
    await runStatus.finish(message, 'ERROR');
    lifecycle.dispose();
    await Actor.exit({ exitCode: 1 });
}
