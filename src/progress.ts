/**
 * What a person watching sees: on the platform a status message every few seconds; in a terminal a
 * live line (segments, MB/s, ETA per video); in CI or a pipe a plain log line now and then.
 */
import { Actor } from 'apify';
import { log } from '@crawlee/core';
import type { VideoJobs } from './download/jobs.js';
import type { TransferStats } from './download/stats.js';

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
export function progressLine(pages: number, videos: { title: string; done: number; total: number }[], mbPerSec: number, unitsPerSec: number): string {
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
    private ticks = 0;
    private readonly tty = Boolean(process.stderr.isTTY) && !process.env.CI;

    constructor(
        private readonly stats: TransferStats,
        private readonly jobs: VideoJobs,
        private readonly counters: ProgressCounters,
    ) {}

    start(): void {
        this.timer = setInterval(() => void this.tick(), this.tty ? 1000 : 3000);
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
        this.ticks++;
        if (Actor.isAtHome()) await Actor.setStatusMessage(line).catch(() => undefined);
        else if (this.tty) process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns ?? 120) - 1)}`);
        else if (this.ticks % 4 === 0) log.info(`Progress: ${line}`);
    }
}
