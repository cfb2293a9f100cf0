/**
 * Real DASH for the demo site and the tests, in the three shapes sites use: SegmentTemplate with a
 * SegmentTimeline (two video qualities, audio apart), SegmentTemplate with $Number$ only, and the
 * on-demand profile (one file per representation, SegmentBase with a sidx index), plus a copy of
 * the first behind Widevine ContentProtection. Sources are encoded once, then cut with `-c copy`
 * so the segments hold exactly the source's frames.
 */
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { encode, h264Aac, runFfmpeg, SYSTEM_FFMPEG, testSignal, type ClipSpec } from './file-media.js';

/** Where the MPDs live under the media root (served as /media/<path>). */
export const DASH_PATHS = {
    timeline: 'dash/timeline/manifest.mpd',
    number: 'dash/number/manifest.mpd',
    /** The $Number$ MPD's source, which pages also offer as a plain MP4 <source>. */
    numberMp4: 'dash/number/source.mp4',
    onDemand: 'dash/ondemand/manifest.mpd',
    /** Beside the timeline MPD, over the same clear segments: only the MPD says DRM. */
    drm: 'dash/timeline/drm.mpd',
} as const;

export interface DashVideo {
    mpd: string;
    /** The encoded source of each video representation, by name. */
    sources: Record<string, string>;
}

export interface DashMedia {
    /** Sources `high` (640x360, tone 440 Hz) and `low` (320x180). */
    timeline: DashVideo;
    /** Source `main` (480x270); also served as a plain MP4 beside the MPD (`source.mp4`). */
    number: DashVideo;
    /** Source `main` (512x288). */
    onDemand: DashVideo;
    drm: string;
}

const dashArgs = (template: boolean, timeline: boolean): string[] => [
    '-c',
    'copy',
    '-f',
    'dash',
    '-seg_duration',
    '1',
    '-use_template',
    template ? '1' : '0',
    '-use_timeline',
    timeline ? '1' : '0',
    '-adaptation_sets',
    'id=0,streams=v id=1,streams=a',
    // .m4s, as most sites name fMP4 segments (the 2018 build's default is .mp4).
    '-init_seg_name',
    'init-$RepresentationID$.m4s',
    '-media_seg_name',
    'chunk-$RepresentationID$-$Number%05d$.m4s',
];

/**
 * ffmpeg rewrites the MPD while muxing: it goes to a side name and is renamed once complete, so
 * the final name means the whole set is there (the cache check).
 */
async function cut(mpd: string, inputs: string[], maps: string[], args: string[], bin?: string): Promise<void> {
    const side = path.join(path.dirname(mpd), 'ffmpeg-out.mpd');
    await runFfmpeg([...inputs.flatMap((i) => ['-i', i]), ...maps.flatMap((m) => ['-map', m]), ...args, side], bin);
    await rename(side, mpd);
}

const source = (file: string, spec: ClipSpec): Promise<void> => encode(file, [...testSignal(spec), ...h264Aac()]);

async function makeTimeline(root: string): Promise<DashVideo> {
    const mpd = path.join(root, DASH_PATHS.timeline);
    const dir = path.dirname(mpd);
    const sources = { high: path.join(dir, 'source-high.mp4'), low: path.join(dir, 'source-low.mp4') };
    if (!existsSync(mpd)) {
        await Promise.all([
            source(sources.high, { width: 640, height: 360, secs: 5, toneHz: 440 }),
            source(sources.low, { width: 320, height: 180, secs: 5, toneHz: 440 }),
        ]);
        // Representations 0 (high) and 1 (low) share adaptation set 0; the audio (2) is set 1.
        await cut(mpd, [sources.high, sources.low], ['0:v:0', '1:v:0', '0:a:0'], dashArgs(true, true));
    }
    return { mpd, sources };
}

async function makeNumber(root: string): Promise<DashVideo> {
    const mpd = path.join(root, DASH_PATHS.number);
    const main = path.join(root, DASH_PATHS.numberMp4);
    if (!existsSync(mpd)) {
        await source(main, { width: 480, height: 270, secs: 5, toneHz: 494 });
        await cut(mpd, [main], ['0:v:0', '0:a:0'], dashArgs(true, false));
    }
    return { mpd, sources: { main } };
}

/** Top-level MP4 boxes of a file: type, offset, size. */
export async function topBoxes(file: string): Promise<{ type: string; offset: number; size: number }[]> {
    const fh = await open(file, 'r');
    try {
        const { size: total } = await fh.stat();
        const boxes: { type: string; offset: number; size: number }[] = [];
        const head = Buffer.alloc(16);
        for (let offset = 0; offset + 8 <= total;) {
            await fh.read(head, 0, 16, offset);
            let size = head.readUInt32BE(0);
            if (size === 1) size = Number(head.readBigUInt64BE(8));
            if (size === 0) size = total - offset;
            if (size < 8) throw new Error(`bad MP4 box at ${offset} in ${file}`);
            boxes.push({ type: head.toString('latin1', 4, 8), offset, size });
            offset += size;
        }
        return boxes;
    } finally {
        await fh.close();
    }
}

