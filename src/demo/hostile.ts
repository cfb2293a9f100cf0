/** Pages and playlists that try to break a downloader: the demo server's `/hostile/` routes. */
import type http from 'node:http';

const M3U8 = { 'content-type': 'application/vnd.apple.mpegurl' };
const seg = (uri: string): string => `#EXTINF:1.0,\n${uri}\n`;

export const HOSTILE_TITLE = `../../x\u0001\u001f ${'long title '.repeat(45)} 😀 end`;

/** Answers a `/hostile/…` request; false when the path is not one of them. */
export function hostileRoute(p: string, origin: string, res: http.ServerResponse): boolean {
    const send = (status: number, headers: http.OutgoingHttpHeaders, body: string | Buffer): true => {
        res.writeHead(status, headers).end(body);
        return true;
    };
    switch (p) {
        case '/hostile/hang.html':
            // Headers and a few bytes, then nothing, ever: DOMContentLoaded never fires.
            res.writeHead(200, { 'content-type': 'text/html' });
            res.write('<!doctype html><html><head><title>never');
            return true;
        case '/hostile/file-image.html':
            return send(
                200,
                { 'content-type': 'text/html' },
                '<!doctype html><title>file image</title><img src="file:///etc/passwd" alt="passwd"><img src="ftp://example.invalid/x.jpg">',
            );
        case '/hostile/title.html':
            return send(
                200,
                { 'content-type': 'text/html' },
                `<!doctype html><title>${HOSTILE_TITLE}</title><script>var now="${origin}/media/seed/index.m3u8";</script>`,
            );
        case '/hostile/file-segment.m3u8':
            return send(200, M3U8, `#EXTM3U\n#EXT-X-TARGETDURATION:1\n${seg('file:///etc/passwd')}#EXT-X-ENDLIST\n`);
        case '/hostile/file-key.m3u8':
            return send(
                200,
                M3U8,
                `#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-KEY:METHOD=AES-128,URI="file:///etc/passwd"\n${seg('/media/api/seg_00000.ts')}#EXT-X-ENDLIST\n`,
            );
        case '/hostile/json.m3u8':
            return send(200, { 'content-type': 'application/json' }, '{"error":"not found"}');
        case '/hostile/empty.m3u8':
            return send(200, M3U8, '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-ENDLIST\n');
        case '/hostile/self-master.m3u8':
            return send(200, M3U8, '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000\n/hostile/self-master.m3u8\n');
        case '/hostile/huge.m3u8':
            return send(
                200,
                M3U8,
                `#EXTM3U\n#EXT-X-TARGETDURATION:1\n${seg('/hostile/zero.ts').repeat(100_000)}#EXT-X-ENDLIST\n`,
            );
        case '/hostile/zero.m3u8':
            return send(
                200,
                M3U8,
                `#EXTM3U\n#EXT-X-TARGETDURATION:1\n${seg('/hostile/zero.ts').repeat(3)}#EXT-X-ENDLIST\n`,
            );
        case '/hostile/zero.ts':
            return send(200, { 'content-type': 'video/mp2t', 'content-length': 0 }, '');
        default:
            return false;
    }
}
