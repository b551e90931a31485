/**
 * The builders `verify provenance` trusts and what it reads from a signing certificate, as
 * slsa-verifier has them (slsa-verifier@aaf98fd `verifiers/internal/gha/builder.go`,
 * `slsaprovenance/common/builders.go`, `buildtypes.go`, `verifiers/utils/builder.go`):
 *
 * - the reusable workflows of slsa-github-generator trusted without `--builder-id` (generic, Go,
 *   container-based and container generators) and the delegator ("BYOB") workflows, whose builds
 *   name the real builder (e.g. `slsa-framework/example-trw`) in the provenance;
 * - builders trusted only when named with `--builder-id`: the Bazel Central Registry's publish and
 *   release workflows, any GitHub workflow that signed its own provenance (tollgate's), and npm's
 *   `https://github.com/actions/runner/github-hosted`;
 * - the GitHub workflow identity in a Fulcio certificate (SAN and the 1.3.6.1.4.1.57264.1.* extensions).
 */
import { X509Certificate } from "@sigstore/core";
import { verificationFailure } from "../signing/verify/errors.ts";

export const GITHUB = "https://github.com/";
export const GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com";

const GENERATOR = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/";
export const GENERIC_GENERATOR = `${GENERATOR}generator_generic_slsa3.yml`;
export const CONTAINER_GENERATOR = `${GENERATOR}generator_container_slsa3.yml`;
export const GO_BUILDER = `${GENERATOR}builder_go_slsa3.yml`;
export const CONTAINER_BASED_BUILDER = `${GENERATOR}builder_container-based_slsa3.yml`;
export const GENERIC_DELEGATOR = `${GENERATOR}delegator_generic_slsa3.yml`;
export const LOW_PERMS_DELEGATOR = `${GENERATOR}delegator_lowperms-generic_slsa3.yml`;
/** The path prefix a delegated builder must have when no `--builder-id` is given. */
export const GENERATOR_WORKFLOWS_PREFIX = GENERATOR;
export const NPM_CLI_LEGACY_BUILDER = "https://github.com/actions/runner";
export const NPM_CLI_HOSTED_BUILDER = `${NPM_CLI_LEGACY_BUILDER}/github-hosted`;
export const NPM_CLI_SELF_HOSTED_BUILDER = `${NPM_CLI_LEGACY_BUILDER}/self-hosted`;
export const BCR_RELEASER_BUILDER = "https://github.com/bazel-contrib/.github/.github/workflows/release_ruleset.yaml";
export const BCR_PUBLISHER_BUILDER = "https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml";

/** Reusable workflows trusted without `--builder-id` (slsa-verifier's artifact and container defaults). */
export const DEFAULT_TRUSTED_BUILDERS: ReadonlySet<string> = new Set([GENERIC_GENERATOR, GO_BUILDER, CONTAINER_BASED_BUILDER, CONTAINER_GENERATOR, GENERIC_DELEGATOR, LOW_PERMS_DELEGATOR]);
/** Delegator workflows: the certificate names them, the provenance names the builder they ran. */
export const DELEGATOR_BUILDERS: ReadonlySet<string> = new Set([GENERIC_DELEGATOR, LOW_PERMS_DELEGATOR]);

export const BUILD_TYPES = {
  generic: "https://github.com/slsa-framework/slsa-github-generator/generic@v1",
  container: "https://github.com/slsa-framework/slsa-github-generator/container@v1",
  go: "https://github.com/slsa-framework/slsa-github-generator/go@v1",
  legacyBuilder: "https://github.com/slsa-framework/slsa-github-generator@v1",
  legacyGo: "https://github.com/slsa-framework/slsa-github-generator-go@v1",
  delegator: "https://github.com/slsa-framework/slsa-github-generator/delegator-generic@v0",
  containerBased: "https://slsa.dev/container-based-build/v0.1?draft",
  npmCliV1: "https://github.com/npm/cli/gha@v1",
  npmCliV2: "https://github.com/npm/cli/gha/v2",
  npmCliGithubActions: "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
  githubActions: "https://actions.github.io/buildtypes/workflow/v1",
} as const;

/**
 * Which buildTypes each builder (by name, the certificate's or the npm builder) may produce, per
 * predicate version (slsa-verifier's `buildTypeMap`s); a builder trusted by `--builder-id` that is not
 * listed may produce GitHub's workflow buildType (actions/attest-build-provenance, `tollgate attest provenance`).
 */
