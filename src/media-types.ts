/**
 * Content types and file extensions of stored files, from the one MIME table Crawlee's local storage
 * uses (`mime-types`). Crawlee names a record's file by `mime.extension(contentType)` and, when it opens
 * a store, reads the type back from the file name (`mime.contentType(name)`) and looks the record up
 * as `<key>.<mime.extension(thatType)>`. A file named by any other table is lost: `video/quicktime` is
 * `qt` there, so a record written as `.mov` was looked for as `.qt` and `forEachKey`/`getValue` threw.
 */
import mime from 'mime-types';

/** What a record is stored as: the content type Crawlee reads back, and the extension of its file. */
export interface StoredType {
    contentType: string;
    /** Extension of the record's file in the store (and in the output folder unless `fileExtension` differs). */
    extension: string;
}

/**
 * The type to store a file of this content type as, so the store reads back the same type. Pure.
 * - The table's own type for the extension it gives (`audio/x-m4a` → `audio/mp4`, `m4a`).
 * - A type the table does not know in its registered form is tried in its `x-` form: `video/matroska`
 *   (what `file-type` sniffs) is `video/x-matroska` there, `mkv`.
 * - An animated PNG is a PNG: the PNG specification (third edition) includes animation under `image/png`,
 *   and every APNG decoder opens `.png`; as `image/apng` the table would name it `.apng`, which few
 *   viewers open. So it is stored as `image/png`, and a local store reads it back as such.
 * - Anything else keeps its type and gets Crawlee's own default extension, `bin`.
 */
export function storedType(contentType: string): StoredType {
    let type = contentType.split(';')[0]!.trim().toLowerCase();
    if (type === 'image/apng') type = 'image/png';
    const candidates = [type, type.replace(/^(\w+)\/(?!x-)/, '$1/x-')];
    for (const candidate of candidates) {
        const extension = mime.extension(candidate);
        const readBack = extension ? mime.lookup(extension) : false;
        // Only an extension that leads back to itself: that is the file name Crawlee looks for.
        if (extension && readBack && mime.extension(readBack) === extension)
            return { contentType: readBack, extension };
    }
    return { contentType: type || 'application/octet-stream', extension: 'bin' };
}

/** The extension Crawlee's local storage gives a record of this content type. Pure. */
export const extensionFor = (contentType: string): string => storedType(contentType).extension;

/**
 * Extensions people's tools write, where the table lists more than one for the type and its first is
 * rare on a desktop: QuickTime Player and cameras write `.mov`, the table's first is `.qt`. Only
 * extensions the table gives that same type, so any tool that maps the name back gets the same type.
 */
const FAMILIAR = ['mov', 'mp3', 'ogg'];

/** The extension of a file of this type in the output folder. Pure. */
export function fileExtension(contentType: string): string {
    const stored = storedType(contentType);
    const listed = mime.extensions[stored.contentType] ?? [];
    return FAMILIAR.find((e) => listed.includes(e)) ?? stored.extension;
}
