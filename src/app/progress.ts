/**
 * What a person watching sees: on the platform a status message every few seconds; in a terminal a
 * live line (segments, MB/s, ETA per video); in CI, a pipe or the platform's log a plain line at most
 * every 30 s.
 *
 * The run has one status-message writer, `runStatus`. Crawlee's crawlers would write their own
 * ("Crawled 3/7 pages…" every 10 s, and a terminal "Finished!" when the page crawler is done while the
 * downloads still run): `silenceCrawlerStatus` turns them off, and the SDK's `Actor.exit`/`fail` are
 * called without a message, after `runStatus.finish` has written the summary.
 */
import { Actor } from 'apify';
import { log } from '@crawlee/core';
import type { VideoJobs } from '../download/jobs.js';
import type { TransferStats } from '../download/stats.js';

/** The status message changes this often on the platform ("every few seconds"). */
export const STATUS_EVERY_MS = 5_000;
/** A progress line reaches the log at most this often: a one-hour run logs 120 of them, not 1,200. */
export const LOG_EVERY_MS = 30_000;

type StatusLevel = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';
type StatusOptions = { isStatusMessageTerminal?: boolean; level?: StatusLevel };
type SendStatus = (message: string, options: StatusOptions) => Promise<unknown>;

/** The run's status message on the platform: routine updates, then one terminal summary. */
export class StatusWriter {
    private finished = false;
    private last?: string;
    readonly sent: string[] = [];

    constructor(
        private readonly send: SendStatus = (message, options) => Actor.setStatusMessage(message, options),
        private readonly atHome: () => boolean = () => Actor.isAtHome(),
    ) {}

    /**
     * A routine update; an unchanged message is not sent again. The SDK logs a status message at the
     * level given: DEBUG keeps these out of the log, where `ProgressReporter` writes every 30 s instead.
     */
    async update(message: string): Promise<void> {
        if (this.finished || message === this.last || !this.atHome()) return;
        this.last = message;
        this.sent.push(message);
        await this.send(message, { level: 'DEBUG' }).catch(() => undefined);
    }

    /** The summary the run ends with: terminal on the platform; updates after it are dropped. */
    async finish(message: string, level: StatusLevel = 'INFO'): Promise<void> {
        if (this.finished) return;
        this.finished = true;
        if (!this.atHome()) return;
        this.sent.push(message);
        await this.send(message, { isStatusMessageTerminal: true, level }).catch(() => undefined);
    }
}

export const runStatus = new StatusWriter();

/** The part of a Crawlee crawler that writes status messages. */
interface StatusSource {
    setStatusMessage(message: string, options?: object): Promise<void>;
    log: { debug(message: string): void };
}

/**
 * Turns a Crawlee crawler's own status messages off. Its `statusMessageCallback` option would replace
 * only the periodic message; "Starting the crawler." and the terminal "Finished! Total N requests" call
 * `setStatusMessage` directly (crawlee 3.18, basic-crawler.js `run()`), so that method is replaced: its
 * messages go to the debug log only.
 */
export function silenceCrawlerStatus(crawler: StatusSource): void {
    crawler.setStatusMessage = async (message: string) => crawler.log.debug(message);
}

/** Whether a progress line is due in the log. Pure. */
export const logDue = (now: number, lastLoggedAt: number | undefined): boolean =>
    lastLoggedAt === undefined || now - lastLoggedAt >= LOG_EVERY_MS;

export interface ProgressCounters {
    pages: number;
}

