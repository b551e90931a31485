import { stringify } from "yaml";
import { ecosystemOfDependabot } from "../ecosystem/index.ts";
import type { DetectedEcosystem } from "./detect.ts";

/**
 * The files `tollgate init` writes, kept as TypeScript strings so that the compiled package (dist/)
 * carries them without a copy step.
 */

/** A third-party action pinned by commit SHA; `version` is the release tag the SHA points at. */
export interface PinnedAction {
  uses: string;
  sha: string;
  version: string;
}

/**
 * The actions the generated workflow uses, pinned by full commit SHA. Each SHA was matched to its
 * release tag in several independent public workflows (searched, not fetched from GitHub's API).
 * Dependabot's `github-actions` updates, which `tollgate init` configures, keep them current.
 */
export const PINNED_ACTIONS = {
  checkout: { uses: "actions/checkout", sha: "11bd71901bbe5b1630ceea73d27597364c9af683", version: "v4.2.2" },
  setupNode: { uses: "actions/setup-node", sha: "39370e3970a6d050c480ffad4ff0ed4d3fdee5af", version: "v4.1.0" },
  uploadSarif: { uses: "github/codeql-action/upload-sarif", sha: "48ab28a6f5dbc2a99bf1e0131198dd8f1df78169", version: "v3.28.0" },
  codeqlInit: { uses: "github/codeql-action/init", sha: "48ab28a6f5dbc2a99bf1e0131198dd8f1df78169", version: "v3.28.0" },
  codeqlAnalyze: { uses: "github/codeql-action/analyze", sha: "48ab28a6f5dbc2a99bf1e0131198dd8f1df78169", version: "v3.28.0" },
  setupBuildx: { uses: "docker/setup-buildx-action", sha: "c47758b77c9736f4b2ef4073d4d51994fabfe349", version: "v3.7.1" },
  login: { uses: "docker/login-action", sha: "9780b0c442fbb1117ed29e0efdff1e18412f7567", version: "v3.3.0" },
  buildPush: { uses: "docker/build-push-action", sha: "4f58ea79222b3b9dc2c8bbdd6debcef730109a75", version: "v6.9.0" },
} as const satisfies Record<string, PinnedAction>;

function uses(a: PinnedAction): string {
  return `${a.uses}@${a.sha} # ${a.version}`;
}

/** `${{ expr }}` for GitHub Actions (kept out of JS template syntax). */
function gh(expr: string): string {
  return "${{ " + expr + " }}";
}

/**
 * Where the workflow gets tollgate from:
 * - `self`: the repository is tollgate itself; it is built from the checkout.
 * - `repository`: built from a GitHub repository at a pinned commit (tollgate is not on the npm
 *   registry yet); `repository` and `commit` empty leave them for the user to fill in, and the
 *   install step fails with a message saying so until they are.
 * - `package`: an npm package spec (a published version, `tollgate@1.2.3`, or a tarball URL).
 */
export type TollgateSource =
  | { kind: "self" }
  | { kind: "repository"; repository: string; commit: string }
  | { kind: "package"; spec: string };

export interface WorkflowOptions {
  ecosystems: readonly DetectedEcosystem[];
  /** Build, sign, attest and verify an image on main. */
  image: boolean;
  /** Where the workflow installs tollgate from. */
  tollgate: TollgateSource;
}

/** The workflow's `env:` entries and comment for a tollgate source (none when it is the repository itself). */
function sourceEnv(source: TollgateSource): string {
  switch (source.kind) {
    case "self":
      return "";
    case "package":
      return `
env:
  # The npm package spec tollgate is installed from: pin the version.
  TOLLGATE_PACKAGE: "${source.spec}"
`;
    case "repository":
      return `
env:
  # Which tollgate runs here. tollgate is not on the npm registry yet: it is built from its GitHub
  # repository at a pinned commit. Set the repository (OWNER/NAME) and the full 40-character SHA of
  # the commit to build (one you reviewed); \`tollgate init --tollgate-repository OWNER/NAME@SHA\`
  # writes them. Until both are set, the install step fails and says so.
  TOLLGATE_REPOSITORY: "${source.repository}"
  TOLLGATE_COMMIT: "${source.commit}"
`;
  }
}

