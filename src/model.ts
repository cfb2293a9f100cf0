/**
 * The one model of the pipeline, imported downward by every stage:
 *
 *   sources/{hls,dash,file} ──► VideoPlan ──► download/ (units) ──► merge/ ──► output/
 *
 * A source format (HLS playlist, DASH MPD, a plain video file) only ever produces a `VideoPlan`:
 * tracks made of units, each unit one fetch (a URL, an optional byte range, an optional AES-128 key)
 * with an optional init section. Downloading and merging know nothing of m3u8 or MPD.
 */

/** How a video was served (the dataset item's `format`; `mse`: captured from the page's MediaSource). */
export type SourceFormat = 'hls' | 'dash' | 'file' | 'mse';

export interface ByteRange {
    offset: number;
    length: number;
}

/** AES-128-CBC over a whole unit: the key's URI (http(s) or data:) and the IV as 32 hex digits. */
export interface UnitKey {
    uri: string;
    iv: string;
}

/** One fetch of the plan. */
export interface UnitSource {
    url: string;
    range?: ByteRange;
    key?: UnitKey;
    /**
     * Bytes the page stage already holds in a file of its own (a MediaSource append no network
     * response matched): the unit is moved from there instead of fetched. Never from page content.
     */
    localFile?: string;
}

/** A media segment (or a part of a plain file) of a track. */
export interface SegmentPlan extends UnitSource {
    /** Position in the stream for reports: HLS media sequence, DASH segment number, range index. */
    seq: number;
    durationSecs: number;
    /** Index into `TrackPlan.inits` of the init section this segment needs. */
    init?: number;
    /** Starts a new timeline section: timestamps may restart (HLS discontinuity, a new DASH period). */
    discontinuity: boolean;
}

/** `v` video, `a` separate audio, `s0`, `s1`, … subtitle tracks. */
export type TrackName = 'v' | 'a' | `s${number}`;

/** Text formats of subtitle tracks; each is stored as WebVTT. */
export type SubtitleFormat = 'webvtt' | 'ttml';

/**
 * How a track's bytes arrive. `segments`: each unit is a self-contained segment (MPEG-TS ones are
 * checked packet by packet and may hide behind a fake image header). `ranges`: each unit is a
 * slice of one file, taken byte for byte. `text`: subtitle segments or files, taken as they come.
 */
export type UnitBytes = 'segments' | 'ranges' | 'text';

export interface TrackPlan {
    /** `v`: the video (with its own audio when muxed); `a`: a separate audio track muxed into the MP4. */
    name: TrackName;
    /** Where the unit list came from: a media playlist, an MPD representation, the file's URL. */
    sourceUrl: string;
    segments: SegmentPlan[];
    inits: UnitSource[];
    durationSecs: number;
    /** The source may still grow (HLS without ENDLIST, dynamic MPD). */
    live: boolean;
    /** Live without a promised end (a sliding window, not an HLS EVENT playlist): recorded up to `maxLiveSecs`. */
    endless?: boolean;
    /** How often a live source is looked at again (the playlist's target duration). */
    refreshSecs?: number;
    bytes: UnitBytes;
    lang?: string;
    codecs?: string;
    /** Subtitle tracks: the text format of their units, and the rendition's name. */
    subtitles?: SubtitleFormat;
    label?: string;
}

/**
 * What becomes of the joined tracks. `remux`: one MP4, `-c copy`, verified. `as-served`: the joined
 * bytes are the file, stored byte for byte. `remux-or-as-served`: remux to MP4 (FLV), and when that
 * fails keep the file as served.
 */
export type Delivery = 'remux' | 'as-served' | 'remux-or-as-served';

export interface VideoPlan {
    format: SourceFormat;
    /** As captured: master playlist, MPD or file URL. */
    url: string;
    /** What was chosen inside it: the media playlist, the MPD representation, the file. */
    variantUrl: string;
    width?: number;
    height?: number;
    bandwidth?: number;
    /** `v` first; at most one `a`. */
    tracks: TrackPlan[];
    delivery: Delivery;
    /** `as-served` deliveries: the file's content type as sniffed from its bytes. */
    contentType?: string;
    /** A plain file's size as the server stated it: the joined ranges must add up to it. */
    expectedBytes?: number;
    /** Key base from the URL's path, for media found without a page title (direct URLs). */
    nameHint?: string;
    /** Every other URL of the same video (other variants, renditions): a page fetching one found the same video. */
    relatedUrls: string[];
    /**
     * The manifest or the file's first bytes say there is no video (an audio-only DASH MPD or HLS
     * variant, an MP3): its items are `audio` even when it fails. The merge decides on what it finds.
     */
    audioOnly?: boolean;
}

export const planDuration = (plan: VideoPlan): number => plan.tracks[0]?.durationSecs ?? 0;

// ---------------------------------------------------------------------------------------------
// Jobs: what is persisted per video while it downloads (counts, not unit lists: those are queued).

