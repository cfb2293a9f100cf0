/**
 * Live HLS for the demo server and the tests, from a VOD fixture and a clock: an EVENT playlist
 * that grows by one segment per segment duration and then ends, and a sliding window that never
 * ends (optionally jumping ahead once, as a CDN does after a stall, so some segments are never
 * listed). Pure: the text for a moment in time.
 */

export interface LiveOptions {
    kind: 'event' | 'window';
    /** Seconds since the stream was first requested. */
    elapsedSecs: number;
    /** Segment file names of the VOD fixture, in order, and their duration. */
    segments: readonly string[];
    segmentSecs: number;
    /** Segments listed when the stream is first seen. */
    startWith?: number;
    /** Sliding window length, in segments. */
    windowSize?: number;
    /** Window: after this many seconds, skip `jumpBy` segments that are then never listed. */
    jumpAtSecs?: number;
    jumpBy?: number;
    /** Prefix of segment URIs (where the VOD fixture is served). */
    base: string;
}

/** Index one past the newest segment that exists at this moment. */
function head(o: LiveOptions): number {
    const grown = (o.startWith ?? 2) + Math.floor(o.elapsedSecs / o.segmentSecs);
    const jumped =
        o.kind === 'window' && o.jumpAtSecs !== undefined && o.elapsedSecs >= o.jumpAtSecs ? (o.jumpBy ?? 0) : 0;
    return Math.min(o.segments.length, grown + jumped);
}

export function livePlaylist(o: LiveOptions): string {
    const end = head(o);
    const start = o.kind === 'event' ? 0 : Math.max(0, end - (o.windowSize ?? 3));
    const lines = [
        '#EXTM3U',
        '#EXT-X-VERSION:3',
        `#EXT-X-TARGETDURATION:${Math.ceil(o.segmentSecs)}`,
        `#EXT-X-MEDIA-SEQUENCE:${start}`,
    ];
    if (o.kind === 'event') lines.push('#EXT-X-PLAYLIST-TYPE:EVENT');
    for (let i = start; i < end; i++) lines.push(`#EXTINF:${o.segmentSecs.toFixed(3)},`, `${o.base}${o.segments[i]}`);
    // An EVENT ends once all of it is out; a window never does (the fixture just stops growing).
    if (o.kind === 'event' && end === o.segments.length) lines.push('#EXT-X-ENDLIST');
    return `${lines.join('\n')}\n`;
}

/**
 * A static MPD with SegmentTimelines as a live one at a moment: `dynamic` while it grows by one
 * second of media per second of clock (from `startSecs` of media), each timeline cut to what
 * exists; static again once all of it is out. Segments are fetched from `base` (a BaseURL).
 */
export function liveMpd(
    staticMpd: string,
    elapsedSecs: number,
    startSecs: number,
    base: string,
    clockStart: Date,
): string {
    const availableSecs = startSecs + elapsedSecs;
    let complete = true;
    const cut = staticMpd.replace(
        /(<SegmentTemplate[^>]*\btimescale="(\d+)"[^>]*>\s*<SegmentTimeline>)([\s\S]*?)(<\/SegmentTimeline>)/g,
        (_m, open: string, timescale: string, body: string, close: string) => {
            const scale = Number(timescale);
            const kept: string[] = [];
            let t = 0;
            for (const s of body.matchAll(/<S\b([^>]*)\/>/g)) {
                const attr = (name: string): number | undefined => {
                    const v = new RegExp(`\\b${name}="(\\d+)"`).exec(s[1] ?? '')?.[1];
                    return v === undefined ? undefined : Number(v);
                };
                t = attr('t') ?? t;
                const d = attr('d') ?? 0;
                for (let i = 0; i <= (attr('r') ?? 0); i++, t += d) {
                    // A segment exists once all of it has been "broadcast".
                    if ((t + d) / scale <= availableSecs + 1e-6) kept.push(`<S t="${t}" d="${d}" />`);
                    else complete = false;
                }
            }
            return `${open}\n${kept.join('\n')}\n${close}`;
        },
    );
    const withBase = cut.replace(/(<MPD\b[^>]*>)/, `$1\n<BaseURL>${base}</BaseURL>`);
    if (complete) return withBase;
    return withBase.replace(
        /type="static"/,
        `type="dynamic" availabilityStartTime="${clockStart.toISOString()}" minimumUpdatePeriod="PT1S" publishTime="${new Date().toISOString()}"`,
    );
}
