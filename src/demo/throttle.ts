/**
 * CDN-like bandwidth for the demo server: at most `bytesPerSec` per response, in parts of at most
 * one 50 ms tick's worth, each followed by a tick's pause.
 */
import { Transform } from 'node:stream';

const TICK_MS = 50;

/**
 * `onAllSent` runs once `total` bytes are out: the client has the whole body then, while the
 * stream itself ends only after the last part's pause (the benchmark counts open connections by it).
 */
export function throttle(bytesPerSec: number, total: number, onAllSent: () => void): Transform {
    const perTick = Math.max(1, Math.floor((bytesPerSec * TICK_MS) / 1000));
    let sent = 0;
    return new Transform({
        transform(chunk: Buffer, _enc, done) {
            const parts: Buffer[] = [];
            for (let i = 0; i < chunk.length; i += perTick) parts.push(chunk.subarray(i, i + perTick));
            const push = (): void => {
                const part = parts.shift();
                if (!part) return done();
                this.push(part);
                sent += part.length;
                if (sent >= total) onAllSent();
                setTimeout(push, TICK_MS);
            };
            push();
        },
    });
}
