# syntax=docker/dockerfile:1
# tollgate's own image: the CLI on a distroless Node.js 24 runtime, run as a numeric non-root user.
#   docker buildx build -t tollgate .
#   docker run --rm -v "$PWD:/work:ro" -w /work tollgate check .
# Linted in `npm test` (test/lint/own-dockerfile.test.ts): no finding at warning or above.
#
# Base images are pinned by digest, so a rebuild gets the same bytes. To update one, look up the
# current digest of its tag and replace the sha256 here:
#   docker buildx imagetools inspect node:24-bookworm-slim --format '{{json .Manifest.Digest}}'
# (Dependabot's docker updates propose these changes.)
ARG NODE_BUILD=node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d
ARG NODE_RUN=gcr.io/distroless/nodejs24-debian12:nonroot@sha256:14d42e2511532589a7c7e01a753667a74fcc96266e137e8125006b87b0c32d0a

# Build: install exactly the lockfile (no install scripts), compile, then drop the dev dependencies.
FROM ${NODE_BUILD} AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts
COPY bin/ bin/
COPY src/ src/
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts

# Runtime: no shell, no package manager. The files belong to root; the CLI user can only read them.
FROM ${NODE_RUN}
ARG SOURCE_DATE_EPOCH
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build --chown=0:0 /src/package.json ./
COPY --from=build --chown=0:0 /src/node_modules ./node_modules
COPY --from=build --chown=0:0 /src/bin ./bin
COPY --from=build --chown=0:0 /src/dist ./dist
USER 65532:65532
# A command-line tool, not a service: there is nothing to health-check.
HEALTHCHECK NONE
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/tollgate.cjs"]
CMD ["--help"]
