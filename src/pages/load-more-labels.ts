/**
 * What a "load more" button says, in the languages a gallery is likely to be in: "Load more",
 * "Show more", "More photos", "Next page" (when it loads in place), and their translations. A
 * button's label is its text, else its `aria-label`, `value` or `title`. Pure.
 *
 * Matching is on the whole label, which must be short (a sentence that mentions "show more" is
 * not a button), with Unicode-aware word edges (JavaScript's `\b` knows only ASCII letters, so
 * "di più" or "więcej" would not end a word). Chinese, Japanese and Korean phrases are matched
 * without word edges: those scripts do not separate words.
 */

/** Longer labels are text, not a button's label. */
export const MAX_LABEL_CHARS = 60;

/** Phrases in languages that separate words; a space stands for any run of white space. */
const WORDED = [
    // en
    'load more',
    'show more',
    'see more',
    'view more',
    'display more',
    'load all',
    'show all',
    'view all',
    'load next',
    'show next',
    'load additional',
    'more photos',
    'more photo',
    'more pictures',
    'more images',
    'more pics',
    'more results',
    'more items',
    'more posts',
    'more videos',
    'next page',
    // Alone, "More" is a gallery's button; "Next" alone is not taken: carousels and wizards say it,
    // and each press would cost a settle for slides a gallery scan already sees.
    'more',
    // de
    'mehr laden',
    'mehr anzeigen',
    'mehr zeigen',
    'mehr sehen',
    'weitere laden',
    'weitere anzeigen',
    'weitere bilder',
    'weitere fotos',
    'mehr bilder',
    'mehr fotos',
    'mehr ergebnisse',
    'alle anzeigen',
    'nächste seite',
    'naechste seite',
    // fr
    'charger plus',
    'voir plus',
    'afficher plus',
    'en voir plus',
    'en afficher plus',
    'en charger plus',
    'charger la suite',
    'voir la suite',
    'plus de photos',
    'plus d’images',
    "plus d'images",
    'plus de résultats',
    'page suivante',
    'tout afficher',
    // es
    'cargar más',
    'cargar mas',
    'ver más',
    'ver mas',
    'mostrar más',
    'mostrar mas',
    'más fotos',
    'más imágenes',
    'más resultados',
    'página siguiente',
    'siguiente página',
    'ver todo',
    // it
    'carica altri',
    'carica altre',
    'carica altro',
    'carica di più',
    'mostra altri',
    'mostra altre',
    'mostra di più',
    'vedi altri',
    'vedi altre',
    'vedi di più',
    'altre foto',
    'altre immagini',
    'pagina successiva',
    // pt
    'carregar mais',
    'ver mais',
    'mostrar mais',
    'exibir mais',
    'mais fotos',
    'mais imagens',
    'mais resultados',
    'próxima página',
    'proxima pagina',
    // nl
    'meer laden',
    'laad meer',
    'toon meer',
    'meer tonen',
    'meer weergeven',
    'bekijk meer',
    "meer foto's",
    'meer afbeeldingen',
    'volgende pagina',
    // pl
    'załaduj więcej',
    'wczytaj więcej',
    'pokaż więcej',
    'zobacz więcej',
    'więcej zdjęć',
    'następna strona',
    // cs, sk
    'načíst další',
    'načíst více',
    'zobrazit více',
    'zobrazit další',
    'další stránka',
    'načítať viac',
    'zobraziť viac',
    // sv, da, no
    'visa fler',
    'ladda fler',
    'visa mer',
    'nästa sida',
    'vis flere',
    'indlæs flere',
    'last flere',
    'vis mere',
    'vis mer',
    'næste side',
    'neste side',
    // fi, hu, ro, el
    'lataa lisää',
    'näytä lisää',
    'seuraava sivu',
    'több betöltése',
    'továbbiak betöltése',
    'mutass többet',
    'következő oldal',
    'încarcă mai multe',
    'arată mai multe',
    'vezi mai multe',
    'pagina următoare',
    'φόρτωση περισσότερων',
    'περισσότερα',
    'επόμενη σελίδα',
    // ru
    'загрузить ещё',
    'загрузить еще',
    'загрузить больше',
    'показать ещё',
    'показать еще',
    'показать больше',
    'показать все',
    'смотреть ещё',
    'смотреть еще',
    'ещё фото',
    'еще фото',
    'больше фото',
    'следующая страница',
    'ещё',
    'еще',
    // uk
    'завантажити ще',
    'завантажити більше',
    'показати ще',
    'показати більше',
    'показати все',
    'більше фото',
    'наступна сторінка',
    // tr
    'daha fazla yükle',
    'daha fazla göster',
    'daha fazla gör',
    'daha fazla',
    'devamını yükle',
    'devamını göster',
    'tümünü göster',
    'sonraki sayfa',
    // ar, he, vi, id
    'تحميل المزيد',
    'عرض المزيد',
    'المزيد',
    'الصفحة التالية',
    'טען עוד',
    'הצג עוד',
    'עוד',
    'xem thêm',
    'tải thêm',
    'trang sau',
    'trang tiếp',
    'muat lebih banyak',
    'lihat lebih banyak',
    'tampilkan lebih banyak',
    'halaman berikutnya',
];

