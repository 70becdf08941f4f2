# The flinkops worker image: compiled code and the pre-built workflow bundle, production dependencies only,
# running as the unprivileged "node" user.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY client ./client
COPY config ./config
COPY tsconfig.product.json ./
RUN npx tsc -p tsconfig.product.json && node dist/worker/bundle-workflows.js

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/workflows ./dist/workflows
COPY --from=build /app/dist/activities ./dist/activities
COPY --from=build /app/dist/worker ./dist/worker
COPY --from=build /app/dist/client ./dist/client
COPY --from=build /app/dist/config ./dist/config
COPY --from=build /app/dist/workflow-bundle.js ./dist/workflow-bundle.js
USER node
ENTRYPOINT ["node", "dist/worker/main.js"]
