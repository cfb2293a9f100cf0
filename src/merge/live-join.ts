/**
 * Joins a video's units into its section files while it downloads, for what live-remux.ts cannot
 * feed to one ffmpeg: several sections (discontinuities: episodes, ad breaks), a separate audio
 * track, more than one init section. Each unit is appended to `joined-<track>-<k>` once it and
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

    /** Appends every stored unit that continues the written prefix. */
    pump(isStored: (unit: string) => boolean): void {
        while (this.next < this.steps.length && isStored(this.steps[this.next]!.unit)) {
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
            this.next++;
        }
        if (this.done) this.close();
    }

    close(): void {
        if (this.fd !== undefined) closeSync(this.fd);
        this.fd = undefined;
    }
}

export class LiveJoin {
    private readonly tracks: TrackJoin[];
    private failed = false;

    constructor(
        job: VideoJob,
        workDir: string,
        private readonly isStored: (unit: string) => boolean,
    ) {
        this.tracks = job.tracks
            .filter((t) => !t.subtitles)
            .map((t) => new TrackJoin(t.name, joinSteps(t, path.join(workDir, `joined-${t.name}`)), workDir));
    }

    /** A unit was stored: append whatever now continues each track's written prefix. */
    stored(): void {
        if (this.failed) return;
        try {
            for (const t of this.tracks) t.pump(this.isStored);
        } catch {
            this.stop();
        }
    }

    /** Every unit is stored: each track's section files, or undefined when the caller must join them. */
    async finish(): Promise<Map<string, JoinedTrack> | undefined> {
        this.stored();
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
