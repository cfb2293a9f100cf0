/**
 * The page's open invitations: what a person would still click to see its video. Play controls and
 * posters (with or without a `<video>` yet) and tiles that open a player in a modal, in every frame
 * and open shadow root, found by role, accessible label, text (several languages) and shape, never
 * by one player's class names. The page-side scan lists and marks them; the choice is pure.
 */
import type { Frame, JSHandle, Page } from 'playwright';

export type InvitationKind = 'play' | 'tile' | 'video';

export interface Invitation {
    /** Index of its frame in `page.frames()` when scanned. */
    frame: number;
    /** Its `data-mc-invite` mark, unique within the frame for this scan. */
    id: string;
    kind: InvitationKind;
    /** What makes it one: 'label', 'glyph', 'shape', 'overlay', 'thumb', 'duration', 'data', 'element'. */
    signals: string[];
    /** On-screen area, px². */
    area: number;
    inView: boolean;
    /** How often it was clicked already (this page). */
    clicks: number;
    label: string;
}

/**
 * Play words in the languages a crawl is likely to meet: the accessible names of play controls.
 * "play" as a word only (not "playlist", "display", "autoplay").
 */
const PLAY_WORDS = [
    'play',
    'replay',
    'lecture',
    'lire',
    'reproducir',
    'reproduzir',
    'abspielen',
    'wiedergeben',
    'riproduci',
    'afspelen',
    'spela upp',
    'odtwórz',
    'přehrát',
    'oynat',
    'воспроизвести',
    'смотреть',
    '播放',
    '再生',
    '재생',
    'تشغيل',
];
/** Words of a control that would stop or leave, never a play control. */
const NOT_PLAY_WORDS = ['pause', 'stop', 'playlist', 'settings', 'speed', 'share', 'download', 'mute', 'volume'];

