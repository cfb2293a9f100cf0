/**
 * Signed URLs that expired: the job's media playlists are fetched again and each unit is matched to
 * its fresh URL by media sequence number (or position). A media playlist that is refused itself is
 * looked up again in the master playlist it came from, by path: a signed master lists freshly signed
 * media playlists.
 */
import type { types } from 'hls-parser';
import { HttpStatusError, ManifestError } from '../../errors.js';
import type { FetchedText, FreshUnit, FreshUrls, ManifestFetcher, TrackJob, TrackPlan, VideoJob } from '../../model.js';
import { resolveUrl } from '../../urls.js';
import { addFreshUnits } from '../match.js';
import { planTrack } from './plan.js';
import { parsePlaylist } from './resolve.js';

/** unit → fresh URLs in freshly fetched playlists (by playlist URL), matched by media sequence number. Pure. */
export function freshUnitUrls(job: VideoJob, playlists: Map<string, types.MediaPlaylist>): Map<string, FreshUnit> {
    const urls = new Map<string, FreshUnit>();
    for (const track of job.tracks) {
        const playlist = playlists.get(track.sourceUrl);
        if (playlist) addFreshUnits(track, planTrack(playlist, track.sourceUrl, track.name), urls);
    }
    return urls;
}

/** URL without its query: what a re-signed URL keeps. Pure. */
const pathOf = (url: string): string => {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
};

/** Every playlist a master lists (variants and renditions), by path → its URL there now. */
async function listedPlaylists(masterUrl: string, fetcher: ManifestFetcher): Promise<Map<string, string>> {
    const res = await fetcher.text(masterUrl);
    const master = parsePlaylist(res.text, res.contentType);
    const listed = new Map<string, string>();
    if (!master.isMasterPlaylist) return listed;
    const uris = master.variants.flatMap((v) => [
        v.uri,
        ...[...v.audio, ...v.video, ...v.subtitles].flatMap((r) => (r.uri ? [r.uri] : [])),
    ]);
    for (const uri of uris) {
        const url = resolveUrl(uri, res.url);
        listed.set(pathOf(url), url);
    }
    return listed;
}

export async function refreshHlsUrls(job: VideoJob, fetcher: ManifestFetcher): Promise<FreshUrls> {
    const units = new Map<string, FreshUnit>();
    const sources = new Map<string, string>();
    let listed: Map<string, string> | undefined;
    const refreshTrack = async (track: TrackJob): Promise<void> => {
        let res: FetchedText;
        try {
            res = await fetcher.text(track.sourceUrl);
        } catch (error) {
            if (!(error instanceof HttpStatusError) || job.url === track.sourceUrl) throw error;
            listed ??= await listedPlaylists(job.url, fetcher);
            const moved = listed.get(pathOf(track.sourceUrl));
            if (!moved) throw error;
            res = await fetcher.text(moved);
            sources.set(track.name, moved);
        }
        const parsed = parsePlaylist(res.text, res.contentType);
        if (parsed.isMasterPlaylist) throw new ManifestError('a media playlist turned into a master playlist');
        const unmatched = addFreshUnits(track, planTrack(parsed, res.url, track.name), units);
        if (unmatched === track.segments)
            throw new ManifestError('the playlist read again lists none of the segments still to fetch');
    };
    for (const track of job.tracks) {
        // A subtitle file (a page's <track>) is no playlist, and a lost subtitle costs its track, not the video.
        if (track.subtitles) await refreshTrack(track).catch(() => undefined);
        else await refreshTrack(track);
    }
    return { units, sources };
}

/** The current window of a live track's media playlist. */
export async function pollHlsTrack(track: TrackJob, fetcher: ManifestFetcher): Promise<TrackPlan> {
    const res = await fetcher.text(track.sourceUrl);
    const parsed = parsePlaylist(res.text, res.contentType);
    if (parsed.isMasterPlaylist) throw new ManifestError('a live media playlist turned into a master playlist');
    return planTrack(parsed, res.url, track.name);
}