/** The steps that install tollgate in a job (Node.js, then tollgate on the PATH). */
function installSteps(source: TollgateSource): string {
  const node = `      - uses: ${uses(PINNED_ACTIONS.setupNode)}
        with:
          node-version: "24"`;
  switch (source.kind) {
    case "self":
      return `${node}
      - name: Install tollgate (built from this repository)
        run: |
          npm ci --ignore-scripts --no-audit --no-fund
          npm run build
          npm install --global --ignore-scripts --no-audit --no-fund "\${GITHUB_WORKSPACE}"`;
    case "package":
      return `${node}
      - name: Install tollgate
        run: npm install --global --ignore-scripts --no-audit --no-fund "\${TOLLGATE_PACKAGE}"`;
    case "repository":
      return `${node}
      - name: Install tollgate (built from its repository at the pinned commit)
        run: |
          if [ -z "\${TOLLGATE_REPOSITORY}" ] || ! [[ "\${TOLLGATE_COMMIT}" =~ ^[0-9a-f]{40}$ ]]; then
            echo "::error title=tollgate is not pinned::set TOLLGATE_REPOSITORY (OWNER/NAME) and TOLLGATE_COMMIT (a full commit SHA) in the env of this workflow"
            exit 1
          fi
          src="\${RUNNER_TEMP}/tollgate"
          git init --quiet "\${src}"
          git -C "\${src}" fetch --quiet --depth 1 "https://github.com/\${TOLLGATE_REPOSITORY}.git" "\${TOLLGATE_COMMIT}"
          git -C "\${src}" checkout --quiet FETCH_HEAD
          # Exactly the locked dependencies, no install scripts; then tollgate's own build.
          npm ci --prefix "\${src}" --ignore-scripts --no-audit --no-fund
          npm run --prefix "\${src}" build
          npm install --global --ignore-scripts --no-audit --no-fund "\${src}"`;
  }
}

/**
 * CodeQL languages (https://docs.github.com/en/code-security/code-scanning/creating-an-advanced-setup-for-code-scanning/customizing-your-advanced-setup-for-code-scanning#changing-the-languages-that-are-analyzed)
 * for the detected ecosystems, with the build mode each needs: `none` where CodeQL reads the sources
 * without building, `autobuild` for Go. GitHub Actions workflows are always analyzed (this one exists).
 * Rust is left out: the CodeQL bundle of the pinned action (v3.28.0, CodeQL 2.20) does not analyze it
 * yet; Dependabot's action updates bring it, and `tollgate init --force` then adds it.
 */
const CODEQL_LANGUAGE: Readonly<Partial<Record<DetectedEcosystem["ecosystem"], { language: string; buildMode: "none" | "autobuild" }>>> = {
  npm: { language: "javascript-typescript", buildMode: "none" },
  pip: { language: "python", buildMode: "none" },
  gomod: { language: "go", buildMode: "autobuild" },
  maven: { language: "java-kotlin", buildMode: "none" },
  gradle: { language: "java-kotlin", buildMode: "none" },
  bundler: { language: "ruby", buildMode: "none" },
  nuget: { language: "csharp", buildMode: "none" },
};

/** The CodeQL matrix for the detected ecosystems: one entry per language, `actions` always, sorted. */
export function codeqlMatrix(ecosystems: readonly DetectedEcosystem[]): { language: string; buildMode: string }[] {
  const byLanguage = new Map<string, { language: string; buildMode: string }>([["actions", { language: "actions", buildMode: "none" }]]);
  for (const e of ecosystems) {
    const l = CODEQL_LANGUAGE[e.ecosystem];
    if (l) byLanguage.set(l.language, l);
  }
  return [...byLanguage.values()].sort((a, b) => a.language.localeCompare(b.language));
}