/** `<SegmentBase>` of an on-demand file: the init section is everything up to moov's end, the index is the sidx. */
async function segmentBase(file: string): Promise<string> {
    const boxes = await topBoxes(file);
    const moov = boxes.findIndex((b) => b.type === 'moov');
    const sidx = boxes[moov + 1];
    if (moov < 0 || sidx?.type !== 'sidx') {
        throw new Error(`${file}: no sidx right after moov (${boxes.map((b) => b.type).join(' ')})`);
    }
    return (
        `<SegmentBase indexRange="${sidx.offset}-${sidx.offset + sidx.size - 1}">` +
        `<Initialization range="0-${sidx.offset - 1}"/></SegmentBase>`
    );
}

/** A representation's BaseURL and the SegmentList ffmpeg writes after it. */
const LIST = /<BaseURL>([^<]+)<\/BaseURL>(\s*)<SegmentList[\s\S]*?<\/SegmentList>/g;

/**
 * The on-demand profile. The bundled 2018 ffmpeg has no `-global_sidx`: its single files carry
 * one sidx per fragment, each indexing only its own fragment, useless as a SegmentBase index. So
 * Debian's ffmpeg 5.1 cuts this one (`-global_sidx 1` writes one sidx for all, right after moov);
 * it still writes a SegmentList, replaced here by the SegmentBase real on-demand MPDs carry.
 */
async function makeOnDemand(root: string): Promise<DashVideo> {
    const mpd = path.join(root, DASH_PATHS.onDemand);
    const dir = path.dirname(mpd);
    const main = path.join(dir, 'source.mp4');
    if (!existsSync(mpd)) {
        await source(main, { width: 512, height: 288, secs: 5, toneHz: 370 });
        const raw = path.join(dir, 'raw.mpd');
        await cut(
            raw,
            [main],
            ['0:v:0', '0:a:0'],
            [
                ...dashArgs(true, false),
                '-single_file',
                '1',
                '-global_sidx',
                '1',
                '-single_file_name',
                'stream$RepresentationID$.mp4',
            ],
            SYSTEM_FFMPEG,
        );
        // Names as sites give them: the audio file as .m4a.
        await rename(path.join(dir, 'stream0.mp4'), path.join(dir, 'video.mp4'));
        await rename(path.join(dir, 'stream1.mp4'), path.join(dir, 'audio.m4a'));
        const bases = { 'stream0.mp4': 'video.mp4', 'stream1.mp4': 'audio.m4a' } as Record<string, string>;
        const index: Record<string, string> = {};
        for (const name of Object.values(bases)) index[name] = await segmentBase(path.join(dir, name));
        const text = (await readFile(raw, 'utf8'))
            .replace('urn:mpeg:dash:profile:isoff-live:2011', 'urn:mpeg:dash:profile:isoff-on-demand:2011')
            .replace(LIST, (_m, base: string, gap: string) => {
                const name = bases[base];
                if (!name) throw new Error(`unexpected BaseURL ${base} in ${raw}`);
                return `<BaseURL>${name}</BaseURL>${gap}${index[name]}`;
            });
        if (!text.includes('<SegmentBase')) throw new Error(`${raw}: no SegmentList to replace`);
        await writeFile(mpd, text);
    }
    return { mpd, sources: { main } };
}

/** Widevine and the common-encryption marker on every adaptation set of the timeline MPD. */
async function makeDrm(root: string, timelineMpd: string): Promise<string> {
    const mpd = path.join(root, DASH_PATHS.drm);
    if (!existsSync(mpd)) {
        const protection =
            '\n\t\t\t<ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc"/>' +
            '\n\t\t\t<ContentProtection schemeIdUri="urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed" value="Widevine"/>';
        const text = (await readFile(timelineMpd, 'utf8')).replace(/<AdaptationSet[^>]*>/g, (tag) => tag + protection);
        if (!text.includes('ContentProtection')) throw new Error(`${timelineMpd}: no AdaptationSet`);
        await writeFile(mpd, text);
    }
    return mpd;
}

export async function makeDashMedia(root: string): Promise<DashMedia> {
    await mkdir(path.join(root, 'dash'), { recursive: true });
    const [timeline, number, onDemand] = await Promise.all([makeTimeline(root), makeNumber(root), makeOnDemand(root)]);
    return { timeline, number, onDemand, drm: await makeDrm(root, timeline.mpd) };
}
