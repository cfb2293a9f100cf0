/**
 * A video's subtitle tracks on disk → one WebVTT file per language, placed against the video's
 * first frame, and muxed into the MP4 as `mov_text` streams.
 */
import { existsSync } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { log } from '@crawlee/core';
import { unitName, type TrackJob, type VideoJob } from '../model.js';
import { concatOrder, readHead } from './concat.js';
import { addSubtitles, type SubtitleInput } from './ffmpeg.js';
import { containerOf, probe } from './probe.js';
import { topBoxes } from './faststart.js';
import { reservedLayoutOk, subtitleMuxRoom } from './moov-reserve.js';
import type { MergedVideo } from './merge.js';
import { joinSubtitleTrack } from './subtitles.js';

export interface SubtitleFile {
    file: string;
    lang: string;
    title?: string;
}

/** ISO 639-1 → 639-2/B for the languages subtitles come in most: MP4 tags streams with three letters. */
const ISO639_2: Record<string, string> = {
    ar: 'ara',
    cs: 'cze',
    da: 'dan',
    de: 'ger',
    el: 'gre',
    en: 'eng',
    es: 'spa',
    fa: 'per',
    fi: 'fin',
    fr: 'fre',
    he: 'heb',
    hi: 'hin',
    hu: 'hun',
    id: 'ind',
    it: 'ita',
    ja: 'jpn',
    ko: 'kor',
    ms: 'may',
    nl: 'dut',
    no: 'nor',
    pl: 'pol',
    pt: 'por',
    ro: 'rum',
    ru: 'rus',
    sk: 'slo',
    sv: 'swe',
    th: 'tha',
    tr: 'tur',
    uk: 'ukr',
    vi: 'vie',
    zh: 'chi',
};

/** The three-letter tag MP4 stores for a BCP 47 language (`en-US` → `eng`). Pure. */
export function mp4Language(lang: string): string {
    const primary = lang.toLowerCase().split(/[-_]/)[0] ?? '';
    if (/^[a-z]{3}$/.test(primary)) return primary;
    return ISO639_2[primary] ?? 'und';
}

/** Where the source's first video frame sits on its own timeline (MPEG-TS from ffmpeg: 1.4 s). */
async function sourceVideoStart(job: VideoJob, workDir: string): Promise<number> {
    const joined = path.join(workDir, 'joined-v-0');
    const first = existsSync(joined) ? joined : path.join(workDir, unitName('v', 'seg', 0));
    if (!existsSync(first) || job.format === 'file') return 0;
    const info = await probe(first, containerOf(await readHead(first))).catch(() => undefined);
    return info?.startSecs ?? 0;
}

/**
 * One WebVTT file per subtitle track (`<name>.vtt` in `workDir`), its cues placed against the source's
 * start (`startSecs` when the caller probed it, else probed here); a track that cannot be joined is
 * left out with a warning.
 */
export async function writeSubtitles(
    job: VideoJob,
    tracks: readonly TrackJob[],
    workDir: string,
    startSecs?: number,
): Promise<SubtitleFile[]> {
    const start = startSecs ?? (await sourceVideoStart(job, workDir));
    const files: SubtitleFile[] = [];
    for (const track of tracks) {
        try {
            const file = path.join(workDir, `${track.name}.vtt`);
            await writeFile(file, await joinSubtitleTrack(track, workDir, start));
            files.push({ file, lang: track.lang ?? 'und', ...(track.label ? { title: track.label } : {}) });
        } catch (error) {
            log.warning(
                `Subtitle track ${track.lang ?? track.name} of ${job.pageUrl} left out: ${(error as Error).message}`,
            );
        }
    }
    return files;
}

/** The units of a job's subtitle tracks, by name. Pure. */
export const subtitleUnits = (job: VideoJob): string[] =>
    job.tracks.filter((t) => t.subtitles).flatMap((t) => concatOrder(t));

/** How many cues the files hold. */
export async function cueCount(subtitles: readonly SubtitleFile[]): Promise<number> {
    let cues = 0;
    for (const s of subtitles) cues += (await readFile(s.file, 'utf8')).split('-->').length - 1;
    return cues;
}

/** The subtitle files as ffmpeg's inputs: their languages as MP4 tags them. Pure. */
export const subtitleInputs = (subtitles: readonly SubtitleFile[]): SubtitleInput[] =>
    subtitles.map((s) => ({ file: s.file, lang: mp4Language(s.lang), title: s.title }));

/** The room for the index of `mp4` copied with these subtitles; undefined when its index is not found. */
async function subtitleRoom(mp4: string, subtitles: readonly SubtitleFile[]): Promise<number | undefined> {
    const moov = (await topBoxes(mp4).catch(() => [])).find((b) => b.type === 'moov');
    if (!moov) return undefined;
    return subtitleMuxRoom(moov.size, await cueCount(subtitles), subtitles.length);
}

/** The MP4 again, with the subtitle streams; the MP4 without them when ffmpeg refuses. */
export async function muxSubtitles(
    merged: MergedVideo,
    subtitles: readonly SubtitleFile[],
    workDir: string,
): Promise<MergedVideo> {
    const out = path.join(workDir, 'with-subtitles.mp4');
    try {
        const offset = (await probe(merged.file)).startSecs ?? 0;
        const inputs = subtitleInputs(subtitles);
        // Room for the index at the front (moov-reserve.ts): no move of the whole copy after it is written.
        const room = await subtitleRoom(merged.file, subtitles);
        await addSubtitles(merged.file, inputs, offset, out, room);
        if (room && !reservedLayoutOk(await topBoxes(out).catch(() => []), room, (await stat(out)).size)) {
            log.debug(`The index of ${out} did not fit the ${room} bytes reserved for it; copying again`);
            await addSubtitles(merged.file, inputs, offset, out);
        }
        // A new file: the hash computed while the first one was written is not its hash.
        const { sha256: _old, ...rest } = merged;
        return { ...rest, file: out, bytes: (await stat(out)).size };
    } catch (error) {
        await rm(out, { force: true });
        log.warning(`Subtitles not muxed into ${merged.file}: ${(error as Error).message}; stored beside it`);
        return merged;
    }
}
