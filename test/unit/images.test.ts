import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import {
    decodeDataUri,
    inlineLabel,
    judgeInline,
    pickLargest,
    placeholderByRender,
    svgDrawsNothing,
    type ImageElementScan,
} from '../../src/pages/images.js';
import { selectImages } from '../../src/pages/image-selection.js';
import { imageContentType, imageKeyBase, imageSkipReason, isImageUrl } from '../../src/download/image-rules.js';

const img = (over: Partial<ImageElementScan>): ImageElementScan => ({
    src: '',
    currentSrc: '',
    srcsets: [],
    lazy: [],
    urlAttrs: [],
    alt: '',
    ...over,
});
const PAGE = 'https://site.test/gallery/1.html';
const scan = (images: ImageElementScan[], backgrounds: string[] = []) => [{ url: PAGE, images, backgrounds }];
const abs = (p: string): string => new URL(p, PAGE).href;

/** The classic lazy loaders' placeholder: a 1×1 transparent GIF. */
const PIXEL_GIF = 'data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7';

/** A real PNG of w×h (grey, opaque), as bytes: what an inlined photo decodes to. */
function png(w: number, h: number): Buffer {
    const chunk = (type: string, data: Buffer): Buffer => {
        const len = Buffer.alloc(4);
        len.writeUInt32BE(data.length);
        return Buffer.concat([len, Buffer.from(type, 'latin1'), data, Buffer.alloc(4)]);
    };
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(w, 0);
    ihdr.writeUInt32BE(h, 4);
    ihdr[8] = 8; // bit depth
    ihdr[9] = 0; // greyscale
    const rows = Buffer.alloc((w + 1) * h, 0x80);
    for (let y = 0; y < h; y++) rows[y * (w + 1)] = 0; // filter byte
    const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    return Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

test("the issue's six photos are kept: a file name never makes a placeholder", () => {
    const names = [
        'gray-whale.jpg',
        'lazy-sunday.webp',
        'pixel-art-castle.png',
        'empty-beach-at-dawn.jpg',
        'loading-dock-7.jpg',
        'blank-canvas-painting.png',
    ];
    const plain = selectImages(
        scan(names.map((n) => img({ src: `/photos/${n}`, currentSrc: abs(`/photos/${n}`), alt: n }))),
    );
    assert.deepEqual(
        plain.images.map((i) => i.url),
        names.map((n) => abs(`/photos/${n}`)),
    );
    assert.deepEqual(plain.skipped, []);
    // Named by a lazy attribute, or a CSS background: the same six, nothing else.
    const lazy = selectImages(scan(names.map((n) => img({ src: PIXEL_GIF, lazy: [`/photos/${n}`] }))));
    assert.deepEqual(
        lazy.images.map((i) => i.url),
        names.map((n) => abs(`/photos/${n}`)),
    );
    const bg = selectImages(
        scan(
            [],
            names.map((n) => `/photos/${n}`),
        ),
    );
    assert.deepEqual(
        bg.images.map((i) => i.url),
        names.map((n) => abs(`/photos/${n}`)),
    );
});

test('srcset pick: largest by width, else density; commas inside URLs survive; the smaller ones are reported', () => {
    assert.equal(
        pickLargest([
            { url: 'a', width: 320 },
            { url: 'b', width: 1280 },
            { url: 'c', width: 640 },
        ])?.url,
        'b',
    );
    assert.equal(pickLargest([{ url: 'a' }, { url: 'b', density: 2 }, { url: 'c', density: 1.5 }])?.url, 'b');
    const { images, excluded, skipped } = selectImages(
        scan([
            img({
                srcsets: ['https://cdn.test/c,w_200/p.jpg 200w, https://cdn.test/c,w_800/p.jpg 800w'],
                src: 'https://cdn.test/c,w_200/p.jpg',
            }),
        ]),
    );
    assert.deepEqual(
        images.map((i) => i.url),
        ['https://cdn.test/c,w_800/p.jpg'],
    );
    assert.ok(excluded.has('https://cdn.test/c,w_200/p.jpg'));
    assert.deepEqual(skipped, [
        {
            url: 'https://cdn.test/c,w_200/p.jpg',
            reason: 'a smaller candidate of the srcset; the largest was taken: https://cdn.test/c,w_800/p.jpg',
        },
    ]);
});

test('structure: a lazy attribute names the image, the src beside it is its placeholder, whatever its name', () => {
    const { images, excluded, skipped } = selectImages(
        scan([
            img({ src: '/img/g1-thumb.jpg', lazy: ['/img/real.jpg'], alt: 'meme' }),
            img({ src: PIXEL_GIF, lazy: ['/img/two.png'] }),
            img({ src: PIXEL_GIF, urlAttrs: ['/full/three.webp'] }),
            img({ src: '/img/plain.jpg' }),
        ]),
    );
    assert.deepEqual(
        images.map((i) => i.url),
        [abs('/img/real.jpg'), abs('/img/two.png'), abs('/full/three.webp'), abs('/img/plain.jpg')],
    );
    assert.equal(images[0]!.alt, 'meme');
    assert.ok(excluded.has(abs('/img/g1-thumb.jpg')));
    assert.deepEqual(skipped, [
        {
            url: abs('/img/g1-thumb.jpg'),
            reason: `a placeholder: it stood in for a lazy image whose own URL was taken: ${abs('/img/real.jpg')}`,
            alt: 'meme',
        },
        {
            url: PIXEL_GIF,
            reason: `a placeholder: it stood in for a lazy image whose own URL was taken: ${abs('/img/two.png')}`,
        },
    ]);
});

test('one placeholder before 50 lazy elements is one skipped item saying so; an element seen twice counts once', () => {
    const before = Array.from({ length: 50 }, (_, i) =>
        img({ id: i + 1, src: '/img/p.gif', lazy: [`/img/photo-${i}.jpg`], alt: `photo ${i}` }),
    );
    // After scrolling the loader has swapped the first 30 in and dropped their data-src.
    const after = before.map((e, i) =>
        i < 30 ? img({ id: e.id, src: `/img/photo-${i}.jpg`, currentSrc: abs(`/img/photo-${i}.jpg`) }) : e,
    );
    const { images, skipped } = selectImages([...scan(before), ...scan(after)]);
    assert.equal(images.length, 50);
    assert.ok(!images.some((i) => i.url === abs('/img/p.gif')));
    assert.equal(skipped.length, 1);
    assert.equal(skipped[0]!.url, abs('/img/p.gif'));
    assert.match(
        skipped[0]!.reason,
        /^a placeholder: it stood in for 50 lazy images whose own URLs were taken \(e\.g\. .*photo-0\.jpg\)$/,
    );
    assert.equal(skipped[0]!.alt, undefined, 'the alt of one of 50 elements would mislead');
});

test('content: a src shown by many elements that each name another image URL is their placeholder', () => {
    const three = selectImages(
        scan([1, 2, 3].map((i) => img({ id: i, src: '/i/cover.jpg', urlAttrs: [`/i/big-${i}.jpg`] }))),
    );
    assert.deepEqual(
        three.images.map((i) => i.url),
        [1, 2, 3].map((i) => abs(`/i/big-${i}.jpg`)),
    );
    assert.equal(three.skipped.length, 1);
    assert.match(
        three.skipped[0]!.reason,
        /^a placeholder: the same image on 3 elements that each name another image URL/,
    );
    // One thumbnail with a zoom attribute: the thumbnail is the image; the zoom URL is reported, not silently dropped.
    const one = selectImages(scan([img({ id: 1, src: '/i/thumb.jpg', urlAttrs: ['/i/zoom.jpg'] })]));
    assert.deepEqual(
        one.images.map((i) => i.url),
        [abs('/i/thumb.jpg')],
    );
    assert.deepEqual(one.skipped, [
        {
            url: abs('/i/zoom.jpg'),
            reason: `named in another attribute of an image whose own image was taken: ${abs('/i/thumb.jpg')}`,
        },
    ]);
    // …unless another element shows it as its image.
    const both = selectImages(
        scan([img({ id: 1, src: '/i/thumb.jpg', urlAttrs: ['/i/zoom.jpg'] }), img({ id: 2, src: '/i/zoom.jpg' })]),
    );
    assert.deepEqual(
        both.images.map((i) => i.url),
        [abs('/i/thumb.jpg'), abs('/i/zoom.jpg')],
    );
    assert.deepEqual(both.skipped, []);
});

test('content: what the browser rendered, for the URL it rendered', () => {
    assert.match(
        placeholderByRender({ width: 1, height: 1 }) ?? '',
        /^1×1 px: a spacer or tracking pixel, not a picture \(as rendered\)$/,
    );
    assert.match(
        placeholderByRender({ width: 300, height: 200, transparent: true }) ?? '',
        /^fully transparent as rendered \(300×200 px\)/,
    );
    assert.equal(placeholderByRender({ width: 300, height: 200, transparent: false }), undefined);
    assert.equal(
        placeholderByRender({ width: 300, height: 200 }),
        undefined,
        'unknown transparency (cross-origin) is not a verdict',
    );
    const { images, skipped } = selectImages(
        scan([
            img({
                src: '/t/pixel-art-castle.png',
                currentSrc: abs('/t/pixel-art-castle.png'),
                rendered: { width: 640, height: 480, transparent: false },
            }),
            img({
                src: '/t/x.png',
                currentSrc: abs('/t/x.png'),
                rendered: { width: 300, height: 200, transparent: true },
            }),
            img({ src: '/t/beacon', currentSrc: abs('/t/beacon'), rendered: { width: 1, height: 1 } }),
            // A loader set src to the photo while the placeholder is still rendered: the verdict is about currentSrc.
            img({ src: '/t/photo.jpg', currentSrc: abs('/t/old.gif'), rendered: { width: 1, height: 1 } }),
        ]),
    );
    assert.deepEqual(
        images.map((i) => i.url),
        [abs('/t/pixel-art-castle.png'), abs('/t/photo.jpg')],
    );
    assert.deepEqual(
        skipped.map((s) => s.url),
        [abs('/t/x.png'), abs('/t/beacon')],
    );
});

test('content: data: URIs are decoded and judged; a real inline picture is an image', () => {
    const pixel = judgeInline(PIXEL_GIF);
    assert.deepEqual(pixel, {
        image: false,
        reason: 'an inline image of 1×1 px: a spacer or tracking pixel, not a picture',
    });
    const emptySvg =
        "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='300' height='200'%3E%3C/svg%3E";
    assert.equal(decodeDataUri(emptySvg)?.mime, 'image/svg+xml');
    assert.deepEqual(judgeInline(emptySvg), {
        image: false,
        reason: 'an inline SVG that draws nothing: a placeholder',
    });
    assert.match(
        (judgeInline('data:text/plain,hello') as { reason: string }).reason,
        /^inline data that is not an image \(text\/plain, 5 bytes\)$/,
    );
    const photo = `data:image/png;base64,${png(320, 240).toString('base64')}`;
    const verdict = judgeInline(photo);
    assert.ok(verdict.image && verdict.width === 320 && verdict.height === 240 && verdict.bytes.equals(png(320, 240)));

    const { images, skipped } = selectImages(
        scan(
            [img({ src: photo, alt: 'inline' }), img({ src: PIXEL_GIF }), img({ src: 'blob:https://site.test/1' })],
            [emptySvg],
        ),
    );
    assert.deepEqual(images, [{ url: photo, alt: 'inline' }]);
    assert.deepEqual(skipped, [
        { url: PIXEL_GIF, reason: 'an inline image of 1×1 px: a spacer or tracking pixel, not a picture' },
        { url: 'blob:https://site.test/1', reason: 'a blob: URL exists only inside the page and cannot be downloaded' },
        { url: inlineLabel(emptySvg), reason: 'an inline SVG that draws nothing: a placeholder' },
    ]);
    assert.ok(inlineLabel(photo).length < 120 && inlineLabel(photo).startsWith('data:image/png;base64,'));
});

test('SVG that draws nothing', () => {
    assert.ok(svgDrawsNothing('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 3 2"></svg>'));
    assert.ok(svgDrawsNothing('<svg><defs><rect id="r"/></defs><!-- <path/> --><g></g></svg>'));
    assert.ok(!svgDrawsNothing('<svg viewBox="0 0 10 10"><circle cx="5" cy="5" r="4"/></svg>'));
    assert.ok(!svgDrawsNothing('not an svg'));
});

test('<picture> sources and CSS backgrounds; non-http never', () => {
    const { images, excluded, skipped, refused } = selectImages(
        scan(
            [img({ src: '/p-fallback.jpg', srcsets: ['/p-small.webp 400w, /p-large.webp 1600w'] })],
            ['/bg.jpg', 'javascript:alert(1)', 'file:///etc/passwd'],
        ),
    );
    assert.deepEqual(
        images.map((i) => i.url),
        [abs('/p-large.webp'), abs('/bg.jpg')],
    );
    assert.ok(excluded.has(abs('/p-fallback.jpg')) && excluded.has(abs('/p-small.webp')));
    assert.deepEqual(
        skipped.map((s) => s.reason.replace(/:.*/, '')),
        [
            'a smaller candidate of the srcset; the largest was taken',
            'the fallback src of an image with a srcset; the largest candidate was taken',
        ],
    );
    assert.deepEqual(refused, ['file:///etc/passwd']);
});

test('downloaded content: 1×1 and empty SVGs whatever the minimum; then the minimum size', () => {
    const min = { width: 64, height: 64 };
    assert.match(
        imageSkipReason({ width: 1, height: 1 }, { width: 0, height: 0 }) ?? '',
        /^1×1 px: a spacer or tracking pixel/,
    );
    assert.equal(imageSkipReason({ width: 16, height: 16 }, min), 'smaller than 64×64 px (16×16)');
    assert.equal(imageSkipReason({ width: 64, height: 64 }, min), undefined);
    assert.equal(
        imageSkipReason(undefined, min, '<svg width="300" height="200"></svg>'),
        'an SVG that draws nothing: a placeholder',
    );
    assert.equal(
        imageSkipReason(undefined, min, '<svg width="300" height="200"><rect width="3" height="3"/></svg>'),
        undefined,
    );
});

test('content types, key bases', () => {
    assert.equal(imageContentType('image/png', 'application/octet-stream'), 'image/png');
    assert.equal(imageContentType(undefined, 'image/svg+xml; charset=utf-8'), 'image/svg+xml');
    assert.equal(imageContentType(undefined, 'text/html'), undefined);
    assert.equal(imageContentType('application/pdf', 'image/jpeg'), undefined);
    assert.equal(imageKeyBase('https://cdn.test/a/My%20Photo.final.JPG?x=1'), 'My-Photo.final');
    assert.ok(isImageUrl('https://a.test/x.webp?y') && !isImageUrl('https://a.test/x.html'));
});
