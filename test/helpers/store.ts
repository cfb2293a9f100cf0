/** Reads a local key-value store back the way any Crawlee tool does, in a fresh process. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ROOT } from './actor.js';

const run = promisify(execFile);

/**
 * Every record of the default store under `storage` as Crawlee's own `KeyValueStore` lists
 * (`forEachKey`) and reads (`getValue`) it: key → sha256 of the bytes or text, or the value's type
 * (JSON records). Throws when Crawlee cannot read the store.
 */
export async function readBackWithCrawlee(storage: string): Promise<Record<string, string>> {
    const script = `
        import { createHash } from 'node:crypto';
        import { KeyValueStore } from '@crawlee/core';
        const store = await KeyValueStore.open();
        const out = {};
        await store.forEachKey(async (key) => {
            const value = await store.getValue(key);
            const bytes = Buffer.isBuffer(value) || typeof value === 'string';
            out[key] = bytes ? createHash('sha256').update(value).digest('hex') : typeof value;
        });
        console.log(JSON.stringify(out));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
        cwd: ROOT,
        env: { ...process.env, CRAWLEE_STORAGE_DIR: storage, CRAWLEE_PURGE_ON_START: '0' },
        maxBuffer: 16 * 1024 * 1024,
    });
    return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, string>;
}
