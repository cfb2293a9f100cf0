/**
 * Local runs: INPUT.json is read here, before `Actor.init()`. Crawlee's local storage logs a file
 * that is not valid JSON as "invalid JSON content and will be ignored" and `Actor.getInput()` then
 * returns null, the same as no input at all: the run used to purge the storage and crawl the demo
 * site. And `Actor.init()` purges the default dataset and key-value store, so input is validated
 * before it, not after.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { findJsonError, lineAndColumn } from './json-position.js';

export { lineAndColumn };

export class InputFileError extends Error {
    override readonly name = 'InputFileError' as const;
}

/** Parses INPUT.json text; throws `InputFileError` naming the file and where parsing stopped. Pure. */
export function parseInputFile(text: string, file: string): Record<string, unknown> {
    const body = text.replace(/^\uFEFF/, '');
    let value: unknown;
    try {
        value = JSON.parse(body);
    } catch (error) {
        // Node's wording and whether it gives a position differ by version: the place is found here.
        const found = findJsonError(body);
        const where = found ? ` at ${lineAndColumn(body, found.offset)}` : '';
        throw new InputFileError(`${file} is not valid JSON${where}: ${found?.message ?? (error as Error).message}`);
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
