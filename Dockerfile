# syntax=docker/dockerfile:1

# Node 24 LTS on Debian 13 (trixie), slim. Node 24 is a long-term-support line maintained
# until April 2028; Node 20 (what the tests run on) reached its end of life in April 2026
# and Node 22 ends in April 2027. Node 26 became LTS only in October 2026: too fresh for
# our dependency set. Trixie is the current Debian stable (bookworm is oldstable).
# Pin a digest (node:24-trixie-slim@sha256:...) for reproducible builds.
ARG NODE_IMAGE=node:24-trixie-slim

# --- build: all dependencies, TypeScript -> dist/ --------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- runtime: production dependencies, dist/, examples/, git --------------------------
FROM ${NODE_IMAGE} AS runtime
# git: the demo and GITOPS_REPO_PATH modes commit with the git CLI.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# examples/: the embedded demo (GitOps repository and services.yaml) used without settings.
COPY examples ./examples
# The demo repository goes to /tmp, the only writable place with a read-only root
# filesystem (an in-memory emptyDir in deploy/deployment.yaml).
ENV DEMO_REPO=/tmp/demo-repo \
    PORT=8080 \
    NODE_OPTIONS=--enable-source-maps
# Numeric, so Kubernetes can check runAsNonRoot; uid 1000 is "node" in the Node images.
# The application files stay root-owned: the process cannot change them.
USER 1000:1000
EXPOSE 8080
# No HEALTHCHECK: Kubernetes probes GET /api/health and /api/ready (deploy/deployment.yaml).
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["serve"]
