/**
 * Where a JSON text stops being valid, found by a small strict JSON scanner. `JSON.parse` words its
 * errors per Node version: Node 20 says "… in JSON at position N" but nothing for some errors, Node 22+
 * often only quotes the text (`Unexpected token '}', "{"a":1,}" is not valid JSON`). Only used once
 * `JSON.parse` has failed, so speed does not matter. Pure.
 */

export interface JsonSyntaxError {
    /** Character offset where the text stops being valid JSON. */
    offset: number;
    message: string;
}

class Stop extends Error {
    constructor(
        readonly offset: number,
        message: string,
    ) {
        super(message);
    }
}

/** The first syntax error of `text`, or undefined for valid JSON (RFC 8259). Pure. */
export function findJsonError(text: string): JsonSyntaxError | undefined {
    let i = 0;
    const what = (): string => (i >= text.length ? 'end of file' : JSON.stringify(text[i]));
    const fail = (message: string): never => {
        throw new Stop(i, message);
    };
    const space = (): void => {
        while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
    };
    const string = (): void => {
        const start = i;
        i++; // the opening quote
        for (;;) {
            if (i >= text.length) throw new Stop(start, 'unterminated string');
            const c = text[i]!;
            if (c === '"') {
                i++;
                return;
            }
            if (c === '\\') {
                i++;
                const e = text[i];
                if (e === 'u') {
                    if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail('bad \\u escape in a string');
                    i += 5;
                } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i++;
                else fail(`bad escape ${JSON.stringify(`\\${e ?? ''}`)} in a string`);
            } else if (c < ' ') {
                fail(c === '\n' ? 'unterminated string (line break inside a string)' : 'control character in a string');
            } else i++;
        }
    };
    const number = (): void => {
        const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
        if (!m || m[0] === '-') fail(`unexpected ${what()}`);
        i += m![0].length;
    };
    const value = (): void => {
        space();
        const c = text[i];
        if (c === '{') return object();
        if (c === '[') return array();
        if (c === '"') return string();
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
        for (const literal of ['true', 'false', 'null']) {
            if (text.startsWith(literal, i)) {
                i += literal.length;
                return;
            }
        }
        if (c === "'") fail('strings must use double quotes');
        fail(
            i >= text.length
                ? 'unexpected end of file: the JSON is cut short'
                : `unexpected ${what()}, expected a value`,
        );
    };
    const object = (): void => {
        i++;
        space();
        if (text[i] === '}') {
            i++;
            return;
        }
        for (;;) {
            space();
            if (text[i] !== '"') {
                if (text[i] === '}') fail('trailing comma before "}"');
                if (i >= text.length) fail('unexpected end of file: an object is not closed');
                fail(`expected a double-quoted field name, got ${what()}`);
            }
            string();
            space();
            if (text[i] !== ':')
                fail(
                    i >= text.length
                        ? 'unexpected end of file after a field name'
                        : `expected ":" after a field name, got ${what()}`,
                );
            i++;
            value();
            space();
            if (text[i] === ',') {
                i++;
                continue;
            }
            if (text[i] === '}') {
                i++;
                return;
            }
            fail(
                i >= text.length
                    ? 'unexpected end of file: an object is not closed'
                    : `expected "," or "}", got ${what()}`,
            );
        }
    };
    const array = (): void => {
        i++;
        space();
        if (text[i] === ']') {
            i++;
            return;
        }
        for (;;) {
            space();
            if (text[i] === ']') fail('trailing comma before "]"');
            value();
            space();
            if (text[i] === ',') {
                i++;
                continue;
            }
            if (text[i] === ']') {
                i++;
                return;
            }
            fail(
                i >= text.length
                    ? 'unexpected end of file: an array is not closed'
                    : `expected "," or "]", got ${what()}`,
            );
        }
    };
    try {
        value();
        space();
        if (i < text.length) fail(`unexpected ${what()} after the end of the JSON`);
        return undefined;
    } catch (error) {
        if (error instanceof Stop) return { offset: error.offset, message: error.message };
        throw error;
    }
}

/** "line L, column C" of a character offset in `text` (columns count from 1). Pure. */
export function lineAndColumn(text: string, offset: number): string {
    const before = text.slice(0, offset).split('\n');
    return `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}
