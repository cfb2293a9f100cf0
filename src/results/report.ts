/**
 * REPORT.html in the default key-value store: what a person would rather look at than a dataset.
 * A thumbnail frame per video, a player per audio file, an image grid, and every failure with its reason.
 */
import { Actor } from 'apify';
import { KeyValueStore } from '@crawlee/core';
import { extensionFor, type MediaItem } from './output.js';

const esc = (s: unknown): string => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const mb = (bytes?: number): string =>
    bytes === undefined
        ? ''
        : bytes < 1e6
          ? `${Math.max(1, Math.round(bytes / 1e3))} KB`
          : `${(bytes / 1e6).toFixed(1)} MB`;
const secs = (s?: number): string =>
    s === undefined ? '' : `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, '0')}`;

export interface ReportItem extends MediaItem {
    thumbnailKey?: string;
}

/**
 * The report's HTML; `link(key, contentType)` says where a stored record can be opened; `notice` says
 * why the run stopped early, when it did. Pure.
 */
export function renderReport(
    items: readonly ReportItem[],
    link: (key: string, contentType: string) => string,
    notice?: string,
    /** Page requests (subresources, frames, workers) the network policy refused. */
    refusedRequests = 0,
): string {
    const videos = items.filter((i) => i.type === 'video' && i.status === 'ok');
    const audios = items.filter((i) => i.type === 'audio' && i.status === 'ok');
    const images = items.filter((i) => i.type === 'image' && i.status === 'ok');
    const skipped = items.filter((i) => i.status === 'skipped');
    const failed = items.filter((i) => i.status === 'failed');
    const n = (i: ReportItem): number => items.indexOf(i);
    // Each file is linked under its own name and type: a .mov or .webm stored as served is no .mp4.
    const fileLink = (key: string, contentType: string, text: string): string =>
        `<a href="${esc(link(key, contentType))}" type="${esc(contentType)}">${esc(text)}</a>`;
    const subtitleLinks = (v: ReportItem): string =>
        (v.subtitles ?? []).map((s) => ` · ${fileLink(s.key, 'text/vtt', `subtitles: ${s.name ?? s.lang}`)}`).join('');
    const videoCards = videos
        .map((v) => {
            const type = v.contentType ?? 'video/mp4';
            const href = esc(link(v.key!, type));
            const thumb = v.thumbnailKey
                ? `<img src="${esc(link(v.thumbnailKey, 'image/png'))}" alt="">`
                : '<div class="nothumb">▶</div>';
            return `<figure class="video" data-item="${n(v)}">
  <a href="${href}" type="${esc(type)}">${thumb}</a>
  <figcaption><b>${esc(v.title ?? v.key)}</b><br>${secs(v.durationSecs)} · ${v.width ?? '?'}×${v.height ?? '?'} · ${mb(v.bytes)}${v.live ? ' · live window' : ''}<br>${fileLink(v.key!, type, link(v.key!, type).split('/').pop()!)}${subtitleLinks(v)} · <a href="${esc(v.pageUrl)}">page</a></figcaption>
</figure>`;
        })
        .join('\n');
    // Audio has no frame to show: a player and the file's link.
    const audioRows = audios
        .map((a) => {
            const type = a.contentType ?? 'audio/mp4';
            const href = link(a.key!, type);
            return `<li class="audio" data-item="${n(a)}"><b>${esc(a.title ?? a.key)}</b> · ${secs(a.durationSecs)} · ${mb(a.bytes)}${a.live ? ' · live window' : ''}<br><audio controls preload="none" src="${esc(href)}"></audio><br>${fileLink(a.key!, type, href.split('/').pop()!)} · <a href="${esc(a.pageUrl)}">page</a></li>`;
        })
        .join('\n');
    const imageGrid = images
        .map(
            (i) =>
                `<a class="image" data-item="${n(i)}" href="${esc(link(i.key!, i.contentType!))}" title="${esc(i.title ?? i.url)}"><img loading="lazy" src="${esc(link(i.key!, i.contentType!))}" alt="${esc(i.title ?? '')}"><span>${i.width}×${i.height} · ${mb(i.bytes)}</span></a>`,
        )
        .join('\n');
    const rows = (list: ReportItem[]): string =>
        list
            .map(
                (i) =>
                    `<tr data-item="${n(i)}"><td>${esc(i.type)}</td><td><a href="${esc(i.url)}">${esc(i.title ?? i.url)}</a></td><td>${esc(i.error)}</td></tr>`,
            )
            .join('\n');
    return `<!doctype html>
<html><head><meta charset="utf-8"><title>Media crawl report</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222} h1{margin:0 0 .2em} .sum{color:#555;margin-bottom:1.5em}
.videos{display:flex;flex-wrap:wrap;gap:1em} .video{margin:0;width:320px;border:1px solid #ddd;border-radius:6px;overflow:hidden;background:#fafafa}
.video img,.nothumb{width:320px;height:180px;object-fit:cover;display:block;background:#000;color:#fff;font-size:48px;text-align:center;line-height:180px}
figcaption{padding:.5em;font-size:14px} .images{display:grid;grid-template-columns:repeat(auto-fill,minmax(140px,1fr));gap:8px}
.image{display:block;border:1px solid #ddd;border-radius:4px;overflow:hidden;text-decoration:none;color:#444;font-size:12px}
.image img{width:100%;height:110px;object-fit:cover;display:block;background:#eee} .image span{display:block;padding:2px 4px}
.audios{list-style:none;padding:0} .audio{margin:0 0 1em;font-size:14px} .audio audio{width:320px;margin:.3em 0}
.notice{background:#fff4d6;border:1px solid #e0b84d;border-radius:4px;padding:.6em .8em}
table{border-collapse:collapse;width:100%;font-size:14px} td{border-top:1px solid #eee;padding:4px 8px;vertical-align:top} .failed td:last-child{color:#b00}
</style></head><body>
<h1>Media crawl report</h1>
${notice ? `<p class="notice">${esc(notice)}</p>\n` : ''}<div class="sum">${videos.length} videos, ${audios.length} audio and ${images.length} images stored · ${skipped.length} skipped · ${failed.length} failed${refusedRequests ? ` · ${refusedRequests} page request${refusedRequests === 1 ? '' : 's'} refused (private networks)` : ''} · ${new Date().toISOString()}</div>
<h2>Videos</h2><div class="videos">${videoCards || '<p>none</p>'}</div>
<h2>Audio</h2><ul class="audios">${audioRows || '<li>none</li>'}</ul>
<h2>Images</h2><div class="images">${imageGrid || '<p>none</p>'}</div>
<h2>Failed</h2><table class="failed">${rows(failed) || '<tr><td>none</td></tr>'}</table>
<h2>Skipped</h2><table class="skipped">${rows(skipped) || '<tr><td>none</td></tr>'}</table>
</body></html>
`;
}

export const REPORT_KEY = 'REPORT';

/** Writes REPORT(.html) into the default key-value store; returns where it can be opened. */
export async function writeReport(items: readonly ReportItem[], notice?: string, refused?: number): Promise<string> {
    const store = await KeyValueStore.open();
    // Locally the report sits beside the files it links; on the platform links are public record URLs.
    const link = Actor.isAtHome()
        ? (key: string) => store.getPublicUrl(key)
        : (key: string, contentType: string) => `${encodeURIComponent(key)}.${extensionFor(contentType)}`;
    await store.setValue(REPORT_KEY, renderReport(items, link, notice, refused), {
        contentType: 'text/html; charset=utf-8',
    });
    return Actor.isAtHome() ? store.getPublicUrl(REPORT_KEY) : `${REPORT_KEY}.html`;
}
