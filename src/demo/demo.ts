/** `npm start` with no input: crawl the bundled demo site, served on a free loopback port. */
import path from 'node:path';
import { makeDemoMedia } from './media.js';
import { startDemoServer, type DemoServer } from './server.js';

export async function startDemo(mediaRoot: string): Promise<{ server: DemoServer; input: { startUrls: { url: string }[] } }> {
    await makeDemoMedia(path.join(mediaRoot));
    const server = await startDemoServer({ mediaDir: mediaRoot });
    const { api, iframe, seed } = server.pages;
    return { server, input: { startUrls: [api, iframe, seed].map((url) => ({ url })) } };
}
