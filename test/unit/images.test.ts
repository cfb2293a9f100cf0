import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPlaceholderUrl, pickLargest, selectImages, type ImageElementScan } from '../../src/pages/images.js';
import { imageContentType, imageKeyBase, isImageUrl } from '../../src/download/images.js';

const img = (over: Partial<ImageElementScan>): ImageElementScan => ({ src: '', currentSrc: '', srcsets: [], lazy: [], urlAttrs: [], alt: '', ...over });
const scan = (images: ImageElementScan[], backgrounds: string[] = []) => [{ url: 'https://site.test/gallery/1.html', images, backgrounds }];

test('srcset pick: largest by width, else density; commas inside URLs survive', () => {
    assert.equal(pickLargest([{ url: 'a', width: 320 }, { url: 'b', width: 1280 }, { url: 'c', width: 640 }])?.url, 'b');
    assert.equal(pickLargest([{ url: 'a' }, { url: 'b', density: 2 }, { url: 'c', density: 1.5 }])?.url, 'b');
    const { images, excluded } = selectImages(scan([img({ srcsets: ['https://cdn.test/c,w_200/p.jpg 200w, https://cdn.test/c,w_800/p.jpg 800w'], src: 'https://cdn.test/c,w_200/p.jpg' })]));
    assert.deepEqual(images.map((i) => i.url), ['https://cdn.test/c,w_800/p.jpg']);
    assert.ok(excluded.has('https://cdn.test/c,w_200/p.jpg'));
});

test('lazy attributes win over placeholders, which are excluded', () => {
    const { images, excluded } = selectImages(
        scan([
            img({ src: '/img/loading.gif', lazy: ['/img/real.jpg'], alt: 'meme' }),
            img({ src: 'data:image/gif;base64,R0lGOD', lazy: ['/img/two.png'] }),
            img({ src: 'data:image/gif;base64,R0lGOD', urlAttrs: ['/full/three.webp'] }),
            img({ src: '/img/plain.jpg' }),
        ]),
    );
    assert.deepEqual(images.map((i) => i.url), ['https://site.test/img/real.jpg', 'https://site.test/img/two.png', 'https://site.test/full/three.webp', 'https://site.test/img/plain.jpg']);
    assert.equal(images[0]!.alt, 'meme');
    assert.ok(excluded.has('https://site.test/img/loading.gif'));
});

test('<picture> sources and CSS backgrounds; non-http never', () => {
    const { images, excluded } = selectImages(
        scan([img({ src: '/p-fallback.jpg', srcsets: ['/p-small.webp 400w, /p-large.webp 1600w'] })], ['/bg.jpg', 'data:image/png;base64,xx', 'javascript:alert(1)']),
    );
    assert.deepEqual(images.map((i) => i.url), ['https://site.test/p-large.webp', 'https://site.test/bg.jpg']);
    assert.ok(excluded.has('https://site.test/p-fallback.jpg') && excluded.has('https://site.test/p-small.webp'));
});

test('placeholder names, content types, key bases', () => {
    assert.ok(isPlaceholderUrl('/static/loading.gif') && isPlaceholderUrl('data:image/png;base64,x') && isPlaceholderUrl('/i/blank.png'));
    assert.ok(!isPlaceholderUrl('/photos/loadingdock-7.jpg'.replace('loadingdock', 'dock')));
    assert.equal(imageContentType('image/png', 'application/octet-stream'), 'image/png');
    assert.equal(imageContentType(undefined, 'image/svg+xml; charset=utf-8'), 'image/svg+xml');
    assert.equal(imageContentType(undefined, 'text/html'), undefined);
    assert.equal(imageContentType('application/pdf', 'image/jpeg'), undefined);
    assert.equal(imageKeyBase('https://cdn.test/a/My%20Photo.final.JPG?x=1'), 'My-Photo.final');
    assert.ok(isImageUrl('https://a.test/x.webp?y') && !isImageUrl('https://a.test/x.html'));
});
