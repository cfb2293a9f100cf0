import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fullSizeUrl } from '../../src/pages/full-size.js';
import type { ImageElementScan } from '../../src/pages/images.js';
import { selectImages } from '../../src/pages/image-selection.js';
import { isLoadMoreLabel, normalizeLabel } from '../../src/pages/load-more-labels.js';
import { loadMoreButtons } from '../../src/pages/load-more.js';
import { declaredNotAPicture, thumbnailOf } from '../../src/download/image-rules.js';

const PAGE = 'https://site.test/gallery/1.html';
const abs = (p: string): string => new URL(p, PAGE).href;

test('"load more" labels in many languages, decorated or not; text that only mentions it is not a button', () => {
    const yes = [
        'Load more',
        'LOAD MORE',
        'Load more photos (28 left)',
        '↓ Show more',
        'Show more…',
        '+ 24 more',
        'More',
        'See more images',
        'More photos',
        'Next page',
        'Mehr laden',
        'Weitere Bilder anzeigen',
        'Nächste Seite',
        'Voir plus',
        'Charger plus de photos',
        'Page suivante',
        'Cargar más',
        'Ver más',
        'Carica altri',
        'Mostra di più',
        'Carregar mais',
        'Próxima página',
        'Meer laden',
        "Meer foto's",
        'Pokaż więcej',
        'Załaduj więcej',
        'Показать ещё',
        'Загрузить еще',
        'Ещё',
        'Показати більше',
        'Daha fazla yükle',
        'もっと見る',
        '写真をもっと見る',
        '加载更多',
        '載入更多',
        '下一页',
        '더보기',
        '더 불러오기',
        'Visa fler',
        'Načíst další',
        'تحميل المزيد',
        'Xem thêm',
    ];
    for (const label of yes) assert.ok(isLoadMoreLabel(label), `"${label}" is a load-more label`);
    const no = [
        '',
        'Next',
        'Play',
        'Search',
        'Submit',
        'Read more',
        'Show less',
        'Moreover',
        'Load',
        'Pokaż mniej',
        'Learn more about how we load more photos into this gallery every day for you',
        'Sign in',
        'Anmelden',
        'Ещё раз', // "once more"
        'Reload',
        'Bookmore',
        'Plus',
    ];
    for (const label of no) assert.ok(!isLoadMoreLabel(label), `"${label}" is not`);
    assert.equal(normalizeLabel('  Load   more (30) » '), 'load more');
});

test('only buttons that may be pressed: never a submit button, never a link to another URL', () => {
    const buttons = [
        { id: 1, labels: ['Load more'], refused: '' as const },
        { id: 2, labels: ['Show more results'], refused: 'submit' as const },
        { id: 3, labels: ['Load more'], refused: 'link' as const },
        { id: 4, labels: ['›', 'Load more photos'], refused: '' as const },
        { id: 5, labels: ['Play'], refused: '' as const },
    ];
    assert.deepEqual(
        loadMoreButtons(buttons).map((b) => b.id),
        [1, 4],
    );
});

test('full-size URL: lightbox attributes first, then the link; never the page, the image itself or a script', () => {
    const link = (attrs: Record<string, string>, tag = 'a') => ({ link: { tag, attrs } });
    const thumb = abs('/t/1.jpg');
    assert.equal(fullSizeUrl(link({ href: '/photo/1/full' }), PAGE, thumb), abs('/photo/1/full'));
    // PhotoSwipe: data-pswp-src wins over href (which may be the photo's page).
    assert.equal(
        fullSizeUrl(link({ href: '/photo/1.html', 'data-pswp-src': '/big/1.jpg' }), PAGE, thumb),
        abs('/big/1.jpg'),
    );
    // lightGallery: data-src on any element; href only counts on a link.
    assert.equal(fullSizeUrl(link({ 'data-src': '//cdn.test/1.jpg' }, 'div'), PAGE, thumb), 'https://cdn.test/1.jpg');
    assert.equal(fullSizeUrl(link({ href: '/x.jpg' }, 'div'), PAGE, thumb), undefined);
    for (const a of ['data-full', 'data-large', 'data-original', 'data-zoom-image', 'data-hi-res', 'data-highres']) {
        assert.equal(fullSizeUrl(link({ [a]: '/big/2' }, 'figure'), PAGE, thumb), abs('/big/2'), a);
    }
    // The image's own zoom attribute.
    assert.equal(fullSizeUrl({ own: { 'data-zoom-image': '/z/1.png' } }, PAGE, thumb), abs('/z/1.png'));
    // Not a picture anywhere else: the page itself, a fragment, a script, the thumbnail, another scheme.
    for (const href of [
        '#',
        '#photo-1',
        PAGE,
        `${PAGE}#x`,
        'javascript:void(0)',
        '/t/1.jpg',
        'mailto:a@b.c',
        'ftp://x/y',
    ]) {
        assert.equal(fullSizeUrl(link({ href }), PAGE, thumb), undefined, href);
    }
    // A bad value is passed over for the next one.
    assert.equal(fullSizeUrl(link({ 'data-src': '#', href: '/p/3' }), PAGE, thumb), abs('/p/3'));
});

