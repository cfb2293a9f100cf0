/**
 * What the page crawler asks for once the player had its time: the page's candidates completed
 * with sources that have no URL. Manifests the page built (`blob:`, `data:`) come first: the
 * player fetched them, and a master playlist among them covers the variant the network showed.
 * A MediaSource capture only when the page showed nothing else at all.
 */
import type { Page } from 'playwright';
import type { Headers, VideoCandidate } from '../model.js';
import type { PageHooks } from './hooks.js';
import { captureMse, mseUrl } from './mse-capture.js';
import { isDataManifestUrl } from './mse-rules.js';

/** `data:` manifests set as a `<video>`/`<audio>`/`<source>` src (a native-HLS page), which no request shows. */
const DATA_SRCS = `Array.from(document.querySelectorAll('video, video source, audio, audio source'))
    .map((e) => e.getAttribute('src') || '').filter((s) => s.startsWith('data:'))`;

async function noteDataSrcs(page: Page, hooks: PageHooks): Promise<void> {
    for (const frame of page.frames()) {
        const srcs = await frame.evaluate(DATA_SRCS).then(
            (v) => v as string[],
            () => [] as string[],
        );
        for (const src of srcs) if (isDataManifestUrl(src)) hooks.addDataUrl(src, frame.url());
    }
}

export interface HiddenSourceOptions {
    pageUrl: string;
    pageWaitSecs: number;
    /** The page handler's own deadline: a capture never runs past it. */
    hardDeadline?: number;
    headers(): Promise<Headers>;
}

export async function withHiddenSources(
    page: Page,
    hooks: PageHooks,
    found: VideoCandidate[],
    options: HiddenSourceOptions,
): Promise<VideoCandidate[]> {
    await noteDataSrcs(page, hooks);
    const inline = hooks.manifests.size ? hooks.manifestCandidates(await options.headers()) : [];
    if (inline.length || found.length) return [...inline, ...found];
    const mse = await captureMse(hooks, {
        pageUrl: options.pageUrl,
        pageWaitSecs: options.pageWaitSecs,
        startedAt: hooks.startedAt,
        hardDeadline: options.hardDeadline,
    });
    if (!mse) return [];
    return [{ url: mseUrl(options.pageUrl), headers: await options.headers(), source: 'page', format: 'mse', mse }];
}