export interface TrackJob {
    name: TrackName;
    sourceUrl: string;
    segments: number;
    inits: number;
    /** `segmentInit[i]`: which init section segment i needs (absent: none). */
    segmentInit?: (number | null)[];
    /** `seq` of the first segment, for reporting gaps by sequence. */
    firstSeq: number;
    /** `seq` of the last segment taken: a live track grows after it (with gaps, not firstSeq + count). */
    lastSeq?: number;
    /** Indexes of segments that start a new timeline section. */
    discontinuities?: number[];
    bytes: UnitBytes;
    lang?: string;
    label?: string;
    subtitles?: SubtitleFormat;
}

export type JobStatus = 'downloading' | 'merging' | 'done' | 'failed';

export type Headers = Record<string, string>;

export interface VideoJob {
    id: string;
    format: SourceFormat;
    pageUrl: string;
    url: string;
    variantUrl: string;
    title?: string;
    /** Key base when there is no title (a direct URL). */
    nameHint?: string;
    headers: Headers;
    width?: number;
    height?: number;
    /** Live recordings: grows with each look (VideoJobs.extendTrack). */
    readonly durationSecs: number;
    live: boolean;
    /** A live recording still following its source: the job is not finished when its units are. */
    readonly liveOpen?: boolean;
    /** The live source has no promised end: recording stops after `maxLiveSecs`. */
    liveEndless?: boolean;
    /** When the live recording started (ms since the epoch): the `maxLiveSecs` clock survives a restart. */
    liveSince?: number;
    /** Live: seconds between looks at the source. */
    readonly liveRefreshSecs?: number;
    /** Live: segments that left the source's window before they could be fetched. */
    readonly gaps?: number;
    /** Live: why the recording stopped (the source ended, maxLiveSecs, the source stalled). */
    readonly liveEnd?: string;
    /** Changed only by VideoJobs (a live recording's new segments). */
    readonly tracks: readonly TrackJob[];
    delivery: Delivery;
    contentType?: string;
    expectedBytes?: number;
    /** Changed only by VideoJobs.transition, along the edges of download/job-state.ts. */
    readonly status: JobStatus;
    /** Id under which the archive (archiveName) remembers the video once stored. */
    archiveId?: string;
    /** Proxy session of the page that found the video. */
    proxySession?: string;
    /** Known before the merge to have no video (`VideoPlan.audioOnly`). */
    audioOnly?: boolean;
    /**
     * The key its file is being stored under, saved before the store (VideoJobs.storingAs): a run resumed
     * after a kill between the store and the job's `done` finds its item, or stores under the same key,
     * instead of a second copy under `<key>-2`.
     */
    readonly storedAs?: string;
}

/** File name of a download unit inside the job's work folder. */
export const unitName = (track: TrackName, kind: 'seg' | 'init', index: number): string =>
    `${track}-${kind}-${String(index).padStart(6, '0')}.bin`;

export const totalUnits = (job: VideoJob): number => job.tracks.reduce((n, t) => n + t.segments + t.inits, 0);

// ---------------------------------------------------------------------------------------------
// Queued download requests (their `userData`).

/** One unit of a video, as a queued request carries it. */
export interface UnitTask extends UnitSource {
    /** File name in the job's work folder (`unitName`). */
    unit: string;
    /** Taken as it comes (a slice of a file) rather than checked as a segment. */
    raw?: boolean;
}

/** A unit's URLs from a fresh look at its source, after its signed URL expired. */
export interface FreshUnit {
    url: string;
    /** The AES key's URI, when the unit has a key (keys are signed like segments). */
    keyUri?: string;
}

/** Fresh URLs for a video's units (by unit name), and its tracks' sources when those moved too. */
export interface FreshUrls {
    units: Map<string, FreshUnit>;
    /** Track name → its source's fresh URL (a signed media list under an unsigned entry). */
    sources: Map<string, string>;
}

/** A subtitle file stored beside a video (the item's `subtitles`). */
export interface StoredSubtitle {
    lang: string;
    name?: string;
    key: string;
}

export interface UnitsTask {
    kind: 'units';
    videoId: string;
    units: UnitTask[];
    proxySession?: string;
}

export interface ImageTask {
    kind: 'image';
    pageUrl: string;
    alt?: string;
    proxySession?: string;
    /** The URL is what a thumbnail links to: this thumbnail is the image if the URL gives no picture. */
    thumbnail?: { url: string; headers: Headers };
}

// ---------------------------------------------------------------------------------------------
// Dataset items (the public contract, shared/CONTRACT.md).

/** `audio`: media with no video stream (a radio show, a podcast), handled as videos are. */
export type MediaType = 'video' | 'audio' | 'image' | 'page';
export type ItemStatus = 'ok' | 'failed' | 'skipped';

