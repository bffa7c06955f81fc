# syntax=docker/dockerfile:1

# Node 24 LTS on Debian 13 (trixie), slim. Node 24 is a long-term-support line maintained
# until April 2028; Node 20 (the engines floor in package.json) reached its end of life in
# April 2026 and Node 22 ends in April 2027. Node 26 became LTS only in October 2026: too
# fresh for our dependency set. Trixie is the current Debian stable (bookworm is oldstable).
# The rule test/deploy/dockerfile.test.ts checks: this major is an LTS (even) major that
# satisfies `engines` in package.json, and CI (.github/workflows/ci.yml) runs .ci/run on it
# as well as on the engines floor (20).
# The release workflow pins the base by digest through this argument when it needs to:
#   --build-arg NODE_IMAGE=node:24-trixie-slim@sha256:...
ARG NODE_IMAGE=node:24-trixie-slim

# --- build: all dependencies, TypeScript -> dist/ --------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- base of both runtime images: tini, production dependencies, dist/ -----------------
FROM ${NODE_IMAGE} AS runtime-base
# tini as PID 1: it forwards SIGTERM to node (graceful shutdown) and reaps the zombies of
# the git processes local mode spawns; node as PID 1 does neither for orphans.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# app.yml: the GitHub App manifest `--setup` registers (docs/github-app.md).
COPY app.yml ./app.yml
ENV PORT=8080 \
    NODE_OPTIONS=--enable-source-maps
EXPOSE 8080
# No HEALTHCHECK: Kubernetes probes GET /api/health and /api/ready (deploy/deployment.yaml).
# The command after tini is `node dist/cli.js`, so a Deployment's `args: ["serve"]` (or
# `docker run IMAGE list`) still names the failover-api command.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/cli.js"]
CMD ["serve"]

# --- github: GitHub mode only (GITOPS_REPOSITORY), no git -------------------------------
# GitHub mode never runs git (reads by GraphQL, commits with createCommitOnBranch), so this
# image has no git binary: less to patch. Without GITOPS_REPOSITORY it stops at start (the
# demo and GITOPS_REPO_PATH need git). Published as the `-github` tags.
FROM runtime-base AS github
# Numeric, so Kubernetes can check runAsNonRoot; uid 1000 is "node" in the Node images.
# The application files stay root-owned: the process cannot change them.
USER 1000:1000

# --- local (default): every mode, with git ----------------------------------------------
# The demo and GITOPS_REPO_PATH commit with the git CLI.
FROM runtime-base AS local
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*
# examples/: the embedded demo (GitOps repository and services.yaml) used without settings.
COPY examples ./examples
# The demo repository goes to /tmp, the only writable place with a read-only root
# filesystem (an in-memory emptyDir in deploy/deployment.yaml).
ENV DEMO_REPO=/tmp/demo-repo
USER 1000:1000
