/**
 * Tokens in query strings, passwords in URLs and cookies in headers must not reach the log. Our own
 * messages redact at the source; Crawlee's retry warnings print `request.url`, so the shared logger
 * is wrapped once at start-up to redact whatever passes through it.
 */
import { log } from '@crawlee/core';
import { redactHeaders } from './headers.js';

const URL_IN_TEXT = /\b(https?:\/\/)(?:[^\s/@"']+@)?([^\s"'?#]+)(\?[^\s"'#]*)?/gi;

/** URLs in free text lose their credentials and query strings. Pure. */
export function redactText(text: string): string {
    return text.replace(
        URL_IN_TEXT,
        (_m, scheme: string, rest: string, query?: string) => `${scheme}${rest}${query ? '?…' : ''}`,
    );
}

/** Log data with URLs, headers and cookies redacted (objects copied, never mutated). Pure. */
export function redactData(data: unknown, depth = 0): unknown {
    if (typeof data === 'string') return redactText(data);
    if (depth > 3 || data === null || typeof data !== 'object') return data;
    if (Array.isArray(data)) return data.map((d) => redactData(d, depth + 1));
    return Object.fromEntries(
        Object.entries(data as Record<string, unknown>).map(([k, v]) => {
            if (/^(headers)$/i.test(k) && v && typeof v === 'object')
                return [k, redactHeaders(v as Record<string, string>)];
            if (/^(cookie|cookies|authorization|password|proxyUrl)$/i.test(k)) return [k, '<redacted>'];
            return [k, redactData(v, depth + 1)];
        }),
    );
}

type LogFn = (level: number, message: string, data?: unknown, exception?: unknown, opts?: unknown) => unknown;

let installed = false;

export function installLogRedaction(): void {
    if (installed) return;
    installed = true;
    const logger = log.getOptions().logger as { _log: LogFn };
    const original = logger._log.bind(logger);
    logger._log = (level, message, data, exception, opts) => {
        const safeException =
            exception instanceof Error
                ? Object.assign(new Error(redactText(exception.message)), {
                      name: exception.name,
                      stack: redactText(exception.stack ?? ''),
                  })
                : exception;
        return original(level, redactText(String(message)), redactData(data), safeException, opts);
    };
}