/** "m:ss" for an ETA in seconds. Pure. */
export function formatEta(secs: number): string {
    if (!Number.isFinite(secs) || secs < 0) return '–';
    const s = Math.round(secs);
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** One progress line from counts. Pure. */
export function progressLine(
    pages: number,
    videos: { title: string; done: number; total: number }[],
    mbPerSec: number,
    unitsPerSec: number,
): string {
    const remaining = videos.reduce((n, v) => n + v.total - v.done, 0);
    const eta = unitsPerSec > 0 ? formatEta(remaining / unitsPerSec) : '–';
    const each = videos.slice(0, 3).map((v) => `${v.title.slice(0, 24)} ${v.done}/${v.total}`);
    const more = videos.length > 3 ? ` +${videos.length - 3} more` : '';
    return `pages ${pages} · videos in progress ${videos.length}${each.length ? ` (${each.join(', ')}${more})` : ''} · ${mbPerSec.toFixed(1)} MB/s · ETA ${eta}`;
}

export class ProgressReporter {
    private timer?: NodeJS.Timeout;
    private lastBytes = 0;
    private lastUnits = 0;
    private lastAt = Date.now();
    // The first line waits a full interval: a run shorter than 30 s logs its summary only.
    private lastLoggedAt = Date.now();
    private readonly tty = Boolean(process.stderr.isTTY) && !process.env.CI;

    constructor(
        private readonly stats: TransferStats,
        private readonly jobs: VideoJobs,
        private readonly counters: ProgressCounters,
        private readonly status: StatusWriter = runStatus,
    ) {}

    start(): void {
        this.timer = setInterval(() => void this.tick(), this.tty ? 1000 : STATUS_EVERY_MS);
    }

    stop(): void {
        clearInterval(this.timer);
        if (this.tty) process.stderr.write('\r\x1b[2K');
    }

    private async tick(): Promise<void> {
        const now = Date.now();
        const secs = Math.max(0.001, (now - this.lastAt) / 1000);
        const mbPerSec = (this.stats.bytes - this.lastBytes) / 1e6 / secs;
        const unitsPerSec = (this.stats.unitsDone - this.lastUnits) / secs;
        [this.lastBytes, this.lastUnits, this.lastAt] = [this.stats.bytes, this.stats.unitsDone, now];
        const videos = this.jobs.unfinished().map((j) => ({ title: j.title ?? j.id, ...this.jobs.counts(j.id) }));
        const line = progressLine(this.counters.pages, videos, mbPerSec, unitsPerSec);
        if (this.tty) process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns ?? 120) - 1)}`);
        else if (logDue(now, this.lastLoggedAt)) {
            this.lastLoggedAt = now;
            log.info(`Progress: ${line}`);
        }
        await this.status.update(line);
    }
}

export interface RunOutcome {
    ok: number;
    failed: number;
    skipped: number;
    secs: number;
    bytes: number;
    /** Why the run stopped before it was done, if it did. */
    stopped?: 'aborting' | 'timeout' | 'interrupted';
    /** Page requests the network policy refused. */
    refused?: number;
}

/** The summary status message a run ends with. Pure. */
export function summaryMessage(o: RunOutcome): string {
    const mb = (o.bytes / 1e6).toFixed(1);
    const refused = o.refused
        ? `; ${o.refused} page request${o.refused === 1 ? '' : 's'} refused by the network policy`
        : '';
    const counts = `${o.ok} stored, ${o.failed} failed, ${o.skipped} skipped; ${mb} MB downloaded${refused}`;
    const secs = `${o.secs.toFixed(0)} s`;
    const dropped = 'Downloads in progress were dropped';
    if (o.stopped === 'aborting') return `Aborted after ${secs}: ${counts}. ${dropped}; REPORT lists what was stored.`;
    if (o.stopped === 'interrupted') {
        const resume = 'The same command with CRAWLEE_PURGE_ON_START=0 resumes the videos in progress';
        return `Interrupted after ${secs}: ${counts}. ${resume}.`;
    }
    if (o.stopped === 'timeout') {
        return `Stopped after ${secs}, before the run timeout: ${counts}. ${dropped}; a longer timeout gets the rest.`;
    }
    return `Done in ${secs}: ${counts}.${o.failed ? ' REPORT and the dataset give each failure its reason.' : ''}`;
}