export const V02_BUILD_TYPES: Readonly<Record<string, readonly string[]>> = {
  [GENERIC_DELEGATOR]: [BUILD_TYPES.delegator],
  [LOW_PERMS_DELEGATOR]: [BUILD_TYPES.delegator],
  [GO_BUILDER]: [BUILD_TYPES.go, BUILD_TYPES.legacyBuilder, BUILD_TYPES.legacyGo],
  [GENERIC_GENERATOR]: [BUILD_TYPES.generic],
  [CONTAINER_GENERATOR]: [BUILD_TYPES.container],
  [NPM_CLI_LEGACY_BUILDER]: [BUILD_TYPES.npmCliV1, BUILD_TYPES.npmCliV2],
  [NPM_CLI_HOSTED_BUILDER]: [BUILD_TYPES.npmCliV1, BUILD_TYPES.npmCliV2],
};
export const V1_BUILD_TYPES: Readonly<Record<string, readonly string[]>> = {
  [GENERIC_DELEGATOR]: [BUILD_TYPES.delegator],
  [LOW_PERMS_DELEGATOR]: [BUILD_TYPES.delegator],
  [CONTAINER_BASED_BUILDER]: [BUILD_TYPES.containerBased],
  [NPM_CLI_HOSTED_BUILDER]: [BUILD_TYPES.npmCliGithubActions],
  [BCR_RELEASER_BUILDER]: [BUILD_TYPES.githubActions],
  [BCR_PUBLISHER_BUILDER]: [BUILD_TYPES.githubActions],
};

/** A builder id: `name@version` (version optional unless required). */
export interface BuilderId {
  readonly name: string;
  readonly version: string;
}

/** Parses `name[@version]` as slsa-verifier's `ParseBuilderID` (one `@` at most; an empty version is malformed). */
export function parseBuilderId(id: string, needVersion: boolean): BuilderId {
  const parts = id.split("@");
  if (parts.length === 2 && parts[1] !== "") return { name: parts[0]!, version: parts[1]! };
  if (parts.length === 1 && !needVersion) return { name: parts[0]!, version: "" };
  throw verificationFailure("POLICY", `malformed builder id ${JSON.stringify(id.slice(0, 200))}`);
}

export function builderIdString(b: BuilderId): string {
  return b.version === "" ? b.name : `${b.name}@${b.version}`;
}

/**
 * Loose match (`MatchesLoose`): same name, and the expected version (if any) equals the builder's,
 * or `refs/tags/<expected>` does. Returns the reason of a mismatch, or undefined.
 */
export function builderMismatch(actual: BuilderId, expected: string, full: boolean): string | undefined {
  const e = parseBuilderId(expected, false);
  if (e.name !== actual.name) return `expected builder ${JSON.stringify(e.name)}, got ${JSON.stringify(actual.name)}`;
  if ((full || e.version !== "") && e.version !== actual.version && `refs/tags/${e.version}` !== actual.version) {
    return `expected builder version ${JSON.stringify(e.version)}, got ${JSON.stringify(actual.version)}`;
  }
  return undefined;
}

const SEMVER = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

/** A git ref's name if it is of `type` (`heads`, `tags`), else undefined. */
export function refName(ref: string, type: "heads" | "tags"): string | undefined {
  const parts = ref.split("/");
  if (parts.length < 3 || parts[0] !== "refs" || parts[1] !== type) return undefined;
  const name = parts.slice(2).join("/");
  return name === "" ? undefined : name;
}

/** A trusted builder must be pinned to a release tag `refs/tags/vX.Y.Z` (slsa-verifier's `IsValidBuilderTag`). */
export function isReleaseTagRef(ref: string): boolean {
  const tag = refName(ref, "tags");
  return tag !== undefined && SEMVER.test(tag);
}

/** The GitHub Actions workflow identity a Fulcio certificate carries (fulcio docs/oid-info.md). */
export interface WorkflowIdentity {
  /** The SAN: `https://github.com/<owner>/<repo>/<path>@<ref>`, the workflow that signed (a reusable one for slsa-github-generator). */
  readonly subjectWorkflow: string;
  readonly issuer: string;
  /** `owner/repo` the build ran for. */
  readonly sourceRepository: string;
  readonly sourceSha1: string;
  readonly sourceRef?: string;
  readonly runnerEnvironment?: string;
  /** The calling workflow's path in the source repository (from the build config URI). */
  readonly buildConfigPath?: string;
  readonly buildTrigger?: string;
  /** `<run id>/attempts/<n>` from the run invocation URI. */
  readonly runId?: string;
}

const OID = (n: number) => `1.3.6.1.4.1.57264.1.${n}`;

