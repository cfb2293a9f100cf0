/**
 * All units of a video on disk → one verified MP4 (remuxed, never re-encoded).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { VideoJob } from '../download/jobs.js';
import { concatTrack } from './concat.js';
import { containerOf, hasAacAudio, MergeError, probe, remux } from './ffmpeg.js';

export interface MergedVideo {
    file: string;
    bytes: number;
    durationSecs: number;
    width?: number;
    height?: number;
    hasAudio: boolean;
}

/** The longest difference between the playlist's duration and the MP4's that still counts as complete. */
export const DURATION_TOLERANCE_SECS = 1;

export async function sha256File(file: string): Promise<string> {
    const hash = createHash('sha256');
    // 1 MiB reads: with the default 64 KiB, hashing a 90 MB MP4 took 0.4 s here.
    await pipeline(createReadStream(file, { highWaterMark: 1024 * 1024 }), hash);
    return hash.digest('hex');
}

/** All units of a video on disk → a verified MP4. */
export async function mergeVideo(job: VideoJob, workDir: string): Promise<MergedVideo> {
    return verifyMp4(job, await joinAndRemux(job, workDir));
}

/** Joins each track's units and remuxes the tracks into `video.mp4`; resolves to its path. */
async function joinAndRemux(job: VideoJob, workDir: string): Promise<string> {
    const joined = [];
    for (const track of job.tracks) {
        const { files, head } = await concatTrack(track, workDir, path.join(workDir, `joined-${track.name}`));
        const format = containerOf(head);
        if (files.length === 1) {
            joined.push({ name: track.name, file: files[0]!, format, first: files[0]!, firstFormat: format });
            continue;
        }
        // Paths are ours (work folder, no quotes in them); the list is never built from remote text.
        const list = path.join(workDir, `sections-${track.name}.txt`);
        await writeFile(list, files.map((f) => `file '${f}'`).join('\n') + '\n');
        joined.push({ name: track.name, file: list, format: 'concat' as const, first: files[0]!, firstFormat: format });
    }
    const video = joined.find((t) => t.name === 'v');
    if (!video) throw new MergeError('the job has no video track');
    const audio = joined.find((t) => t.name === 'a');
    const audioIsAac = await hasAacAudio((audio ?? video).first, (audio ?? video).firstFormat);

    const out = path.join(workDir, 'video.mp4');
    await remux(video, audio, out, audioIsAac);
    return out;
}

/** Checks a remuxed MP4 against its job: one video stream, and the playlist's duration. */
export async function verifyMp4(job: VideoJob, out: string): Promise<MergedVideo> {
    const result = await probe(out);
    const videoStreams = result.streams.filter((s) => s.type === 'video');
    if (videoStreams.length !== 1) throw new MergeError(`the MP4 has ${videoStreams.length} video streams, expected 1`);
    const durationSecs = result.durationSecs ?? NaN;
    if (!Number.isFinite(durationSecs) || Math.abs(durationSecs - job.durationSecs) > DURATION_TOLERANCE_SECS) {
        throw new MergeError(`the MP4 lasts ${durationSecs.toFixed(2)} s but the playlist promises ${job.durationSecs.toFixed(2)} s`);
    }
    const v = videoStreams[0];
    // Hashing is left to the caller, which overlaps it with the thumbnail.
    const info = await stat(out);
    return {
        file: out,
        bytes: info.size,
        durationSecs: Math.round(durationSecs * 1000) / 1000,
        width: v?.width,
        height: v?.height,
        hasAudio: result.streams.some((s) => s.type === 'audio'),
    };
}
