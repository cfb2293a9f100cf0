/**
 * The demo site's galleries: every way real galleries hide their images (the seed's data-backup
 * behind a loading.gif, IntersectionObserver lazy loading, srcset, <picture>, CSS backgrounds, an
 * infinite feed, pagination, a hotlink-protected host, duplicates, icons, photos whose names sound
 * like placeholders, one 1×1 GIF in front of a whole gallery), with images made by ffmpeg.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ffmpegPath } from '../merge/tools.js';

const run = promisify(execFile);

/** Real photos whose names an old rule took for placeholders (issue "Your files are safe"). */
export const NAMED_PHOTOS = [
    'gray-whale.jpg',
    'lazy-sunday.webp',
    'pixel-art-castle.png',
    'empty-beach-at-dawn.jpg',
    'loading-dock-7.jpg',
    'blank-canvas-painting.png',
];

/** How many lazy images of the `pixel-lazy` gallery one 1×1 transparent GIF stands in for. */
export const PIXEL_LAZY_COUNT = 12;
/** That GIF, under a name that says nothing: only its place in the page and its content tell. */
export const PIXEL_PLACEHOLDER = 'still/cover.gif';
/** The images behind that GIF. */
export const tiles = (): string[] => Array.from({ length: PIXEL_LAZY_COUNT }, (_, i) => `tile-${i + 1}.jpg`);
/** The smallest transparent GIF (1×1, 43 bytes), as lazy loaders ship it. */
const TRANSPARENT_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

/** name → [width, height]; the extension picks the format. */
export const GALLERY_IMAGES: Record<string, [number, number]> = {
    'g1.jpg': [320, 240],
    'g2.jpg': [320, 240],
    'g3.png': [300, 200],
    'g4.webp': [320, 180],
    'loading.gif': [200, 200],
    'icon16.png': [16, 16],
    'io-1.jpg': [400, 300],
    'io-2.jpg': [400, 300],
    'io-3.png': [400, 300],
    'io-4.webp': [400, 300],
    'anim.gif': [160, 120],
    's-320.jpg': [320, 180],
    's-1280.jpg': [1280, 720],
    'x1.png': [200, 150],
    'x2.png': [400, 300],
    'c,w_200/photo.jpg': [200, 112],
    'c,w_800/photo.jpg': [800, 450],
    'p-small.webp': [400, 225],
    'p-large.webp': [1600, 900],
    'p-fallback.jpg': [400, 225],
    'bg.jpg': [800, 600],
    'hot.jpg': [640, 480],
    'lie.png': [300, 300],
    ...Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`feed-${i + 1}.jpg`, [240, 180] as [number, number]])),
    ...Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`pg-${i + 1}.png`, [200, 200] as [number, number]])),
    ...Object.fromEntries(NAMED_PHOTOS.map((n) => [`named/${n}`, [320, 240] as [number, number]])),
    ...Object.fromEntries(tiles().map((n) => [n, [240, 160] as [number, number]])),
    // Written as bytes, not by ffmpeg (see makeGalleryImages).
    [PIXEL_PLACEHOLDER]: [1, 1],
};

export async function makeGalleryImages(dir: string): Promise<void> {
    let i = 0;
    await Promise.all(
        Object.entries(GALLERY_IMAGES).map(async ([name, [w, h]]) => {
            const file = path.join(dir, name);
            const t = i++;
            if (existsSync(file)) return;
            await mkdir(path.dirname(file), { recursive: true });
            if (name === PIXEL_PLACEHOLDER) return writeFile(file, TRANSPARENT_GIF);
            // A distinct picture per file (testsrc at another second), so no two files share content.
            const src = name === 'loading.gif' ? `color=c=gray:size=${w}x${h}` : `testsrc=size=${w}x${h}:rate=1`;
            const format = name.endsWith('.webp') ? ['-c:v', 'libwebp'] : name.endsWith('.jpg') ? ['-q:v', '4'] : [];
            await run(ffmpegPath, [
                '-hide_banner',
                '-loglevel',
                'error',
                '-y',
                '-f',
                'lavfi',
                '-i',
                src,
                '-ss',
                String(t),
                '-frames:v',
                '1',
                ...format,
                file,
            ]);
        }),
    );
}

const page = (
    title: string,
    body: string,
): string => `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>
<style>body{font-family:sans-serif;max-width:60em;margin:1em auto} .tall{height:1400px} img{display:block;margin:8px}</style></head><body><h1>${title}</h1>${body}</body></html>`;

