/**
 * What the page stage did on a page that yielded nothing, in words: how long it stayed, what it
 * saw and what it clicked, so a `failed` "nothing found" item says what happened instead of a
 * wait it did not make.
 */
import type { InvitationKind } from './invitations.js';

export interface WaitSummary {
    /** Seconds from the navigation to leaving the page. */
    secs: number;
    /** Whether the page's wait (`pageWaitSecs`) ran out. */
    timedOut: boolean;
    waitSecs: number;
    /** `<video>` and `<iframe>` elements seen. */
    players: number;
    /** Media requests the page made (manifests, video files, segments; images aside). */
    mediaRequests: number;
    /** Clicks made, by what was clicked. */
    clicks: Partial<Record<InvitationKind, number>>;
    /** Invitations still unclicked when the page was left (the click budget ran out). */
    leftToClick: number;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

const CLICKED: Record<InvitationKind, [string, string]> = {
    play: ['play control', 'play controls'],
    tile: ['video tile', 'video tiles'],
    video: ['video element', 'video elements'],
};

/** The sentence: e.g. "left after 0.6 s: no player, no media request, nothing left to click". Pure. */
export function describeWait(s: WaitSummary): string {
    const clicked = (Object.keys(CLICKED) as InvitationKind[])
        .filter((k) => (s.clicks[k] ?? 0) > 0)
        .map((k) => plural(s.clicks[k]!, ...CLICKED[k]));
    const total = Object.values(s.clicks).reduce((a, b) => a + (b ?? 0), 0);
    const left = s.timedOut
        ? `left after the full ${s.waitSecs} s (pageWaitSecs)`
        : `left after ${s.secs.toFixed(1)} s`;
    const facts = [
        s.players ? plural(s.players, 'player') : 'no player',
        s.mediaRequests ? plural(s.mediaRequests, 'media request') : 'no media request',
    ];
    const rest =
        s.leftToClick > 0
            ? `${plural(s.leftToClick, 'control')} left unclicked (click budget spent)`
            : 'nothing left to click';
    if (total === 0) return `${left}: ${[...facts, rest].join(', ')}`;
    const followed = s.mediaRequests ? 'no video among what followed' : 'no media followed';
    return `clicked ${clicked.join(' and ')}; ${followed}; ${left}: ${[...facts, rest].join(', ')}`;
}
