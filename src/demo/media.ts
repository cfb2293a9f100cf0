/**
 * The demo site's media set (also the end-to-end tests'): HLS videos made at test time
 * (hls-video.ts) and the HLS cases built from them (hls-cases.ts).
 */
import path from 'node:path';
import { makeHlsCases, type HlsCases } from './hls-cases.js';
import { makeHlsVideo, makeMaster, type HlsVideo } from './hls-video.js';

export { makeHlsVideo, makeMaster, type HlsVideo, type MasterVariant, type VideoSpec } from './hls-video.js';

/** The demo site's media set (also the end-to-end tests'). */
export async function makeDemoMedia(
    root: string,
): Promise<{ api: HlsVideo; iframe: Record<string, HlsVideo>; seed: HlsVideo; cases: HlsCases }> {
    const [api, iframe, seed] = await Promise.all([
        makeHlsVideo(path.join(root, 'api'), { width: 640, height: 360, secs: 6, segSecs: 1, toneHz: 440 }),
        makeMaster(path.join(root, 'iframe'), [
            { name: 'low', spec: { width: 320, height: 180, secs: 5, segSecs: 1, toneHz: 550 }, bandwidth: 300_000 },
            { name: 'high', spec: { width: 640, height: 360, secs: 5, segSecs: 1, toneHz: 660 }, bandwidth: 900_000 },
        ]),
        makeHlsVideo(path.join(root, 'seed'), { width: 480, height: 270, secs: 5, segSecs: 1, toneHz: 770 }),
    ]);
    const cases = await makeHlsCases(root, api, iframe.low!, iframe.high!, seed);
    return { api, iframe, seed, cases };
}
