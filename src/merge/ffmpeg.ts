/**
 * What the crawler has ffmpeg write: the remux into MP4, subtitles added to one, a preview frame.
 * ffmpeg is only ever given files this program wrote (`-protocol_whitelist file`), never a manifest text
 * from the web. What the inputs hold is probe.ts's; which binaries run is tools.ts's choice.
 *
 * fluent-ffmpeg (archived upstream) is used in this module only, so it stays swappable.
 */
import type { Readable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { MergeError } from '../errors.js';
import type { InputFormat, StreamChoice } from './probe.js';
import { ffmpegPath } from './tools.js';

export { MergeError };

/** Every format present, as far as fluent-ffmpeg's check can tell (`command`). */
const anyFormat: ffmpeg.Formats = new Proxy(
    {},
    { has: () => true, get: () => ({ description: '', canDemux: true, canMux: true }) },
);

/**
 * A fluent-ffmpeg command on the chosen ffmpeg, without fluent-ffmpeg's capability check. Before its
 * first command in a process, fluent-ffmpeg runs `ffmpeg -formats` and then `ffmpeg -encoders` to see
 * that the formats and codecs a command names exist. Every ffmpeg build has the few this module names
 * (mp4, mpegts, mov, aac, mp3, flv, concat, webvtt; codecs are only ever copied or `mov_text`), and
 * one that is missing fails the command itself with ffmpeg's own message, which the error carries.
 * Measured on the bench video with Debian's ffmpeg 5.1, which binds ~215 shared libraries at every
 * start: the two runs took 0.2–0.4 s and ~0.2 CPU s each (the static 2018 build: 0.02 s), on a
 * 2-core machine busy downloading. fluent-ffmpeg asks them through the command, so the command answers.
 */
function command(input?: string): ffmpeg.FfmpegCommand {
    const cmd = ffmpeg(input).setFfmpegPath(ffmpegPath);
    cmd.availableFormats = cmd.getAvailableFormats = (callback) => callback(null!, anyFormat);
    cmd.availableEncoders = cmd.getAvailableEncoders = (callback) => callback(null!, {});
    return cmd;
}

const lastLines = (error: Error): string => error.message.split('\n').filter(Boolean).slice(-2).join(' ').slice(0, 300);

export interface RemuxInput {
    /** A local file, or a stream of the track's bytes (fed while the video downloads). */
    file: string | Readable;
    /** `concat`: `file` is a list of local section files for ffmpeg's concat demuxer. */
    format: InputFormat | 'concat';
    /** The concat list names unix sockets that feed the sections as they download (section-sockets.ts). */
    sockets?: boolean;
}

const inputOptions = (input: RemuxInput): string[] =>
    input.format === 'concat'
        ? ['-f', 'concat', '-safe', '0', '-protocol_whitelist', input.sockets ? 'file,unix' : 'file']
        : ['-protocol_whitelist', typeof input.file === 'string' ? 'file' : 'pipe', '-f', input.format];

/**
 * `-c copy` into MP4 (an M4A when `streams.kind` is audio): the streams `chooseStreams` picked from
 * the main input and the separate audio input, if given. `signal` kills ffmpeg (the promise then rejects).
 * Where the index goes: `moovLast`, at the end (faststart.ts moves it while hashing); `moovReserve`, into
 * that many bytes reserved at the front (moov-reserve.ts; the caller checks that it fitted); else
 * `+faststart`.
 */
export function remux(
    main: RemuxInput,
    audio: RemuxInput | undefined,
    out: string,
    streams: StreamChoice,
    signal?: AbortSignal,
    {
        moovLast = false,
        moovReserve,
        subtitles = [],
    }: { moovLast?: boolean; moovReserve?: number; subtitles?: readonly SubtitleInput[] } = {},
): Promise<void> {
    return new Promise((resolve, reject) => {
        const cmd = command();
        // With more than one input ffmpeg reads each in a thread of its own, through a queue of 8 packets by
        // default; with subtitle files beside a pipe, ffmpeg 5.1 then mostly slept (10 ms at a time) while
        // the queue was full: 13.8 s for the bench's 93 MB video fed from `cat`, 0.4 s with room for 1024.
        const queue = subtitles.length ? ['-thread_queue_size', '1024'] : [];
        cmd.input(main.file).inputOptions([...queue, ...inputOptions(main)]);
        if (audio) cmd.input(audio.file).inputOptions(inputOptions(audio));
        const index = moovReserve ? ['-moov_size', String(moovReserve)] : moovLast ? [] : ['-movflags', '+faststart'];
        const options = [...streams.maps, '-c', 'copy', ...index];
        // Subtitles in the remux itself (the live remux's): the main input's timeline starts at 0 as the
        // cues do (writeSubtitles places them against its first unit), so no offset.
        options.push(...subtitleStreams(cmd, subtitles, audio ? 2 : 1, 0));
        // ADTS AAC (TS, packed audio) needs its headers turned into an AudioSpecificConfig for MP4.
        if (streams.aac) options.push('-bsf:a', 'aac_adtstoasc');
        cmd.outputOptions(options)
            .format('mp4')
            .on('error', (error: Error) => reject(new MergeError(`ffmpeg remux failed: ${lastLines(error)}`)))
            .on('end', () => resolve())
            .save(out);
        signal?.addEventListener('abort', () => cmd.kill('SIGKILL'), { once: true });
    });
}

export interface SubtitleInput {
    /** A WebVTT file this program wrote. */
    file: string;
    /** ISO 639 tag as the page or manifest gave it; stored as the stream's language. */
    lang: string;
    title?: string;
}

/**
 * Adds each subtitle file as an input of `cmd` (its inputs so far: `first`), moved by `offsetSecs`, and
 * returns the output options that make it a `mov_text` stream tagged with its language and title.
 */
function subtitleStreams(
    cmd: ffmpeg.FfmpegCommand,
    subtitles: readonly SubtitleInput[],
    first: number,
    offsetSecs: number,
): string[] {
    if (!subtitles.length) return [];
    const offset = offsetSecs ? ['-itsoffset', offsetSecs.toFixed(3)] : [];
    for (const s of subtitles)
        cmd.input(s.file).inputOptions([...offset, '-protocol_whitelist', 'file', '-f', 'webvtt']);
    const options = [...subtitles.flatMap((_, i) => ['-map', `${first + i}:0`]), '-c:s', 'mov_text'];
    subtitles.forEach((s, i) => {
        options.push(`-metadata:s:s:${i}`, `language=${s.lang.replace(/[^a-zA-Z-]/g, '').slice(0, 16) || 'und'}`);
        if (s.title) options.push(`-metadata:s:s:${i}`, `title=${s.title.replace(/[\r\n]/g, ' ').slice(0, 100)}`);
    });
    return options;
}

/**
 * Copies an MP4 with each subtitle file added as a `mov_text` stream tagged with its language; its index
 * into `moovReserve` bytes at the front when given (the caller checks that it fitted), else `+faststart`.
 * The files' times count from the video's first frame; `offsetSecs` is where that frame sits on
 * the MP4's own timeline, so the cues land where a player shows them.
 */
export function addSubtitles(
    mp4: string,
    subtitles: readonly SubtitleInput[],
    offsetSecs: number,
    out: string,
    moovReserve?: number,
): Promise<void> {
    return new Promise((resolve, reject) => {
        const cmd = command();
        cmd.input(mp4).inputOptions(['-protocol_whitelist', 'file']);
        const index = moovReserve ? ['-moov_size', String(moovReserve)] : ['-movflags', '+faststart'];
        const options = ['-map', '0:v', '-map', '0:a?', '-c', 'copy', ...index];
        options.push(...subtitleStreams(cmd, subtitles, 1, offsetSecs));
        cmd.outputOptions(options)
            .format('mp4')
            .on('error', (error: Error) =>
                reject(new MergeError(`ffmpeg could not add subtitles: ${lastLines(error)}`)),
            )
            .on('end', () => resolve())
            .save(out);
    });
}

/** Where a video's preview frame is taken: 1 s in, or its middle when it is shorter. Pure. */
export const previewSecs = (durationSecs: number): number => Math.min(1, durationSecs / 2);

/** One PNG frame from `secs` into the video (run report thumbnails); `signal` kills ffmpeg. */
export function thumbnail(file: string, out: string, secs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
        const cmd = command(file)
            .inputOptions(['-protocol_whitelist', 'file'])
            .seekInput(secs)
            .outputOptions(['-frames:v', '1', '-vf', 'scale=320:-2'])
            .on('error', (error: Error) => reject(new MergeError(`thumbnail failed: ${lastLines(error)}`)))
            .on('end', () => resolve());
        signal?.addEventListener('abort', () => cmd.kill('SIGKILL'), { once: true });
        cmd.save(out);
    });
}
