/** Makes sure `dist/main.js` is built from the current sources (scripts/build.mjs); returns its path. */
export function ensureBuilt(who?: string): string;
