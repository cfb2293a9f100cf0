/**
 * The states of a video job and the only changes between them. `VideoJobs.transition` (jobs.ts) is the one
 * place that changes a job's status, and it asks this table first. Pure.
 *
 *   downloading → merging      every unit stored or failed for good, no recording feeds it
 *   downloading → failed       the run stopped
 *   merging     → done         the file stored, its item pushed
 *   merging     → failed       units missing, a fatal error, the merge failed, the run stopped
 *   merging     → downloading  a resumed run redoes a merge the process did not finish
 *
 * `done` and `failed` are terminal: a video has one verdict (VideoJobs.report refuses a second item too).
 */
import type { JobStatus } from '../model.js';

/** Every allowed change of status, with why it happens. */
export const JOB_EDGES: readonly { from: JobStatus; to: JobStatus; why: string }[] = [
    { from: 'downloading', to: 'merging', why: 'every unit is stored or failed for good, and no recording feeds it' },
    { from: 'downloading', to: 'failed', why: 'the run stopped before its units were downloaded' },
    { from: 'merging', to: 'done', why: 'the merged file was stored and its item pushed' },
    { from: 'merging', to: 'failed', why: 'units missing, a fatal error, the merge failed, or the run stopped' },
    { from: 'merging', to: 'downloading', why: 'a resumed run redoes a merge the process did not finish' },
];

export const TERMINAL: ReadonlySet<JobStatus> = new Set<JobStatus>(['done', 'failed']);

/** A change of status the table does not list: a bug in the caller, never a property of a video. */
export class IllegalTransitionError extends Error {
    override name = 'IllegalTransitionError';
    constructor(
        readonly id: string,
        readonly from: JobStatus,
        readonly to: JobStatus,
    ) {
        super(`video job ${id} cannot go from "${from}" to "${to}" (allowed from "${from}": ${allowedFrom(from)})`);
    }
}

/** Pure. */
export function canTransition(from: JobStatus, to: JobStatus): boolean {
    return JOB_EDGES.some((e) => e.from === from && e.to === to);
}

/** Pure. */
export function isTerminal(status: JobStatus): boolean {
    return TERMINAL.has(status);
}

/** The status a job may take next, or an IllegalTransitionError. Pure. */
export function nextStatus(id: string, from: JobStatus, to: JobStatus): JobStatus {
    if (!canTransition(from, to)) throw new IllegalTransitionError(id, from, to);
    return to;
}

function allowedFrom(from: JobStatus): string {
    const to = JOB_EDGES.filter((e) => e.from === from).map((e) => `"${e.to}"`);
    return to.length ? to.join(', ') : 'none, it is final';
}
