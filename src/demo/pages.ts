/** The demo site's pages: each one a way real sites hide their video. */

const layout = (title: string, body: string): string => `<!doctype html>
<html><head><meta charset="utf-8"><title>${title}</title>
<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}video,iframe{width:640px;height:360px;background:#000;border:0}</style>
</head><body>${body}</body></html>`;

/** A tiny hls.js player; falls back to fetching the playlist when hls.js is not installed. */
const playerScript = (srcExpr: string): string => `
<script src="/vendor/hls.min.js"></script>
<script>
function play(src) {
  var video = document.querySelector('video');
  if (window.Hls && Hls.isSupported()) { var hls = new Hls(); hls.loadSource(src); hls.attachMedia(video); video.play().catch(function(){}); }
  else { fetch(src); }
}
${srcExpr}
</script>`;

export const demoPages = {
    index: (links: Record<string, string>): string =>
        layout(
            'Media crawler demo',
            `<h1>Media crawler demo site</h1><ul>${Object.entries(links)
                .map(([name, href]) => `<li><a href="${href}">${name}</a></li>`)
                .join('')}</ul>`,
        ),

    /** The playlist URL comes from an API, after a delay, like most modern players. */
    api: (): string =>
        layout(
            'Big Buck Test Pattern',
            `<h1>Big Buck Test Pattern</h1><video controls muted></video>
${playerScript(`setTimeout(function(){ fetch('/api/video/1').then(function(r){return r.json()}).then(function(j){ play(j.src); }); }, 800);`)}`,
        ),

    /** The player lives in an iframe on another origin. */
    iframe: (embedOrigin: string): string =>
        layout(
            'Iframe Episode 1',
            `<h1>Iframe Episode 1</h1><iframe allow="autoplay" src="${embedOrigin}/embed/player.html?src=/media/iframe-enc/master.m3u8"></iframe>`,
        ),

    /** Nothing loads until the play overlay is clicked. */
    click: (): string =>
        layout(
            'Click To Play',
            `<h1>Click To Play</h1><div style="position:relative;width:640px"><video muted></video>
<div class="vjs-big-play-button" role="button" aria-label="Play video" style="position:absolute;left:270px;top:150px;width:100px;height:60px;background:#c00;color:#fff;cursor:pointer">Play</div></div>
${playerScript(`document.querySelector('.vjs-big-play-button').addEventListener('click', function(){ this.remove(); play(new URLSearchParams(location.search).get('src') || '/media/api/index.m3u8'); });`)}`,
        ),

    /** The URL exists only at run time (base64 in the source): only the network can see it. */
    hidden: (): string =>
        layout(
            'Hidden Source',
            `<h1>Hidden Source</h1><video controls muted></video>
${playerScript(`setTimeout(function(){ play(atob('${Buffer.from('/media/enc/index.m3u8').toString('base64')}')); }, 500);`)}`,
        ),

    embed: (): string =>
        layout(
            'embedded player',
            `<video controls muted></video>
${playerScript(`play(new URLSearchParams(location.search).get('src'));`)}`,
        ),

    /** The seed's site: the URL sits in an inline script, there is no player, the name is in a table cell. */
    seed: (playlistUrl: string): string =>
        layout(
            '9tata play 14999-1-0',
            `<table><tr><td class="col1">name</td><td class="col2 hidden-xs">SeedStyleMovie</td></tr></table>
<script>var now="${playlistUrl}";var pn="ikm3u8";</script>`,
        ),

    /** Any playlist on this server behind an hls.js player: `/play/video.html?src=/media/x/index.m3u8`. */
    video: (): string =>
        layout(
            'Demo video',
            `<h1>Demo video</h1><video controls muted></video>
${playerScript(`play(new URLSearchParams(location.search).get('src'));`)}`,
        ),

    /** A plain `<video src>` with a `<track>` sidecar: `?src=&vtt=&lang=&label=`. */
    tracks: (q: URLSearchParams): string => {
        const a = (name: string): string => (q.get(name) ?? '').replace(/[<>"&]/g, '');
        const track = `<track kind="subtitles" src="${a('vtt')}" srclang="${a('lang')}" label="${a('label')}" default>`;
        return layout(
            'Movie with captions',
            `<h1>Movie with captions</h1><video controls muted src="${a('src')}">${track}</video>`,
        );
    },

    noVideo: (): string => layout('Nothing to see', '<h1>Nothing to see</h1><p>This page has no video.</p>'),
};
