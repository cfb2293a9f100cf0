/**
 * Remuxes a video while it downloads. Units arrive about in playback order (requests take the
 * earliest unit nobody took), so the stored prefix is fed to ffmpeg as it grows; when the last unit
 * is stored, only ffmpeg's own finishing (the index) and the file's hash are left: ffmpeg writes the
 * index into room reserved at the front (moov-reserve.ts) when the first unit's samples could be
 * counted, else at the end, and faststart.ts moves it to the front while hashing. After the download,
 * joining and remuxing a 90 MB video took ~0.8 s here and a 3,600-segment one ~3 s.
 *
 * Two shapes: one track in one section, MPEG-TS or fragmented MP4 (its one init section, then its
 * fragments; ffmpeg's MP4 reader takes them from a pipe), fed to ffmpeg's stdin; and one MPEG-TS
 * track of several sections (discontinuities) of a finished source, each section fed to ffmpeg's
 * concat demuxer through a socket of its own (section-sockets.ts). The video's subtitle tracks, stored
 * before it (they are queued first), go in beside it as WebVTT files, so the MP4 is complete at its
 * trailer; its preview frame is taken from its first units (preview.ts). Everything else, and anything that
 * goes wrong here, is merged from the units after the download as before: the units stay on disk until
 * the video is stored, and this path never decides that a video failed.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { log } from '@crawlee/core';
import type { VideoJob } from '../model.js';
import { concatOrder, readHead, sections } from './concat.js';
import { remux, type RemuxInput } from './ffmpeg.js';
import { previewFromUnits, previewUnits } from './preview.js';
import { chooseStreams, containerOf, probe, type InputFormat } from './probe.js';
import { finishMoovLast, topBoxes } from './faststart.js';
import { sha256File } from './file-hash.js';
import { fragmentRoom, segmentRoom } from './index-room.js';
import { reservedLayoutOk, withSubtitleRoom } from './moov-reserve.js';
import { cueCount, subtitleInputs, subtitleUnits, writeSubtitles, type SubtitleFile } from './subtitle-files.js';
import { SectionSockets, socketFeed, socketList, stdinFeed, type Feed } from './section-sockets.js';

/** The sections of a track that hold a segment: [start, end) segment index ranges. Pure. */
const filledSections = (track: VideoJob['tracks'][number]): [number, number][] =>
    sections(track).filter(([from, to]) => to > from);

/**
 * Whether a job can be remuxed while it downloads: one media track with at most one init section that
 * every segment shares (fMP4 whose fragments all follow one `moov`), in one section; or in several
 * sections when they are MPEG-TS of a finished source (no init section: the first unit must then
 * show MPEG-TS, or the video goes back to the merge after the download) and `socketSections` says this
 * ffmpeg reads sections from sockets exactly (section-sockets.ts). Subtitle tracks beside it are no
 * obstacle: this remux writes them in (a live recording's are muxed in after the download). Pure.
 */
export function canRemuxLive(job: VideoJob, socketSections: boolean): boolean {
    const [track, ...others] = job.tracks;
    if (job.delivery !== 'remux' || track === undefined || track.bytes !== 'segments' || track.subtitles) return false;
    if (others.some((t) => !t.subtitles)) return false;
    if (track.inits > 1) return false;
    if (filledSections(track).length > 1 && (job.live || job.liveOpen || track.inits > 0 || !socketSections))
        return false;
    // One init: written once, before the first segment, so every segment must name it.
    if (track.inits === 1) {
        for (let i = 0; i < track.segments; i++) if (track.segmentInit?.[i] !== 0) return false;
    }
    return true;
}

/**
 * What the live remux made: the MP4 (not yet verified) and its sha256, computed by the copy that put
 * the index in front, or being read while the MP4 is verified; undefined when it could not be.
 */
export interface LiveRemuxed {
    file: string;
    sha256: Promise<string | undefined>;
    /** The subtitle files muxed in, when the remux took the job's subtitle tracks (they were stored first). */
    subtitles?: SubtitleFile[];
}

/** A unit to feed and the section it belongs to (counted over the sections that hold a segment). */
interface Step {
    unit: string;
    section: number;
}

export class LiveRemux {
    private cachedOrder: Step[] = [];
    private orderFor = -1;
    private next = 0;
    private pumping?: Promise<void>;
    private feed?: Feed;
    private remuxed?: Promise<void>;
    private failed = false;
    private ended = false;
    private readonly abort = new AbortController();
    readonly out: string;
    /** ffmpeg's output, the index at its end; `finish` copies it to `out` with the index in front. */
    private readonly moovLast: string;
    /** Bytes reserved for the index at the front of `out` (ffmpeg writes there), when they were. */
    private reserve?: number;
    /**
     * The units of the subtitle tracks, which are downloaded first (unit-tasks.ts): once they are all
     * stored, ffmpeg starts with their WebVTT files as inputs beside the video, so the MP4 needs no copy
     * after the last byte to take them in. Empty for a live recording, whose subtitles grow with it.
     */
    private readonly subtitleUnits: string[];
    /** How many of `subtitleUnits`, from the first, are known to be stored. */
    private subtitlesStored = 0;
    private subtitles?: SubtitleFile[];
    /** Units to feed before the preview frame is taken from them (preview.ts); 0: none taken here. */
    private previewAfter = 0;
    private previewing?: Promise<string | undefined>;

