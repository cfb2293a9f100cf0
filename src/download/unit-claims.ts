/**
 * Which request of this process is fetching which unit of a video.
 *
 * A queued request fetches its own run of units and then keeps its connection busy with the video's
 * units nobody has taken yet. Without that, a connection that finished its run sat idle until the
 * queue handed it the next request (a refill of the local queue took 200–400 ms), and the last
 * wave of requests ran with the connections half used. With it, every started request works until
 * the video is out of unclaimed units, and the requests still queued behind them find their units
 * taken and end at once.
 *
 * Claims live in memory only. A unit is claimed for good: its holder either stores it or keeps it
 * in its own request (whose retry fetches it again, and whose final failure reports it). A restarted
 * run re-queues missing units from the saved plan, and claims start over.
 */
import type { UnitTask } from '../model.js';

interface VideoUnits {
    /** Every unit offered, in playback order; `next` is where the search for an unclaimed one resumes. */
    units: UnitTask[];
    next: number;
    /** Unit name → uniqueKey of the request that holds it. */
    holders: Map<string, string>;
}

export class UnitClaims {
    private readonly videos = new Map<string, VideoUnits>();

    /** Makes a video's units available to any of its requests. Offering a unit again is harmless. */
    offer(videoId: string, units: readonly UnitTask[]): void {
        const video = this.videos.get(videoId);
        if (video) video.units.push(...units);
        else this.videos.set(videoId, { units: [...units], next: 0, holders: new Map() });
    }

    /** Claims `unit` for `holder`; false when another request holds it. Units never offered are free for all. */
    claim(videoId: string, unit: string, holder: string): boolean {
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
     * The earliest unit (playback order) that nobody holds and `skip` does not rule out (e.g. already
     * on disk), now held by `holder`; undefined when the video has none left.
     */
    takeNext(videoId: string, holder: string, skip: (unit: string) => boolean): UnitTask | undefined {
        const video = this.videos.get(videoId);
        if (!video) return undefined;
        while (video.next < video.units.length) {
            const unit = video.units[video.next++]!;
            // Claims are never released and a stored unit stays stored, so the cursor only moves forward.
            if (video.holders.has(unit.unit) || skip(unit.unit)) continue;
            video.holders.set(unit.unit, holder);
            return unit;
        }
        return undefined;
    }

    /** The video is stored or failed: its units are nobody's business any more. */
    forget(videoId: string): void {
        this.videos.delete(videoId);
    }
}