/** `.github/workflows/tollgate.yml` */
export function workflowTemplate(o: WorkflowOptions): string {
  // The OSV ecosystems of the detected manifests (the registry's Dependabot names; docker and github-actions have none here).
  const osv = [...new Set(o.ecosystems.flatMap((e) => ecosystemOfDependabot(e.ecosystem) ?? []))];
  const dbUpdate = osv.length > 0 ? `tollgate db update --ecosystem ${osv.join(" ")}` : "tollgate db update";
  // The image holds its base image's OS packages too: Debian and Alpine, the bases of most images (another
  // base's packages are reported as not covered by the database, and the gate says so).
  const imageDbUpdate = `tollgate db update --ecosystem ${[...new Set([...osv, "Debian", "Alpine"])].join(" ")}`;
  const install = installSteps(o.tollgate);
  const checkout = `      - uses: ${uses(PINNED_ACTIONS.checkout)}
        with:
          persist-credentials: false`;
  const imageJobs = o.image
    ? `

  image:
    name: Build, gate, sign and attest the image
    if: github.event_name == 'push' && github.ref == 'refs/heads/main'
    needs: gate
    runs-on: ubuntu-24.04
    permissions:
      contents: read
      packages: write # push the image to ghcr.io
      id-token: write # GitHub OIDC token: keyless signing, or the login to Vault Transit
    outputs:
      image: ${gh("steps.ref.outputs.image")}
      digest: ${gh("steps.build.outputs.digest")}
    steps:
${checkout}
${install}
      - name: Image name and reproducible timestamp
        id: ref
        run: |
          echo "image=ghcr.io/\${GITHUB_REPOSITORY,,}" >> "$GITHUB_OUTPUT"
          echo "SOURCE_DATE_EPOCH=$(git log -1 --pretty=%ct)" >> "$GITHUB_ENV"
      - uses: ${uses(PINNED_ACTIONS.setupBuildx)}
      - uses: ${uses(PINNED_ACTIONS.login)}
        with:
          registry: ghcr.io
          username: ${gh("github.actor")}
          password: ${gh("secrets.GITHUB_TOKEN")}
      - name: Build and push
        id: build
        uses: ${uses(PINNED_ACTIONS.buildPush)}
        with:
          context: .
          push: true
          tags: ${gh("steps.ref.outputs.image")}:${gh("github.sha")}
      - name: SBOM of the image
        env:
          IMAGE: ${gh("steps.ref.outputs.image")}@${gh("steps.build.outputs.digest")}
        run: tollgate sbom "registry:\${IMAGE}" --output image.cdx.json
      - name: Update the vulnerability database
        run: ${imageDbUpdate}
      - name: Gate the image
        env:
          IMAGE: ${gh("steps.ref.outputs.image")}@${gh("steps.build.outputs.digest")}
        run: tollgate check "registry:\${IMAGE}" --report "markdown=\${GITHUB_STEP_SUMMARY}"
      - name: Sign the image
        env:
          IMAGE: ${gh("steps.ref.outputs.image")}@${gh("steps.build.outputs.digest")}
          TOLLGATE_SIGNING_KEY: ${gh("vars.TOLLGATE_SIGNING_KEY")}
        run: tollgate sign image --key "\${TOLLGATE_SIGNING_KEY}" "registry:\${IMAGE}"
      - name: Attest the SBOM
        env:
          IMAGE: ${gh("steps.ref.outputs.image")}@${gh("steps.build.outputs.digest")}
          TOLLGATE_SIGNING_KEY: ${gh("vars.TOLLGATE_SIGNING_KEY")}
        run: tollgate attest "registry:\${IMAGE}" --predicate image.cdx.json --type cyclonedx --key "\${TOLLGATE_SIGNING_KEY}"
      - name: Provenance of the image (SLSA v1, from this job's GitHub context)
        env:
          IMAGE: ${gh("steps.ref.outputs.image")}@${gh("steps.build.outputs.digest")}
          TOLLGATE_SIGNING_KEY: ${gh("vars.TOLLGATE_SIGNING_KEY")}
        run: tollgate attest provenance "registry:\${IMAGE}" --key "\${TOLLGATE_SIGNING_KEY}"

  reproducible:
    name: Reproducible build (two builds, compared)
    runs-on: ubuntu-24.04
    permissions:
      contents: read
    steps:
${checkout}
${install}
      - name: Reproducible timestamp
        run: echo "SOURCE_DATE_EPOCH=$(git log -1 --pretty=%ct)" >> "$GITHUB_ENV"
      - uses: ${uses(PINNED_ACTIONS.setupBuildx)}
      - name: Build once
        uses: ${uses(PINNED_ACTIONS.buildPush)}
        with:
          context: .
          provenance: false
          sbom: false
          outputs: type=oci,dest=build-1.tar,rewrite-timestamp=true
      - name: Build again, without the cache
        uses: ${uses(PINNED_ACTIONS.buildPush)}
        with:
          context: .
          no-cache: true
          provenance: false
          sbom: false
          outputs: type=oci,dest=build-2.tar,rewrite-timestamp=true
      - name: Compare the two builds
        run: tollgate repro diff oci-archive:build-1.tar oci-archive:build-2.tar

  verify:
    name: Verify the signature before deploy
    needs: image
    runs-on: ubuntu-24.04
    permissions:
      contents: read
      packages: read
    steps:
${checkout}
${install}
      - uses: ${uses(PINNED_ACTIONS.login)}
        with:
          registry: ghcr.io
          username: ${gh("github.actor")}
          password: ${gh("secrets.GITHUB_TOKEN")}
      - name: Verify the image signature
        env:
          IMAGE: ${gh("needs.image.outputs.image")}@${gh("needs.image.outputs.digest")}
          TOLLGATE_VERIFY_KEY: ${gh("vars.TOLLGATE_VERIFY_KEY")}
        run: tollgate verify image --key "\${TOLLGATE_VERIFY_KEY}" "registry:\${IMAGE}"
      - name: Verify the SBOM attestation
        env:
          IMAGE: ${gh("needs.image.outputs.image")}@${gh("needs.image.outputs.digest")}
          TOLLGATE_VERIFY_KEY: ${gh("vars.TOLLGATE_VERIFY_KEY")}
        run: tollgate verify image --key "\${TOLLGATE_VERIFY_KEY}" --attestation-type cyclonedx "registry:\${IMAGE}" --output verified-sbom.json
      - name: Verify the provenance attestation
        env:
          IMAGE: ${gh("needs.image.outputs.image")}@${gh("needs.image.outputs.digest")}
          TOLLGATE_VERIFY_KEY: ${gh("vars.TOLLGATE_VERIFY_KEY")}
        run: tollgate verify image --key "\${TOLLGATE_VERIFY_KEY}" --attestation-type slsaprovenance1 "registry:\${IMAGE}" --output verified-provenance.json

  deploy:
    name: Deploy
    needs: [image, verify]
    runs-on: ubuntu-24.04
    environment: production
    permissions:
      contents: read
    steps:
      - name: Deploy the verified digest
        env:
          IMAGE: ${gh("needs.image.outputs.image")}@${gh("needs.image.outputs.digest")}
        run: echo "Deploy \${IMAGE} here (by digest, never by tag)."`
    : "";
  return `# tollgate: software supply-chain checks, written by \`tollgate init\`.
# Pull requests: SBOM and vulnerability gate; results go to code scanning (SARIF) and the job summary.${
    o.image
      ? `
# main: build the image, SBOM it, gate it, sign it, attest the SBOM, and verify it before deploy.
# Signing needs two repository variables: TOLLGATE_SIGNING_KEY, a key reference tollgate signs with
# (e.g. a Vault Transit key, vault://..., reached with this job's GitHub OIDC token), and
# TOLLGATE_VERIFY_KEY, the matching public key (a file in the repository or a key reference).
# Signatures and the attestation are logged in the public Rekor transparency log, as cosign does
# (add --tlog-upload=false to keep them off it, and --insecure-ignore-tlog to verify such ones).
# Deploy by digest only after the verify job: it checks the signature and the SBOM attestation.`
      : ""
  }
