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
    const jumped = o.kind === 'window' && o.jumpAtSecs !== undefined && o.elapsedSecs >= o.jumpAtSecs ? (o.jumpBy ?? 0) : 0;
    return Math.min(o.segments.length, grown + jumped);
}

export function livePlaylist(o: LiveOptions): string {
    const end = head(o);
    const start = o.kind === 'event' ? 0 : Math.max(0, end - (o.windowSize ?? 3));
    const lines = ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-TARGETDURATION:${Math.ceil(o.segmentSecs)}`, `#EXT-X-MEDIA-SEQUENCE:${start}`];
    if (o.kind === 'event') lines.push('#EXT-X-PLAYLIST-TYPE:EVENT');
    for (let i = start; i < end; i++) lines.push(`#EXTINF:${o.segmentSecs.toFixed(3)},`, `${o.base}${o.segments[i]}`);
    // An EVENT ends once all of it is out; a window never does (the fixture just stops growing).
    if (o.kind === 'event' && end === o.segments.length) lines.push('#EXT-X-ENDLIST');
    return `${lines.join('\n')}\n`;
}
