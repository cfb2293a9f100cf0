/**
 * Remuxes a video while it downloads. Units arrive about in playback order (requests take the
 * earliest unit nobody took), so the stored prefix is fed to ffmpeg as it grows; when the last unit
 * is stored, only ffmpeg's own finishing (the index, `+faststart`) is left. After the download,
 * joining and remuxing a 90 MB video took ~0.8 s here and a 3,600-segment one ~3 s.
 *
 * Only the plain case: one MPEG-TS track in one section. Everything else, and anything that goes
 * wrong here, is merged from the units after the download as before: the units stay on disk until
 * the video is stored, and this path never decides that a video failed.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { VideoJob } from '../model.js';
import { concatOrder, readHead, sections } from './concat.js';
import { probeStreams, remux } from './ffmpeg.js';

/** Whether a job can be remuxed while it downloads: one track, no init sections, no discontinuity. Pure. */
export function canRemuxLive(job: VideoJob): boolean {
    const [track, ...others] = job.tracks;
    return (
        job.delivery === 'remux' &&
        track !== undefined &&
        track.bytes === 'segments' &&
        others.length === 0 &&
        track.inits === 0 &&
        sections(track).length === 1
    );
}

export class LiveRemux {
    private cachedOrder: string[] = [];
    private orderFor = -1;
    private next = 0;
    private pumping?: Promise<void>;
    private input?: PassThrough;
    private remuxed?: Promise<void>;
    private failed = false;
    private ended = false;
    private readonly abort = new AbortController();
    readonly out: string;

    constructor(
        private readonly job: VideoJob,
        private readonly workDir: string,
        private readonly isStored: (unit: string) => boolean,
    ) {
        this.out = path.join(workDir, 'live.mp4');
    }

    /**
     * The units in the order ffmpeg must read them. A live recording's track grows while this runs,
     * so the order is built again when its length changed; a gap (a second section) ends this path.
     */
    private get order(): string[] {
        const track = this.job.tracks[0]!;
        if (this.orderFor !== track.segments) {
            if (!canRemuxLive(this.job)) this.stop();
            this.cachedOrder = concatOrder(track);
            this.orderFor = track.segments;
        }
        return this.cachedOrder;
    }

    /** A unit was stored: feed whatever now continues the fed prefix. */
    stored(): void {
        this.pumping ??= this.pump().finally(() => (this.pumping = undefined));
    }

    /**
     * Every unit is stored: resolves to the remuxed MP4 (not yet verified), or undefined when this
     * path gave up and the caller should merge from the units.
     */
    async finish(): Promise<string | undefined> {
        // One more pump after any running one: that one may have looked just before the last units were stored.
        while (this.pumping) await this.pumping;
        this.stored();
        await this.pumping;
        if (this.failed || !this.input || this.next < this.order.length) {
            this.stop();
            return undefined;
        }
        this.ended = true;
        this.input.end();
        const ok = await this.remuxed!.then(
            () => true,
            () => false,
        );
        return ok ? this.out : undefined;
    }

    /** The video will not be merged here: stop ffmpeg and drop its output. */
    stop(): void {
        this.failed = true;
        this.abort.abort();
        this.input?.destroy();
        // Whatever is left there goes with the work folder anyway; a failed removal must not become an unhandled rejection.
        rm(this.out, { force: true }).catch(() => undefined);
    }

    private async pump(): Promise<void> {
        try {
            while (!this.failed && this.next < this.order.length && this.isStored(this.order[this.next]!)) {
                const file = path.join(this.workDir, this.order[this.next]!);
                this.input ??= await this.start(file);
                if (!this.input) return;
                // A synchronous read: the unit was written moments ago, so it is a copy out of the page cache.
                // Streaming each file cost several event-loop turns per unit, and with the loop busy with
                // downloads feeding fell to ~30 units a second, far behind the download. stop() aborts
                // the wait for a drain: a dead ffmpeg never drains its pipe.
                if (!this.input.write(readFileSync(file)))
                    await once(this.input, 'drain', { signal: this.abort.signal });
                this.next++;
            }
        } catch {
            this.stop();
        }
    }

    /** ffmpeg reading from a pipe, once the first unit shows it is MPEG-TS; undefined otherwise. */
    private async start(firstUnit: string): Promise<PassThrough | undefined> {
        // `containerOf` falls back to MPEG-TS for what it does not know; here only a TS sync byte will do.
        if ((await readHead(firstUnit))[0] !== 0x47) {
            this.stop();
            return undefined;
        }
        // The streams the first unit holds: video and audio, or audio alone (a radio stream).
        const streams = await probeStreams({ file: firstUnit, format: 'mpegts' });
        const input = new PassThrough({ highWaterMark: 4 * 1024 * 1024 });
        this.remuxed = remux({ file: input, format: 'mpegts' }, undefined, this.out, streams, this.abort.signal);
        // ffmpeg gone before its input ended: no more feeding (fluent-ffmpeg swallows its stdin errors,
        // so writes would just stall).
        this.remuxed.then(
            () => {
                if (!this.ended) this.stop();
            },
            () => this.stop(),
        );
        return input;
    }
}