# \`tollgate check\` also lints the Dockerfiles of the repository: their TG-DF-### findings are in the
# same SARIF, uploaded once.
# Third-party actions are pinned by commit SHA; Dependabot (github-actions) proposes updates.
# Every job gets only the permissions it needs; the workflow default is none.
name: tollgate

on:
  pull_request:
  push:
    branches: [main]
  workflow_dispatch:

permissions: {}

concurrency:
  group: tollgate-${gh("github.workflow")}-${gh("github.ref")}
  cancel-in-progress: ${gh("github.event_name == 'pull_request'")}
${sourceEnv(o.tollgate)}
jobs:
  gate:
    name: SBOM and vulnerability gate
    runs-on: ubuntu-24.04
    permissions:
      contents: read
      security-events: write # upload SARIF to code scanning
    steps:
${checkout}
${install}
      - name: Update the vulnerability database
        run: ${dbUpdate}
      - name: SBOM
        run: tollgate sbom . --output sbom.cdx.json
      - name: Vulnerability gate and Dockerfile lint
        run: tollgate check . --report sarif=tollgate.sarif --report "markdown=\${GITHUB_STEP_SUMMARY}"
      - name: Upload the gate results to code scanning
        if: ${gh("!cancelled() && hashFiles('tollgate.sarif') != ''")}
        uses: ${uses(PINNED_ACTIONS.uploadSarif)}
        with:
          sarif_file: tollgate.sarif
          category: tollgate

  codeql:
    name: CodeQL (${gh("matrix.language")})
    runs-on: ubuntu-24.04
    permissions:
      contents: read
      security-events: write # upload the CodeQL results to code scanning
      actions: read # CodeQL reads this run's metadata (needed in private repositories)
    strategy:
      fail-fast: false
      matrix:
        include:
