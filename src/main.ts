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
import { CliError, mergeInput, parseCli, usage, type CliArgs } from './cli.js';
import { crawl } from './crawl.js';
import type { DemoServer } from './demo/server.js';
import { InputError, parseInput, type CrawlInput } from './input.js';
import { InputFileError, readLocalInput } from './local-input.js';
import type { MediaItem } from './model.js';
import { getOutputDir, setOutputDir } from './output.js';
import { defaultKvDir, storageDir } from './storage.js';
import { writeReport } from './report.js';
import { installLogRedaction } from './net/redact-log.js';

const SUMMARY_LINES = 40;

function inputSchema(): { properties?: Record<string, { description?: string }> } | undefined {
    try {
        const file = path.join(import.meta.dirname, '..', '.actor', 'input_schema.json');
        return JSON.parse(readFileSync(file, 'utf8')) as { properties?: Record<string, { description?: string }> };
    } catch {
        return undefined;
    }
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
        if (!runDemo) localInput = parseInput(mergeInput(fromFile, cli));
        else if (Object.keys(cli.fields).length) parseInput(mergeInput({ startUrls: ['http://demo.invalid/'] }, cli));
    } catch (error) {
        if (error instanceof InputFileError || error instanceof InputError) stop(error.message);
        throw error;
    }
}

await Actor.init();
let demo: DemoServer | undefined;
try {
    let input: CrawlInput;
    if (localInput) input = localInput;
    else if (runDemo) {
        const { startDemo } = await import('./demo/demo.js');
        const started = await startDemo(path.join(storageDir(), 'demo-media'));
        demo = started.server;
        input = parseInput(mergeInput(started.input, cli));
        log.info(`No input given: crawling the bundled demo site at ${demo.origin}`);
    } else input = parseInput(mergeInput((await Actor.getInput<Record<string, unknown>>()) ?? undefined, cli));
    setOutputDir(atHome ? undefined : input.outputDir);

    const summary = await crawl(input);
    const { items } = await (await Dataset.open()).getData({ clean: true });
    const all = items as MediaItem[];
    const byStatus = (s: string): number => all.filter((i) => i.status === s).length;
    log.info(
        `Done in ${summary.secs.toFixed(1)} s: ${byStatus('ok')} ok, ${byStatus('failed')} failed, ` +
            `${byStatus('skipped')} skipped; ${(summary.bytes / 1e6).toFixed(1)} MB downloaded, ` +
            `up to ${summary.peakConnections} connections at once.`,
    );
    // Failures first: they are what a person has to act on.
    const ordered = [...all].sort((a, b) => Number(a.status === 'ok') - Number(b.status === 'ok'));
    for (const item of ordered.slice(0, SUMMARY_LINES)) {
        const what = item.status === 'ok' ? `${item.key} (${item.contentType}, ${item.bytes} bytes)` : item.error;
        log.info(`  ${item.status.padEnd(7)} ${item.type.padEnd(5)} ${item.title ?? item.url}: ${what}`);
    }
    if (ordered.length > SUMMARY_LINES) {
        log.info(`  … and ${ordered.length - SUMMARY_LINES} more items in the dataset and the report`);
    }
    const report = await writeReport(all);
    if (atHome) log.info(`Report: ${report}`);
    else {
        const dataset = path.join(storageDir(), 'datasets', 'default');
        log.info(`Files: ${getOutputDir()} (kept across runs; also in ${defaultKvDir()})`);
        log.info(`Dataset: ${dataset}  Report: ${path.join(defaultKvDir(), report)}`);
    }
    await demo?.close();
    await Actor.exit();
} catch (error) {
    await demo?.close();
    if (error instanceof InputError) {
        await Actor.fail(error.message);
    } else {
        log.exception(error as Error, 'The crawl could not run');
        await Actor.fail(`The crawl could not run: ${(error as Error).message}`);
    }
}
