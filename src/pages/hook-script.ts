/**
 * The page side of hooks.ts, as source text: it runs in the page (every frame, before the page's own
 * scripts), where esbuild's helpers (`__name`) that tsx adds to functions do not exist.
 *
 * What it sees and hands to Node through the `__mcaHook` binding:
 * - `URL.createObjectURL(blob)` of a playlist or MPD: the Blob's text (players get such manifests
 *   from a page that built them from an API answer; the network shows only the `blob:` URL).
 * - `data:` playlist or MPD URLs given to XHR or fetch.
 * - Every `SourceBuffer.appendBuffer`: which SourceBuffer (and MediaSource), the byte length, the
 *   SHA-256 and the top-level MP4 boxes. The bytes stay in the page, and only while Node says it may
 *   need them (no network response had the same bytes); Node pulls them in pieces at the end.
 * - `MediaSource.endOfStream()` calls. Duration, buffered ranges and the playhead are polled.
 * - Subtitle `<track>` elements of a `<video>` as they are added: a player may take them out before the
 *   page is scanned (Video.js playing HLS or DASH emulates its text tracks and removes the elements).
 */

/** Name of the binding the page calls (page.exposeBinding). */
export const HOOK_BINDING = '__mcaHook';

/** Page-side helpers, non-enumerable properties of `window`: state, drive, take, release. */
export const HOOK_FNS = {
    state: '__mcaState',
    drive: '__mcaDrive',
    take: '__mcaTake',
    release: '__mcaRelease',
} as const;

/**
 * SHA-256 in plain JavaScript, for pages without `crypto.subtle` (plain http on a non-local host is
 * not a secure context). Round constants are computed as the standard defines them (fractional
 * parts of cube and square roots of the first primes). Defines `mcaSha256(Uint8Array) → hex`.
 */
export const SHA256_SOURCE = `
function mcaSha256(bytes) {
    var primes = [], k = [], h = [], n = 2;
    while (primes.length < 64) {
        var isPrime = true;
        for (var p = 0; p < primes.length && primes[p] * primes[p] <= n; p++) if (n % primes[p] === 0) isPrime = false;
        if (isPrime) primes.push(n);
        n++;
    }
    var frac = function (x) { return ((x - Math.floor(x)) * 4294967296) | 0; };
    for (var i = 0; i < 64; i++) { k[i] = frac(Math.cbrt(primes[i])); if (i < 8) h[i] = frac(Math.sqrt(primes[i])); }
    var len = bytes.length, total = Math.ceil((len + 9) / 64) * 64;
    var m = new Uint8Array(total);
    m.set(bytes);
    m[len] = 0x80;
    var dv = new DataView(m.buffer);
    dv.setUint32(total - 8, Math.floor(len / 536870912));
    dv.setUint32(total - 4, (len * 8) >>> 0);
    var w = new Int32Array(64);
    var rot = function (x, r) { return (x >>> r) | (x << (32 - r)); };
    for (var o = 0; o < total; o += 64) {
        for (var j = 0; j < 16; j++) w[j] = dv.getInt32(o + j * 4);
        for (j = 16; j < 64; j++) {
            var a15 = w[j - 15], a2 = w[j - 2];
            var s0 = rot(a15, 7) ^ rot(a15, 18) ^ (a15 >>> 3);
            var s1 = rot(a2, 17) ^ rot(a2, 19) ^ (a2 >>> 10);
            w[j] = (w[j - 16] + s0 + w[j - 7] + s1) | 0;
        }
        var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
        for (j = 0; j < 64; j++) {
            var t1 = (hh + (rot(e, 6) ^ rot(e, 11) ^ rot(e, 25)) + ((e & f) ^ (~e & g)) + k[j] + w[j]) | 0;
            var t2 = ((rot(a, 2) ^ rot(a, 13) ^ rot(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
            hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
        }
        h[0] = (h[0] + a) | 0; h[1] = (h[1] + b) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0;
        h[4] = (h[4] + e) | 0; h[5] = (h[5] + f) | 0; h[6] = (h[6] + g) | 0; h[7] = (h[7] + hh) | 0;
    }
    return h.map(function (x) { return (x >>> 0).toString(16).padStart(8, '0'); }).join('');
}`;

