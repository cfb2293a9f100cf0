import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseInvitation, invitationScore, type Invitation } from '../../src/pages/invitations.js';
import { refusesNavigation } from '../../src/pages/page-guard.js';
import {
    adHintCounts,
    ENDED_GRACE_MS,
    ENDED_GRACE_POLLS,
    isLeadIn,
    namesUnplayed,
    METADATA_WAIT_MS,
    observe,
    progressMark,
    replacedMedia,
    sourceVerdict,
    type ElementHistory,
    type SourceObservation,
    UNFINISHED_AD_REASON,
    unfinishedAdverts,
} from '../../src/pages/source-follow.js';
import { describeWait } from '../../src/pages/wait-outcome.js';

const inv = (over: Partial<Invitation>): Invitation => ({
    frame: 0,
    id: '1',
    kind: 'play',
    signals: ['label'],
    area: 5000,
    inView: true,
    clicks: 0,
    label: 'Play',
    ...over,
});

test('invitations: a labelled play control before a tile before a bare video element', () => {
    const video = inv({ id: 'v', kind: 'video', signals: ['element'], area: 230400 });
    const tile = inv({ id: 't', kind: 'tile', signals: ['thumb', 'duration'], area: 32000 });
    const play = inv({ id: 'p', kind: 'play', signals: ['label'], area: 2500 });
    const choice = chooseInvitation([video, tile, play], { budget: 6, retryDue: false });
    assert.equal(choice?.id, 'p');
    assert.equal(chooseInvitation([video, tile], { budget: 6, retryDue: false })?.id, 't');
    // A big poster overlay with a triangle outranks a tiny labelled icon off screen.
    const overlay = inv({ id: 'o', signals: ['shape', 'thumb'], area: 230400 });
    const tiny = inv({ id: 'x', signals: ['label'], area: 200, inView: false });
    assert.ok(invitationScore(overlay) > invitationScore(tiny));
});

test('invitations: clicked ones are retried once, only when due and nothing fresh is left; the budget ends it', () => {
    const clicked = inv({ id: 'a', clicks: 1 });
    const twice = inv({ id: 'b', clicks: 2 });
    const fresh = inv({ id: 'c', kind: 'tile', signals: ['thumb', 'data'] });
    assert.equal(chooseInvitation([clicked, twice], { budget: 6, retryDue: false }), undefined);
    assert.equal(chooseInvitation([clicked, twice], { budget: 6, retryDue: true })?.id, 'a');
    assert.equal(chooseInvitation([clicked, fresh], { budget: 6, retryDue: true })?.id, 'c');
    assert.equal(chooseInvitation([fresh], { budget: 0, retryDue: false }), undefined);
    assert.equal(chooseInvitation([], { budget: 6, retryDue: true }), undefined);
});

const src = (over: Partial<SourceObservation>): SourceObservation => ({
    src: 'https://cdn.example/a.mp4',
    firstSeen: 0,
    duration: 4,
    ended: false,
    loop: false,
    adHint: false,
    namesOther: true,
    ...over,
});

