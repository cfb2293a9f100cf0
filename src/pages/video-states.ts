/**
 * What following (source-follow.ts) reads of a page's players and does to them: the in-page scripts
 * that read every `<video>`'s state (its source, duration, position, ad marks, the media URLs the
 * page names around it) and that fast-forward one, and the read across the page's frames.
 */
import type { Page } from 'playwright';

export interface VideoState {
    key: string;
    src: string;
    duration: number | null;
    ended: boolean;
    /** Paused at its start: loaded (metadata preloaded) but never played. */
    unplayed: boolean;
    /** Fetching, no metadata yet. */
    loading?: boolean;
    /** Its playback position, seconds. */
    time?: number;
    /** Playing now: not paused, and data to play (readyState HAVE_FUTURE_DATA or more). */
    playing?: boolean;
    loop: boolean;
    adHint: boolean;
    /** Absolute media URLs the page names around this element and in its inline scripts. */
    named?: string[];
}

/** Runs in a frame: the state of its `<video>` elements (open shadow roots too). Source text, as dom-scan.ts explains. */
const VIDEO_STATES = `(() => {
  const vids = [];
  const walk = (root) => { for (const el of root.querySelectorAll('*')) { if (el.tagName === 'VIDEO') vids.push(el); if (el.shadowRoot) walk(el.shadowRoot); } };
  walk(document);
  const AD_TOKENS = new Set(['ad', 'ads', 'advert', 'adverts', 'advertisement', 'preroll', 'midroll', 'commercial', 'sponsored']);
  const AD_TEXT = /(^|[^\\p{L}])(advertisement|skip ads?|ad \\d+( of \\d+)?|werbung|anzeige|publicité|publicidad|anuncio|pubblicità|реклама)($|[^\\p{L}])|广告|広告|광고/iu;
  // A bare "Ad" is a marker only as a label of its own ("Ad", "Ad: 0:15"), not as a word in running text.
  const AD_LABEL = /^\\s*(ad|ads|advert|advertisement|sponsored)(\\s*[:·•-]|\\s*$|\\s+\\d)/i;
  const adHint = (v) => {
    let el = v;
    for (let i = 0; el && i < 6; i++, el = el.parentElement) {
      const tokens = ((el.getAttribute('class') || '') + ' ' + (el.id || '')).toLowerCase().split(/[^a-z0-9]+/);
      if (tokens.some((t) => AD_TOKENS.has(t))) return true;
      const label = el.getAttribute('aria-label') || '';
      if (AD_LABEL.test(label) || AD_TEXT.test(label)) return true;
    }
    const box = v.parentElement && v.parentElement.parentElement;
    if (!box) return false;
    if (AD_TEXT.test((box.innerText || '').slice(0, 2000))) return true;
    const labelled = box.querySelectorAll('[aria-label]');
    for (let i = 0; i < labelled.length && i < 60; i++) {
      const label = labelled[i].getAttribute('aria-label');
      if (AD_LABEL.test(label) || AD_TEXT.test(label)) return true;
    }
    return false;
  };
  const MEDIA_URL = /[^\\s"'<>()\\\\,;]+\\.(?:mp4|m4v|webm|mov|ogv|m3u8|mpd)(?:\\?[^\\s"'<>()\\\\,;]*)?(?![\\w.])/gi;
  const urlsIn = (text, out) => {
    for (const m of text.matchAll(MEDIA_URL)) {
      if (out.size >= 30) return;
      try { out.add(new URL(m[0].replace(/\\\\\\//g, '/'), document.baseURI).href); } catch {}
    }
  };
  // Inline scripts, read again only when their count changes (a page's scripts rarely change).
  const scripts = [...document.querySelectorAll('script:not([src])')];
  if (!window.__mcNamed || window.__mcNamed.count !== scripts.length) {
    const found = new Set();
    urlsIn(scripts.map((s) => s.textContent || '').join('\\n').slice(0, 200000), found);
    window.__mcNamed = { count: scripts.length, urls: [...found] };
  }
  const named = (v) => {
    const out = new Set(window.__mcNamed.urls);
    const attrs = (el) => { for (const a of el.attributes) if (a.name !== 'class' && a.name !== 'style') urlsIn(a.value, out); };
    for (const s of v.querySelectorAll('source')) attrs(s);
    let el = v;
    for (let i = 0; el && i < 6; i++, el = el.parentElement) attrs(el);
    return [...out];
  };
  window.__mcVideoIds = window.__mcVideoIds || 0;
  return vids.map((v) => {
    if (!v.dataset.mcVideo) v.dataset.mcVideo = String(++window.__mcVideoIds);
    const d = v.duration;
    return { key: v.dataset.mcVideo, src: v.currentSrc || v.src || '', duration: Number.isNaN(d) ? null : d === Infinity ? 1e308 : d,
      ended: v.ended, time: v.currentTime, playing: !v.paused && v.readyState >= 3, unplayed: v.paused && v.currentTime === 0 && !v.ended && !v.autoplay, loop: v.loop, adHint: adHint(v), named: named(v),
      loading: v.networkState === 2 && v.readyState === 0 };
  });
})()`;

/** Plays an element's current source through quickly: its last moments, at 16x, muted. */
export const FAST_FORWARD = `((key) => {
  const walk = (root) => { for (const el of root.querySelectorAll('video')) if (el.dataset.mcVideo === key) return el;
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) { const v = walk(el.shadowRoot); if (v) return v; } };
  const v = walk(document);
  if (!v || v.ended) return;
  v.muted = true;
  try { v.playbackRate = 16; } catch {}
  if (Number.isFinite(v.duration) && v.currentTime < v.duration - 0.5) v.currentTime = Math.max(0, v.duration - 0.1);
  if (v.paused) v.play().catch(() => {});
})`;

export async function videoStates(page: Page): Promise<VideoState[]> {
    const frames = page.frames();
    const lists = await Promise.all(
        frames.map((f, i) =>
            f
                .evaluate<VideoState[]>(VIDEO_STATES)
                .then((l) => l.map((s) => ({ ...s, key: `${i}:${s.key}` })))
                .catch(() => [] as VideoState[]),
        ),
    );
    return lists.flat();
}
