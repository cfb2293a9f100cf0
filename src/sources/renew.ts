/**
 * Fresh URLs for a video whose signed unit URLs expired, from a fresh look at its source: HLS
 * playlists and DASH MPDs are read again and matched to the units by media sequence, segment number
 * or position; a plain file's URL is derived again from the URL the video was found at (a redirect
 * to a freshly signed URL), its byte ranges unchanged.
 */
import { ManifestError } from '../errors.js';
import type { FreshUnit, FreshUrls, ManifestFetcher, VideoJob } from '../model.js';
import { unitName } from '../model.js';
import { pollDashTrack } from './dash/resolve.js';
import { refreshHlsUrls } from './hls/refresh.js';
import { addFreshUnits } from './match.js';

/** A fresh look lists at most this many segments per track. */
const MAX_SEGMENTS = 100_000;

async function refreshDashUrls(job: VideoJob, fetcher: ManifestFetcher): Promise<FreshUrls> {
    const units = new Map<string, FreshUnit>();
    for (const track of job.tracks) {
        const refresh = async (): Promise<void> => {
            const plan = await pollDashTrack(job.url, track.sourceUrl, track.name, fetcher, MAX_SEGMENTS);
            if (addFreshUnits(track, plan, units) === track.segments)
                throw new ManifestError('the MPD read again lists none of the segments still to fetch');
        };
        if (track.subtitles) await refresh().catch(() => undefined);
        else await refresh();
    }
    return { units, sources: new Map() };
}

async function refreshFileUrl(job: VideoJob, fetcher: ManifestFetcher): Promise<FreshUrls> {
    const head = await fetcher.sniff(job.url, 1);
    if (job.expectedBytes !== undefined && head.totalBytes !== undefined && head.totalBytes !== job.expectedBytes)
        throw new ManifestError(`the file is now ${head.totalBytes} bytes, not ${job.expectedBytes}`);
    const units = new Map<string, FreshUnit>();
    for (const track of job.tracks)
        for (let i = 0; i < track.segments; i++) units.set(unitName(track.name, 'seg', i), { url: head.url });
    return { units, sources: new Map() };
}

export async function refreshUnitUrls(job: VideoJob, fetcher: ManifestFetcher): Promise<FreshUrls> {
    switch (job.format) {
        case 'hls':
            return refreshHlsUrls(job, fetcher);
        case 'dash':
            return refreshDashUrls(job, fetcher);
        case 'file':
            return refreshFileUrl(job, fetcher);
        default:
            throw new ManifestError(`the URLs of a ${job.format} video cannot be read again`);
    }
}