/** Runs in a frame: lists and marks its invitations. Source text, as dom-scan.ts explains. */
export const INVITE_SCAN = `((args) => {
  const [playWords, notPlayWords] = args;
  const cjk = /[\\u3000-\\u9fff\\uac00-\\ud7af\\u0600-\\u06ff]/;
  const wordRe = (words) => new RegExp(words.map((w) => cjk.test(w) ? w : '(^|[^\\\\p{L}])' + w + '($|[^\\\\p{L}])').join('|'), 'iu');
  const PLAY = wordRe(playWords), NOT_PLAY = wordRe(notPlayWords);
  const GLYPH = /^[\\s\\u25B6\\u25BA\\u25B7\\u23F5\\u2BC8\\u25B8]+$/;
  const DURATION = /(^|\\s)\\d{1,2}:\\d{2}(:\\d{2})?(\\s|$)/;
  const MEDIA_DATA = /\\.(mp4|m3u8|mpd|webm|mov)(\\?|$)|video|player|embed|youtube|vimeo|stream/i;
  const here = location.href.split('#')[0];
  const all = [];
  const walk = (root) => { for (const el of root.querySelectorAll('*')) { all.push(el); if (el.shadowRoot) walk(el.shadowRoot); } };
  walk(document);
  const vw = innerWidth, vh = innerHeight;
  const visible = (el, r) => r.width >= 12 && r.height >= 12 &&
    (!el.checkVisibility || el.checkVisibility({ opacityProperty: true, visibilityProperty: true }));
  // Never clicked: links to other documents (a media file aside: lightboxes open those), submit controls.
  const leavesPage = (el) => {
    const a = el.closest('a[href]');
    if (a) {
      const href = a.getAttribute('href') || '';
      if (!/^\\s*(#|javascript:)/i.test(href)) {
        let u; try { u = new URL(a.href); } catch { return true; }
        if (u.href.split('#')[0] !== here && !/\\.(mp4|m4v|webm|mov|m3u8|mpd)(\\?|$)/i.test(u.pathname)) return true;
      }
      if (a.target && a.target !== '_self' && !/^\\s*#/.test(href)) return true;
    }
    const f = el.closest('button, input');
    if (f && f.form && (f.type === 'submit' || f.type === 'image')) return true;
    return false;
  };
  const labelOf = (el) => {
    const ids = (el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean);
    const by = ids.map((id) => (el.getRootNode().getElementById?.(id) || document.getElementById(id))?.textContent || '').join(' ');
    const img = el.querySelector('img[alt]');
    return (el.getAttribute('aria-label') || by || el.getAttribute('title') || (el.innerText || '').trim().slice(0, 60) ||
      el.getAttribute('alt') || (img ? img.getAttribute('alt') : '') || el.getAttribute('value') || '').trim();
  };
  const buttonLike = (el) => el.matches('button, [role="button"], a, input[type="button"], [onclick], [tabindex], summary, [data-toggle], [data-bs-toggle]');
  const pointer = (el) => getComputedStyle(el).cursor === 'pointer';
  const clickable = (el) => {
    if (buttonLike(el)) return true;
    if (!pointer(el)) return false;
    const p = el.parentElement;
    return !p || !pointer(p); // the outermost element of a pointer region
  };
  // A triangle: an SVG polygon of 3 points or a path of 3 vertices, or a CSS border triangle.
  const triangle = (el) => {
    for (const s of el.querySelectorAll('polygon, path')) {
      const d = s.getAttribute('points') || s.getAttribute('d') || '';
      if (/[cqsta]/i.test(s.getAttribute('d') || '')) continue;
      const nums = d.match(/-?\\d*\\.?\\d+/g) || [];
      if (nums.length === 6 || (nums.length === 8 && nums[0] === nums[6] && nums[1] === nums[7])) return true;
    }
    for (const c of [el, ...el.querySelectorAll('*')].slice(0, 20)) {
      for (const pseudo of [null, '::before', '::after']) {
        const cs = getComputedStyle(c, pseudo);
        if (parseFloat(cs.width) === 0 && parseFloat(cs.borderLeftWidth) > 6 &&
            cs.borderTopColor === 'rgba(0, 0, 0, 0)' && cs.borderBottomColor === 'rgba(0, 0, 0, 0)') return true;
      }
    }
    return false;
  };
  const imageUnder = (el, r) => {
    if (el.querySelector('img, picture, canvas')) return true;
    if (/url\\(/.test(getComputedStyle(el).backgroundImage)) return true;
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    if (x < 0 || y < 0 || x > vw || y > vh) return false;
    const root = el.getRootNode();
    const stack = (root.elementsFromPoint ? root : document).elementsFromPoint(x, y);
    return stack.some((u) => u !== el && !el.contains(u) && (u.matches('img, video, canvas, picture') || /url\\(/.test(getComputedStyle(u).backgroundImage)));
  };
  let n = 0;
  const out = [];
  for (const el of all) el.removeAttribute('data-mc-invite');
  for (const el of all) {
    if (out.length >= 200) break;
    const isVideo = el.tagName === 'VIDEO';
    if (!isVideo && !clickable(el)) continue;
    const r = el.getBoundingClientRect();
    if (!visible(el, r) || leavesPage(el)) continue;
    const clicks = Number(el.getAttribute('data-mc-clicked') || 0);
    const signals = [];
    let kind;
    if (isVideo) {
      // Playing, about to autoplay, or played: a click would pause it.
      if (!el.paused || el.autoplay || el.currentTime > 0 || el.ended) continue;
      kind = 'video'; signals.push('element');
    } else {
      const label = labelOf(el);
      if (NOT_PLAY.test(label) && !PLAY.test(label.replace(NOT_PLAY, ''))) continue;
      if (PLAY.test(label)) signals.push('label');
      if (GLYPH.test(el.textContent || '') && (el.textContent || '').trim()) signals.push('glyph');
      if (r.width * r.height < 250000 && triangle(el)) signals.push('shape');
      const big = r.width >= 120 && r.height >= 68;
      const thumb = big && imageUnder(el, r);
      if (thumb) signals.push('thumb');
      if (DURATION.test(el.textContent || '')) signals.push('duration');
      const data = [...el.attributes].filter((a) => a.name.startsWith('data-') && a.name !== 'data-mc-clicked').map((a) => a.name + '=' + a.value).join(' ');
      if (MEDIA_DATA.test(data) || (el.matches('a[href]') && /\\.(mp4|m4v|webm|mov|m3u8|mpd)(\\?|$)/i.test(el.getAttribute('href') || ''))) signals.push('data');
      const playSign = signals.includes('label') || signals.includes('glyph') || signals.includes('shape');
      if (thumb && (playSign || signals.includes('duration') || signals.includes('data'))) {
        // A poster with a play sign over it, or a thumbnail tile that says it is a video.
        kind = el.closest('video, [class*="player" i]') || !el.querySelector('img, picture') ? 'play' : 'tile';
      } else if (playSign) kind = 'play';
      else if (thumb && el.closest('figure, li, article') && signals.includes('data')) kind = 'tile';
      else continue;
    }
    const id = String(++n);
    el.setAttribute('data-mc-invite', id);
    const inView = r.bottom > 0 && r.right > 0 && r.top < vh && r.left < vw;
    out.push({ id, kind, signals, area: Math.round(r.width * r.height), inView, clicks, label: labelOf(el).slice(0, 60) });
  }
  return out;
})`;

const SIGNAL_WEIGHT: Record<string, number> = {
    label: 6,
    glyph: 5,
    shape: 4,
    thumb: 2,
    duration: 2,
    data: 2,
    element: 1,
};
const KIND_WEIGHT: Record<InvitationKind, number> = { play: 10, tile: 5, video: 0 };