    constructor(
        private readonly job: VideoJob,
        private readonly workDir: string,
        private readonly isStored: (unit: string) => boolean,
        /** Whether several sections may be fed, a socket each (section-sockets.ts `socketsAvailable`). */
        private readonly socketSections: boolean,
    ) {
        this.out = path.join(workDir, 'live.mp4');
        this.subtitleUnits = job.live || job.liveOpen ? [] : subtitleUnits(job);
        this.moovLast = path.join(workDir, 'live-moov-last.mp4');
    }

    /**
     * The units in the order ffmpeg must read them. A live recording's track grows while this runs,
     * so the order is built again when its length changed; a gap (a second section) ends this path.
     */
    private get order(): Step[] {
        const track = this.job.tracks[0]!;
        if (this.orderFor !== track.segments) {
            if (!canRemuxLive(this.job, this.socketSections)) this.stop();
            this.cachedOrder = filledSections(track).flatMap(([from, to], section) =>
                concatOrder(track, from, to).map((unit) => ({ unit, section })),
            );
            this.orderFor = track.segments;
        }
        return this.cachedOrder;
    }

    /** A unit was stored: feed whatever now continues the fed prefix. */
    stored(): void {
        this.pumping ??= this.pump().finally(() => (this.pumping = undefined));
    }

    /**
     * Every unit is stored: resolves to the remuxed MP4 (not yet verified) and its hash, or undefined
     * when this path gave up and the caller should merge from the units.
     */
    async finish(): Promise<LiveRemuxed | undefined> {
        // One more pump after any running one: that one may have looked just before the last units were stored.
        while (this.pumping) await this.pumping;
        this.stored();
        await this.pumping;
        if (this.failed || !this.feed || this.next < this.order.length) {
            this.stop();
            return undefined;
        }
        this.ended = true;
        this.feed.end();
        const ok = await this.remuxed!.then(
            () => true,
            () => false,
        );
        // ffmpeg is gone either way: the sections' sockets and their folder go too.
        this.feed.close();
        if (!ok) return undefined;
        try {
            const made = this.reserve
                ? await this.checkReserved(this.reserve)
                : { file: this.out, sha256: Promise.resolve(await finishMoovLast(this.moovLast, this.out)) };
            return made && this.subtitles?.length ? { ...made, subtitles: this.subtitles } : made;
        } catch {
            this.stop();
            return undefined;
        }
    }

    /**
     * `out` with its index in the room reserved for it, and its hash under way; undefined (and `out`
     * dropped) when the index did not fit: ffmpeg then wrote it over the start of the media.
     */
    private async checkReserved(reserve: number): Promise<LiveRemuxed | undefined> {
        const { size } = await stat(this.out);
        const boxes = await topBoxes(this.out);
        if (!reservedLayoutOk(boxes, reserve, size)) {
            const moov = boxes.find((b) => b.type === 'moov');
            log.debug(
                `The index of ${this.job.pageUrl} did not fit the ${reserve} bytes reserved (${moov?.size ?? '?'} bytes); merging from the segments`,
            );
            this.stop();
            return undefined;
        }
        const sha256 = sha256File(this.out).catch(() => undefined);
        return { file: this.out, sha256 };
    }

    /**
     * Whether ffmpeg may start: the subtitle tracks are stored (their files are its inputs), and for
     * fMP4 the first fragment after the init section is (its samples size the index's room).
     */
    private readyToStart(): boolean {
        // Looked at after every stored unit until ffmpeg starts: a pointer over the subtitle units, so a
        // film's thousands of subtitle segments are each looked at about once, not once per stored unit.
        while (
            this.subtitlesStored < this.subtitleUnits.length &&
            this.isStored(this.subtitleUnits[this.subtitlesStored]!)
        )
            this.subtitlesStored++;
        if (this.subtitlesStored < this.subtitleUnits.length) return false;
        if (!this.job.tracks[0]!.inits) return true;
        const fragment = this.order[1];
        return fragment === undefined || this.isStored(fragment.unit);
    }

    /** The preview frame taken while the video downloaded (a PNG in the work folder), if it was. */
    preview(): Promise<string | undefined> {
        return this.previewing ?? Promise.resolve(undefined);
    }

    /** The video will not be merged here: stop ffmpeg and drop its output. */
    stop(): void {
        this.failed = true;
        this.abort.abort();
        this.feed?.close();
        // Whatever is left there goes with the work folder anyway; a failed removal must not become an unhandled rejection.
        for (const file of [this.out, this.moovLast]) rm(file, { force: true }).catch(() => undefined);
    }

