# syntax=docker/dockerfile:1
# One image for every role of the scale-out shape (docs/scaling.md, deploy/):
#   docker build -t sluice .
#   docker run sluice <role>     # source-gateway (the default), sink-gateway, domain-service, projector, auth, seed
# Configured by the environment only (apps/server/src/roles/config.ts). The roles run their
# TypeScript through tsx, as `npm run stack` does; the SPA is built here and served by the
# source gateways.

ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: the whole workspace, then the SPA ------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
# Nothing may download a browser or a binary at install time: buf, esbuild and argon2 come in
# their platform packages, so install scripts are not needed (as in .ci/run).
ENV PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
COPY . .
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts
# The SPA into apps/web/dist, as `npm run stack` does before it starts the roles.
RUN npm run build
# What the roles need at run time: dependencies without the dev tools (tsx is the server's own
# dependency), the built SPA without its sources, no load generators. Test files never came in
# (.dockerignore).
RUN npm prune --omit=dev --ignore-scripts \
 && rm -rf apps/web/src bench

# --- runtime ------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only to the user that runs it; tsx keeps its compile cache in /tmp.
COPY --from=build /src /app
# The `node` user of the official Node images, by number, so that Kubernetes' runAsNonRoot can
# tell it is not root.
USER 1000:1000
# Ports the roles listen on unless PORT says otherwise: source gateway, sink gateway, domain
# service, projector, auth (each also serves /healthz, /readyz and /metrics).
EXPOSE 8080 8081 8082 8083 8084
ENTRYPOINT ["node", "--import", "tsx", "apps/server/src/roles/main.ts"]
CMD ["source-gateway"]