/** A Fulcio extension: the new ones hold a DER UTF8String, the deprecated ones (1–6) the raw bytes. */
function extension(cert: X509Certificate, n: number): string {
  const ext = cert.extension(OID(n));
  if (ext === undefined) return "";
  const raw = ext.value;
  if (n <= 6) return raw.toString("utf8");
  // UTF8String (0x0c) with a short or long definite length.
  if (raw[0] !== 0x0c || raw.length < 2) throw verificationFailure("CERTIFICATE", `certificate extension ${OID(n)} is not a UTF8String`);
  let len = raw[1]!;
  let start = 2;
  if (len & 0x80) {
    const bytes = len & 0x7f;
    if (bytes === 0 || bytes > 3 || raw.length < 2 + bytes) throw verificationFailure("CERTIFICATE", `certificate extension ${OID(n)}: bad length`);
    len = 0;
    for (let i = 0; i < bytes; i++) len = len * 256 + raw[2 + i]!;
    start = 2 + bytes;
  }
  if (start + len !== raw.length) throw verificationFailure("CERTIFICATE", `certificate extension ${OID(n)}: bad length`);
  return raw.subarray(start).toString("utf8");
}

/** Two claims that must agree when both are there (a deprecated and a current extension); at least one must be. */
function equalClaims(deprecated: string, current: string, what: string): string {
  if (deprecated !== "" && current !== "" && deprecated !== current) throw verificationFailure("CERTIFICATE", `certificate: ${what} claims disagree (${deprecated} ≠ ${current})`);
  const value = current || deprecated;
  if (value === "") throw verificationFailure("CERTIFICATE", `certificate: no ${what} claim`);
  return value;
}

/** Reads the workflow identity of a GitHub Actions Fulcio certificate (slsa-verifier's `GetWorkflowInfoFromCertificate`). */
export function workflowIdentity(certificateDer: Uint8Array): WorkflowIdentity {
  const cert = X509Certificate.parse(Buffer.from(certificateDer));
  const san = cert.extSubjectAltName?.uri;
  if (san === undefined || san === "") throw verificationFailure("CERTIFICATE", "the signing certificate has no URI identity (not a CI workflow's certificate)");
  const buildTrigger = equalClaims(extension(cert, 2), extension(cert, 20), "build trigger");
  const sourceSha1 = equalClaims(extension(cert, 3), extension(cert, 13), "source commit");
  const configSha = extension(cert, 19);
  if (configSha !== "" && configSha !== sourceSha1) throw verificationFailure("CERTIFICATE", "certificate: build config digest differs from the source commit");
  const issuer = equalClaims(extension(cert, 1), extension(cert, 8), "OIDC issuer");
  const deprecatedRepo = extension(cert, 5);
  const sourceUri = extension(cert, 12);
  if (deprecatedRepo !== "" && sourceUri !== "" && `${GITHUB}${deprecatedRepo}` !== sourceUri) {
    throw verificationFailure("CERTIFICATE", `certificate: source repository claims disagree (${deprecatedRepo} ≠ ${sourceUri})`);
  }
  const sourceRepository = (sourceUri.startsWith(GITHUB) ? sourceUri.slice(GITHUB.length) : sourceUri) || deprecatedRepo;
  let buildConfigPath: string | undefined;
  const configUri = extension(cert, 18);
  if (configUri !== "") {
    const parts = configUri.split("@");
    const prefix = `${GITHUB}${sourceRepository}/`;
    if (parts.length !== 2 || !parts[0]!.startsWith(prefix)) throw verificationFailure("CERTIFICATE", `certificate: malformed build config URI ${JSON.stringify(configUri)}`);
    buildConfigPath = parts[0]!.slice(prefix.length);
  }
  const runUri = extension(cert, 21);
  const runPrefix = `${GITHUB}${sourceRepository}/actions/runs/`;
  const runner = extension(cert, 11);
  const sourceRef = extension(cert, 14) || extension(cert, 6);
  return {
    subjectWorkflow: san,
    issuer,
    sourceRepository,
    sourceSha1,
    buildTrigger,
    ...(sourceRef !== "" ? { sourceRef } : {}),
    ...(runner !== "" ? { runnerEnvironment: runner } : {}),
    ...(buildConfigPath !== undefined ? { buildConfigPath } : {}),
    ...(runUri.startsWith(runPrefix) ? { runId: runUri.slice(runPrefix.length) } : {}),
  };
}

/** The signing workflow as a builder id: name (`https://github.com/o/r/path`) and ref. */
export function certificateBuilder(identity: WorkflowIdentity): BuilderId {
  const at = identity.subjectWorkflow.lastIndexOf("@");
  if (!identity.subjectWorkflow.startsWith(GITHUB) || at < 0 || at === identity.subjectWorkflow.length - 1) {
    throw verificationFailure("CERTIFICATE", `the certificate's workflow ${JSON.stringify(identity.subjectWorkflow)} is not https://github.com/<repo>/<path>@<ref>`);
  }
  return { name: identity.subjectWorkflow.slice(0, at), version: identity.subjectWorkflow.slice(at + 1) };
}
