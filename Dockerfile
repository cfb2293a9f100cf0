# Node 20 and Playwright 1.65.1, matching package.json (engines, playwright pin).
FROM apify/actor-node-playwright-chrome:20-1.65.1 AS builder
COPY --chown=myuser package*.json ./
RUN npm ci --include=dev --audit=false
COPY --chown=myuser . ./
RUN npm run build

FROM apify/actor-node-playwright-chrome:20-1.65.1
COPY --chown=myuser package*.json ./
# Keep optional dependencies: the ffmpeg binary is @ffmpeg-installer/linux-x64, an optional one.
RUN npm ci --omit=dev --include=optional --audit=false \
    && echo "Installed NPM packages:" && (npm list --omit=dev --all || true) \
    && node -e "require('fs').accessSync(require('@ffmpeg-installer/ffmpeg').path, require('fs').constants.X_OK)"
COPY --from=builder --chown=myuser /home/myuser/dist ./dist
COPY --chown=myuser .actor ./.actor
CMD npm run start:prod --silent
