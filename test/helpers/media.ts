/**
 * Checks on media files with the real ffmpeg: decoded frame hashes, streams, file hashes. They run
 * the binaries the crawler resolved (FFMPEG_PATH / FFPROBE_PATH, else the bundled ffmpeg), so a test
 * run under either binary checks its output with that same binary.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { probe, type MediaInfo } from '../../src/merge/probe.js';
import { ffmpegPath } from '../../src/merge/tools.js';

const run = promisify(execFile);

/** MD5 of every decoded video frame, in order (timestamps left out: remuxing may shift them). */
export async function frameHashes(file: string): Promise<string[]> {
    const args = ['-v', 'error', '-i', file, '-map', '0:v:0', '-f', 'framemd5', '-'];
    const { stdout } = await run(ffmpegPath, args, { maxBuffer: 256 * 1024 * 1024 });
    return stdout
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => l.split(',').pop()!.trim());
}

export async function sha256(file: string): Promise<string> {
    return createHash('sha256')
        .update(await readFile(file))
        .digest('hex');
}

export const mediaInfo = (file: string): Promise<MediaInfo> => probe(file);
