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
    const scanner = new Scanner(text);
    try {
        scanner.document();
        return undefined;
    } catch (error) {
        if (error instanceof Stop) return { offset: error.offset, message: error.message };
        throw error;
    }
}

/** A recursive-descent reader of one JSON text that throws Stop at the first place it is not JSON. */
class Scanner {
    private i = 0;

    constructor(private readonly text: string) {}

    document(): void {
        this.value();
        this.space();
        if (this.i < this.text.length) this.fail(`unexpected ${this.what()} after the end of the JSON`);
    }

    private what(): string {
        return this.i >= this.text.length ? 'end of file' : JSON.stringify(this.text[this.i]);
    }

    private fail(message: string): never {
        throw new Stop(this.i, message);
    }

    private space(): void {
        while (this.i < this.text.length && ' \t\n\r'.includes(this.text[this.i]!)) this.i++;
    }

    private string(): void {
        const start = this.i;
        this.i++; // the opening quote
        for (;;) {
            if (this.i >= this.text.length) throw new Stop(start, 'unterminated string');
            const c = this.text[this.i]!;
            if (c === '"') {
                this.i++;
                return;
            }
            if (c === '\\') {
                this.i++;
                const e = this.text[this.i];
                if (e === 'u') {
                    if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.i + 1, this.i + 5)))
                        this.fail('bad \\u escape in a string');
                    this.i += 5;
                } else if (e !== undefined && '"\\/bfnrt'.includes(e)) this.i++;
                else this.fail(`bad escape ${JSON.stringify(`\\${e ?? ''}`)} in a string`);
            } else if (c < ' ') {
                this.fail(
                    c === '\n' ? 'unterminated string (line break inside a string)' : 'control character in a string',
                );
            } else this.i++;
        }
    }

    private number(): void {
        const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.i));
        if (!m || m[0] === '-') this.fail(`unexpected ${this.what()}`);
        this.i += m![0].length;
    }

    private value(): void {
        this.space();
        const c = this.text[this.i];
        if (c === '{') return this.object();
        if (c === '[') return this.array();
        if (c === '"') return this.string();
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
        for (const literal of ['true', 'false', 'null']) {
            if (this.text.startsWith(literal, this.i)) {
                this.i += literal.length;
                return;
            }
        }
        if (c === "'") this.fail('strings must use double quotes');
        this.fail(
            this.i >= this.text.length
                ? 'unexpected end of file: the JSON is cut short'
                : `unexpected ${this.what()}, expected a value`,
        );
    }

    private object(): void {
        this.i++;
        this.space();
        if (this.text[this.i] === '}') {
            this.i++;
            return;
        }
        for (;;) {
            this.space();
            if (this.text[this.i] !== '"') {
                if (this.text[this.i] === '}') this.fail('trailing comma before "}"');
                if (this.i >= this.text.length) this.fail('unexpected end of file: an object is not closed');
                this.fail(`expected a double-quoted field name, got ${this.what()}`);
            }
            this.string();
            this.space();
            if (this.text[this.i] !== ':')
                this.fail(
                    this.i >= this.text.length
                        ? 'unexpected end of file after a field name'
                        : `expected ":" after a field name, got ${this.what()}`,
                );
            this.i++;
            this.value();
            this.space();
            if (this.text[this.i] === ',') {
                this.i++;
                continue;
            }
            if (this.text[this.i] === '}') {
                this.i++;
                return;
            }
            this.fail(
                this.i >= this.text.length
                    ? 'unexpected end of file: an object is not closed'
                    : `expected "," or "}", got ${this.what()}`,
            );
        }
    }

    private array(): void {
        this.i++;
        this.space();
        if (this.text[this.i] === ']') {
            this.i++;
            return;
        }
        for (;;) {
            this.space();
            if (this.text[this.i] === ']') this.fail('trailing comma before "]"');
            this.value();
            this.space();
            if (this.text[this.i] === ',') {
                this.i++;
                continue;
            }
            if (this.text[this.i] === ']') {
                this.i++;
                return;
            }
            this.fail(
                this.i >= this.text.length
                    ? 'unexpected end of file: an array is not closed'
                    : `expected "," or "]", got ${this.what()}`,
            );
        }
    }
}

/** "line L, column C" of a character offset in `text` (columns count from 1). Pure. */
export function lineAndColumn(text: string, offset: number): string {
    const before = text.slice(0, offset).split('\n');
    return `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}
