# Node 24 and Playwright 1.63.0: the newest apify/actor-node-playwright-chrome tag that public material
# shows published (docs/deploy.md has the evidence; test/unit/actor-config.test.ts keeps the list).
# - Apify builds no Node 20 images since apify/apify-actor-docker c83fc0f7 (2026-05-19, "drop Node 20").
# - Node 24 is that repo's latestNodeVersion (.github/actions/version-matrix/src/shared/constants.ts).
# - 24-1.63.0: apify/actor-templates PRs #935-#962 (2026-09-09..18, "Runtime Version 24, Module
#   Version 1.63.0"), opened by apify-actor-docker's release workflow for that build.
# - 24-1.65.1 (package.json's playwright pin) is not shown published by anything stored: the snapshots
#   end before Playwright 1.64/1.65 (Oct/Nov 2026). package.json's playwright must equal the tag here.
FROM apify/actor-node-playwright-chrome:24-1.63.0 AS builder
COPY --chown=myuser package*.json Dockerfile ./
# The template's check (apify/actor-templates templates/ts-crawlee-playwright-chrome/Dockerfile): the base
# image ships check-playwright-version.mjs beside WORKDIR (apify/apify-actor-docker node-playwright-chrome);
# it reads package.json and this Dockerfile only, so it needs no network.
RUN node check-playwright-version.mjs
RUN npm ci --include=dev --audit=false
COPY --chown=myuser . ./
RUN npm run build

FROM apify/actor-node-playwright-chrome:24-1.63.0
# Debian's ffmpeg (with ffprobe) instead of the bundled 2018 static build: media from any server is
# parsed here, and Debian ships the demuxer security fixes. The base image runs as myuser.
USER root
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ffmpeg \
    && rm -rf /var/lib/apt/lists/* \
    && ffmpeg -version | head -n 1 && ffprobe -version | head -n 1
USER myuser
ENV FFMPEG_PATH=/usr/bin/ffmpeg FFPROBE_PATH=/usr/bin/ffprobe
COPY --chown=myuser package*.json ./
# Debian's ffmpeg runs here: the bundled 2018 binary (66 MB, @ffmpeg-installer/<platform>, an optional
# dependency) is removed after install; @ffmpeg-installer/ffmpeg stays, so laptops keep their fallback.
RUN npm ci --omit=dev --include=optional --audit=false \
    && rm -rf node_modules/@ffmpeg-installer/linux-* \
    && echo "Installed NPM packages:" && (npm list --omit=dev --all || true)
COPY --from=builder --chown=myuser /home/myuser/dist ./dist
COPY --chown=myuser .actor ./.actor
COPY --chown=myuser scripts/start-prod.mjs ./scripts/
# The crawler's own resolution must find both binaries (FFMPEG_PATH, FFPROBE_PATH) and run them,
# and the bundled build must be gone.
RUN node -e "import('./dist/merge/tools.js').then(async (m) => { \
        const v = await m.toolVersions(); console.log(v); \
        if (!m.ffprobePath || !/^ffmpeg version/.test(v.ffmpeg) || !/^ffprobe version/.test(v.ffprobe ?? '')) \
            process.exit(1); \
        if (m.bundledFfmpeg()) { console.error('bundled ffmpeg still in the image'); process.exit(1); } })"
# Node keeps the compiled code of every module between runs (Node >= 22.1); warmed here, so each run starts
# from it instead of compiling ~730 modules. Importing the crawl's modules, Node 24.21 on the 2-core machine
# kind: 0.64-0.72 s cold, 0.48-0.55 s warm. `--help` loads every static import of main.js and exits.
ENV NODE_COMPILE_CACHE=/home/myuser/.cache/node-compile
RUN node scripts/start-prod.mjs --help > /dev/null 2>&1
# Exec form, as the template: node is the process the platform signals (no shell, no npm in between).
# It is package.json's start:prod (test/unit/actor-config.test.ts keeps the two equal): scripts/start-prod.mjs
# imports dist/main.js with the compile cache on (here NODE_COMPILE_CACHE names where).
# --max-semi-space-size=16: Node 20's young generation. Node 24's grew to 128 MB on a 3,600-segment video
# (peak RSS 393 MB; 303 MB with the flag), and the 93 MB bench video ran a little faster with it (4.85 s
# against 5.03 s, median of 5 alternated runs).
CMD ["node", "--max-old-space-size=1536", "--max-semi-space-size=16", "scripts/start-prod.mjs"]
