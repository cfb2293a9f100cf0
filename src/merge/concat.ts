/**
 * Joins a track's downloaded units into files, in plan order, one file per timeline section, with
 * each init section written where the segments start needing it. Byte concatenation is what a
 * player feeds its demuxer too (and, for the ranges of a plain file, gives the file back); it keeps ffmpeg away from
 * manifests and from opening every segment at once (its `concat:` protocol runs out of file
 * handles past ~1000 segments). Sections are joined later by ffmpeg's concat demuxer, which shifts
 * each section's restarted timestamps to follow the previous one.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { unitName, type TrackJob } from '../model.js';

/** [start, end) segment index ranges of the track's discontinuity sections. Pure. */
export function sections(track: TrackJob): [number, number][] {
    const starts = [0, ...(track.discontinuities ?? []).filter((i) => i > 0 && i < track.segments)];
    return starts.map((s, k) => [s, starts[k + 1] ?? track.segments]);
}

/** The units of segments [from, to) in the order they must be written. Pure. */
export function concatOrder(track: TrackJob, from = 0, to = track.segments): string[] {
    const order: string[] = [];
    let currentMap: number | null = null;
    for (let i = from; i < to; i++) {
        const map = track.segmentInit?.[i] ?? null;
        if (map !== null && map !== currentMap) order.push(unitName(track.name, 'init', map));
        currentMap = map;
        order.push(unitName(track.name, 'seg', i));
    }
    return order;
}

/** Writes the units (files in `workDir`) one after the other into `out`. */
export async function joinUnits(units: readonly string[], workDir: string, out: string): Promise<void> {
    const writer = createWriteStream(out, { highWaterMark: 1024 * 1024 });
    // One listener for the whole join: one per unit piled up past Node's leak warning on long videos.
    const failed = once(writer, 'error').then(([e]) => Promise.reject(e as Error));
    failed.catch(() => undefined);
    for (const unit of units) {
        const reader = createReadStream(path.join(workDir, unit));
        reader.pipe(writer, { end: false });
        await Promise.race([once(reader, 'end'), failed]);
    }
    writer.end();
    await once(writer, 'finish');
}

/** The first 16 bytes of a file, to tell its container. */
export async function readHead(file: string): Promise<Buffer> {
    const fh = await open(file, 'r');
    try {
        const head = Buffer.alloc(16);
        await fh.read(head, 0, 16, 0);
        return head;
    } finally {
        await fh.close();
    }
}

/** A track's section files, and the first bytes of the first (to tell the container). */
export interface JoinedTrack {
    files: string[];
    head: Buffer;
}

/** Writes `<outBase>-<k>` per section; returns the files and the first bytes (to tell the container). */
export async function concatTrack(track: TrackJob, workDir: string, outBase: string): Promise<JoinedTrack> {
    const files: string[] = [];
    for (const [k, [from, to]] of sections(track).entries()) {
        const file = `${outBase}-${k}`;
        await joinUnits(concatOrder(track, from, to), workDir, file);
        files.push(file);
    }
    return { files, head: await readHead(files[0]!) };
}