test('source settled: a short source the page gives a reason for is followed; others settle at once', () => {
    const h = (sources: SourceObservation[]): ElementHistory[] => [{ key: '0:1', sources }];
    // Short alone is no reason: the first source is the main video.
    assert.deepEqual(sourceVerdict(h([src({ namesOther: false })]), 100, 0, []), { settled: true, fastForward: [] });
    assert.deepEqual(sourceVerdict(h([src({})]), 100, 0, []), { settled: false, fastForward: ['0:1'] });
    assert.equal(sourceVerdict(h([src({ duration: 600 })]), 100, 0, []).settled, true);
    assert.equal(sourceVerdict(h([src({ loop: true })]), 100, 0, []).settled, true);
    assert.equal(sourceVerdict(h([src({ duration: Infinity })]), 100, 0, []).settled, true);
    // An advert says so: followed however long it is.
    assert.equal(sourceVerdict(h([src({ duration: 600, adHint: true })]), 100, 0, []).settled, false);
    // Unknown duration: waited for, but not for ever, and only when the page gave a reason to follow.
    assert.equal(sourceVerdict(h([src({ duration: NaN, namesOther: false })]), 100, 0, []).settled, true);
    assert.equal(sourceVerdict(h([src({ duration: NaN })]), 100, 0, []).settled, false);
    assert.equal(sourceVerdict(h([src({ duration: NaN })]), METADATA_WAIT_MS + 1, 0, []).settled, true);
    // …except while the element is still fetching it (a busy machine): the stall and the deadline bound that.
    assert.equal(sourceVerdict(h([src({ duration: NaN, loading: true })]), 10_000, 0, []).settled, false);
    // A short source that ended: what follows gets a moment and a few looks at the page, then it is the main video.
    const ended = src({ ended: true, endedAt: 1000, endedPolls: ENDED_GRACE_POLLS });
    assert.equal(sourceVerdict(h([ended]), 1000 + ENDED_GRACE_MS - 1, 0, []).settled, false);
    assert.equal(sourceVerdict(h([ended]), 1000 + ENDED_GRACE_MS, 0, []).settled, true);
    const seenOnce = src({ ended: true, endedAt: 1000, endedPolls: ENDED_GRACE_POLLS - 1 });
    assert.equal(
        sourceVerdict(h([seenOnce]), 1000 + 10 * ENDED_GRACE_MS, 0, []).settled,
        false,
        'a page too busy to look',
    );
    // A pre-roll then a long main video: settled; a short clip after a long video is not followed.
    const pre = src({ ended: true, endedAt: 10 });
    const b = 'https://cdn.example/b.mp4';
    assert.equal(sourceVerdict(h([pre, src({ src: b, duration: 600 })]), 100, 0, [b]).settled, true);
    // What replaced a lead-in is waited for until its request is seen (a blob: source cannot be).
    const main = src({ src: b, duration: 600 });
    assert.equal(sourceVerdict(h([pre, main]), 100, 0, ['https://cdn.example/a.mp4']).settled, false);
    assert.equal(sourceVerdict(h([pre, main]), 100, 0, ['https://cdn.example/a.mp4', b]).settled, true);
    assert.equal(sourceVerdict(h([pre, src({ src: 'blob:x', duration: 600 })]), 100, 0, []).settled, true);
    const long = src({ duration: 600 });
    assert.equal(isLeadIn([long, src({ src: 'c' })], 1), false);
    assert.equal(isLeadIn([pre, src({ src: 'c' })], 1), true);
    assert.equal(isLeadIn([pre, src({ src: 'c', namesOther: false })], 1), false);
    // A long video only preloaded (never played) before the pre-roll does not count as played.
    assert.equal(isLeadIn([src({ duration: 600, played: false }), src({ src: 'c' })], 1), true);
});

test('source settled: a page names a source it has yet to play, not one it played, fetched or streams', () => {
    const main = 'https://site.example/media/main.mp4';
    const intro = [{ src: 'https://site.example/media/intro.mp4' }];
    assert.equal(namesUnplayed([intro[0]!.src, main], intro, []), true);
    assert.equal(namesUnplayed([intro[0]!.src, main], intro, [main]), false);
    assert.equal(namesUnplayed([intro[0]!.src], intro, []), false);
    assert.equal(namesUnplayed([intro[0]!.src, main], [...intro, { src: main }], []), false);
    assert.equal(
        namesUnplayed(['https://site.example/hls/index.m3u8'], [{ src: 'blob:https://site.example/1' }], []),
        false,
    );
    // Spelled differently (a default port, a fragment): the same URL.
    assert.equal(namesUnplayed(['https://site.example:443/media/main.mp4#t=1'], [{ src: main }], []), false);
});