${codeqlMatrix(o.ecosystems)
  .map((l) => `          - language: ${l.language}\n            build-mode: ${l.buildMode}`)
  .join("\n")}
    steps:
${checkout}
      - uses: ${uses(PINNED_ACTIONS.codeqlInit)}
        with:
          languages: ${gh("matrix.language")}
          build-mode: ${gh("matrix.build-mode")}
      - uses: ${uses(PINNED_ACTIONS.codeqlAnalyze)}
        with:
          category: /language:${gh("matrix.language")}${imageJobs}
`;
}

/** `.github/dependabot.yml`: every detected ecosystem, weekly, minor and patch updates grouped. */
export function dependabotTemplate(ecosystems: readonly DetectedEcosystem[]): string {
  const updates = ecosystems.map((e) => {
    const entry: Record<string, unknown> = { "package-ecosystem": e.ecosystem };
    if (e.directories.length === 1) entry.directory = e.directories[0];
    else entry.directories = e.directories;
    entry.schedule = { interval: "weekly" };
    entry.groups = { [`${e.ecosystem}-minor-and-patch`]: { patterns: ["*"], "update-types": ["minor", "patch"] } };
    entry["open-pull-requests-limit"] = 10;
    return entry;
  });
  return `# Dependabot version updates, written by \`tollgate init\` for the ecosystems it found.
# Minor and patch updates are grouped into one pull request per ecosystem; major updates come alone.
${stringify({ version: 2, updates }, { lineWidth: 0 })}`;
}

/** `tollgate.yaml`: the default policy, every key with its default and a comment. */
export function configTemplate(): string {
  return `# tollgate policy, written by \`tollgate init\`. Every key below is at its default; the README
# documents each one. Unknown keys are errors, so typos never pass silently.

# The gate
fail_on: high          # none|low|medium|high|critical: findings at or above fail the gate
warn_on: medium        # at or above: a warning (exit 0)
report: low            # at or above: shown in reports
only_fixed: false      # true: fail only when a fixed version exists
unresolved: warn       # ignore|warn|fail: components whose version could not be resolved
strict_waivers: false  # true: a waiver that matches nothing fails the gate
waivers: []
# waivers:
#   - id: GHSA-xxxx-xxxx-xxxx
#     package: pkg:npm/example        # purl pattern, optional
#     reason: not reachable from our code
#     owner: security@example.com
#     expires: 2027-01-31             # the waiver stops applying after this date
vex: []                # OpenVEX or CycloneDX VEX documents (paths)

# The vulnerability database
db:
  max_age: 7d          # older than this, the database is stale
  fail_when_stale: true  # check and scan fail on a stale database; false: a warning

# SBOMs
sbom:
  exclude: []          # globs left out of directory scans
  format: cyclonedx-json

# Dockerfile lint (tollgate lint dockerfile)
lint:
  fail_on: error       # error|warning|info
  ignore: []           # rule ids, e.g. TG-DF-028
  severity: {}         # per-rule override, e.g. TG-DF-012: warning (or off)
  trusted_registries: []   # e.g. [ghcr.io, "*.dkr.ecr.eu-west-1.amazonaws.com"]; empty: any registry
`;
}

const DIGEST_NOTE = `# Base images are pinned by digest, so a rebuild gets the same bytes. To update one, look up the
# current digest of its tag and replace the sha256 here:
#   docker buildx imagetools inspect <image>:<tag> --format '{{json .Manifest.Digest}}'
# (Dependabot's docker updates, configured by \`tollgate init\`, propose these changes.)`;

