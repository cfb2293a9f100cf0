/**
 * A settled video job → a verified MP4 in the key-value store and its dataset item, or a `failed`
 * item that names what is missing. A video never merges with a gap.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { log } from '@crawlee/core';
import type { MediaItem, VideoJob } from '../model.js';
import type { VideoJobs } from '../download/jobs.js';
import { keyFromText } from '../names.js';
import { collectionKey } from '../results/keys.js';
import { videoNotStored, videoOk } from '../results/items.js';
import type { Results } from '../results/results.js';
import { mergeVideo, verifyMp4, type MergedVideo } from './merge.js';
import { sha256File } from './file-hash.js';
import { readMp4Index } from './mp4-index.js';
import { canRemuxLive, LiveRemux, type LiveRemuxed } from './live-remux.js';
import { canJoinLive, LiveJoin } from './live-join.js';
import { previewFrame, previewOrFromMp4 } from './preview.js';
import { ffmpegLibavformat } from './tools.js';
import { socketsAvailable } from './section-sockets.js';
import { archiveKeys } from '../results/archive.js';
import { errorCode, NotAVideoError } from '../errors.js';
import type { StoredSubtitle } from '../model.js';
import { muxSubtitles, writeSubtitles } from './subtitle-files.js';

/** Merges are I/O-bound remuxes; two at a time keep the disk busy without starving downloads. */
const MERGE_CONCURRENCY = 2;

/** Media sequence numbers of failed units, from their names (`v-seg-000012` → firstSeq + 12). Pure. */
export function missingSequences(job: VideoJob, failedUnits: Iterable<string>): number[] {
    const seqs: number[] = [];
    for (const unit of failedUnits) {
        const m = /^([va])-(seg|init)-(\d+)\.bin$/.exec(unit);
        if (!m || m[2] !== 'seg') continue;
        const track = job.tracks.find((t) => t.name === m[1]);
        if (track) seqs.push(track.firstSeq + Number(m[3]));
    }
    return seqs.sort((a, b) => a - b);
}

/** Subtitle tracks (`s0`, `s1`, …) that have a failed unit. Pure. */
export function subtitleTracksWithFailures(job: VideoJob, failedUnits: Iterable<string>): Set<string> {
    const subtitleNames = new Set(job.tracks.filter((t) => t.subtitles).map((t) => t.name as string));
    return new Set([...failedUnits].map((u) => u.split('-')[0]!).filter((name) => subtitleNames.has(name)));
}

export class VideoFinisher {
    private readonly waiting: string[] = [];
    private running = 0;
    private readonly active = new Set<Promise<void>>();
    /**
     * Videos being remuxed (one ffmpeg fed a pipe) or joined into section files while they download;
     * null: merged after the download instead.
     */
    private readonly live = new Map<string, LiveRemux | LiveJoin | null>();

    /**
     * Whether sections may be remuxed live, a socket each: known once ffmpeg has told its version
     * (`prepare`; 0.01–0.3 s, before a first segment is stored); until then they are joined into files.
     */
    private socketSections = false;
    private prepared = false;

    constructor(
        private readonly jobs: VideoJobs,
        /** Where the verdict, the files and the archive record go. */
        private readonly results: Results,
    ) {}

    /**
     * A video is about to be taken on: ffmpeg's version, which decides how its sections are fed, is
     * asked now, while its manifest and first segment are fetched (0.01–0.3 s, ~0.15 CPU s with
     * Debian's ffmpeg; a run without videos does not ask). Idempotent.
     */
    prepare(): void {
        if (this.prepared) return;
        this.prepared = true;
        void ffmpegLibavformat().then((v) => (this.socketSections = socketsAvailable(process.platform, v)));
    }

    /** A unit of a downloading video was stored. */
    unitStored(id: string): void {
        let live = this.live.get(id);
        if (live === undefined) {
            const job = this.jobs.get(id);
            const running = [...this.live.values()].filter((l) => l instanceof LiveRemux).length;
            const isStored = (unit: string): boolean => this.jobs.isDone(id, unit);
            const workDir = this.jobs.workDir(id);
            // As many ffmpeg processes as merges after the download would run; a join needs none.
            live =
                job?.status !== 'downloading'
                    ? null
                    : canRemuxLive(job, this.socketSections) && running < MERGE_CONCURRENCY
                      ? new LiveRemux(job, workDir, isStored, this.socketSections)
                      : canJoinLive(job)
                        ? new LiveJoin(job, workDir, isStored)
                        : null;
            this.live.set(id, live);
        }
        live?.stored();
    }

    /** Called when every unit of a job is on disk or failed for good. Idempotent. */
    settle(id: string): void {
        const job = this.jobs.get(id);
        // A live recording still following its source is settled by the recorder when it ends.
        if (!job || job.status !== 'downloading' || job.liveOpen) return;
        // The status changes at once (settle is idempotent); its write to the state store goes on meanwhile.
        this.jobs
            .transition(id, 'merging')
            .catch((error: Error) => log.warning(`The state of ${job.pageUrl} could not be saved: ${error.message}`));
        this.waiting.push(id);
        this.pump();
    }