/** Top-level MP4 box types of a buffer (at most 12), `mcaBoxes(Uint8Array) → string[]`. */
export const BOXES_SOURCE = `
function mcaBoxes(b) {
    var out = [], o = 0;
    while (o + 8 <= b.length && out.length < 12) {
        var size = b[o] * 16777216 + (b[o + 1] << 16) + (b[o + 2] << 8) + b[o + 3];
        var type = String.fromCharCode(b[o + 4], b[o + 5], b[o + 6], b[o + 7]);
        if (!/^[a-zA-Z0-9 ]{4}$/.test(type)) break;
        out.push(type);
        if (size === 1) {
            if (o + 16 > b.length) break;
            size = (b[o + 8] * 16777216 + (b[o + 9] << 16) + (b[o + 10] << 8) + b[o + 11]) * 4294967296 +
                b[o + 12] * 16777216 + (b[o + 13] << 16) + (b[o + 14] << 8) + b[o + 15];
        } else if (size === 0) {
            size = b.length - o;
        }
        if (size < 8) break;
        o += size;
    }
    return out;
}`;

/** The init script (page.addInitScript). Idempotent per frame. */
export const HOOK_SCRIPT = `(() => {
    const W = window;
    if (W.__mcaInstalled || typeof W.URL !== 'function') return;
    Object.defineProperty(W, '__mcaInstalled', { value: true });
    ${SHA256_SOURCE}
    ${BOXES_SOURCE}
    const BINDING = ${JSON.stringify(HOOK_BINDING)};
    const TOKEN = Math.random().toString(36).slice(2, 10);
    const MANIFEST_TYPE = /mpegurl|dash\\+xml/i;
    const DATA_MANIFEST =
        /^data:(application\\/(vnd\\.apple\\.mpegurl|x-mpegurl|dash\\+xml)|audio\\/(x-)?mpegurl)[;,]/i;
    const MAX_MANIFEST = 32 * 1024 * 1024;
    const looksManifest = (s) => {
        const t = String(s).replace(/^\\uFEFF/, '').trimStart();
        return t.startsWith('#EXTM3U') || /<MPD[\\s>]/.test(t.slice(0, 4096));
    };

    // The binding is installed by Playwright before this script; wait briefly in case it is not yet.
    const post = (msg) => new Promise((resolve) => {
        let tries = 0;
        const go = () => {
            const f = W[BINDING];
            if (typeof f === 'function') Promise.resolve().then(() => f(msg)).then(resolve, () => resolve(undefined));
            else if (tries++ < 40) setTimeout(go, 50);
            else resolve(undefined);
        };
        go();
    });

    // Wrapped functions still print as native code: some player and anti-bot scripts check.
    const natives = new WeakMap();
    const fnToString = Function.prototype.toString;
    const toString = function toString() { return fnToString.call(natives.get(this) || this); };
    natives.set(toString, fnToString);
    Function.prototype.toString = toString;
    const wrap = (obj, name, make) => {
        const orig = obj && obj[name];
        if (typeof orig !== 'function') return;
        const w = make(orig);
        natives.set(w, orig);
        try { Object.defineProperty(w, 'length', { value: orig.length }); } catch (e) {}
        obj[name] = w;
    };
    const define = (name, value) => Object.defineProperty(W, name, { value, configurable: true });

    // (a) Manifests the page built: a Blob given to createObjectURL, a data: URL given to XHR or fetch.
    const mediaSources = [];
    const msIds = new WeakMap();
    const msUrls = new Map();
    const eos = new Set();
    let seq = 0;
    const msId = (ms) => {
        let id = msIds.get(ms);
        if (!id) {
            id = TOKEN + ':ms' + ++seq;
            msIds.set(ms, id);
            mediaSources.push(ms);
        }
        return id;
    };
    wrap(URL, 'createObjectURL', (orig) => function createObjectURL(obj) {
        const url = orig.apply(this, arguments);
        try {
            if (typeof MediaSource !== 'undefined' && obj instanceof MediaSource) {
                msId(obj);
                msUrls.set(url, obj);
            } else if (obj instanceof Blob && obj.size > 0 && obj.size <= MAX_MANIFEST) {
                const typed = MANIFEST_TYPE.test(obj.type || '');
                (typed ? Promise.resolve(true) : obj.slice(0, 4096).text().then(looksManifest))
                    .then((maybe) => (maybe ? obj.text() : ''))
                    .then((text) => {
                        if (text && looksManifest(text)) post({ t: 'manifest', url, text, baseUrl: location.href });
                    })
                    .catch(() => {});
            }
        } catch (e) {}
        return url;
    });
    const noteData = (input) => {
        try {
            const s = typeof input === 'string' ? input : (input && (input.url || input.href)) || '';
            if (DATA_MANIFEST.test(s)) post({ t: 'data', url: s, baseUrl: location.href });
        } catch (e) {}
    };
    if (W.XMLHttpRequest) wrap(W.XMLHttpRequest.prototype, 'open', (orig) => function open(method, url) {
        noteData(url);
        return orig.apply(this, arguments);
    });
    wrap(W, 'fetch', (orig) => function fetch(input) {
        noteData(input);
        return orig.apply(this, arguments);
    });

    // (b) What a MediaSource player appends, per SourceBuffer, in order.
    if (typeof MediaSource === 'undefined' || typeof SourceBuffer === 'undefined') return;
    const buffers = new WeakMap();
    const counts = {};
    const kept = new Map();
    let pending = 0;
    const hex = (bytes) => Array.from(bytes, (x) => x.toString(16).padStart(2, '0')).join('');
    const digest = (bytes) => (W.crypto && W.crypto.subtle && W.isSecureContext
        ? W.crypto.subtle.digest('SHA-256', bytes).then((d) => hex(new Uint8Array(d)))
        : Promise.resolve().then(() => mcaSha256(bytes)));
    wrap(MediaSource.prototype, 'addSourceBuffer', (orig) => function addSourceBuffer(type) {
        const sb = orig.apply(this, arguments);
        try {
            const id = TOKEN + ':sb' + ++seq;
            buffers.set(sb, { id, n: 0 });
            counts[id] = 0;
            post({ t: 'buffer', id, ms: msId(this), mime: String(type) });
        } catch (e) {}
        return sb;
    });
    const record = (sb, data) => {
        const info = buffers.get(sb);
        if (!info || !data) return;
        const view = data instanceof ArrayBuffer || (W.SharedArrayBuffer && data instanceof SharedArrayBuffer)
            ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
        // A copy now: players reuse their buffers once appendBuffer returns.
        const copy = view.slice();
        const index = info.n++;
        counts[info.id] = info.n;
        pending++;
        digest(copy)
            .then((sha) => post({ t: 'append', id: info.id, index, bytes: copy.length, sha, boxes: mcaBoxes(copy),
                head: hex(copy.subarray(0, 16)) }))
            .then((keep) => { if (keep === true) kept.set(info.id + '/' + index, copy); })
            .catch(() => {})
            .then(() => { pending--; });
    };
    // Recorded only once the browser took the bytes: a call that throws appended nothing.
    wrap(SourceBuffer.prototype, 'appendBuffer', (orig) => function appendBuffer(data) {
        const r = orig.apply(this, arguments);
        try { record(this, data); } catch (e) {}
        return r;
    });
    wrap(MediaSource.prototype, 'endOfStream', (orig) => function endOfStream(error) {
        const r = orig.apply(this, arguments);
        try {
            const id = msId(this);
            if (!error) eos.add(id);
            post({ t: 'eos', ms: id, error: error ? String(error) : '' });
        } catch (e) {}
        return r;
    });

    const ranges = (tr) => {
        const out = [];
        try { for (let i = 0; i < tr.length; i++) out.push([tr.start(i), tr.end(i)]); } catch (e) {}
        return out;
    };
    const elementOf = (ms) => {
        const els = Array.from(document.querySelectorAll('video, audio'));
        for (const el of els) if (el.srcObject === ms) return el;
        for (const [url, m] of msUrls) {
            if (m !== ms) continue;
            for (const el of els) if (el.src === url || el.currentSrc === url) return el;
        }
        return null;
    };
    define(${JSON.stringify(HOOK_FNS.state)}, () => ({
        pending,
        counts: Object.assign({}, counts),
        keptBytes: Array.from(kept.values()).reduce((n, b) => n + b.length, 0),
        sources: mediaSources.map((ms) => {
            const el = elementOf(ms);
            const sbs = [];
            try { for (const sb of ms.sourceBuffers) sbs.push(ranges(sb.buffered)); } catch (e) {}
            return {
                id: msIds.get(ms),
                duration: ms.duration,
                readyState: ms.readyState,
                ended: eos.has(msIds.get(ms)),
                sourceBuffers: sbs,
                element: el ? { buffered: ranges(el.buffered), currentTime: el.currentTime, paused: el.paused,
                    ended: el.ended, rate: el.playbackRate, readyState: el.readyState } : null,
            };
        }),
    }));
    // Plays the MediaSource's element muted, as fast as it takes (16x is Chromium's ceiling), from seekTo.
    define(${JSON.stringify(HOOK_FNS.drive)}, (id, seekTo) => {
        const ms = mediaSources.find((m) => msIds.get(m) === id);
        const el = ms && elementOf(ms);
        if (!el) return false;
        try { el.muted = true; } catch (e) {}
        for (const rate of [16, 8, 4, 2]) {
            if (el.playbackRate >= rate) break;
            try { el.playbackRate = rate; break; } catch (e) {}
        }
        if (typeof seekTo === 'number') { try { el.currentTime = seekTo; } catch (e) {} }
        if (el.paused && !el.ended) { try { const p = el.play(); if (p) p.catch(() => {}); } catch (e) {} }
        return true;
    });
    // Bytes [offset, offset+length) of a kept append, base64 (binding and CDP messages stay small).
    define(${JSON.stringify(HOOK_FNS.take)}, (key, offset, length) => {
        const b = kept.get(key);
        if (!b) return null;
        const part = b.subarray(offset, offset + length);
        let s = '';
        for (let i = 0; i < part.length; i += 0x8000) {
            s += String.fromCharCode.apply(null, part.subarray(i, i + 0x8000));
        }
        return btoa(s);
    });
    define(${JSON.stringify(HOOK_FNS.release)}, (keys) => { for (const k of keys) kept.delete(k); });

    // (c) Subtitle tracks as the parser or a script adds them to a <video>. A record keeps the element and
    // the parent it was added to, so a track a player removed right after is still read.
    const tracksSeen = new Set();
    const reportTrack = (t, parent) => {
        const kind = (t.getAttribute('kind') || 'subtitles').toLowerCase();
        const src = t.src;
        const inVideo = (el) => !!(el && el.closest && el.closest('video'));
        if (!src || (kind !== 'subtitles' && kind !== 'captions') || tracksSeen.has(src)) return;
        if (!inVideo(parent) && !inVideo(t.parentElement)) return;
        tracksSeen.add(src);
        post({ t: 'track', src, lang: t.getAttribute('srclang') || '', label: t.getAttribute('label') || '' });
    };
    try {
        new MutationObserver((records) => {
            for (const r of records) {
                for (const n of r.addedNodes) {
                    if (n.nodeType !== 1) continue;
                    if (n.tagName === 'TRACK') reportTrack(n, r.target);
                    else if (n.firstElementChild) for (const t of n.getElementsByTagName('track')) reportTrack(t, t.parentElement);
                }
            }
        }).observe(document, { childList: true, subtree: true });
    } catch (e) {}
})();`;
