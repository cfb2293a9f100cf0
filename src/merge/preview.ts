/**
 * A video's preview frame (the run report's thumbnail): 320 px wide, 1 s in or at its middle when it
 * is shorter. Taken from the MP4 once it is stored, or, for a video remuxed while it downloads, from
 * its first units while the rest download (live-remux.ts): after the last byte, its ffmpeg (50-80 ms
 * just to start on Debian's 5.1, ~0.1 s with the decode) was the last thing the stored item waited for
 * on the bench's 93 MB video. Both give the same picture: the PNG taken from the first units there was
 * byte for byte the one taken from the stored MP4.
 */
import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { VideoJob } from '../model.js';
import { joinUnits } from './concat.js';
import { previewSecs, thumbnail } from './ffmpeg.js';

/** The frame from `file` into `out`: whether it was made. */
export function previewFrame(file: string, out: string, durationSecs: number): Promise<boolean> {
    return thumbnail(file, out, previewSecs(durationSecs))
        .then(() => stat(out))
        .then(() => true)
        .catch(() => false);
}

/** A unit in the order it is fed, and its timeline section. */
export interface FedUnit {
    unit: string;
    section: number;
}

/**
 * How many units of `order` hold the frame and a second after it (by the plan's mean segment
 * duration, plus one segment for a shorter one), when they are fewer than the video's: the frame is
 * taken from them once they are fed. 0 (from the MP4 instead) for a live recording, audio alone, a
 * video those units are all of, or one whose first section ends before them. Pure.
 */
export function previewUnits(job: VideoJob, order: readonly FedUnit[], hasVideo: boolean): number {
    const track = job.tracks[0];
    if (!track?.segments || !hasVideo || job.audioOnly || job.live || job.liveOpen) return 0;
    const meanSecs = job.durationSecs / track.segments;
    if (!(meanSecs > 0)) return 0;
    const segments = Math.ceil((previewSecs(job.durationSecs) + 1) / meanSecs) + 1;
    if (segments >= track.segments) return 0;
    // The order interleaves init sections with the segments that need them.
    let seen = 0;
    for (const [i, step] of order.entries()) {
        if (step.section !== 0) return 0;
        if (!step.unit.includes('-init-') && ++seen === segments) return i + 1;
    }
    return 0;
}

/**
 * The frame from the units (files in `workDir`, which stay there until the video is stored), joined
 * into a file of their own: the PNG's path, or undefined when it could not be made. `signal` kills ffmpeg.
 */
export function previewFromUnits(
    units: readonly string[],
    workDir: string,
    durationSecs: number,
    signal: AbortSignal,
): Promise<string | undefined> {
    const head = path.join(workDir, 'live-head');
    const png = path.join(workDir, 'live-preview.png');
    return joinUnits(units, workDir, head)
        .then(() => thumbnail(head, png, previewSecs(durationSecs), signal))
        .then(() => stat(png))
        .then(() => png)
        .catch(() => undefined)
        .finally(() => rm(head, { force: true }).catch(() => undefined));
}

/** The frame taken from the units, moved to `out`, else one taken from the MP4 now: whether there is one. */
export async function previewOrFromMp4(
    taken: Promise<string | undefined>,
    mp4: string,
    out: string,
    durationSecs: number,
): Promise<boolean> {
    const png = await taken;
    const moved = png
        ? await rename(png, out).then(
              () => true,
              () => false,
          )
        : false;
    return moved || previewFrame(mp4, out, durationSecs);
}