    idle(): boolean {
        return this.running === 0 && this.waiting.length === 0;
    }

    async drain(): Promise<void> {
        while (!this.idle()) await Promise.race([...this.active]);
    }

    private pump(): void {
        while (this.running < MERGE_CONCURRENCY && this.waiting.length) {
            const id = this.waiting.shift()!;
            this.running++;
            const p = this.finish(id)
                .catch((error: Error) => log.exception(error, 'Finishing a video failed unexpectedly'))
                .finally(() => {
                    this.running--;
                    this.active.delete(p);
                    this.pump();
                });
            this.active.add(p);
        }
    }

    private async finish(id: string): Promise<void> {
        const job = this.jobs.get(id)!;
        const allFailures = this.jobs.failures(id);
        // A subtitle that could not be fetched costs its own track, not the video.
        const lostSubtitles = subtitleTracksWithFailures(job, allFailures.keys());
        const failures = new Map([...allFailures].filter(([unit]) => !lostSubtitles.has(unit.split('-')[0]!)));
        for (const name of lostSubtitles)
            log.warning(`Subtitle track ${name} of ${job.pageUrl} left out: a part of it could not be fetched`);
        const counts = this.jobs.counts(id);
        const live = this.live.get(id);
        this.live.delete(id);
        const fatal = this.jobs.fatal(id);
        if (fatal) {
            live?.stop();
            await this.fail(job, videoNotStored(job, 'failed', counts.done, fatal.message, fatal.code));
            return;
        }
        if (failures.size > 0) {
            live?.stop();
            const seqs = missingSequences(job, failures.keys());
            const first = [...failures.values()][0];
            const total = job.tracks.reduce((n, t) => n + t.segments, 0);
            const unit = job.format === 'file' ? 'byte ranges (numbers' : 'segments (media sequence';
            const list = `${seqs.slice(0, 20).join(', ')}${seqs.length > 20 ? ', …' : ''}`;
            const missing = seqs.length
                ? `missing ${seqs.length} of ${total} ${unit} ${list})`
                : 'an init section or key could not be fetched';
            await this.fail(job, videoNotStored(job, 'failed', counts.done, `${missing}: ${first}`));
            return;
        }
        const workDir = this.jobs.workDir(id);
        if (await this.storedBefore(job, live)) return;
        let preview: Promise<boolean> | undefined;
        let early: Promise<boolean> | undefined;
        const thumb = path.join(workDir, 'thumb.png');
        try {
            const remuxed = live instanceof LiveRemux ? await live.finish() : undefined;
            // A video remuxed while it downloaded has its preview frame from its first units, taken while the
            // rest downloaded (live-remux.ts), else from the MP4 while it is verified: a verified MP4 lasts what
            // the plan says (within the tolerance), so the plan's duration places the frame.
            early =
                remuxed && !job.audioOnly
                    ? previewOrFromMp4((live as LiveRemux).preview(), remuxed.file, thumb, job.durationSecs)
                    : undefined;
            const remuxedLive = remuxed ? await this.verifyRemuxed(job, remuxed) : undefined;
            // Merged from the units instead: that file's frame is taken, once this one's ffmpeg is done with thumb.png.
            if (!remuxedLive) await early;
            const joined = live instanceof LiveJoin ? await live.finish() : undefined;
            let merged = remuxedLive ?? (await mergeVideo(job, workDir, joined));
            const audio = merged.kind === 'audio';
            // The preview frame is taken while the key is allocated and subtitles are muxed in (the same frames
            // either way): on the bench's 93 MB video the key took ~0.06 s and the frame ~0.14 s, one after the
            // other before. Audio has no frame to show.
            preview = audio
                ? Promise.resolve(false)
                : remuxedLive && early
                  ? early
                  : previewFrame(merged.file, thumb, merged.durationSecs);
            // Saved before the store: a run resumed after a kill from here on stores under it again, or finds its item.
            const key =
                job.storedAs ??
                (await this.results.keys.allocate(
                    collectionKey(merged.kind, keyFromText(job.title ?? job.nameHint, merged.kind, job.url)),
                ));
            if (!job.storedAs) await this.jobs.storingAs(id, key);
            // The live remux wrote the subtitles into the MP4 it made (live-remux.ts); the files are stored beside it.
            const muxed = remuxedLive ? remuxed?.subtitles : undefined;
            const subtitleTracks = job.tracks.filter((t) => t.subtitles && !lostSubtitles.has(t.name));
            const subtitles =
                muxed ?? (subtitleTracks.length ? await writeSubtitles(job, subtitleTracks, workDir) : []);
            // A file stored as served stays byte for byte what the server sent: its subtitles sit beside it.
            if (!muxed && subtitles.length && merged.contentType === 'video/mp4' && job.delivery !== 'as-served') {
                merged = await muxSubtitles(merged, subtitles, workDir);
            }
            const [sha256, thumbMade] = await Promise.all([
                // Computed while the MP4 was written, when it was (not after subtitles were muxed in).
                merged.sha256 ?? sha256File(merged.file),
                preview,
            ]);
            const title = job.title ?? job.nameHint;
            const video = await this.results.store(key, merged.file, merged.contentType, { name: title });
            let shown: { key: string; url?: string } | undefined;
            if (thumbMade) {
                // `thumb-`: the "thumbnails" collection of .actor/key_value_store_schema.json.
                const thumbKey = await this.results.keys.allocate(collectionKey('thumbnail', key));
                const thumbFile = await this.results.store(thumbKey, thumb, 'image/png', { toOutputDir: false });
                shown = { key: thumbKey, url: thumbFile.fileUrl };
            }
            const stored: StoredSubtitle[] = [];
            for (const sub of subtitles) {
                const lang = sub.lang.replace(/[^a-zA-Z0-9-]/g, '') || 'und';
                const subKey = await this.results.keys.allocate(`${key}.${lang}`);
                // Beside the video under its name (`<video>.<lang>.vtt`), where players look for it.
                const videoStem = video.outputFile && path.basename(video.outputFile, path.extname(video.outputFile));
                await this.results.store(subKey, sub.file, 'text/vtt', { name: videoStem && `${videoStem}.${lang}` });
                stored.push({ lang: sub.lang, ...(sub.title ? { name: sub.title } : {}), key: subKey });
            }
            // Abandoned while merging (reported as failed, its storages being dropped): no second verdict.
            const reported = await this.results.verdict(
                job.id,
                videoOk(job, {
                    kind: merged.kind,
                    key,
                    file: video,
                    sha256,
                    bytes: merged.bytes,
                    durationSecs: merged.durationSecs,
                    width: merged.width,
                    height: merged.height,
                    hasAudio: merged.hasAudio,
                    thumbnail: shown,
                    subtitles: stored,
                }),
            );
            if (!reported) return;
            if (job.archiveId) await this.results.archived([archiveKeys.video(job.archiveId)], { key, sha256 });
            await this.jobs.transition(id, 'done');
            log.info(
                `${audio ? 'Audio' : 'Video'} stored as "${key}" (${(merged.bytes / 1e6).toFixed(1)} MB, ${merged.durationSecs.toFixed(1)} s${remuxedLive ? ', remuxed while it downloaded' : joined ? ', joined while it downloaded' : ''}) from ${job.pageUrl}`,
            );
            await rm(workDir, { recursive: true, force: true });
        } catch (error) {
            // The preview's ffmpeg may still be writing into the work folder that fail() removes.
            await Promise.all([preview, early]);
            // Abandoned while merging (the run was stopped, its work folder dropped): already reported.
            if (job.status === 'failed') return;
            // A preview clip or a file that is no video is not a failure of the crawl: it is skipped, with why.
            const status = error instanceof NotAVideoError ? 'skipped' : 'failed';
            const code = errorCode(error);
            await this.fail(job, videoNotStored(job, status, counts.done, (error as Error).message, code));
        }
    }

