/**
 * Subtitles for the demo site and the tests, made the way packagers make them: an HLS master with
 * two `TYPE=SUBTITLES` renditions of segmented WebVTT (each segment with its `X-TIMESTAMP-MAP`,
 * a cue that spans a segment boundary written into both segments), and a sidecar `.vtt` for a
 * `<track>` element. The expected cues are returned so tests compare against what was made.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatVttTime, type Cue } from '../merge/subtitles.js';

export interface SubtitleMedia {
    /** `/media/subs/master.m3u8`: the `api` video with English and German subtitles. */
    masterPath: string;
    /** Cues by language, times from the video's first frame. */
    cues: Record<'en' | 'de', Cue[]>;
    /** A sidecar WebVTT file for a `<track>` element, and its cues. */
    sidecarPath: string;
    sidecarCues: Cue[];
}

/** MPEG-TS from ffmpeg starts at 1.4 s: 126000 ticks of the 90 kHz clock. */
const TS_START = 126_000;
const SEGMENT_SECS = 2;

function cuesFor(lang: 'en' | 'de', secs: number): Cue[] {
    const word = lang === 'en' ? 'Line' : 'Zeile';
    const cues: Cue[] = [];
    for (let i = 0; i + 1 <= secs; i++) cues.push({ start: i + 0.2, end: i + 0.8, text: `${word} ${i + 1}` });
    // Across the boundary of the first two segments: packagers repeat it in both.
    // It ends before the next cue starts: MP4's mov_text cannot show two cues at once.
    cues.push({ start: 1.85, end: 2.15, text: lang === 'en' ? 'Across <b>two</b> segments' : 'Über zwei Segmente' });
    return cues.sort((a, b) => a.start - b.start);
}

const cueText = (c: Cue): string => `${formatVttTime(c.start)} --> ${formatVttTime(c.end)}\n${c.text}`;

async function segmentedVtt(dir: string, lang: 'en' | 'de', cues: Cue[], secs: number): Promise<void> {
    const count = Math.ceil(secs / SEGMENT_SECS);
    const lines = ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-TARGETDURATION:${SEGMENT_SECS}`, '#EXT-X-MEDIA-SEQUENCE:0'];
    for (let k = 0; k < count; k++) {
        const [from, to] = [k * SEGMENT_SECS, Math.min(secs, (k + 1) * SEGMENT_SECS)];
        const inSegment = cues.filter((c) => c.start < to && c.end > from);
        const header = `WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:${TS_START},LOCAL:00:00:00.000`;
        await writeFile(path.join(dir, `${lang}_${k}.vtt`), `${header}\n\n${inSegment.map(cueText).join('\n\n')}\n`);
        lines.push(`#EXTINF:${(to - from).toFixed(3)},`, `${lang}_${k}.vtt`);
    }
    lines.push('#EXT-X-ENDLIST');
    await writeFile(path.join(dir, `${lang}.m3u8`), `${lines.join('\n')}\n`);
}

/** Writes the subtitle set under `<root>/subs/`; the `api` video (6 s) must be in `<root>/api/`. */
export async function makeSubtitleMedia(root: string, videoSecs = 6): Promise<SubtitleMedia> {
    const dir = path.join(root, 'subs');
    await mkdir(dir, { recursive: true });
    const cues = { en: cuesFor('en', videoSecs), de: cuesFor('de', videoSecs) };
    await segmentedVtt(dir, 'en', cues.en, videoSecs);
    await segmentedVtt(dir, 'de', cues.de, videoSecs);
    const master = [
        '#EXTM3U',
        '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,URI="en.m3u8"',
        '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="Deutsch",LANGUAGE="de",DEFAULT=NO,AUTOSELECT=YES,URI="de.m3u8"',
        '#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=640x360,CODECS="avc1.42c01e,mp4a.40.2",SUBTITLES="subs"',
        '../api/index.m3u8',
    ];
    await writeFile(path.join(dir, 'master.m3u8'), `${master.join('\n')}\n`);
    const sidecarCues: Cue[] = [
        { start: 0.5, end: 1.5, text: 'Sidecar one' },
        { start: 2, end: 3.25, text: 'Sidecar two\nsecond line' },
    ];
    await writeFile(path.join(dir, 'sidecar-en.vtt'), `WEBVTT\n\n${sidecarCues.map(cueText).join('\n\n')}\n`);
    return { masterPath: '/media/subs/master.m3u8', cues, sidecarPath: '/media/subs/sidecar-en.vtt', sidecarCues };
}
