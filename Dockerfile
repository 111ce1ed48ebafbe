# The fraudscore scorer image (used by docker-compose.yml for `scorer` and the one-shot `kafka-init`).
FROM node:20-slim AS build
# onnxruntime-node's postinstall would fetch extra GPU libraries; the CPU binary ships in the package.
ENV ONNXRUNTIME_NODE_INSTALL=skip
WORKDIR /app
COPY . .
# `npm ci` runs the `prepare` script, which compiles TypeScript into dist/; then drop dev packages.
RUN npm ci && npm prune --omit=dev && npm cache clean --force

FROM node:20-slim
ENV ONNXRUNTIME_NODE_INSTALL=skip \
    NODE_ENV=production \
    KAFKA_BROKERS=kafka:29092 \
    REDIS_URL=redis://redis:6379 \
    FRAUDSCORE_MODEL_DIR=/app/models/champion \
    FRAUDSCORE_HTTP_HOST=0.0.0.0 \
    FRAUDSCORE_HTTP_PORT=9464
WORKDIR /app
COPY --from=build --chown=node:node /app /app
USER node
EXPOSE 9464
CMD ["node", "bin/fraudscore.js", "run"]
