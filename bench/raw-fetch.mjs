#!/usr/bin/env node
// The bench's practical limit when aria2c is not installed: fetch every URL of a list over N
// keep-alive connections into a folder, nothing else (no parsing, no merge, no checks). Plain
// JavaScript so that bare `node` runs it: tsx would add ~0.5 s of start-up to the figure it sets.
// Usage: node bench/raw-fetch.mjs <connections> <folder> <url list file>
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

const [connections, dir, list] = [Number(process.argv[2]), process.argv[3], process.argv[4]];
const urls = (await readFile(list, 'utf8')).split('\n').filter(Boolean);
const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: connections }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: connections }),
};

function get(url) {
    const u = new URL(url);
    const lib = u.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
        lib.get(u, { agent: agents[u.protocol] }, (res) => {
            if (res.statusCode !== 200) {
                res.resume();
                reject(new Error(`${url}: HTTP ${res.statusCode}`));
                return;
            }
            const file = path.join(dir, path.basename(u.pathname));
            pipeline(res, createWriteStream(file)).then(resolve, reject);
        }).on('error', reject);
    });
}

let next = 0;
async function worker() {
    while (next < urls.length) {
        const url = urls[next++];
        // One retry: the bench server does not inject faults, but a reset connection should not end the figure.
        await get(url).catch(() => get(url));
    }
}
await Promise.all(Array.from({ length: Math.min(connections, urls.length) }, worker));
for (const agent of Object.values(agents)) agent.destroy();
