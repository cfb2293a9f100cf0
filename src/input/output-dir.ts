/**
 * `outputDir` is checked before `Actor.init()`: an existing file there used to start the crawl, fail
 * every copy, and the retry then reported the image as a duplicate of itself ("0 stored").
 */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { InputError } from './input.js';

/**
 * Throws `InputError('outputDir')` unless `dir` is a writable folder or can be made one: its nearest
 * existing ancestor must be a writable folder (`mkdir -p` makes the rest).
 */
export function checkOutputDir(dir: string, field = 'outputDir'): void {
    const full = path.resolve(dir);
    let at = full;
    for (;;) {
        let isDir: boolean;
        try {
            isDir = statSync(at).isDirectory();
        } catch (error) {
            const code = (error as NodeJS.ErrnoException).code;
            if ((code === 'ENOENT' || code === 'ENOTDIR') && path.dirname(at) !== at) {
                at = path.dirname(at);
                continue;
            }
            throw new InputError(field, `${full} cannot be used: ${(error as Error).message}`);
        }
        if (!isDir) {
            const what = at === full ? 'is a file, not a folder' : `cannot be made: ${at} is a file`;
            throw new InputError(field, `${full} ${what}`);
        }
        try {
            accessSync(at, constants.W_OK | constants.X_OK);
        } catch {
            throw new InputError(field, `${at === full ? full : `${full} cannot be made: ${at}`} is not writable`);
        }
        return;
    }
}
