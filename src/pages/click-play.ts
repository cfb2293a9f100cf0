/**
 * Click-to-play: players that fetch their playlist only after a user gesture. Real mouse clicks
 * (players ignore synthetic `el.click()` on some skins), in every frame, most specific control first.
 */
import type { Page } from 'playwright';

export const PLAY_SELECTORS = [
    '.vjs-big-play-button',
    '.plyr__control--overlaid',
    '.jw-icon-display',
    '.dplayer-mobile-play',
    '.art-control-play',
    '.fp-ui',
    '[aria-label*="play" i]',
    'button[title*="play" i]',
    '[role="button"][class*="play" i]',
    'button[class*="play" i]',
    '[class*="play-button" i], [class*="playbutton" i], [class*="play-btn" i], [id*="play" i]',
    'video',
];

/** Clicks the first visible play control in each frame; returns how many clicks were made. */
export async function clickPlay(page: Page): Promise<number> {
    let clicks = 0;
    for (const frame of page.frames()) {
        for (const selector of PLAY_SELECTORS) {
            const target = frame.locator(selector).first();
            const visible = await target.isVisible().catch(() => false);
            if (!visible) continue;
            const ok = await target
                .click({ timeout: 1500 })
                .then(() => true)
                .catch(() => false);
            if (ok) {
                clicks++;
                break;
            }
        }
    }
    return clicks;
}
