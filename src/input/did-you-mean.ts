/**
 * "Did you mean …?" for mistyped input fields and command-line options: the optimal-string-alignment
 * (restricted Damerau-Levenshtein) distance, so a swapped pair of letters (`videoQaulity`) counts as one
 * edit. Pure.
 */

/** Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`, case-insensitive. Pure. */
export function editDistance(a: string, b: string): number {
    const s = a.toLowerCase();
    const t = b.toLowerCase();
    const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) =>
        Array.from({ length: t.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
    );
    for (let i = 1; i <= s.length; i++) {
        for (let j = 1; j <= t.length; j++) {
            const cost = s[i - 1] === t[j - 1] ? 0 : 1;
            let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
            if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1])
                best = Math.min(best, d[i - 2]![j - 2]! + 1);
            d[i]![j] = best;
        }
    }
    return d[s.length]![t.length]!;
}

/**
 * The known name closest to `word`, if it is near enough to be a typo: at most 1 edit for names up to 4
 * characters, 2 up to 8, 3 beyond. Pure.
 */
export function closest(word: string, known: readonly string[]): string | undefined {
    const limit = word.length <= 4 ? 1 : word.length <= 8 ? 2 : 3;
    let best: { name: string; distance: number } | undefined;
    for (const name of known) {
        const distance = editDistance(word, name);
        if (distance <= limit && (!best || distance < best.distance)) best = { name, distance };
    }
    return best?.name;
}

/** `" (did you mean \"x\"?)"` or nothing. Pure. */
export const didYouMean = (word: string, known: readonly string[], quote = (s: string) => `"${s}"`): string => {
    const near = closest(word, known);
    return near ? ` (did you mean ${quote(near)}?)` : '';
};

/**
 * The warning for input fields the actor does not know (a typo is otherwise dropped silently and the
 * default used), or undefined when there are none. Pure.
 */
export function unknownFieldsWarning(raw: Record<string, unknown>, known: readonly string[]): string | undefined {
    const unknown = Object.keys(raw).filter((k) => !known.includes(k));
    if (!unknown.length) return undefined;
    const list = unknown.map((k) => `"${k}"${didYouMean(k, known)}`).join(', ');
    return `Unknown input field${unknown.length > 1 ? 's' : ''} ignored: ${list}`;
}
