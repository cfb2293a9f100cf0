/**
 * Expired-token 403s: CDNs sign segment URLs with short-lived tokens. When a segment is refused,
 * the job's playlists are fetched again (once per video, by the download stage) and each unit is
 * matched to its fresh URL by media sequence number.
 */
import type { types } from 'hls-parser';
import { ManifestError } from '../../errors.js';
import { unitName, type ManifestFetcher, type TrackJob, type TrackPlan, type VideoJob } from '../../model.js';
import { planTrack } from './plan.js';
import { parsePlaylist } from './resolve.js';

/** unit → URL in freshly fetched playlists (by playlist URL), matched by media sequence number. Pure. */
export function freshUnitUrls(job: VideoJob, playlists: Map<string, types.MediaPlaylist>): Map<string, string> {
    const urls = new Map<string, string>();
    for (const track of job.tracks) {
        const playlist = playlists.get(track.sourceUrl);
        if (!playlist) continue;
        const plan = planTrack(playlist, track.sourceUrl, track.name);
        const bySeq = new Map(plan.segments.map((s) => [s.seq, s.url]));
        for (let i = 0; i < track.segments; i++) {
            const fresh = bySeq.get(track.firstSeq + i);
            if (fresh) urls.set(unitName(track.name, 'seg', i), fresh);
        }
        plan.inits.forEach((m, i) => urls.set(unitName(track.name, 'init', i), m.url));
    }
    return urls;
}

export async function refreshHlsUrls(job: VideoJob, fetcher: ManifestFetcher): Promise<Map<string, string>> {
    const playlists = new Map<string, types.MediaPlaylist>();
    for (const track of job.tracks) {
        const res = await fetcher.text(track.sourceUrl);
        const parsed = parsePlaylist(res.text, res.contentType);
        if (!parsed.isMasterPlaylist) playlists.set(track.sourceUrl, parsed);
    }
    return freshUnitUrls(job, playlists);
}

/** The current window of a live track's media playlist. */
export async function pollHlsTrack(track: TrackJob, fetcher: ManifestFetcher): Promise<TrackPlan> {
    const res = await fetcher.text(track.sourceUrl);
    const parsed = parsePlaylist(res.text, res.contentType);
    if (parsed.isMasterPlaylist) throw new ManifestError('a live media playlist turned into a master playlist');
    return planTrack(parsed, res.url, track.name);
}
