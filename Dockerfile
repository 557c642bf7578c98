# syntax=docker/dockerfile:1
#
# One image per service, from the repository root (an npm workspaces monorepo):
#   docker build --build-arg SERVICE=router -t federated-shop/router .
#   SERVICE is router, users, products or orders.
#
# The image runs compiled JavaScript (`npm run build`: the service and the workspace packages it imports,
# bundled by esbuild) on a supported Node LTS, with only the production dependencies of that service.

ARG NODE_IMAGE=node:22-slim

# ---- base: the service's name and directory -----------------------------------------------------------------
FROM ${NODE_IMAGE} AS base
ARG SERVICE
RUN case "$SERVICE" in \
      router) echo router ;; \
      users|products|orders) echo "subgraphs/$SERVICE" ;; \
      *) echo "Build with --build-arg SERVICE=router|users|products|orders (got '$SERVICE')" >&2; exit 1 ;; \
    esac > /service-dir
WORKDIR /app

# ---- manifests: every workspace's package.json, so npm ci sees the whole lockfile's workspaces -------------
FROM base AS manifests
COPY package.json package-lock.json ./
COPY packages/service/package.json packages/service/
COPY packages/subgraph/package.json packages/subgraph/
COPY router/package.json router/
COPY subgraphs/users/package.json subgraphs/users/
COPY subgraphs/products/package.json subgraphs/products/
COPY subgraphs/orders/package.json subgraphs/orders/
COPY schema/package.json schema/
COPY storefront/package.json storefront/

# ---- deps: the service's production dependencies (and the shared packages'), exactly as locked ------------
FROM manifests AS deps
# No dependency needs an install script (native ones ship prebuilt binaries as optional packages).
RUN --mount=type=cache,target=/root/.npm \
    npm ci --workspace="$(cat /service-dir)" --include-workspace-root=false \
      --omit=dev --ignore-scripts --no-audit --no-fund

# ---- build: the whole workspace's dev tools, then the bundle; this stage is thrown away --------------------
FROM manifests AS build
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --no-audit --no-fund
COPY packages packages
COPY router router
COPY subgraphs subgraphs
COPY scripts scripts
COPY schema schema
COPY tsconfig.json ./
# The runtime tree: the bundle, and what it reads next to itself (a subgraph's schema.graphql and drizzle/
# migrations; the router's committed supergraph and persisted-query manifest, which SUPERGRAPH_PATH and
# PERSISTED_QUERIES_MANIFEST override, the contract operations whose query plans it warms, and its offline
# explorer).
RUN node_modules/.bin/tsx scripts/build.ts --service "$SERVICE" \
 && dir="$(cat /service-dir)" && mkdir -p "/out/$dir" \
 && cp -r "$dir/package.json" "$dir/dist" "/out/$dir/" \
 && if [ -f "$dir/schema.graphql" ]; then cp -r "$dir/schema.graphql" "$dir/drizzle" "/out/$dir/"; fi \
 && if [ "$SERVICE" = router ]; then mkdir -p /out/schema /out/router/explorer \
      && cp -r schema/supergraph.graphql schema/persisted-query-manifest.json schema/operations /out/schema/ \
      && cp -r router/explorer/dist /out/router/explorer/; fi \
 && node_modules/.bin/tsx -e "import('@shop/service/services').then((m) => console.log(m.SERVICES['$SERVICE'].opsPort))" > "/out/$dir/dist/ops-port" \
 && ln -s "/app/$dir" /out/service

# ---- runtime ------------------------------------------------------------------------------------------------
FROM base AS runtime
ENV NODE_ENV=production
COPY --from=deps /app/node_modules node_modules
COPY --from=build /out ./
WORKDIR /app/service
# The `node` user (uid 1000) comes with the official image.
USER node
# GraphQL on the service's port, /health, /ready and /metrics on its ops port (docs/operations.md); each is the
# service's default unless <NAME>_PORT / PORT or <NAME>_OPS_PORT / OPS_PORT say otherwise.
EXPOSE 4000 4001 4002 4003 9000 9001 9002 9003
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "const port = process.env.OPS_PORT || require('fs').readFileSync('dist/ops-port', 'utf8').trim(); fetch('http://127.0.0.1:' + port + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node as PID 1 is fine: each service handles SIGTERM itself (drain in-flight requests, exit 0).
CMD ["node", "dist/index.js"]
