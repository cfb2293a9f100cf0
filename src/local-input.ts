/**
 * Local runs: INPUT.json is read here, before `Actor.init()`. Crawlee's local storage logs a file
 * that is not valid JSON as "invalid JSON content and will be ignored" and `Actor.getInput()` then
 * returns null, the same as no input at all: the run used to purge the storage and crawl the demo
 * site. And `Actor.init()` purges the default dataset and key-value store, so input is validated
 * before it, not after.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export class InputFileError extends Error {
    override readonly name = 'InputFileError' as const;
}

/** "line L, column C" of a character offset in `text`. Pure. */
export function lineAndColumn(text: string, offset: number): string {
    const before = text.slice(0, offset).split('\n');
    return `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}

/** Parses INPUT.json text; throws `InputFileError` naming the file and where parsing stopped. Pure. */
export function parseInputFile(text: string, file: string): Record<string, unknown> {
    let value: unknown;
    try {
        value = JSON.parse(text.replace(/^\uFEFF/, ''));
    } catch (error) {
        const message = (error as Error).message;
        const at = /at position (\d+)/.exec(message);
        // Node 20 gives no position for a file that stops early: then it is the end.
        const offset = at ? Number(at[1]) : /end of JSON/i.test(message) ? text.length : undefined;
        const where = offset === undefined ? '' : ` at ${lineAndColumn(text, offset)}`;
        throw new InputFileError(
            `${file} is not valid JSON${where}: ${message.replace(/ in JSON at position \d+.*$/s, '')}`,
        );
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        const what = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
        throw new InputFileError(
            `${file} must hold a JSON object such as {"startUrls": [{"url": "https://…"}]}, got ${what}`,
        );
    }
    return value as Record<string, unknown>;
}

/** The local input file's path (the input key is INPUT unless the platform's variables say otherwise). */
export function localInputPath(storageDir: string, env: NodeJS.ProcessEnv = process.env): string {
    const key = env.ACTOR_INPUT_KEY ?? env.APIFY_INPUT_KEY ?? 'INPUT';
    return path.join(storageDir, 'key_value_stores', 'default', `${key}.json`);
}

/** The local INPUT.json as an object, or undefined when there is none. */
export function readLocalInput(storageDir: string): Record<string, unknown> | undefined {
    const file = localInputPath(storageDir);
    let text: string;
    try {
        text = readFileSync(file, 'utf8');
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new InputFileError(`${file} cannot be read: ${(error as Error).message}`);
    }
    return parseInputFile(text, file);
}
