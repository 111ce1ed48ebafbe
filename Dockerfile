# The fraudscore scorer image (used by docker-compose.yml for `scorer` and the one-shot `kafka-init`).
# Node.js 24 LTS. Dependencies are installed from package*.json alone, before any source is copied, so
# a source change rebuilds only the compile step and the final copy; the image holds the runtime files
# only (compiled dist/src, bin, schemas, models, Lua scripts, topic list), not the tests, the training
# code or onnxruntime's binaries for other platforms.
# Pinned to a release like every image of the stack: the Node 24 that .ci/run installs (bump both).
ARG NODE_IMAGE=node:24.22.3-bookworm-slim

# --- compile: dev dependencies + TypeScript ----------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the only install scripts in the tree are onnxruntime-node's CUDA download and
# core-js's banner (both denied in package.json's allowScripts, which an older npm would not read)
# and the optional tfjs-node's libtensorflow download (left out: the image scores with ONNX and runs
# the TF.js challenger on the wasm backend). It also skips `prepare`, which needs the sources below.
RUN npm ci --ignore-scripts --omit=optional --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bench ./bench
COPY scripts ./scripts
RUN npx tsc -p tsconfig.build.json

# --- runtime dependencies only ----------------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --omit=dev --omit=optional --no-audit --no-fund \
  && keep="linux/$(node -p process.arch)" \
  && cd node_modules/onnxruntime-node/bin/napi-v6 \
  && for d in */*; do [ "$d" = "$keep" ] || rm -rf "$d"; done \
  && find . -mindepth 1 -maxdepth 1 -type d -empty -delete \
  && rm -rf /root/.npm

# --- the image --------------------------------------------------------------------------------------
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    KAFKA_BROKERS=kafka:29092 \
    REDIS_URL=redis://redis:6379 \
    FRAUDSCORE_MODEL_DIR=/app/models/champion \
    FRAUDSCORE_HTTP_HOST=0.0.0.0 \
    FRAUDSCORE_HTTP_PORT=9464
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY schemas ./schemas
COPY models/champion ./models/champion
COPY models/challenger ./models/challenger
COPY deploy/topics.json ./deploy/topics.json
COPY scripts/create-topics.mjs ./scripts/create-topics.mjs
# tsc does not copy the feature store's Lua scripts; they are read from src/features/lua at run time.
COPY src/features/lua ./src/features/lua
COPY --from=build /app/dist/src ./dist/src
USER node
EXPOSE 9464
# /healthz answers while the process is alive and serving; the slim image has no curl, node has fetch.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.FRAUDSCORE_HTTP_PORT ?? 9464}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "bin/fraudscore.js", "run"]