test('source settled: observe records source changes, keeps a source through a moment of emptiness', () => {
    const hs = new Map<string, ElementHistory>();
    const state = (s: string, ended = false) => ({
        key: '0:1',
        src: s,
        duration: 4,
        ended,
        unplayed: false,
        loop: false,
        adHint: false,
    });
    observe(hs, [state('a')], 0);
    observe(hs, [state('a', true)], 50);
    observe(hs, [state('a', true)], 60);
    observe(hs, [state('')], 100);
    observe(hs, [state('b')], 150);
    const sources = hs.get('0:1')!.sources;
    assert.deepEqual(
        sources.map((s) => [s.src, s.firstSeen, s.ended, s.endedAt, s.endedPolls]),
        [
            ['a', 0, true, 50, 1],
            ['b', 150, false, undefined, undefined],
        ],
    );
});

test("source settled: an advert's marks left on the player while the content resumes are not the content's", () => {
    const hs = new Map<string, ElementHistory>();
    const state = (s: string, adHint: boolean, playing: boolean) => ({
        key: '0:1',
        src: s,
        duration: s === 'ad' ? 4 : 32,
        ended: false,
        unplayed: false,
        loop: false,
        adHint,
        playing,
    });
    observe(hs, [state('ad', true, false)], 0); // the advert loads under its marks: they count
    observe(hs, [state('ad', true, true)], 80);
    observe(hs, [state('main', true, false)], 160); // the content resumes: the marks are the advert's
    observe(hs, [state('main', false, true)], 240);
    const sources = hs.get('0:1')!.sources;
    assert.deepEqual(
        sources.map((s) => [s.src, s.adHint]),
        [
            ['ad', true],
            ['main', false],
        ],
    );
    assert.equal(isLeadIn(sources, 1), false);
    // A second advert after the first (an ad pod) is marked while it plays.
    assert.equal(adHintCounts([src({ adHint: true }), src({})], state('ad2', true, true)), true);
    assert.equal(adHintCounts([src({ adHint: true }), src({})], state('main', true, false)), false);
    // The first source of a player, or one after content, takes its marks at once (a paused advert too).
    assert.equal(adHintCounts([src({})], state('ad', true, false)), true);
    assert.equal(adHintCounts([src({}), src({})], state('ad', true, false)), true);
});

test('source following: progress is a source changing or ending, or a followed source moving; not a main one playing', () => {
    const state = (key: string, src: string, time: number, ended = false) => ({
        key,
        src,
        time,
        duration: 6,
        ended,
        unplayed: false,
        loop: false,
        adHint: false,
    });
    const mark = (states: ReturnType<typeof state>[], forwarding: string[] = ['0:1']) =>
        progressMark(states, forwarding);
    const before = mark([state('0:1', 'ad', 1.0), state('0:2', 'main', 3.0)]);
    // The pre-roll being fast-forwarded moved: progress.
    assert.notEqual(mark([state('0:1', 'ad', 1.4), state('0:2', 'main', 3.0)]), before);
    // Only the other, main video played on: no progress (following would wait on it forever).
    assert.equal(mark([state('0:1', 'ad', 1.0), state('0:2', 'main', 9.0)]), before);
    // The pre-roll ended, or its player switched to what follows: progress.
    assert.notEqual(mark([state('0:1', 'ad', 1.0, true), state('0:2', 'main', 3.0)]), before);
    assert.notEqual(mark([state('0:1', 'main2', 0), state('0:2', 'main', 3.0)]), before);
    // A source not being fast-forwarded does not count by its position.
    assert.equal(mark([state('0:1', 'ad', 1.0)], []), mark([state('0:1', 'ad', 5.0)], []));
});

