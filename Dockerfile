# The flinkops worker image: compiled code and the pre-built workflow bundle, production dependencies only,
# running as an unprivileged user. Checked without a Docker engine by test/unit/container-files.test.ts.

# `npm install`, not `npm ci`: the lock file, written by npm 11, leaves out other platforms' optional packages and
# `npm ci` then refuses it as out of sync (npm/cli#8320); `npm install` still installs exactly the locked versions.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json tsconfig.product.json ./
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY client ./client
COPY config ./config
RUN npx tsc -p tsconfig.product.json && node dist/worker/bundle-workflows.js

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# The Temporal SDK ships its native core for five platforms; only this image's own is kept.
RUN npm install --omit=dev --ignore-scripts --no-audit --no-fund \
    && case "$(uname -m)" in x86_64) keep=x86_64-unknown-linux-gnu ;; aarch64) keep=aarch64-unknown-linux-gnu ;; *) keep=none ;; esac \
    && find node_modules/@temporalio/core-bridge/releases -mindepth 1 -maxdepth 1 ! -name "$keep" -exec rm -rf {} + \
    && npm cache clean --force
COPY --from=build /app/dist/workflows ./dist/workflows
COPY --from=build /app/dist/activities ./dist/activities
COPY --from=build /app/dist/worker ./dist/worker
COPY --from=build /app/dist/client ./dist/client
COPY --from=build /app/dist/config ./dist/config
COPY --from=build /app/dist/workflow-bundle.js ./dist/workflow-bundle.js
# Metrics (Prometheus) and health (probes).
EXPOSE 9464 9465
# The image's "node" user, by number so that Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
ENTRYPOINT ["node", "dist/worker/main.js"]
