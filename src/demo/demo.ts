/** `npm start` with no input: crawl the bundled demo site, served on a free loopback port. */
import path from 'node:path';
import { makeGalleryImages } from './gallery.js';
import { makeDemoMedia } from './media.js';
import { startDemoServer, type DemoServer } from './server.js';

export async function startDemo(
    mediaRoot: string,
): Promise<{ server: DemoServer; input: { startUrls: { url: string }[] } }> {
    const imagesDir = path.join(mediaRoot, 'images');
    await Promise.all([makeDemoMedia(mediaRoot), makeGalleryImages(imagesDir)]);
    const server = await startDemoServer({ mediaDir: mediaRoot, imagesDir });
    const { api, iframe, seed, fmp4, click, gallerySeed, galleryLazy } = server.pages;
    return {
        server,
        input: { startUrls: [api, iframe, seed, fmp4, click, gallerySeed, galleryLazy].map((url) => ({ url })) },
    };
}