export interface MediaItem {
    type: MediaType;
    status: ItemStatus;
    pageUrl: string;
    url: string;
    /** Videos: how the video was served. */
    format?: SourceFormat;
    title?: string;
    key?: string;
    contentType?: string;
    bytes?: number;
    sha256?: string;
    width?: number;
    height?: number;
    durationSecs?: number;
    segments?: number;
    error?: string;
    /** Stable code of the error, when `failed` or `skipped` (see errors.ts). */
    errorCode?: string;
    /** Videos whose source had no end: only what was there was downloaded. */
    live?: boolean;
    /** The media playlist / representation / file actually downloaded, when `url` was a manifest. */
    variantUrl?: string;
    hasAudio?: boolean;
    /** Public URL of the stored file (on the Apify platform). */
    fileUrl?: string;
    /** Locally: where the file also landed in the output folder. */
    localPath?: string;
    /** Videos: key of a PNG frame from the first second (the run report shows it). */
    thumbnailKey?: string;
    /** Videos: public URL of that frame (on the Apify platform), for the dataset's overview. */
    thumbnailUrl?: string;
    /** Videos: subtitle files stored beside the video (also muxed into the MP4). */
    subtitles?: StoredSubtitle[];
    /** Live recordings: segments that left the stream's window before they could be fetched. */
    gaps?: number;
}

// ---------------------------------------------------------------------------------------------
// What a source module is given to read manifests: bound to the page's headers, proxy and retries.

export interface FetchedText {
    text: string;
    /** After redirects: relative references resolve against this. */
    url: string;
    contentType: string;
}

export interface ManifestFetcher {
    /** A manifest (playlist, MPD) as text; throws `HttpStatusError`/`ManifestError` on failure. */
    text(url: string): Promise<FetchedText>;
    /** Bytes [offset, offset+length) of a resource (a DASH `sidx` index). */
    range(url: string, range: ByteRange): Promise<Buffer>;
    /** The first bytes of a resource, without fetching the rest, and whether its server takes `Range`. */
    sniff(url: string, bytes: number): Promise<SniffedHead>;
}

export interface SniffedHead {
    body: Buffer;
    /** After redirects. */
    url: string;
    contentType: string;
    /** The whole resource's size, when the server said. */
    totalBytes?: number;
    acceptsRanges: boolean;
}

// ---------------------------------------------------------------------------------------------
// What the page stage hands on.

/** A manifest or video file a page showed: by its player's requests, its DOM or its source text. */
export interface VideoCandidate {
    url: string;
    /** The headers the browser sent for it (Referer, User-Agent, cookies): keys and segments often need them. */
    headers: Headers;
    source: 'network' | 'dom' | 'html' | 'page';
    /** Known from the response's content type or the URL; else the first bytes tell. */
    format?: SourceFormat;
    /** A manifest the page built itself (a `blob:` or `data:` URL): its text, and the URL its references resolve against. */
    inline?: { text: string; baseUrl: string };
    /** `mse`: what the page appended to its MediaSource. */
    mse?: MseCapture;
}

/** What a MediaSource-only player appended, per SourceBuffer, in append order. */
export interface MseCapture {
    /** The media element's duration when capture ended. */
    durationSecs?: number;
    /** Every appended byte is accounted for and the buffered ranges cover the whole duration. */
    complete: boolean;
    /** Why the capture is not complete. */
    reason?: string;
    buffers: MseBuffer[];
}

export interface MseBuffer {
    /** As given to `addSourceBuffer`, e.g. `video/mp4; codecs="avc1.64001f"`. */
    mimeType: string;
    appends: MseAppend[];
}

export interface MseAppend {
    bytes: number;
    /** The network response these bytes were, when one matched (then the unit is fetched again from it). */
    url?: string;
    range?: ByteRange;
    /** Else the bytes themselves, in a file the page stage wrote. */
    localFile?: string;
}

/** `<track>` elements of a page: subtitle files for its video. */
export interface PageSubtitle {
    url: string;
    lang: string;
    label?: string;
}

/** A page's videos: handed on as soon as the player has shown them, so downloads start early. */
export interface FoundVideos {
    pageUrl: string;
    title?: string;
    /** The page's language (`<html lang>`): picks a DASH audio track. */
    lang?: string;
    candidates: VideoCandidate[];
    /** `<track kind="subtitles|captions">` files of the page's player. */
    subtitles?: PageSubtitle[];
    /** The page's proxy session: its media go through the same proxy (IP-bound tokens keep working). */
    proxySession?: string;
    /** Media a player played before its main video and replaced by it: reported as `skipped`, never taken. */
    replaced?: { url: string; reason: string }[];
    /**
     * A manifest as the page's player received it, by the URL the page requested; undefined when the page
     * did not (or not with a 2xx, or it is not at hand). Answers while the page is open, that is until the
     * page stage's `onVideos` resolves: the plan reads these instead of fetching them again.
     */
    received?: (url: string) => Promise<FetchedText | undefined>;
}
