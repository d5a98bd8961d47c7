# syntax=docker/dockerfile:1
# bftnode in a container (docs/deploy.md). Two stages: the first installs every dependency and
# compiles TypeScript; the second holds only the compiled node, production dependencies, the
# bin, the sample contracts and the dashboard's static files, and runs as the unprivileged
# `node` user with its state in /data.
#
#   docker build -t bftnode:local --build-arg COMMIT=$(git rev-parse --short HEAD) .
#   docker run --init -p 127.0.0.1:7200:7200 -v bftnode-data:/data bftnode:local
#
# The native addons (classic-level, sodium-native) ship prebuilt binaries for linux x64 and arm64;
# on another platform add python3, make and g++ to the build stage.

ARG NODE_IMAGE=node:20-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
# the build context has no .git: the commit `bftnode version` reports comes from this argument
ARG COMMIT=unknown
RUN BFTNODE_COMMIT=${COMMIT} npm run build && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    BFTNODE_HOME=/data
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/dist/build-info.json ./dist/build-info.json
COPY bin ./bin
COPY contracts ./contracts
# the dashboard's page, script and style, served at /dashboard
COPY static ./static
RUN ln -s /app/bin/bftnode.js /usr/local/bin/bftnode \
 && mkdir -p /data \
 && chown node:node /data
USER node
# the wallet, the dev network and any data dir under it (BFTNODE_HOME)
VOLUME ["/data"]
# libp2p and the local API (their defaults)
EXPOSE 7100 7200
# liveness from the node's own API; HEALTHCHECK_URL for a node whose API is on another port
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.HEALTHCHECK_URL || 'http://127.0.0.1:7200/v1/health').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM (docker stop) stops the node cleanly and it exits 0 within 8 s
STOPSIGNAL SIGTERM
ENTRYPOINT ["bftnode"]
# a single-validator development network in /data/dev, reachable through published ports
CMD ["start", "--listen", "/ip4/0.0.0.0/tcp/7100", "--api-host", "0.0.0.0", "--no-mdns"]