/** How promising an invitation is: play controls before tiles before bare `<video>` elements. Pure. */
export function invitationScore(inv: Invitation): number {
    const signals = inv.signals.reduce((sum, s) => sum + (SIGNAL_WEIGHT[s] ?? 0), 0);
    // Bigger and on screen first: the poster's play button over the header's tiny one.
    const size = Math.min(3, Math.log10(Math.max(1, inv.area)) - 2);
    return KIND_WEIGHT[inv.kind] + signals + size + (inv.inView ? 2 : 0);
}

export interface ChoiceState {
    /** Clicks left in the page's budget. */
    budget: number;
    /**
     * Whether an invitation clicked once may be clicked again: its click brought nothing new and
     * some time passed (a control not wired up yet when first clicked).
     */
    retryDue: boolean;
}

/**
 * The invitation to click next, or undefined when nothing is left: never one clicked twice, one
 * clicked once only when a retry is due, and within the budget. Pure.
 */
export function chooseInvitation(invitations: readonly Invitation[], state: ChoiceState): Invitation | undefined {
    if (state.budget <= 0) return undefined;
    const open = invitations.filter((i) => i.clicks === 0 || (i.clicks === 1 && state.retryDue));
    // Unclicked ones first: a retry only when nothing new is left.
    const fresh = open.filter((i) => i.clicks === 0);
    const pool = fresh.length ? fresh : open;
    let best: Invitation | undefined;
    for (const inv of pool) if (!best || invitationScore(inv) > invitationScore(best)) best = inv;
    return best;
}

/** The scan with its arguments (an expression: Playwright calls no function given as text). */
const SCAN_CALL = `${INVITE_SCAN}(${JSON.stringify([PLAY_WORDS, NOT_PLAY_WORDS])})`;

/** Lists the invitations of every frame of the page. */
export async function listInvitations(page: Page): Promise<Invitation[]> {
    const frames = page.frames();
    const lists = await Promise.all(
        frames.map((f, i) =>
            f
                .evaluate<Omit<Invitation, 'frame'>[]>(SCAN_CALL)
                .then((list) => list.map((inv) => ({ ...inv, frame: i })))
                .catch(() => [] as Invitation[]),
        ),
    );
    return lists.flat();
}

/**
 * Clicks one invitation as a person would (a real mouse click on it; Playwright's locators pierce
 * open shadow roots). An element covered by an overlay is clicked where it is: whatever covers it
 * is what a person's click reaches. Returns whether a click was made.
 *
 * A click's time limit bounds only reaching the element (`noWaitAfter`: a navigation it starts is
 * refused by page-guard.ts, so there is nothing to wait for). Whether a click that ran out of time was
 * made anyway is told by the page: a trusted `click` event reached its document. Under CI load a
 * "Play now" button whose script navigates took longer than the limit to report, both tries counted as
 * no click, and the button was clicked twice (a second click on a player pauses what the first started).
 */
export async function clickInvitation(page: Page, inv: Invitation): Promise<boolean> {
    const frame: Frame | undefined = page.frames()[inv.frame];
    if (!frame) return false;
    const target = frame.locator(`[data-mc-invite="${inv.id}"]`).first();
    const counter = await trustedClicks(frame).catch(() => undefined);
    if (!counter) return false;
    // Marked as clicked; a <video> that started meanwhile is left alone (a click would pause it). What is
    // given back is the count of trusted clicks so far, or -1 for "leave it".
    const before = await target
        .evaluate(
            (el, [n, clicks]) => {
                el.setAttribute('data-mc-clicked', String(n));
                const v = el as HTMLVideoElement;
                const idle = el.tagName !== 'VIDEO' || (v.paused && v.currentTime === 0);
                return idle ? clicks.n : -1;
            },
            [inv.clicks + 1, counter] as const,
        )
        .catch(() => -1);
    if (before < 0) return false;
    const made = (): Promise<boolean> =>
        counter
            .evaluate((clicks) => clicks.n)
            .then(
                (n) => n > before,
                () => false,
            );
    if (await target.click({ timeout: 800, noWaitAfter: true }).then(() => true, made)) return true;
    return target.click({ timeout: 400, force: true, noWaitAfter: true }).then(() => true, made);
}

/** Each frame's count of trusted clicks, for the document it holds now. */
const clickCounters = new WeakMap<Frame, JSHandle<{ n: number }>>();

/**
 * The count of trusted clicks the frame's document received, held by the crawler only: an object reached
 * from a capturing listener and from this handle, not from any global, so the page's scripts can neither
 * see nor set it. A document that replaced the one counted (its handle then fails) gets a counter anew.
 */
async function trustedClicks(frame: Frame): Promise<JSHandle<{ n: number }>> {
    const known = clickCounters.get(frame);
    if (known && (await known.evaluate(() => true).catch(() => false))) return known;
    const counter = await frame.evaluateHandle(() => {
        const clicks = { n: 0 };
        window.addEventListener('click', (e) => void (e.isTrusted && clicks.n++), true);
        return clicks;
    });
    clickCounters.set(frame, counter);
    return counter;
}
