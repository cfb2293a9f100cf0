/**
 * All units of a video on disk → one verified file: an MP4 remuxed without re-encoding (an M4A when
 * the media has no video: a radio show, a podcast), or a plain file joined from its ranges byte for
 * byte, as the plan's delivery says.
 */
import { rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { log } from '@crawlee/core';
import type { VideoJob } from '../model.js';
import { concatTrack, readHead, type JoinedTrack } from './concat.js';
import { MergeError, NotAVideoError } from '../errors.js';
import { remux, type RemuxInput } from './ffmpeg.js';
import {
    chooseStreams,
    containerOf,
    mappedStreams,
    probe,
    probeStreams,
    type MediaInfo,
    type StreamChoice,
    type StreamInfo,
} from './probe.js';
import { finishMoovLast, topBoxes } from './faststart.js';
import { indexRoom, type JoinedInput } from './index-room.js';
import { reservedLayoutOk } from './moov-reserve.js';

export interface MergedVideo {
    /** `audio`: the media has no video stream (the dataset item's type). */
    kind: 'video' | 'audio';
    file: string;
    contentType: string;
    bytes: number;
    durationSecs: number;
    width?: number;
    height?: number;
    hasAudio: boolean;
    /** The file's sha256 when it was computed already (remuxHashed, or the live remux while it was verified). */
    sha256?: string;
}

/** The longest difference between the source's stated duration and the MP4's that still counts as complete. */
export const DURATION_TOLERANCE_SECS = 1;

/** Shorter than this is a preview or a teaser loop, not the video a person came for. */
export const MIN_VIDEO_SECS = 1;

/** What is stored for remuxed media of each kind: MP4 for videos, MP4 audio (`.m4a`) for audio alone. */
export const REMUXED_TYPE = { video: 'video/mp4', audio: 'audio/mp4' } as const;

/**
 * The content type of a plain file stored as served, once probing showed it holds audio alone: an
 * MP4, WebM or Matroska container with no video is an audio file of that container. Pure.
 */
export function audioContentType(served: string): string {
    const type = served.split(';')[0]!.trim().toLowerCase();
    const byContainer: Record<string, string> = {
        'video/mp4': 'audio/mp4',
        'video/webm': 'audio/webm',
        'video/x-matroska': 'audio/x-matroska',
        'video/matroska': 'audio/x-matroska',
    };
    return byContainer[type] ?? type;
}

/** Whether probed streams are a video or audio alone; undefined when neither. Pure. */
export function mediaKind(streams: readonly StreamInfo[]): MergedVideo['kind'] | undefined {
    if (streams.some((s) => s.type === 'video')) return 'video';
    return streams.some((s) => s.type === 'audio') ? 'audio' : undefined;
}

function tooShort(kind: MergedVideo['kind'], durationSecs: number): NotAVideoError {
    const secs = durationSecs.toFixed(2);
    return new NotAVideoError(
        kind === 'video'
            ? `a ${secs} s clip is a preview, not a video`
            : `a ${secs} s sound is a preview or a sound effect, not a recording`,
    );
}

/**
 * `remux` into `out` with the index in front. With `room` (index-room.ts), ffmpeg writes the index into
 * that many bytes reserved at the front, and the caller hashes the file; should the index not fit, the
 * remux runs again the other way. Without, ffmpeg writes the index last beside `out`, and faststart.ts
 * copies that to `out` with the index in front, computing the sha256 as it writes (one pass, where
 * `+faststart` and a hash after it took two).
 */
export async function remuxHashed(
    main: RemuxInput,
    audio: RemuxInput | undefined,
    out: string,
    streams: StreamChoice,
    room?: number,
): Promise<{ sha256?: string }> {
    if (room) {
        await remux(main, audio, out, streams, undefined, { moovReserve: room });
        const { size } = await stat(out);
        if (reservedLayoutOk(await topBoxes(out).catch(() => []), room, size)) return {};
        log.debug(`The index of ${out} did not fit the ${room} bytes reserved for it; remuxing again`);
        await rm(out, { force: true });
    }
    const moovLast = `${out}.moov-last`;
    try {
        await remux(main, audio, moovLast, streams, undefined, { moovLast: true });
    } catch (error) {
        await rm(moovLast, { force: true });
        throw error;
    }
    return { sha256: await finishMoovLast(moovLast, out) };
}

/**
 * All units of a video on disk → a verified file, as the job's delivery says. `joined`: tracks
 * already joined into their section files while they downloaded (live-join.ts), by track name.
 */
export async function mergeVideo(
    job: VideoJob,
    workDir: string,
    joined?: ReadonlyMap<string, JoinedTrack>,
): Promise<MergedVideo> {
    switch (job.delivery) {
        case 'remux': {
            const { file, kind, sha256 } = await joinAndRemux(job, workDir, joined);
            return { ...(await verifyMp4(job, file, job.durationSecs, kind)), sha256 };
        }
        case 'as-served':
            return verifyAsServed(job, await joinFile(job, workDir));
        case 'remux-or-as-served': {
            const file = await joinFile(job, workDir);
            const served = await verifyAsServed(job, file);
            const out = path.join(workDir, 'video.mp4');
            try {
                const format = containerOf(await readHead(file));
                const { sha256 } = await remuxHashed(
                    { file, format },
                    undefined,
                    out,
                    await probeStreams({ file, format }),
                );
                return { ...(await verifyMp4(job, out, served.durationSecs, served.kind)), sha256 };
            } catch {
                // The file as served is complete and verified; a remux that fails must not cost it.
                await rm(out, { force: true });
                return served;
            }
        }
    }
}

/** The one track of a plain file, joined from its ranges: the file as served. */
async function joinFile(job: VideoJob, workDir: string): Promise<string> {
    const track = job.tracks[0];
    if (!track) throw new MergeError('the job has no track');
    const { files } = await concatTrack(track, workDir, path.join(workDir, 'joined-v'));
    return files[0]!;
}

/** A plain file as served: its stated size, a video or audio stream, and longer than a preview. */
export async function verifyAsServed(job: VideoJob, file: string): Promise<MergedVideo> {
    const info = await stat(file);
    if (job.expectedBytes !== undefined && info.size !== job.expectedBytes) {
        throw new MergeError(`the file is ${info.size} bytes but the server announced ${job.expectedBytes}`);
    }
    const result = await probe(file);
    const kind = mediaKind(result.streams);
    if (!kind) throw new NotAVideoError('the file has neither a video nor an audio stream');
    const video = result.streams.find((s) => s.type === 'video');
    const durationSecs = result.durationSecs ?? NaN;
    if (!Number.isFinite(durationSecs)) throw new MergeError('ffmpeg cannot tell how long the file is');
    if (durationSecs < MIN_VIDEO_SECS) throw tooShort(kind, durationSecs);
    const served = job.contentType ?? 'application/octet-stream';
    return {
        kind,
        file,
        contentType: kind === 'audio' ? audioContentType(served) : served,
        bytes: info.size,
        durationSecs: Math.round(durationSecs * 1000) / 1000,
        width: video?.width,
        height: video?.height,
        hasAudio: result.streams.some((s) => s.type === 'audio'),
    };
}

/**
 * Joins each track's units and remuxes the tracks into one MP4, with the streams the joined tracks
 * hold (probed first): video and audio, video alone, or audio alone (an M4A).
 */
async function joinAndRemux(
    job: VideoJob,
    workDir: string,
    alreadyJoined?: ReadonlyMap<string, JoinedTrack>,
): Promise<{ file: string; kind: MergedVideo['kind']; sha256?: string }> {
    const joined = [];
    // Subtitle tracks are text, joined and muxed on their own (subtitles.ts).
    for (const track of job.tracks.filter((t) => !t.subtitles)) {
        const { files, head } =
            alreadyJoined?.get(track.name) ??
            (await concatTrack(track, workDir, path.join(workDir, `joined-${track.name}`)));
        const format = containerOf(head);
        const common = { name: track.name, track, files, first: files[0]!, firstFormat: format };
        if (files.length === 1) {
            joined.push({ ...common, file: files[0]!, format });
            continue;
        }
        // Paths are ours (work folder, no quotes in them); the list is never built from remote text.
        const list = path.join(workDir, `sections-${track.name}.txt`);
        await writeFile(list, files.map((f) => `file '${f}'`).join('\n') + '\n');
        joined.push({ ...common, file: list, format: 'concat' as const });
    }
    const main = joined.find((t) => t.name === 'v');
    if (!main) throw new MergeError('the job has no main track');
    const audio = joined.find((t) => t.name === 'a');
    const [m, a] = await Promise.all([
        probe(main.first, main.firstFormat),
        audio ? probe(audio.first, audio.firstFormat) : undefined,
    ]);
    const streams = chooseStreams(m.streams, a?.streams);
    // The streams chooseStreams takes from each input: see there.
    const inputs: JoinedInput[] = [
        {
            track: main.track,
            files: main.files,
            format: main.firstFormat,
            streams: m.streams,
            pick: (s) => (a ? s.filter((x) => x.type === 'video').slice(0, 1) : mappedStreams(s)),
        },
    ];
    if (audio && a) {
        const pick = (s: readonly StreamInfo[]): StreamInfo[] => s.filter((x) => x.type === 'audio').slice(0, 1);
        inputs.push({ track: audio.track, files: audio.files, format: audio.firstFormat, streams: a.streams, pick });
    }
    const room = await indexRoom(inputs, workDir, job.durationSecs).catch(() => undefined);
    const out = path.join(workDir, streams.kind === 'audio' ? 'audio.m4a' : 'video.mp4');
    const { sha256 } = await remuxHashed(main, audio, out, streams, room);
    return { file: out, kind: streams.kind, sha256 };
}

/**
 * Checks a remuxed MP4 against its job: one video stream (none and some audio for audio alone; `kind`,
 * when given, says which is expected), and the source's duration. `read` says what the MP4 holds:
 * ffprobe, or its own index (mp4-index.ts) for the MP4 the live remux wrote.
 */
export async function verifyMp4(
    job: VideoJob,
    out: string,
    expectedSecs = job.durationSecs,
    kind?: MergedVideo['kind'],
    read: (file: string) => Promise<MediaInfo> = probe,
): Promise<MergedVideo> {
    const result = await read(out);
    const videoStreams = result.streams.filter((s) => s.type === 'video');
    const found = mediaKind(result.streams);
    if (!found) throw new MergeError('the MP4 has neither a video nor an audio stream');
    if (kind && found !== kind) throw new MergeError(`the MP4 holds ${found}, expected ${kind}`);
    if (found === 'video' && videoStreams.length !== 1)
        throw new MergeError(`the MP4 has ${videoStreams.length} video streams, expected 1`);
    const durationSecs = result.durationSecs ?? NaN;
    if (!Number.isFinite(durationSecs) || Math.abs(durationSecs - expectedSecs) > DURATION_TOLERANCE_SECS) {
        throw new MergeError(
            `the MP4 lasts ${durationSecs.toFixed(2)} s but the source promises ${expectedSecs.toFixed(2)} s`,
        );
    }
    if (durationSecs < MIN_VIDEO_SECS) throw tooShort(found, durationSecs);
    const v = videoStreams[0];
    // Hashing is left to the caller, which overlaps it with the thumbnail.
    const info = await stat(out);
    return {
        kind: found,
        file: out,
        contentType: REMUXED_TYPE[found],
        bytes: info.size,
        durationSecs: Math.round(durationSecs * 1000) / 1000,
        width: v?.width,
        height: v?.height,
        hasAudio: result.streams.some((s) => s.type === 'audio'),
    };
}
