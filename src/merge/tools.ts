/**
 * Which ffmpeg and ffprobe run (`resolveTools`): `FFMPEG_PATH` and `FFPROBE_PATH` when set (the Docker
 * image points them at Debian's maintained build), else `ffmpeg` and `ffprobe` on PATH (a laptop's
 * Homebrew, apt or winget build: newer than the bundled one, with ffprobe), an `ffprobe` next to the
 * ffmpeg chosen, else the 2018 static ffmpeg of `@ffmpeg-installer/ffmpeg` as the zero-install default.
 * That one ships no ffprobe. Also what they say of themselves (`-version`).
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export interface Tools {
    ffmpeg: string;
    ffprobe: string | undefined;
}

/** An executable file (a folder is "executable" too: `FFMPEG_PATH=/opt/ffmpeg/` must not pass). */
export const isExecutable = (file: string): boolean => {
    try {
        accessSync(file, constants.X_OK);
        return statSync(file).isFile();
    } catch {
        return false;
    }
};

/** The bundled static ffmpeg, or undefined where its optional platform package is not installed. */
export function bundledFfmpeg(): string | undefined {
    try {
        return (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
    } catch {
        return undefined;
    }
}

/**
 * The first `name` on the PATH of `env` that `exists` accepts (on Windows with the PATHEXT
 * extensions: `ffmpeg.exe`). Pure.
 */
export function findOnPath(
    name: string,
    env: NodeJS.ProcessEnv,
    exists: (file: string) => boolean,
    platform: NodeJS.Platform = process.platform,
): string | undefined {
    const win = platform === 'win32';
    const p = win ? path.win32 : path.posix;
    const dirs = (env.PATH ?? env.Path ?? '').split(win ? ';' : ':').filter(Boolean);
    const exts = win ? (env.PATHEXT ?? '.EXE;.CMD;.BAT;.COM').split(';').filter(Boolean) : [''];
    for (const dir of dirs) {
        for (const ext of exts) {
            const file = p.join(dir.replace(/^"|"$/g, ''), name + ext.toLowerCase());
            if (exists(file)) return file;
        }
    }
    return undefined;
}

/**
 * Which ffmpeg and ffprobe to run: the variable, else the PATH, else the bundled build. Pure: the
 * environment, the file check and the bundled binary are passed in. A variable that is set must name
 * an executable: a typo must not fall back silently to another build.
 */
export function resolveTools(
    env: NodeJS.ProcessEnv,
    exists: (file: string) => boolean,
    bundled: () => string | undefined,
    platform: NodeJS.Platform = process.platform,
): Tools {
    const given = (name: 'FFMPEG_PATH' | 'FFPROBE_PATH'): string | undefined => {
        const value = env[name]?.trim();
        if (!value) return undefined;
        if (!exists(value)) throw new Error(`${name}=${value} is set, but no executable is there`);
        return value;
    };
    const ffmpegChosen = given('FFMPEG_PATH') ?? findOnPath('ffmpeg', env, exists, platform);
    const ffmpegBin = ffmpegChosen ?? bundled();
    if (!ffmpegBin) {
        throw new Error(
            'No ffmpeg: none on PATH and @ffmpeg-installer has no binary here; install ffmpeg or set FFMPEG_PATH',
        );
    }
    let ffprobeBin = given('FFPROBE_PATH');
    if (!ffprobeBin && ffmpegChosen) {
        const p = platform === 'win32' ? path.win32 : path.posix;
        const name = p.basename(ffmpegChosen).replace(/ffmpeg/, 'ffprobe');
        const sibling = p.join(p.dirname(ffmpegChosen), name);
        if (sibling !== ffmpegChosen && exists(sibling)) ffprobeBin = sibling;
    }
    ffprobeBin ??= findOnPath('ffprobe', env, exists, platform);
    return { ffmpeg: ffmpegBin, ffprobe: ffprobeBin };
}

const tools = resolveTools(process.env, isExecutable, bundledFfmpeg);

export const ffmpegPath: string = tools.ffmpeg;
/** Undefined with the bundled ffmpeg alone: `probe` then parses `ffmpeg -i`. */
export const ffprobePath: string | undefined = tools.ffprobe;

const firstLine = (text: string): string => text.split('\n').filter(Boolean)[0]?.trim() ?? '';

/** The first line of `-version` of each tool, for the run log. */
export async function toolVersions(): Promise<{ ffmpeg: string; ffprobe?: string }> {
    const version = (bin: string): Promise<string> =>
        new Promise((resolve) => {
            execFile(bin, ['-version'], { timeout: 10_000 }, (error, stdout) => {
                resolve(error ? `${bin}: ${error.message.slice(0, 100)}` : `${firstLine(stdout)} (${bin})`);
            });
        });
    const [ffmpegVersion, ffprobeVersion] = await Promise.all([
        version(ffmpegPath),
        ffprobePath ? version(ffprobePath) : undefined,
    ]);
    return ffprobeVersion ? { ffmpeg: ffmpegVersion, ffprobe: ffprobeVersion } : { ffmpeg: ffmpegVersion };
}

/** libavformat's major version from `ffmpeg -version`'s output (`libavformat    59. 27.100 / …`). Pure. */
export function libavformatMajor(versionText: string): number | undefined {
    const m = /^libavformat\s+(\d+)\./m.exec(versionText);
    return m ? Number(m[1]) : undefined;
}

let libavformat: Promise<number | undefined> | undefined;

/** The libavformat major version of the ffmpeg in use, asked once per process; undefined when it does not say. */
export function ffmpegLibavformat(): Promise<number | undefined> {
    libavformat ??= new Promise((resolve) => {
        execFile(ffmpegPath, ['-version'], { timeout: 10_000 }, (error, stdout) =>
            resolve(error ? undefined : libavformatMajor(stdout)),
        );
    });
    return libavformat;
}
