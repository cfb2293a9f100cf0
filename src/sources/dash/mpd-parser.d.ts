/**
 * The part of mpd-parser 1.4 (which ships no types) that the DASH source uses: the lower-level steps
 * of its `parse()` (text → DOM → inherited attributes → per-Representation segment lists), without
 * the HLS-shaped `toM3u8` step (see mpd.ts for why).
 */
declare module 'mpd-parser' {
    /**
     * From an inclusive `first-last` range: `offset` = first, `length` = last - first + 1 (our own
     * ByteRange semantics). Either becomes a BigInt when it is not below Number.MAX_SAFE_INTEGER.
     */
    export interface MpdByteRange {
        offset: number | bigint;
        length: number | bigint;
    }

    export interface MpdUri {
        /** As written in the MPD (empty when there was no URL, only a range of the BaseURL). */
        uri: string;
        /** Against the inherited BaseURL; not checked for scheme. */
        resolvedUri: string;
        byterange?: MpdByteRange;
    }

    export interface MpdSegment extends MpdUri {
        /** Seconds. */
        duration: number;
        /** The $Number$ of the segment (startNumber-based); toM3u8 later renumbers from 0. */
        number: number;
        timeline: number;
        presentationTime?: number;
        map?: MpdUri;
    }

    export interface TimelineEntry {
        t?: number;
        d?: number;
        r?: number;
    }

    export interface SegmentInformation {
        template?: Record<string, unknown>;
        list?: Record<string, unknown> & { segmentUrls?: unknown[] };
        base?: Record<string, unknown>;
        segmentTimeline?: TimelineEntry[];
    }

    /** Every attribute of MPD, Period, AdaptationSet and Representation, the nearest one winning. */
    export interface RepresentationAttributes {
        [name: string]: unknown;
        type: 'static' | 'dynamic';
        id?: string;
        bandwidth?: number;
        width?: number;
        height?: number;
        codecs?: string;
        mimeType?: string;
        contentType?: string;
        lang?: string;
        baseUrl?: string;
        periodStart: number | null;
        periodDuration?: number;
        sourceDuration: number;
        role?: { value?: string };
    }

    export interface RepresentationInfo {
        attributes: RepresentationAttributes;
        segmentInfo: SegmentInformation;
    }

    export interface DashPlaylist {
        attributes: RepresentationAttributes;
        segments?: MpdSegment[];
        /** SegmentBase with @indexRange: where the index is; `segments` is then empty. */
        sidx?: MpdSegment;
    }

    export interface InheritOptions {
        manifestUri?: string;
        /** Wall clock (ms) for the live window of a dynamic MPD. */
        NOW?: number;
        clientOffset?: number;
    }

    /** Throws `Error('DASH_INVALID_XML')` / `'DASH_EMPTY_MANIFEST'` for anything but an `<MPD>` document. */
    export function stringToMpdXml(text: string): Element;
    export function inheritAttributes(
        mpd: Element,
        options?: InheritOptions,
    ): { representationInfo: RepresentationInfo[]; locations?: string[] };
    export function toPlaylists(representations: RepresentationInfo[]): DashPlaylist[];
}
