/**
 * Entry point: read and validate the input, run the crawl, report. `npm start -- URL...` crawls the
 * given URLs; with no input at all (locally) it crawls the bundled demo site.
 */
import path from 'node:path';
import { Actor } from 'apify';
import { Dataset, log } from '@crawlee/core';
import { crawl } from './crawl.js';
import { startDemo } from './demo/demo.js';
import type { DemoServer } from './demo/server.js';
import { InputError, parseInput } from './input.js';
import type { MediaItem } from './output.js';
import { defaultKvDir, storageDir } from './storage.js';
import { writeReport } from './report.js';
import { installLogRedaction } from './net/redact-log.js';

const SUMMARY_LINES = 40;

installLogRedaction();
await Actor.init();

const cliUrls = process.argv.slice(2);
let raw: unknown = await Actor.getInput();
let demo: DemoServer | undefined;
if (cliUrls.length) {
    raw = { ...(typeof raw === 'object' && raw ? raw : {}), startUrls: cliUrls.map((url) => ({ url })) };
} else if (raw === null && !Actor.isAtHome()) {
    const started = await startDemo(path.join(storageDir(), 'demo-media'));
    demo = started.server;
    raw = started.input;
    log.info(`No input given: crawling the bundled demo site at ${demo.origin}`);
}

try {
    const input = parseInput(raw);
    const summary = await crawl(input);
    const { items } = await (await Dataset.open()).getData({ clean: true });
    const byStatus = (s: string): number => (items as MediaItem[]).filter((i) => i.status === s).length;
    log.info(
        `Done in ${summary.secs.toFixed(1)} s: ${byStatus('ok')} ok, ${byStatus('failed')} failed, ${byStatus('skipped')} skipped; ` +
            `${(summary.bytes / 1e6).toFixed(1)} MB downloaded, up to ${summary.peakConnections} connections at once.`,
    );
    // Failures first: they are what a person has to act on.
    const ordered = [...(items as MediaItem[])].sort((a, b) => Number(a.status === 'ok') - Number(b.status === 'ok'));
    for (const item of ordered.slice(0, SUMMARY_LINES)) {
        const what = item.status === 'ok' ? `${item.key} (${item.contentType}, ${item.bytes} bytes)` : item.error;
        log.info(`  ${item.status.padEnd(7)} ${item.type.padEnd(5)} ${item.title ?? item.url}: ${what}`);
    }
    if (ordered.length > SUMMARY_LINES) log.info(`  … and ${ordered.length - SUMMARY_LINES} more items in the dataset and the report`);
    const report = await writeReport(items as MediaItem[]);
    if (Actor.isAtHome()) log.info(`Report: ${report}`);
    else log.info(`Files: ${defaultKvDir()}  Dataset: ${path.join(storageDir(), 'datasets', 'default')}  Report: ${path.join(defaultKvDir(), report)}`);
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