export function galleryPage(name: string, origin: string): string | undefined {
    switch (name) {
        case 'seed':
            // The seed's markup: li.list-group-item … img[data-backup] behind a loading.gif.
            return page(
                'Seed gallery',
                `<ul class="list-group">${['g1.jpg', 'g2.jpg', 'g3.png', 'g4.webp']
                    .map(
                        (f, i) =>
                            `<li class="list-group-item"><div><div><a href="#"><img src="/img/loading.gif" data-backup="/img/${f}" alt="meme ${i + 1}"></a></div></div></li>`,
                    )
                    .join(
                        '',
                    )}</ul><img src="/img/icon16.png" alt="icon"><img src="/mirror/g1-copy.jpg" alt="mirror of meme 1">`,
            );
        case 'lazy':
            return page(
                'Lazy gallery',
                `
<div class="tall"><img class="lazy" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" data-src="/img/io-1.jpg" alt="io one"></div>
<div class="tall"><img class="lazy" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" data-src="/img/io-2.jpg" alt="io two"></div>
<div class="tall"><img class="lazy" data-src="/img/io-3.png" alt="io three"><img class="lazy" data-src="/img/io-4.webp"></div>
<img srcset="/img/s-320.jpg 320w, /img/s-1280.jpg 1280w" sizes="100px" src="/img/s-320.jpg" alt="srcset w">
<img srcset="/img/x1.png 1x, /img/x2.png 2x" src="/img/x1.png" alt="srcset x">
<img srcset="/img/c,w_200/photo.jpg 200w, /img/c,w_800/photo.jpg 800w" sizes="50px" alt="cdn commas">
<picture><source type="image/webp" srcset="/img/p-small.webp 400w, /img/p-large.webp 1600w" sizes="100px"><img src="/img/p-fallback.jpg" alt="picture"></picture>
<div style="width:400px;height:300px;background-image:url('/img/bg.jpg')"></div>
<img src="${origin.replace('127.0.0.1', 'localhost')}/protected/hot.jpg" alt="hotlinked">
<img src="/img/lie.png" alt="lying type"><img src="/img/anim.gif" alt="gif">
<script>
const io = new IntersectionObserver((entries) => entries.forEach((e) => {
  if (!e.isIntersecting) return; const img = e.target; img.src = img.dataset.src; img.removeAttribute('data-src'); io.unobserve(img);
}));
document.querySelectorAll('img.lazy').forEach((img) => io.observe(img));
</script>`,
            );
        case 'names':
            // Photos whose names contain gray, lazy, pixel, empty, loading, blank: photos all the same.
            return page(
                'Photos with unlucky names',
                NAMED_PHOTOS.map((n) => `<img src="/img/named/${n}" alt="${n.replace(/\.\w+$/, '')}">`).join('\n'),
            );
        case 'pixel-lazy':
            // One 1×1 transparent GIF in front of every image until it scrolls into view; the loader
            // then drops data-src, so only a look before scrolling sees which URL stood in for which.
            // The first tile starts below the fold: every element still shows the GIF at that look.
            return page(
                'Lazy gallery behind one pixel',
                `<div style="height:1600px">Scroll down</div>
${tiles()
    .map(
        (n, i) => `<div style="height:700px"><img class="lazy" src="/img/${PIXEL_PLACEHOLDER}" data-src="/img/${n}"
  width="240" height="160" alt="tile ${i + 1}"></div>`,
    )
    .join('\n')}
<script>
const io = new IntersectionObserver((entries) => entries.forEach((e) => {
  if (!e.isIntersecting) return;
  const img = e.target; img.src = img.dataset.src; img.removeAttribute('data-src'); io.unobserve(img);
}));
document.querySelectorAll('img.lazy').forEach((img) => io.observe(img));
</script>`,
            );
        case 'feed':
            return page(
                'Infinite feed',
                `<div id="feed"></div><div id="more" style="height:50px"></div>
<script>
let next = 1, busy = false;
async function load() {
  if (busy || next > 3) return; busy = true;
  const items = await (await fetch('/api/feed?page=' + next++)).json();
  for (const it of items) { const d = document.createElement('div'); d.style.height = '700px';
    const img = document.createElement('img'); img.src = it.src; img.alt = it.alt; d.appendChild(img); document.getElementById('feed').appendChild(d); }
  busy = false;
}
new IntersectionObserver((e) => { if (e[0].isIntersecting) load(); }).observe(document.getElementById('more'));
</script>`,
            );
        case 'page1':
        case 'page2':
        case 'page3': {
            const n = Number(name.slice(4));
            const next = n < 3 ? `<a class="next" href="/gallery/page${n + 1}.html">next page</a>` : '';
            return page(
                `Gallery page ${n}`,
                `<img src="/img/pg-${2 * n - 1}.png" alt="page ${n} a"><img src="/img/pg-${2 * n}.png" alt="page ${n} b">${next}`,
            );
        }
        default:
            return undefined;
    }
}

/** A distinct 24-bit BMP per index (100×100): big galleries without hundreds of ffmpeg runs. */
export function syntheticBmp(index: number): Buffer {
    const w = 100;
    const h = 100;
    const row = w * 3;
    const header = Buffer.alloc(54);
    header.write('BM', 0, 'latin1');
    header.writeUInt32LE(54 + row * h, 2);
    header.writeUInt32LE(54, 10);
    header.writeUInt32LE(40, 14);
    header.writeInt32LE(w, 18);
    header.writeInt32LE(h, 22);
    header.writeUInt16LE(1, 26);
    header.writeUInt16LE(24, 28);
    header.writeUInt32LE(row * h, 34);
    const pixels = Buffer.alloc(row * h);
    for (let i = 0; i < pixels.length; i++) pixels[i] = (i * (index + 7) + index * 31) & 0xff;
    pixels.writeUInt32LE(index, 0);
    return Buffer.concat([header, pixels]);
}

export const bigGalleryPage = (n: number): string =>
    page(
        `Big gallery of ${n}`,
        Array.from(
            { length: n },
            (_, i) => `<img loading="lazy" width="100" height="100" src="/bigimg/${i}.bmp" alt="big ${i}">`,
        ).join(''),
    );

export function feedPage(n: number): { src: string; alt: string }[] {
    if (n < 1 || n > 3) return [];
    return Array.from({ length: 4 }, (_, i) => ({
        src: `/img/feed-${(n - 1) * 4 + i + 1}.jpg`,
        alt: `feed item ${(n - 1) * 4 + i + 1}`,
    }));
}