    /**
     * A video whose store a killed run began (VideoJob.storedAs) and whose `ok` item it wrote before it died
     * (the kill between the item and the job's `done`): done, with its archive record; true. Else false, and
     * the merge stores under that key again. Without this the resumed run stored a second copy as `<key>-2`.
     */
    private async storedBefore(job: VideoJob, live: LiveRemux | LiveJoin | null | undefined): Promise<boolean> {
        if (!job.storedAs) return false;
        const item = await this.results.okWithKey(job.storedAs);
        if (!item || !(await this.results.verdict(job.id, item, { written: true }))) return false;
        live?.stop();
        if (job.archiveId && item.sha256)
            await this.results.archived([archiveKeys.video(job.archiveId)], { key: job.storedAs, sha256: item.sha256 });
        await this.jobs.transition(job.id, 'done');
        log.info(`Video stored as "${job.storedAs}" before the run was stopped; its item is there (${job.pageUrl})`);
        await rm(this.jobs.workDir(job.id), { recursive: true, force: true });
        return true;
    }

    /**
     * The MP4 remuxed while the video downloaded, verified from its index while its hash is read
     * (mp4-index.ts); undefined to merge from the units instead.
     */
    private async verifyRemuxed(job: VideoJob, remuxed: LiveRemuxed): Promise<MergedVideo | undefined> {
        const [verified, sha256] = await Promise.all([
            verifyMp4(job, remuxed.file, job.durationSecs, undefined, readMp4Index).catch((error: Error) => error),
            remuxed.sha256,
        ]);
        if (!(verified instanceof Error)) return { ...verified, sha256 };
        log.debug(
            `The MP4 remuxed during the download of ${job.pageUrl} did not verify (${verified.message}); merging from the segments`,
        );
        return undefined;
    }

    private async fail(job: VideoJob, item: MediaItem): Promise<void> {
        // A video the stopped run already reported keeps that one item.
        if (!(await this.results.verdict(job.id, item))) return;
        await this.jobs.transition(job.id, 'failed');
        log.warning(`Video from ${job.pageUrl} ${item.status}: ${item.error}`);
        await rm(this.jobs.workDir(job.id), { recursive: true, force: true });
    }
}
