/**
 * The command line of `npm start -- [options] URL…`, parsed with `node:util`'s parseArgs. Options
 * become input fields and win over INPUT.json; URLs become `startUrls`. Pure but for `usage`.
 */
import { parseArgs } from 'node:util';
import { didYouMean } from './did-you-mean.js';

export class CliError extends Error {
    override readonly name = 'CliError' as const;
}

export interface CliArgs {
    help: boolean;
    urls: string[];
    /** Input fields given as options, already named as in INPUT.json. */
    fields: Record<string, unknown>;
}

/** Option → input field, with how its text becomes the field's value. */
const OPTIONS = {
    quality: {
        field: 'videoQuality',
        type: 'string',
        value: (v: string) => v,
        help: 'highest | lowest | <N>p (e.g. 720p)',
    },
    'output-dir': {
        field: 'outputDir',
        type: 'string',
        value: (v: string) => v,
        help: 'folder every stored file also lands in',
    },
    archive: {
        field: 'archiveName',
        type: 'string',
        value: (v: string) => v,
        help: 'archive name: skip what earlier runs got',
    },
    'max-concurrency': { field: 'maxConcurrency', type: 'string', value: Number, help: 'parallel media downloads' },
    'max-pages': { field: 'maxPagesPerCrawl', type: 'string', value: Number, help: 'cap on rendered pages (0 = none)' },
    'page-wait': { field: 'pageWaitSecs', type: 'string', value: Number, help: 'longest wait on a page, seconds' },
    'link-glob': {
        field: 'linkGlobs',
        type: 'string',
        value: (v: string) => v,
        help: 'follow links matching (repeatable)',
    },
    'max-live-secs': { field: 'maxLiveSecs', type: 'string', value: Number, help: 'longest live recording (0 = none)' },
    workers: { field: 'workers', type: 'string', value: Number, help: 'worker processes sharing the crawl' },
    images: { field: 'downloadImages', type: 'boolean', help: '--no-images: skip images' },
    videos: { field: 'downloadVideos', type: 'boolean', help: '--no-videos: skip videos' },
    subtitles: { field: 'subtitles', type: 'boolean', help: '--no-subtitles: skip subtitle tracks' },
    'allow-private-network': {
        field: 'allowPrivateNetwork',
        type: 'boolean',
        help: 'let pages and media reach loopback and private addresses',
    },
} as const;

type OptionName = keyof typeof OPTIONS;

/** Every option as typed, `--no-` forms of the boolean ones included. */
const OPTION_NAMES = [
    'help',
    ...Object.entries(OPTIONS).flatMap(([name, o]) => (o.type === 'boolean' ? [name, `no-${name}`] : [name])),
];

/** " (did you mean --x?)" for the option a parseArgs message quotes ('--qualty' or '--qualty=720p'). Pure. */
function unknownOptionHint(message: string): string {
    const typed = /'--?([^'=\s]+)/.exec(message)?.[1];
    return typed ? didYouMean(typed, OPTION_NAMES, (s) => `--${s}`) : '';
}

/** Parses argv (without node and the script); throws `CliError` for what a person must fix. Pure. */
export function parseCli(argv: readonly string[]): CliArgs {
    let parsed: ReturnType<typeof parseArgs>;
    try {
        parsed = parseArgs({
            args: [...argv],
            allowPositionals: true,
            allowNegative: true,
            strict: true,
            options: {
                help: { type: 'boolean', short: 'h' },
                ...Object.fromEntries(
                    Object.entries(OPTIONS).map(([name, o]) => [
                        name,
                        { type: o.type, ...(name === 'link-glob' ? { multiple: true } : {}) },
                    ]),
                ),
            },
        });
    } catch (error) {
        const message = (error as Error).message.replace(/\. To specify a positional.*$/s, '');
        throw new CliError(`${message}${unknownOptionHint(message)}`);
    }
    const fields: Record<string, unknown> = {};
    for (const [name, raw] of Object.entries(parsed.values)) {
        if (name === 'help' || raw === undefined) continue;
        const option = OPTIONS[name as OptionName];
        if (option.type === 'boolean') {
            fields[option.field] = raw;
            continue;
        }
        const texts = Array.isArray(raw) ? raw.map(String) : [String(raw)];
        const values = texts.map((t) => option.value(t));
        for (const [i, v] of values.entries()) {
            if (typeof v === 'number' && !Number.isFinite(v)) {
                throw new CliError(`--${name} expects a number, got ${JSON.stringify(texts[i])}`);
            }
        }
        fields[option.field] = name === 'link-glob' ? values : values[0];
    }
    const urls = parsed.positionals.map((u) => u.trim()).filter(Boolean);
    for (const u of urls) {
        if (u.startsWith('-')) throw new CliError(`unknown option ${JSON.stringify(u)}${unknownOptionHint(`'${u}'`)}`);
    }
    return { help: parsed.values.help === true, urls, fields };
}

/** CLI fields over INPUT.json fields; URLs on the command line replace `startUrls`. Pure. */
export function mergeInput(fromFile: Record<string, unknown> | undefined, cli: CliArgs): Record<string, unknown> {
    const merged: Record<string, unknown> = { ...(fromFile ?? {}), ...cli.fields };
    if (cli.urls.length) merged.startUrls = cli.urls.map((url) => ({ url }));
    return merged;
}

interface SchemaField {
    title?: string;
    type?: string;
    default?: unknown;
    description?: string;
    /** `hidden`: a field runs set for each other (workers' roles), not a user's. */
    editor?: string;
}

/** The text of `--help`: usage, options, and every input field from the input schema. */
export function usage(schema: { properties?: Record<string, SchemaField> } | undefined): string {
    const lines = [
        'Usage: npm start -- [options] URL…',
        '',
        'Renders each URL (a video play page, a gallery page, or a direct .m3u8/.mpd/video/image URL)',
        'and stores its media. With no URL and no INPUT.json it crawls the bundled demo site.',
        '',
        'Options (they win over INPUT.json):',
        ...Object.entries(OPTIONS).map(([name, o]) => {
            const flag = o.type === 'boolean' ? `--[no-]${name}` : `--${name} <value>`;
            return `  ${flag.padEnd(26)} ${o.help} (${o.field})`;
        }),
        `  ${'-h, --help'.padEnd(26)} this text`,
        '',
        'Input fields (storage/key_value_stores/default/INPUT.json):',
    ];
    for (const [field, p] of Object.entries(schema?.properties ?? {})) {
        if (p.editor === 'hidden') continue;
        const def = p.default === undefined ? '' : ` [default ${JSON.stringify(p.default)}]`;
        lines.push(`  ${field} (${p.type ?? 'any'})${def}`, `      ${p.description ?? p.title ?? ''}`);
    }
    return `${lines.join('\n')}\n`;
}
