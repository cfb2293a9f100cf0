/**
 * Hands ffmpeg's concat demuxer a video's sections while they download, one unix socket each. The
 * list names `unix:<dir>/<k>.sock` for section k; ffmpeg connects to section k once it has read
 * section k-1 to its end, and the section's units are written into that connection as they arrive.
 *
 * Why: a video with discontinuities (episodes, ad breaks) restarts its timestamps at each one, so its
 * sections cannot be one byte stream on ffmpeg's stdin; the concat demuxer shifts each section to
 * follow the previous one, but reads each from a URL of its own. Without this, the sections were
 * written to files while they downloaded and remuxed after the last byte: on the bench's 927 MB video
 * (ten sections) that was a fourth write of the whole video and ~10 s after the download on a disk
 * that writes back 124 MB/s. Node cannot make a FIFO; a unix socket is what ffmpeg's `unix` protocol
 * reads. Not on Windows (no `unix` protocol there) nor with an ffmpeg older than 5.0: `socketsAvailable`
 * says so and the caller joins files. The feeds (`stdinFeed`, `socketFeed`) are where the live remux
 * writes its units: stdin for one section, a socket each for several.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import type { PassThrough, Writable } from 'node:stream';
import os from 'node:os';
import path from 'node:path';

/** sun_path holds 108 bytes on Linux, 104 on macOS: a longer path cannot be listened on. */
const MAX_SOCKET_PATH = 100;

/**
 * The oldest libavformat whose concat demuxer places a section read from a socket right after the one
 * before it. Measured on two 6 s MPEG-TS sections whose timestamps start at 1.4 s (ffmpeg's own TS
 * muxer; a site's segments start anywhere): the bundled 2018 build (libavformat 58.24) started the second
 * one 1.54 s late, a gap in the MP4 that its verification then refused, after a remux for nothing;
 * Debian's 5.1 (59.27) joined them frame to frame. From files, where the demuxer can seek, both are
 * exact. 59 is FFmpeg 5.0; no 4.x build was measured, so none is trusted.
 */
const SOCKET_SECTIONS_FROM_LIBAVFORMAT = 59;

/**
 * Whether ffmpeg can read a video's sections from unix sockets here: not on Windows (no `unix`
 * protocol), and only with a libavformat that follows each section exactly. Pure.
 */
export const socketsAvailable = (platform: NodeJS.Platform, libavformat: number | undefined): boolean =>
    platform !== 'win32' && libavformat !== undefined && libavformat >= SOCKET_SECTIONS_FROM_LIBAVFORMAT;

/**
 * Where the sockets' folder goes: under `parent` when `count` sockets' paths fit there, else under `tmp`
 * (a deep work folder; sun_path is short). Pure.
 */
export function socketsBase(parent: string, count: number, tmp = os.tmpdir()): string {
    const longest = Buffer.byteLength(path.join(parent, 'sockets-XXXXXX', `${Math.max(0, count - 1)}.sock`));
    return longest <= MAX_SOCKET_PATH ? parent : tmp;
}

/** The concat demuxer's list for sections read from `paths`. The paths are ours (no quotes in them). Pure. */
export const socketList = (paths: readonly string[]): string => paths.map((p) => `file 'unix:${p}'\n`).join('');

export class SectionSockets {
    private readonly servers: Server[] = [];
    private readonly connections: Promise<Socket>[] = [];
    private readonly sockets: Socket[] = [];
    private closed = false;

    private constructor(
        private readonly dir: string,
        readonly paths: string[],
    ) {}

    /**
     * Listens on one socket per section in a new private folder (mode 0700): under `parent` (the video's
     * work folder, removed with it, also after a kill) when the paths fit a socket's, else under the
     * system's temporary folder. Each socket takes one connection.
     */
    static async open(count: number, parent: string): Promise<SectionSockets> {
        const dir = await mkdtemp(path.join(socketsBase(parent, count), 'sockets-'));
        const paths = Array.from({ length: count }, (_, k) => path.join(dir, `${k}.sock`));
        const sockets = new SectionSockets(dir, paths);
        try {
            if (paths.some((p) => Buffer.byteLength(p) > MAX_SOCKET_PATH))
                throw new Error(`the folder's path is too long for a socket: ${dir}`);
            for (const p of paths) await sockets.listen(p);
        } catch (error) {
            await sockets.close();
            throw error;
        }
        return sockets;
    }

    private async listen(socketPath: string): Promise<void> {
        const server = createServer({ pauseOnConnect: false });
        this.servers.push(server);
        this.connections.push(
            new Promise<Socket>((resolve, reject) => {
                server.once('connection', (socket) => {
                    // One reader per section: a second connection would get none of its bytes.
                    server.close();
                    // A write to an ffmpeg that died fails here; its exit is what stops the feed (live-remux.ts).
                    socket.on('error', () => undefined);
                    this.sockets.push(socket);
                    resolve(socket);
                });
                server.once('close', () => reject(new Error('the section was never read')));
            }),
        );
        // Whoever does not wait for a section (a stop before ffmpeg reached it) must not see it rejected.
        this.connections.at(-1)!.catch(() => undefined);
        await new Promise<void>((resolve, reject) => {
            server.once('error', reject);
            server.listen(socketPath, () => {
                server.off('error', reject);
                resolve();
            });
        });
    }

    /** Section k's connection, once ffmpeg has asked for it; rejects when `signal` aborts or the sockets close. */
    connection(k: number, signal: AbortSignal): Promise<Socket> {
        const connected = this.connections[k];
        if (!connected) return Promise.reject(new Error(`no section ${k}`));
        return new Promise((resolve, reject) => {
            const aborted = (): void => reject(new Error('stopped'));
            if (signal.aborted) return aborted();
            signal.addEventListener('abort', aborted, { once: true });
            connected.then(resolve, reject).finally(() => signal.removeEventListener('abort', aborted));
        });
    }

    /** Stops listening, drops every connection and removes the folder. Idempotent. */
    async close(): Promise<void> {
        if (this.closed) return;
        this.closed = true;
        for (const server of this.servers) server.close();
        for (const socket of this.sockets) socket.destroy();
        await rm(this.dir, { recursive: true, force: true });
    }
}

/** Where the units go: ffmpeg's stdin (one section) or one socket per section. */
export interface Feed {
    /** The stream of section k, once ffmpeg reads it; the section before it is ended first. */
    section(k: number): Promise<Writable>;
    /** The last section is complete. */
    end(): void;
    close(): void;
}

export function stdinFeed(input: PassThrough): Feed {
    return { section: async () => input, end: () => input.end(), close: () => input.destroy() };
}

export function socketFeed(sockets: SectionSockets, signal: AbortSignal): Feed {
    let current = -1;
    let sink: Writable | undefined;
    return {
        async section(k) {
            if (k !== current) {
                // ffmpeg asks for section k only once it has read section k-1 to its end.
                sink?.end();
                sink = await sockets.connection(k, signal);
                current = k;
            }
            return sink!;
        },
        end: () => sink?.end(),
        close: () => void sockets.close(),
    };
}