test('unfinished adverts: a short marked source still playing beside another video is not the page video', () => {
    const media = [{ url: 'https://x/main.mp4' }, { url: 'https://x/ad.mp4' }];
    const one = (...sources: SourceObservation[]): ElementHistory[] => [{ key: '0:1', sources }];
    const main = src({ src: 'https://x/main.mp4', namesOther: false, played: false });
    const ad = (over: Partial<SourceObservation> = {}) =>
        src({ src: 'https://x/ad.mp4', adHint: true, namesOther: false, ...over });
    assert.deepEqual(unfinishedAdverts(one(main, ad()), media), [
        { url: 'https://x/ad.mp4', reason: UNFINISHED_AD_REASON },
    ]);
    // Ended (what follows was not seen yet, but the advert itself is over), long, live, or unmarked: kept.
    assert.deepEqual(unfinishedAdverts(one(main, ad({ ended: true })), media), []);
    assert.deepEqual(unfinishedAdverts(one(main, ad({ duration: 600 })), media), []);
    assert.deepEqual(unfinishedAdverts(one(main, ad({ duration: Infinity })), media), []);
    assert.deepEqual(unfinishedAdverts(one(main, ad({ adHint: false, namesOther: true })), media), []);
    // The only video the page fetched is all it has to show.
    assert.deepEqual(unfinishedAdverts(one(ad()), [{ url: 'https://x/ad.mp4' }]), []);
});

test('replaced media: by URL for files, by time for MediaSource players, never the final source', () => {
    const files: ElementHistory[] = [
        {
            key: '0:1',
            sources: [
                src({ src: 'https://x/main.mp4', firstSeen: 0 }),
                src({ src: 'https://x/ad.mp4', firstSeen: 100 }),
                src({ src: 'https://x/main.mp4', firstSeen: 900 }),
            ],
        },
    ];
    const media = [
        { url: 'https://x/ad.mp4', at: 120 },
        { url: 'https://x/main.mp4', at: 950 },
    ];
    assert.deepEqual(
        replacedMedia(files, media).map((r) => r.url),
        ['https://x/ad.mp4'],
    );
    const blobs: ElementHistory[] = [
        {
            key: '0:1',
            sources: [
                src({ src: 'blob:https://x/1', firstSeen: 1000 }),
                src({ src: 'blob:https://x/2', firstSeen: 5000 }),
            ],
        },
    ];
    const manifests = [
        { url: 'https://x/ad.m3u8', at: 900 },
        { url: 'https://x/main.m3u8', at: 4900 },
    ];
    assert.deepEqual(
        replacedMedia(blobs, manifests).map((r) => r.url),
        ['https://x/ad.m3u8'],
    );
    assert.deepEqual(
        replacedMedia([{ key: '0:1', sources: [src({})] }], [{ url: 'https://cdn.example/a.mp4', at: 0 }]),
        [],
    );
});

test('messages say what happened', () => {
    const base = {
        secs: 0.63,
        timedOut: false,
        waitSecs: 10,
        players: 0,
        mediaRequests: 0,
        clicks: {},
        leftToClick: 0,
    };
    assert.equal(describeWait(base), 'left after 0.6 s: no player, no media request, nothing left to click');
    assert.equal(
        describeWait({ ...base, secs: 2.2, clicks: { play: 2 } }),
        'clicked 2 play controls; no media followed; left after 2.2 s: no player, no media request, nothing left to click',
    );
    assert.equal(
        describeWait({ ...base, timedOut: true, players: 1, clicks: { tile: 1, video: 1 }, leftToClick: 3 }),
        'clicked 1 video tile and 1 video element; no media followed; left after the full 10 s (pageWaitSecs): ' +
            '1 player, no media request, 3 controls left unclicked (click budget spent)',
    );
});

test('page guard: main-frame navigations and form posts are refused, a player iframe may load', () => {
    assert.equal(refusesNavigation({ isNavigation: true, isMainFrame: true, method: 'GET' }), true);
    assert.equal(refusesNavigation({ isNavigation: true, isMainFrame: false, method: 'POST' }), true);
    assert.equal(refusesNavigation({ isNavigation: true, isMainFrame: false, method: 'GET' }), false);
    assert.equal(refusesNavigation({ isNavigation: false, isMainFrame: true, method: 'POST' }), false);
});