    private async pump(): Promise<void> {
        try {
            while (!this.failed && this.next < this.order.length && this.isStored(this.order[this.next]!.unit)) {
                const { unit, section } = this.order[this.next]!;
                const file = path.join(this.workDir, unit);
                if (!this.feed && !this.readyToStart()) return;
                this.feed ??= await this.start(file);
                if (!this.feed) return;
                const sink = await this.feed.section(section);
                // A synchronous read: the unit was written moments ago, so it is a copy out of the page cache.
                // Streaming each file cost several event-loop turns per unit, and with the loop busy with
                // downloads feeding fell to ~30 units a second, far behind the download. stop() aborts
                // the wait for a drain: a dead ffmpeg never drains its pipe.
                if (!sink.write(readFileSync(file))) await once(sink, 'drain', { signal: this.abort.signal });
                this.next++;
                if (this.next === this.previewAfter && this.next < this.order.length) {
                    const units = this.order.slice(0, this.next).map((s) => s.unit);
                    this.previewing = previewFromUnits(units, this.workDir, this.job.durationSecs, this.abort.signal);
                }
            }
        } catch {
            this.stop();
        }
    }

    /**
     * ffmpeg reading from a pipe (or from a socket per section), once the first unit shows it is
     * MPEG-TS or an MP4 init section; undefined otherwise.
     */
    private async start(firstUnit: string): Promise<Feed | undefined> {
        const head = await readHead(firstUnit);
        // `containerOf` falls back to MPEG-TS for what it does not know; here only a TS sync byte will do.
        const format: InputFormat | undefined =
            head[0] === 0x47 ? 'mpegts' : containerOf(head) === 'mov' && this.job.tracks[0]!.inits ? 'mov' : undefined;
        if (!format) {
            this.stop();
            return undefined;
        }
        // The streams the first unit holds (an init section names them): video and audio, or audio alone (a
        // radio stream). In a first MPEG-TS segment their samples are counted too: they size the index's room.
        const reservable = format === 'mpegts' && !this.job.live && !this.job.liveOpen;
        const [probed, unitBytes] = await Promise.all([
            probe(firstUnit, format, { countPackets: reservable }),
            reservable ? stat(firstUnit).then((s) => s.size) : 0,
        ]);
        const streams = chooseStreams(probed.streams);
        this.previewAfter = previewUnits(
            this.job,
            this.order,
            probed.streams.some((st) => st.type === 'video'),
        );
        const track = this.job.tracks[0]!;
        if (reservable && probed.durationSecs) {
            this.reserve = segmentRoom(probed, unitBytes, track.segments, this.job.durationSecs);
        } else if (format === 'mov' && !this.job.live && !this.job.liveOpen && this.order[1]) {
            const fragment = path.join(this.workDir, this.order[1].unit);
            this.reserve = await fragmentRoom(fragment, probed.streams, track.segments, this.job.durationSecs).catch(
                () => undefined,
            );
        }
        // The subtitle tracks, all stored by now: their cues placed against this first unit, as after the download.
        if (this.subtitleUnits.length) {
            const start = format === 'mpegts' ? probed.startSecs : undefined;
            const tracks = this.job.tracks.filter((t) => t.subtitles);
            this.subtitles = await writeSubtitles(this.job, tracks, this.workDir, start);
            if (this.reserve && this.subtitles.length)
                this.reserve = withSubtitleRoom(this.reserve, await cueCount(this.subtitles), this.subtitles.length);
        }
        const subtitles = subtitleInputs(this.subtitles ?? []);
        const count = filledSections(this.job.tracks[0]!).length;
        let feed: Feed;
        let input: RemuxInput;
        if (count === 1) {
            const pipe = new PassThrough({ highWaterMark: 4 * 1024 * 1024 });
            feed = stdinFeed(pipe);
            input = { file: pipe, format };
        } else {
            const sockets = await SectionSockets.open(count, this.workDir);
            feed = socketFeed(sockets, this.abort.signal);
            // The list is ours: socket paths in our own temporary folder, never remote text.
            const list = path.join(this.workDir, 'live-sections.txt');
            await writeFile(list, socketList(sockets.paths));
            input = { file: list, format: 'concat', sockets: true };
        }
        this.remuxed = this.reserve
            ? remux(input, undefined, this.out, streams, this.abort.signal, { moovReserve: this.reserve, subtitles })
            : remux(input, undefined, this.moovLast, streams, this.abort.signal, { moovLast: true, subtitles });
        // ffmpeg gone before its input ended: no more feeding (fluent-ffmpeg swallows its stdin errors,
        // so writes would just stall).
        this.remuxed.then(
            () => {
                if (!this.ended) this.stop();
            },
            () => this.stop(),
        );
        return feed;
    }
}
