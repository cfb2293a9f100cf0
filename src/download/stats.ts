/** Live transfer figures: the progress display and the benchmark read them. */
export class TransferStats {
    active = 0;
    peakActive = 0;
    bytes = 0;
    unitsDone = 0;
    firstStartAt?: number;
    /** When `active` first reached its peak value, ms since the first request started. */
    peakReachedAfterMs = 0;

    started(): void {
        this.firstStartAt ??= Date.now();
        this.active++;
        if (this.active > this.peakActive) {
            this.peakActive = this.active;
            this.peakReachedAfterMs = Date.now() - this.firstStartAt;
        }
    }

    finished(bytes: number): void {
        this.active--;
        this.bytes += bytes;
        if (bytes > 0) this.unitsDone++;
    }
}
