/**
 * Joins a track's downloaded units into one file, in playlist (= media sequence) order, with each
 * fMP4 init section written where the segments start needing it. Byte concatenation is what an HLS
 * player feeds its demuxer too; it keeps ffmpeg away from playlists and from opening every segment
 * at once (its `concat:` protocol runs out of file handles past ~1000 segments).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { unitName, type TrackJob } from '../download/jobs.js';

/** The units of a track in the order they must be written. Pure. */
export function concatOrder(track: TrackJob): string[] {
    const order: string[] = [];
    let currentMap: number | null = null;
    for (let i = 0; i < track.segments; i++) {
        const map = track.segmentMap?.[i] ?? null;
        if (map !== null && map !== currentMap) order.push(unitName(track.name, 'init', map));
        currentMap = map;
        order.push(unitName(track.name, 'seg', i));
    }
    return order;
}

export async function concatTrack(track: TrackJob, workDir: string, out: string): Promise<Buffer> {
    const writer = createWriteStream(out);
    for (const unit of concatOrder(track)) {
        const reader = createReadStream(path.join(workDir, unit));
        reader.pipe(writer, { end: false });
        await Promise.race([once(reader, 'end'), once(writer, 'error').then(([e]) => Promise.reject(e as Error))]);
    }
    writer.end();
    await once(writer, 'finish');
    const fh = await open(out, 'r');
    try {
        const head = Buffer.alloc(16);
        await fh.read(head, 0, 16, 0);
        return head;
    } finally {
        await fh.close();
    }
}