/** Phrases in scripts without spaces between words. */
const UNWORDED = [
    // ja
    'もっと見る',
    'もっとみる',
    'もっと読み込む',
    'もっと表示',
    'さらに表示',
    'さらに読み込む',
    'さらに見る',
    '続きを読み込む',
    '続きを表示',
    '次のページ',
    // zh (simplified, traditional)
    '加载更多',
    '載入更多',
    '载入更多',
    '加載更多',
    '显示更多',
    '顯示更多',
    '查看更多',
    '更多图片',
    '更多圖片',
    '更多照片',
    '点击加载',
    '點擊載入',
    '下一页',
    '下一頁',
    // ko
    '더보기',
    '더 보기',
    '더 불러오기',
    '더불러오기',
    '다음 페이지',
    '더 많은 사진',
    // th
    'โหลดเพิ่มเติม',
    'ดูเพิ่มเติม',
    'หน้าถัดไป',
];

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const spaced = (s: string): string => escape(s).replace(/\s+/g, '\\s+');

/**
 * The whole label, apart from what decorates it: arrows, counts ("(30)", "+ 24"), ellipses. A label
 * that is only "More" (or "Ещё", "المزيد" …) counts only alone; the longer phrases may sit in a longer label
 * ("Load more photos (28 left)").
 */
const SHORT = new Set(['more', 'ещё', 'еще', 'περισσότερα', 'المزيد', 'עוד', 'daha fazla']);
const LONG_RE = new RegExp(
    `(?:(?<![\\p{L}\\p{N}])(?:${WORDED.filter((p) => !SHORT.has(p))
        .map(spaced)
        .join('|')})(?![\\p{L}\\p{N}])|${UNWORDED.map(spaced).join('|')})`,
    'iu',
);
const SHORT_RE = new RegExp(`^(?:${[...SHORT].map(spaced).join('|')})$`, 'iu');

/** A label as compared: lower case, decoration and counts trimmed, spaces collapsed. Pure. */
export function normalizeLabel(label: string): string {
    return label
        .normalize('NFKC')
        .toLowerCase()
        .replace(/\s+/g, ' ')
        .replace(/^[\s\p{P}\p{S}\p{N}]+|[\s\p{P}\p{S}\p{N}]+$/gu, '')
        .trim();
}

/** Whether a button with this label loads more of the page's content in place. Pure. */
export function isLoadMoreLabel(label: string): boolean {
    const text = normalizeLabel(label);
    if (!text || text.length > MAX_LABEL_CHARS) return false;
    return SHORT_RE.test(text) || LONG_RE.test(text);
}