const img = (over: Partial<ImageElementScan>): ImageElementScan => ({
    src: '',
    currentSrc: '',
    srcsets: [],
    lazy: [],
    urlAttrs: [],
    alt: '',
    ...over,
});

test('a thumbnail with a link: the link target is taken with the thumbnail as its fallback, the thumbnail alone is not', () => {
    const scans = [
        {
            url: PAGE,
            backgrounds: [],
            images: [
                img({
                    id: 1,
                    src: '/t/1.jpg',
                    currentSrc: abs('/t/1.jpg'),
                    alt: 'one',
                    full: { link: { tag: 'a', attrs: { href: '/p/1' } } },
                }),
                // lazy thumbnail: its lazy URL is the thumbnail
                img({
                    id: 2,
                    src: '/ph.gif',
                    lazy: ['/t/2.jpg'],
                    full: { link: { tag: 'a', attrs: { href: '/p/2' } } },
                }),
                // srcset thumbnail: its largest candidate is the thumbnail
                img({
                    id: 3,
                    src: '/t/3-s.jpg',
                    srcsets: ['/t/3-s.jpg 100w, /t/3-l.jpg 300w'],
                    full: { link: { tag: 'a', attrs: { href: '/p/3' } } },
                }),
                // no link: plain
                img({ id: 4, src: '/t/4.jpg', currentSrc: abs('/t/4.jpg') }),
                // a link to the page itself: plain
                img({
                    id: 5,
                    src: '/t/5.jpg',
                    currentSrc: abs('/t/5.jpg'),
                    full: { link: { tag: 'a', attrs: { href: '#' } } },
                }),
                // zoom attribute also named in urlAttrs: taken, not reported as "named in another attribute"
                img({
                    id: 6,
                    src: '/t/6.jpg',
                    currentSrc: abs('/t/6.jpg'),
                    urlAttrs: ['/z/6.jpg'],
                    full: { own: { 'data-zoom-image': '/z/6.jpg' } },
                }),
            ],
        },
    ];
    const { images, skipped } = selectImages(scans);
    assert.deepEqual(
        images.map((i) => [i.url, i.thumbnail]),
        [
            [abs('/p/1'), abs('/t/1.jpg')],
            [abs('/p/2'), abs('/t/2.jpg')],
            [abs('/p/3'), abs('/t/3-l.jpg')],
            [abs('/t/4.jpg'), undefined],
            [abs('/t/5.jpg'), undefined],
            [abs('/z/6.jpg'), abs('/t/6.jpg')],
        ],
    );
    assert.equal(images[0]!.alt, 'one');
    assert.ok(!skipped.some((s) => s.url === abs('/z/6.jpg')), JSON.stringify(skipped));
    assert.ok(
        skipped.some((s) => s.url === abs('/t/3-s.jpg')),
        'the smaller srcset candidate is still reported',
    );
});

test('many thumbnails linking to one URL: one goes with the link, the others are images of their own', () => {
    const link = { link: { tag: 'a', attrs: { href: '/shop.html' } } };
    const { images } = selectImages([
        {
            url: PAGE,
            backgrounds: [],
            images: [1, 2, 3].map((n) =>
                img({ id: n, src: `/t/${n}.jpg`, currentSrc: abs(`/t/${n}.jpg`), full: link }),
            ),
        },
    ]);
    assert.deepEqual(
        images.map((i) => [i.url, i.thumbnail]),
        [
            [abs('/shop.html'), abs('/t/1.jpg')],
            [abs('/t/2.jpg'), undefined],
            [abs('/t/3.jpg'), undefined],
        ],
    );
});

test('download side: a link target declared as a page, video or document is no picture; the thumbnail reason', () => {
    for (const t of [
        'text/html; charset=utf-8',
        'application/xhtml+xml',
        'video/mp4',
        'application/pdf',
        'application/json',
    ])
        assert.ok(declaredNotAPicture(t), t);
    for (const t of [
        'image/jpeg',
        'IMAGE/WEBP',
        'application/octet-stream',
        'binary/octet-stream',
        'text/plain; charset=x',
        '',
        undefined,
    ])
        assert.ok(!declaredNotAPicture(t), String(t));
    assert.equal(thumbnailOf('https://x.test/p/1'), 'thumbnail of https://x.test/p/1');
});
