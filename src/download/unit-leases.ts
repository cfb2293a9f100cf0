/**
 * Leases: which request of this process is fetching which unit. (Not to be confused with the claims
 * of `run/claims.ts`, which workers make on whole videos and images.)
 *
 * A queued request keeps its connection busy with units nobody holds yet: first its own video's,
 * earliest first, then any other video's (oldest video first). Without that, a connection that
 * finished its run sat idle until the queue handed it the next request (a refill of the local queue
 * took 200–400 ms), and the last wave of requests ran with the connections half used. With it, every
 * started request works until no video has an unleased unit, and the requests still queued behind
 * them find their units leased and end at once.
 *
 * Leases live in memory only. A unit is leased for good: its holder either stores it or keeps it (its
 * retry fetches it again, its final failure reports it). A restarted run re-queues missing units from
 * the saved plan, and leases start over.
 */
import type { UnitTask } from '../model.js';

interface VideoUnits {
    /** Every unit offered, in playback order; `next` is where the search for an unleased one resumes. */
    units: UnitTask[];
    next: number;
    /** Unit name → uniqueKey of the request that holds it. */
    holders: Map<string, string>;
}

/** A unit leased to a request, with its video. */
export interface LeasedUnit {
    videoId: string;
    unit: UnitTask;
}

export class UnitLeases {
    /** In the order the videos were offered: stealing goes to the oldest video first. */
    private readonly videos = new Map<string, VideoUnits>();

    /** Makes a video's units available to any request. Offering a unit again is harmless. */
    offer(videoId: string, units: readonly UnitTask[]): void {
        const video = this.videos.get(videoId);
        // A unit offered again goes after the cursor: it is found again if nobody holds it.
        if (video) video.units.push(...units);
        else this.videos.set(videoId, { units: [...units], next: 0, holders: new Map() });
    }

    /** Leases `unit` to `holder`; false when another request holds it. Units never offered are free for all. */
    lease(videoId: string, unit: string, holder: string): boolean {
        const video = this.videos.get(videoId);
        if (!video) return true;
        const current = video.holders.get(unit);
        if (current !== undefined && current !== holder) return false;
        video.holders.set(unit, holder);
        return true;
    }

    /** The request holding `unit`, if any. */
    holder(videoId: string, unit: string): string | undefined {
        return this.videos.get(videoId)?.holders.get(unit);
    }

    /**
     * The earliest unit of the video (playback order) that nobody holds and `skip` does not rule out
     * (e.g. already on disk), now held by `holder`; undefined when the video has none left.
     */
    takeNext(videoId: string, holder: string, skip: (unit: string) => boolean): UnitTask | undefined {
        const video = this.videos.get(videoId);
        if (!video) return undefined;
        while (video.next < video.units.length) {
            const unit = video.units[video.next++]!;
            // Leases are never released and a stored unit stays stored, so the cursor only moves forward.
            if (video.holders.has(unit.unit) || skip(unit.unit)) continue;
            video.holders.set(unit.unit, holder);
            return unit;
        }
        return undefined;
    }

    /**
     * The next unleased unit of any video `wanted` lets through, oldest video first (so videos finish one
     * after another and each can be merged while the next downloads), now held by `holder`.
     */
    takeAny(
        holder: string,
        wanted: (videoId: string) => boolean,
        skip: (videoId: string, unit: string) => boolean,
    ): LeasedUnit | undefined {
        for (const videoId of this.videos.keys()) {
            if (!wanted(videoId)) continue;
            const unit = this.takeNext(videoId, holder, (u) => skip(videoId, u));
            if (unit) return { videoId, unit };
        }
        return undefined;
    }

    /** The video is stored or failed: its units are nobody's business any more. */
    forget(videoId: string): void {
        this.videos.delete(videoId);
    }
}