/** Hardened multi-stage Dockerfile for a Node.js service. */
export const NODE_DOCKERFILE = `# syntax=docker/dockerfile:1
# Hardened Node.js service image, written by \`tollgate init --dockerfile node\`.
${DIGEST_NOTE}
# Build: docker buildx build --secret id=npmrc,src=$HOME/.npmrc -t app .
ARG NODE_BUILD=node:22-bookworm-slim@sha256:43ac6c60b8f89723f746e8a92ce91abd5017e627ce1ddfe4238355d3a30b772c
ARG NODE_RUN=gcr.io/distroless/nodejs22-debian12:nonroot@sha256:13593b7570658e8477de39e2f4a1dd25db2f836d68a0ba771251572d23bb4f8e

# Production dependencies only, exactly as locked; install scripts do not run.
FROM \${NODE_BUILD} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Registry credentials come from a BuildKit secret mount: never ARG or ENV, never in a layer.
RUN --mount=type=cache,target=/root/.npm \\
    --mount=type=secret,id=npmrc,target=/root/.npmrc \\
    npm ci --omit=dev --ignore-scripts

FROM \${NODE_BUILD} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \\
    --mount=type=secret,id=npmrc,target=/root/.npmrc \\
    npm ci --ignore-scripts
COPY . .
RUN npm run build --if-present

# Runtime: distroless (no shell, no package manager), a numeric non-root user.
FROM \${NODE_RUN}
ARG SOURCE_DATE_EPOCH
WORKDIR /app
ENV NODE_ENV=production
# The application belongs to root: the service user can read it but not change it.
COPY --from=deps --chown=0:0 /app/node_modules ./node_modules
COPY --from=build --chown=0:0 /app/package.json ./
COPY --from=build --chown=0:0 /app/dist ./dist
USER 65532:65532
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \\
  CMD ["/nodejs/bin/node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["dist/server.js"]
`;

/** Hardened multi-stage Dockerfile for a Python ML inference service. */
export const PYTHON_ML_DOCKERFILE = `# syntax=docker/dockerfile:1
# Hardened Python ML inference image, written by \`tollgate init --dockerfile python-ml\`.
${DIGEST_NOTE}
# Build: docker buildx build --secret id=pip_index_url,env=PIP_INDEX_URL -t app .
ARG PYTHON=python:3.12-slim-bookworm@sha256:782412e85d0f0984994c290652577d4018aff08145c85b262bb63dc0c7522254

FROM \${PYTHON} AS build
ENV PIP_NO_CACHE_DIR=1 \\
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY requirements.txt ./
# Hash-pinned requirements (pip-compile --generate-hashes); a private index URL comes from a
# BuildKit secret, never from ARG or ENV.
RUN --mount=type=secret,id=pip_index_url,env=PIP_INDEX_URL \\
    pip install --require-hashes -r requirements.txt

FROM \${PYTHON}
ARG SOURCE_DATE_EPOCH
# A numeric service user without a login shell, and no setuid/setgid binaries (CIS Docker 4.8).
RUN groupadd --gid 10001 app \\
 && useradd --no-log-init --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin app \\
 && find / -xdev -perm /6000 -type f -exec chmod a-s {} +
# Code, environment and models belong to root: the service user can read them but not change them.
COPY --from=build --chown=0:0 /opt/venv /opt/venv
COPY --chown=0:0 app/ /srv/app/
# Models: safetensors only (no pickles), checked with \`tollgate verify model\` before they are copied.
# Remove this line if the service downloads its models at start-up.
COPY --chown=0:0 models/ /models/
ENV PATH=/opt/venv/bin:$PATH \\
    PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1 \\
    HF_HUB_OFFLINE=1 \\
    TRANSFORMERS_OFFLINE=1 \\
    HF_HOME=/tmp/hf
WORKDIR /srv/app
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \\
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3).status == 200 else 1)"]
CMD ["python", "-m", "uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000"]
`;

/** `.dockerignore` written beside a template Dockerfile: keeps secrets and clutter out of the context. */
export const DOCKERIGNORE = `# Written by \`tollgate init\`: keep secrets, VCS data and local clutter out of the build context.
.git
.github
**/.env
**/.env.*
**/*.pem
**/*.key
**/*.p12
**/id_rsa*
**/id_ed25519*
**/.npmrc
**/.pypirc
**/.netrc
**/.aws
**/.ssh
**/node_modules
**/__pycache__
**/.venv
**/.pytest_cache
.tollgate
*.sarif
*.cdx.json
`;

export type DockerfileTemplate = "node" | "python-ml";

export const DOCKERFILE_TEMPLATES: Readonly<Record<DockerfileTemplate, string>> = {
  node: NODE_DOCKERFILE,
  "python-ml": PYTHON_ML_DOCKERFILE,
};
