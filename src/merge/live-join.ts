/**
 * Joins a video's units into its section files while it downloads, for what live-remux.ts does not
 * feed to ffmpeg as it arrives: a separate audio track, more than one init section, sections of
 * fMP4, and sections of MPEG-TS (discontinuities: episodes, ad breaks) while two other videos hold
 * the live remuxes (or on Windows, where ffmpeg reads no unix socket). Each unit is appended to `joined-<track>-<k>` once it and
 * every unit before it are stored: the same files, byte for byte, that concat.ts writes after the
 * download, so the remux that follows is today's. After the last byte only that remux and the
 * faststart copy remain, where the join was a third pass over the whole video (940 MB for the
 * bench's big case).
 *
 * Anything that goes wrong here gives the job back to the join after the download: the units stay
 * on disk until the video is stored, and this path never decides that a video failed.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { TrackJob, VideoJob } from '../model.js';
import { concatOrder, readHead, sections, type JoinedTrack } from './concat.js';

/** Whether a job's units can be joined into section files while it downloads: a remux of segments, not a recording that still grows. Pure. */
export function canJoinLive(job: VideoJob): boolean {
    return (
        job.delivery === 'remux' &&
        !job.live &&
        !job.liveOpen &&
        job.tracks.every((t) => t.subtitles || t.bytes === 'segments')
    );
}

const JOIN_BYTES_PER_TURN = 16 * 1024 * 1024;

/** One unit to append, and the section file it goes to. */
interface Step {
    unit: string;
    file: string;
}

/** The units of a track in the order they are written, section by section (concat.ts's order and names). Pure. */
export function joinSteps(track: TrackJob, outBase: string): Step[] {
    return sections(track).flatMap(([from, to], k) =>
        concatOrder(track, from, to).map((unit) => ({ unit, file: `${outBase}-${k}` })),
    );
}

class TrackJoin {
    private next = 0;
    private fd?: number;
    private openFile?: string;
    readonly files: string[];

    constructor(
        readonly name: string,
        private readonly steps: Step[],
        private readonly workDir: string,
    ) {
        this.files = [...new Set(steps.map((s) => s.file))];
    }

    get done(): boolean {
        return this.next === this.steps.length;
    }

    /**
     * Appends the stored units that continue the written prefix, up to about `budget` bytes; true
     * when it stopped for the budget with more to append.
     */
    pump(isStored: (unit: string) => boolean, budget = Infinity): boolean {
        let written = 0;
        while (this.next < this.steps.length && isStored(this.steps[this.next]!.unit)) {
            if (written >= budget) return true;
            const { unit, file } = this.steps[this.next]!;
            if (file !== this.openFile) {
                this.close();
                this.fd = openSync(file, 'w');
                this.openFile = file;
            }
            // Synchronous: the unit was written moments ago, so this is a copy out of the page cache and into it
            // (see live-remux.ts: streaming each file cost several event-loop turns per unit).
            const bytes = readFileSync(path.join(this.workDir, unit));
            for (let at = 0; at < bytes.length;) at += writeSync(this.fd!, bytes, at);
            written += bytes.length;
            this.next++;
        }
        if (this.done) this.close();
        return false;
    }

    close(): void {
        if (this.fd !== undefined) closeSync(this.fd);
        this.fd = undefined;
    }
}

export class LiveJoin {
    private readonly tracks: TrackJoin[];
    private failed = false;
    private scheduled = false;

    constructor(
        job: VideoJob,
        workDir: string,
        private readonly isStored: (unit: string) => boolean,
    ) {
        this.tracks = job.tracks
            .filter((t) => !t.subtitles)
            .map((t) => new TrackJoin(t.name, joinSteps(t, path.join(workDir, `joined-${t.name}`)), workDir));
    }

    /**
     * A unit was stored: append whatever now continues each track's written prefix, on a later turn
     * and 16 MB per turn, so that a resumed video with most of its units on disk does not hold the
     * event loop (and with it the downloads) for the seconds its whole join takes.
     */
    stored(): void {
        if (this.failed || this.scheduled) return;
        this.scheduled = true;
        setImmediate(() => {
            this.scheduled = false;
            if (this.pumpAll(JOIN_BYTES_PER_TURN)) this.stored();
        });
    }

    /** One pump of every track; true when one stopped for the budget. */
    private pumpAll(budget?: number): boolean {
        if (this.failed) return false;
        try {
            return this.tracks.map((t) => t.pump(this.isStored, budget)).some(Boolean);
        } catch {
            this.stop();
            return false;
        }
    }

    /** Every unit is stored: each track's section files, or undefined when the caller must join them. */
    async finish(): Promise<Map<string, JoinedTrack> | undefined> {
        this.pumpAll();
        if (this.failed || !this.tracks.every((t) => t.done && t.files.length > 0)) {
            this.stop();
            return undefined;
        }
        const joined = new Map<string, JoinedTrack>();
        for (const t of this.tracks) joined.set(t.name, { files: t.files, head: await readHead(t.files[0]!) });
        return joined;
    }

    /** Nothing more is appended; files half written are overwritten by the join after the download. */
    stop(): void {
        this.failed = true;
        for (const t of this.tracks) {
            try {
                t.close();
            } catch {
                // Already closed or never opened: nothing to release.
            }
        }
    }
}
