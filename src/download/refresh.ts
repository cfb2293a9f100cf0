/**
 * Expired-token 403s: CDNs sign segment URLs with short-lived tokens. When a segment is refused,
 * the job's playlists are fetched again, once per video, and the unit retried at its fresh URL.
 */
import HLS, { type types } from 'hls-parser';
import { planTrack } from '../sources/hls/plan.js';
import { fetchBytes } from '../net/fetch.js';
import { unitName, type VideoJob, type VideoJobs } from './jobs.js';

export const TOKEN_STATUSES = new Set([401, 403, 410]);

/** unit → URL in a freshly fetched playlist, matched by media sequence number. Pure. */
export function freshUnitUrls(job: VideoJob, playlists: Map<string, types.MediaPlaylist>): Map<string, string> {
    const urls = new Map<string, string>();
    for (const track of job.tracks) {
        const url = track.name === 'v' ? job.variantUrl : track.playlistUrl;
        const playlist = playlists.get(url);
        if (!playlist) continue;
        const plan = planTrack(playlist, url);
        const bySeq = new Map(plan.segments.map((s) => [s.seq, s.uri]));
        for (let i = 0; i < track.segments; i++) {
            const fresh = bySeq.get(track.firstSeq + i);
            if (fresh) urls.set(unitName(track.name, 'seg', i), fresh);
        }
        plan.maps.forEach((m, i) => urls.set(unitName(track.name, 'init', i), m.uri));
    }
    return urls;
}

export class PlaylistRefresher {
    private readonly refreshed = new Map<string, Promise<Map<string, string>>>();

    constructor(
        private readonly jobs: VideoJobs,
        private readonly retries: number,
    ) {}

    /** Fresh URLs for every unit of the video; the playlists are fetched at most once per run. */
    urls(videoId: string): Promise<Map<string, string>> {
        let p = this.refreshed.get(videoId);
        if (!p) {
            p = this.fetch(videoId);
            this.refreshed.set(videoId, p);
        }
        return p;
    }

    private async fetch(videoId: string): Promise<Map<string, string>> {
        const job = this.jobs.get(videoId);
        if (!job) return new Map();
        const playlists = new Map<string, types.MediaPlaylist>();
        for (const track of job.tracks) {
            const url = track.name === 'v' ? job.variantUrl : track.playlistUrl;
            const res = await fetchBytes(url, { headers: job.headers, retries: this.retries, maxBytes: 32 * 1024 * 1024 });
            const parsed = HLS.parse(res.body.toString('utf8'));
            if (!parsed.isMasterPlaylist) playlists.set(url, parsed);
        }
        return freshUnitUrls(job, playlists);
    }
}
