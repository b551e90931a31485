/**
 * `verifyProvenance`: SLSA provenance checked as slsa-verifier checks it (slsa-verifier@aaf98fd
 * `verifiers/internal/gha/verifier.go`, `provenance.go`, `builder.go`, `npm.go`), offline:
 *
 * 1. the signature: every Sigstore bundle in the provenance file (a bundle, JSON Lines of bundles as
 *    `*.intoto.jsonl`, `*.build.slsa`, `gh attestation download` write them, GitHub's
 *    `{attestations:[{bundle}]}`, or npm's attestation set) is verified by the one bundle verifier
 *    (`verifyBundle`: certificate chain, SCTs, Rekor inclusion proof or SET, timestamps, signature)
 *    against the trusted root; keyless bundles must come from a GitHub Actions certificate, keyed ones
 *    (tollgate `attest provenance --key`) verify with `key`; the first bundle that passes every check
 *    wins, else the first failure is reported;
 * 2. the artifact: its SHA-256 (or, for npm tarballs, SHA-512) is a subject of the statement;
 * 3. the builder: the certificate's workflow must be a trusted builder (slsa-builders.ts): a default
 *    slsa-github-generator workflow, or the one `builderId` names (loose match: name, and version if
 *    given); a delegator's provenance names its real builder, matched against `builderId` (or under
 *    the generator's workflows without one); trusted builders are pinned to `refs/tags/vX.Y.Z`, except a
 *    workflow of the source repository itself (a project signing its own provenance, as
 *    `tollgate attest provenance` does in CI); the provenance's builder id must be the certificate's;
 * 4. the source: the certificate's source repository and the provenance's trigger and source URIs
 *    (`git+https://github.com/<o>/<r>@<ref>`) are the expected repository, with the same ref (keyed
 *    provenance may come from another forge: tollgate's GitLab CI provenance names its project);
 *    `sourceTag`/`sourceBranch` match the ref the build ran for;
 * 5. npm: the publish attestation (signed by the registry's key) names the same tarball, and the
 *    package name and version match.
 *
 * A DSSE envelope with its certificate but no Rekor entry (slsa-github-generator before v2) cannot be
 * verified offline: slsa-verifier looks its Rekor entry up online. It is an input error here.
 * Every failure is a `VerificationFailedError` naming slsa-verifier's error text and a reason code.
 */
import type { KeyObject } from "node:crypto";
import type { Bundle } from "@sigstore/bundle";
import type { TrustedRoot } from "@sigstore/protobuf-specs";
import { InputError, VerificationFailedError, type VerificationReason } from "../errors.ts";
import type { ArtifactInput } from "../signing/verify/artifact.ts";
import { parseBundle, readVerificationInput } from "../signing/verify/bundle.ts";
import type { VerificationPolicy } from "../signing/verify/policy.ts";
import { verifyBundle, type VerificationResult } from "../signing/verify/verifier.ts";
import { GITLAB_CI_BUILD_TYPE } from "./gitlab-ci.ts";
import { isNpmAttestationSet, npmAttestationKey, npmAttestations, packageNameAndVersion, subjectPackage } from "./npm-provenance.ts";
import {
  BUILD_TYPES,
  builderIdString,
  builderMismatch,
  certificateBuilder,
  DEFAULT_TRUSTED_BUILDERS,
  DELEGATOR_BUILDERS,
  GENERATOR_WORKFLOWS_PREFIX,
  GITHUB,
  GITHUB_ACTIONS_ISSUER,
  isReleaseTagRef,
  LOW_PERMS_DELEGATOR,
  NPM_CLI_HOSTED_BUILDER,
  NPM_CLI_LEGACY_BUILDER,
  NPM_CLI_SELF_HOSTED_BUILDER,
  parseBuilderId,
  refName,
  V02_BUILD_TYPES,
  V1_BUILD_TYPES,
  workflowIdentity,
  type BuilderId,
  type WorkflowIdentity,
} from "./slsa-builders.ts";

/** A provenance file is a few bundles; 64 MiB leaves room for many. */
export const MAX_PROVENANCE_BYTES = 64 * 1024 * 1024;
const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";
const V02 = "https://slsa.dev/provenance/v0.2";
const V1 = "https://slsa.dev/provenance/v1";

/** slsa-verifier's error texts, which every failure message starts with. */
const SLSA_ERRORS = {
  untrusted: "untrusted reusable workflow",
  source: "source used to generate the binary does not match provenance",
  hash: "artifact hash does not match provenance subject",
  builderMismatch: "builderID does not match provenance",
  builderInvalid: "builderID is invalid",
  buildType: "buildType is invalid",
  branch: "branch used to generate the binary does not match provenance",
  tag: "tag used to generate the binary does not match provenance",
  semver: "invalid semantic version",
  ref: "invalid ref",
  issuer: "invalid OIDC issuer",
  payload: "invalid DSSE envelope payload",
  uri: "URI is malformed",
  certificate: "certificate and provenance mismatch",
  notSupported: "not supported",
  packageName: "package name does not match provenance",
  packageVersion: "package version does not match provenance",
  signature: "invalid signature",
} as const;

function slsa(kind: keyof typeof SLSA_ERRORS, reason: VerificationReason, detail: string): VerificationFailedError {
  return new VerificationFailedError(`${SLSA_ERRORS[kind]}: ${detail}`, { reason });
}

export interface VerifyProvenanceOptions {
  artifact: ArtifactInput;
  /** The provenance file (read here), or its text. */
  provenancePath: string;
  provenanceText?: string;
  /** `github.com/ORG/REPO` (or `https://…`, `git+https://…`). */
  sourceUri: string;
  sourceTag?: string;
  /** A semver tag matched by its precision: `v1` any 1.x.y, `v1.2` any 1.2.y, `v1.2.3` exactly (slsa-verifier's `--source-versioned-tag`). */
  sourceVersionedTag?: string;
  sourceBranch?: string;
  builderId?: string;
  packageName?: string;
  packageVersion?: string;
  trustRoot: TrustedRoot;
  /** Keyed provenance: the public key that must have signed it (no certificate identity then). */
  key?: KeyObject;
  /** With `key`: accept a bundle without log entry or timestamp. */
  insecureIgnoreTlog?: boolean;
}

export interface ProvenanceVerdict {
  /** The verified builder id (the provenance's, for delegated builds). */
  readonly builderId: string;
  readonly predicateType: string;
  readonly buildType: string;
  /** The source the build ran from: `git+https://github.com/<o>/<r>@<ref>`. */
  readonly source: string;
  readonly sourceCommit?: string;
  readonly signer: VerificationResult["signer"];
  readonly statement: Record<string, unknown>;
  /** Which bundle of the file verified (0-based). */
  readonly index: number;
}

/** Reads the candidate bundles of a provenance file (see the module comment). */
export function provenanceDocuments(text: string, source: string): { kind: "bundles"; bundles: unknown[] } | { kind: "npm"; set: unknown } {
  const trimmed = text.trim();
  if (trimmed === "") throw new InputError("empty provenance file", { file: source });
  let whole: unknown;
  try {
    whole = JSON.parse(trimmed);
  } catch {
    whole = undefined;
  }
  const docs: unknown[] = [];
  if (whole !== undefined) docs.push(whole);
  else {
    const lines = trimmed.split(/\r?\n/).filter((l) => l.trim() !== "");
    lines.forEach((line, i) => {
      try {
        docs.push(JSON.parse(line));
      } catch (e) {
        throw new InputError(`line ${i + 1}: not JSON (${(e as Error).message})`, { file: source });
      }
    });
  }
  if (docs.length === 1 && isNpmAttestationSet(docs[0])) return { kind: "npm", set: docs[0] };
  const bundles: unknown[] = [];
  for (const doc of docs) {
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new InputError("not a JSON object", { file: source });
    const o = doc as Record<string, unknown>;
    if (Array.isArray(o.attestations)) {
      for (const a of o.attestations) bundles.push((a as { bundle?: unknown } | null)?.bundle);
    } else if (typeof o.mediaType === "string") {
      bundles.push(o);
    } else if (typeof o.payloadType === "string" && Array.isArray(o.signatures)) {
      throw new InputError(
        "a bare DSSE envelope: its signature cannot be verified offline (slsa-github-generator v1 provenance is checked against its Rekor entry online); verify the Sigstore bundle (*.intoto.jsonl from v2, *.sigstore.json) instead",
        { file: source },
      );
    } else {
      throw new InputError("neither a Sigstore bundle, a list of attestations, nor npm attestations", { file: source });
    }
  }
  if (bundles.length === 0) throw new InputError("no attestation in the file", { file: source });
  return { kind: "bundles", bundles };
}

/**
 * Old bundles (v0.1, v0.2) carry the whole chain, root included; sigstore-go (slsa-verifier's engine)
 * uses only the leaf and takes the rest from the trusted root. So does this: the chain is cut to its
 * leaf before verification (the intermediates and root then come from the trusted root only).
 */
function leafOnly(bundle: Bundle): Bundle {
  const c = bundle.verificationMaterial.content;
  if (c.$case === "x509CertificateChain" && c.x509CertificateChain.certificates.length > 1) {
    c.x509CertificateChain.certificates = c.x509CertificateChain.certificates.slice(0, 1);
  }
  return bundle;
}

/** The certificate of a verified keyless bundle. */
function leafCertificate(bundle: Bundle): Uint8Array {
  const c = bundle.verificationMaterial.content;
  if (c.$case === "certificate") return c.certificate.rawBytes;
  if (c.$case === "x509CertificateChain" && c.x509CertificateChain.certificates.length > 0) return c.x509CertificateChain.certificates[0]!.rawBytes;
  throw slsa("certificate", "CERTIFICATE", "the bundle has no certificate");
}

function statementOf(bundle: Bundle): Record<string, unknown> {
  if (bundle.content.$case !== "dsseEnvelope") throw slsa("payload", "BUNDLE", "the bundle holds a message signature, not an in-toto statement");
  const env = bundle.content.dsseEnvelope;
  if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) throw slsa("payload", "BUNDLE", `payload type ${JSON.stringify(env.payloadType)}`);
  try {
    const s = JSON.parse(Buffer.from(env.payload).toString("utf8")) as unknown;
    if (typeof s !== "object" || s === null || Array.isArray(s)) throw new Error("not an object");
    return s as Record<string, unknown>;
  } catch (e) {
    throw slsa("payload", "BUNDLE", `decoding JSON: ${(e as Error).message}`);
  }
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const strOf = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
function nonEmpty(v: string | undefined, error: () => Error): string {
  if (v === undefined || v === "") throw error();
  return v;
}

/** Normalizes the expected source as slsa-verifier does: `git+https://github.com/<o>/<r>`. */
export function normalizeSourceUri(s: string): string {
  const trimmed = s.replace(/\/+$/, "").replace(/\.git$/, "");
  if (trimmed.startsWith("git+")) return trimmed;
  return trimmed.includes("://") ? `git+${trimmed}` : `git+https://${trimmed}`;
}

function splitGitUri(uri: string, what: string): { uri: string; ref: string } {
  if (!uri.startsWith("git+")) throw slsa("uri", "POLICY", `${what} ${JSON.stringify(uri)} is not a git URI`);
  const at = uri.indexOf("@");
  return at < 0 ? { uri, ref: "" } : { uri: uri.slice(0, at), ref: uri.slice(at + 1) };
}

/** What verification reads from a provenance statement, for both predicate versions. */
interface Provenance {
  readonly predicateType: string;
  readonly builderId: string;
  readonly buildType: string;
  triggerUri(): string;
  sourceUri(): string;
  branchRef(): string;
  tagRef(): string;
  sourceCommit(): string | undefined;
  invocationId(): string | undefined;
  triggerPath(): string | undefined;
  dependencies(): number;
  subjects(): Obj[];
}

/** GitHub's environment variables as slsa-verifier reads them (`GetBranch`/`GetTag` of its common.go). */
function refsFromEnvironment(env: Obj, upper: boolean): { branch: () => string; tag: () => string } {
  const key = (k: string) => (upper ? k.toUpperCase() : k);
  const get = (k: string): string => {
    const v = env[key(k)];
    if (typeof v !== "string") throw slsa("payload", "POLICY", `${key(k)} is not in the provenance`);
    return v;
  };
  const refType = () => {
    const t = get("github_ref_type");
    if (t !== "branch" && t !== "tag") throw slsa("payload", "POLICY", `unknown ref type ${JSON.stringify(t)}`);
    return t;
  };
  return {
    branch: () => {
      if (refType() === "branch") return get("github_ref");
      const base = get("github_base_ref");
      if (base !== "") return base;
      const payload = obj(env[key("github_event_payload")]);
      const event = get("github_event_name");
      if (event === "push") return strOf(payload.base_ref) ?? "";
      if (event === "release") {
        const target = strOf(obj(payload.release).target_commitish);
        if (target === undefined) throw slsa("payload", "POLICY", "release.target_commitish is not in the provenance");
        return `refs/heads/${target}`;
      }
      return "";
    },
    tag: () => (refType() === "tag" ? get("github_ref") : ""),
  };
}

function provenanceOf(statement: Obj): Provenance {
  const predicateType = strOf(statement.predicateType) ?? "";
  const predicate = obj(statement.predicate);
  const subjects = () => {
    const s = statement.subject;
    if (!Array.isArray(s) || s.length === 0) throw slsa("payload", "BUNDLE", "no subjects");
    return s.map(obj);
  };
  if (predicateType === V02) {
    const invocation = obj(predicate.invocation);
    const env = obj(invocation.environment);
    const buildType = strOf(predicate.buildType) ?? "";
    const upper = buildType === BUILD_TYPES.npmCliV1 || buildType === BUILD_TYPES.npmCliV2 || "GITHUB_REF" in env;
    const refs = refsFromEnvironment(env, upper);
    const materials = Array.isArray(predicate.materials) ? predicate.materials.map(obj) : [];
    return {
      predicateType,
      builderId: strOf(obj(predicate.builder).id) ?? "",
      buildType,
      triggerUri: () => nonEmpty(strOf(obj(invocation.configSource).uri), () => slsa("uri", "POLICY", "empty trigger uri")),
      sourceUri: () => nonEmpty(strOf(materials[0]?.uri), () => slsa("payload", "POLICY", "no material")),
      branchRef: refs.branch,
      tagRef: refs.tag,
      sourceCommit: () => strOf(obj(materials[0]?.digest).sha1) ?? strOf(obj(obj(invocation.configSource).digest).sha1),
      invocationId: () => strOf(obj(predicate.metadata).buildInvocationId),
      triggerPath: () => strOf(obj(invocation.configSource).entryPoint),
      dependencies: () => materials.length,
      subjects,
    };
  }
  if (predicateType === V1) {
    const bd = obj(predicate.buildDefinition);
    const buildType = strOf(bd.buildType) ?? "";
    const internal = obj(bd.internalParameters);
    const workflow = obj(obj(bd.externalParameters).workflow);
    const deps = Array.isArray(bd.resolvedDependencies) ? bd.resolvedDependencies.map(obj) : [];
    const sourceUri = () => nonEmpty(strOf(deps[0]?.uri), () => slsa("uri", "POLICY", "empty resolvedDependencies"));
    const workflowBased = buildType === BUILD_TYPES.githubActions || buildType === BUILD_TYPES.npmCliGithubActions;
    if (buildType === GITLAB_CI_BUILD_TYPE) {
      // tollgate's GitLab CI provenance (gitlab-ci.ts): the project and the ref it ran for.
      const external = obj(bd.externalParameters);
      const ref = () => strOf(external.ref) ?? "";
      return {
        predicateType,
        builderId: strOf(obj(obj(predicate.runDetails).builder).id) ?? "",
        buildType,
        triggerUri: () => {
          const source = strOf(external.source);
          if (source === undefined || ref() === "") throw slsa("payload", "POLICY", "externalParameters has no source or ref");
          return `git+${source}@${ref()}`;
        },
        sourceUri,
        branchRef: () => (refName(ref(), "heads") !== undefined ? ref() : ""),
        tagRef: () => (refName(ref(), "tags") !== undefined ? ref() : ""),
        sourceCommit: () => strOf(obj(deps[0]?.digest).gitCommit),
        invocationId: () => strOf(obj(obj(predicate.runDetails).metadata).invocationId),
        triggerPath: () => strOf(external.configPath),
        dependencies: () => deps.length,
        subjects,
      };
    }
    const triggerUri = (): string => {
      if (workflowBased) {
        const repository = strOf(workflow.repository);
        const ref = strOf(workflow.ref);
        if (repository === undefined || ref === undefined) throw slsa("payload", "POLICY", "externalParameters.workflow has no repository or ref");
        return `git+${repository}@${ref}`;
      }
      const workflowRef = strOf(internal.GITHUB_WORKFLOW_REF);
      if (workflowRef === undefined) throw slsa("payload", "POLICY", "GITHUB_WORKFLOW_REF is not in the provenance");
      const parts = workflowRef.split("@");
      const repo = parts[0]!.split("/");
      if (parts.length !== 2 || repo.length < 2 || parts[1] === "") throw slsa("uri", "POLICY", `GITHUB_WORKFLOW_REF ${JSON.stringify(workflowRef)}`);
      return `git+https://github.com/${repo.slice(0, 2).join("/")}@${parts[1]}`;
    };
    let branchRef: () => string;
    let tagRef: () => string;
    if (buildType === BUILD_TYPES.delegator) {
      // The delegator's provenance: the ref of the source, the branch of a tag from the environment.
      const ref = () => splitGitUri(sourceUri(), "source").ref;
      const env = refsFromEnvironment(internal, true);
      branchRef = () => (refName(ref(), "heads") !== undefined ? ref() : refName(ref(), "tags") !== undefined ? env.branch() : "");
      tagRef = () => (refName(ref(), "tags") !== undefined ? ref() : "");
    } else if (workflowBased) {
      // GitHub's workflow buildType records only the ref the workflow ran for.
      const ref = () => strOf(workflow.ref) ?? "";
      branchRef = () => (refName(ref(), "heads") !== undefined ? ref() : "");
      tagRef = () => (refName(ref(), "tags") !== undefined ? ref() : "");
    } else {
      const env = refsFromEnvironment(internal, true);
      branchRef = env.branch;
      tagRef = env.tag;
    }
    return {
      predicateType,
      builderId: strOf(obj(obj(predicate.runDetails).builder).id) ?? "",
      buildType,
      triggerUri,
      sourceUri,
      branchRef,
      tagRef,
      sourceCommit: () => strOf(obj(deps[0]?.digest).gitCommit) ?? strOf(obj(deps[0]?.digest).sha1),
      invocationId: () => strOf(obj(obj(predicate.runDetails).metadata).invocationId),
      triggerPath: () => (workflowBased ? strOf(workflow.path) : undefined),
      dependencies: () => deps.length,
      subjects,
    };
  }
  throw slsa("payload", "BUNDLE", `unexpected predicate type ${JSON.stringify(predicateType)}`);
}

/** The buildTypes the certificate's builder may produce (slsa-verifier's maps), or those a builder trusted by name may. */
function checkBuildType(prov: Provenance, builderName: string, trustedByName: boolean): void {
  const table = prov.predicateType === V02 ? V02_BUILD_TYPES : V1_BUILD_TYPES;
  const allowed = table[builderName] ?? (trustedByName && prov.predicateType === V1 ? [BUILD_TYPES.githubActions] : undefined);
  if (allowed === undefined) throw slsa("builderInvalid", "POLICY", `no ${prov.predicateType} provenance is known from ${JSON.stringify(builderName)}`);
  if (!allowed.includes(prov.buildType)) throw slsa("buildType", "POLICY", `${JSON.stringify(prov.buildType)} for builder ${JSON.stringify(builderName)}`);
}

function checkSource(prov: Provenance, expected: string, identity: WorkflowIdentity | undefined): void {
  const source = normalizeSourceUri(expected);
  // Keyless provenance comes from GitHub Actions certificates (as slsa-verifier, github.com only); a key vouches for any https forge.
  if (identity !== undefined ? !source.startsWith("git+https://github.com/") : !source.startsWith("git+https://")) {
    throw slsa("uri", "POLICY", `expected source ${identity !== undefined ? "github.com repository" : "https repository"} ${JSON.stringify(source)}`);
  }
  if (identity !== undefined) {
    const repo = source.slice("git+https://github.com/".length);
    if (identity.sourceRepository !== repo) throw slsa("source", "POLICY", `expected source '${repo}', got '${identity.sourceRepository}' (certificate)`);
  }
  const fullTrigger = prov.triggerUri();
  const trigger = splitGitUri(fullTrigger, "trigger");
  if (trigger.uri !== source) throw slsa("source", "POLICY", `expected trigger ${JSON.stringify(fullTrigger)} to match source-uri ${JSON.stringify(source)}`);
  if (trigger.ref === "") throw slsa("uri", "POLICY", `missing ref: ${JSON.stringify(fullTrigger)}`);
  const fullSource = prov.sourceUri();
  const src = splitGitUri(fullSource, "source");
  if (src.uri !== source) throw slsa("source", "POLICY", `expected source ${JSON.stringify(fullSource)} to match source-uri ${JSON.stringify(source)}`);
  if (src.ref === "") {
    if (prov.buildType === BUILD_TYPES.npmCliV1 || prov.buildType === BUILD_TYPES.delegator) return;
    throw slsa("uri", "POLICY", `missing ref: ${JSON.stringify(fullSource)}`);
  }
  if (fullTrigger !== fullSource) throw slsa("payload", "POLICY", `source and trigger URIs do not match: ${JSON.stringify(fullTrigger)} != ${JSON.stringify(fullSource)}`);
}

function checkRefs(prov: Provenance, o: VerifyProvenanceOptions): void {
  if (o.sourceBranch !== undefined) {
    const ref = prov.branchRef();
    const branch = refName(ref, "heads");
    if (branch === undefined) throw slsa("ref", "POLICY", `${JSON.stringify(ref)} is not a branch`);
    if (branch !== o.sourceBranch) throw slsa("branch", "POLICY", `expected branch '${o.sourceBranch}', got '${branch}'`);
  }
  if (o.sourceTag !== undefined) {
    const ref = prov.tagRef();
    const tag = refName(ref, "tags");
    if (tag === undefined) throw slsa("ref", "POLICY", `${JSON.stringify(ref)} is not a tag`);
    if (tag !== o.sourceTag) throw slsa("tag", "POLICY", `expected tag '${o.sourceTag}', got '${tag}'`);
  }
  if (o.sourceVersionedTag !== undefined) {
    const ref = prov.tagRef();
    const tag = refName(ref, "tags");
    if (tag === undefined) throw slsa("ref", "POLICY", `${JSON.stringify(ref)} is not a tag`);
    checkVersionedTag(tag, o.sourceVersionedTag);
  }
}

const GO_SEMVER = /^v(0|[1-9]\d*)(?:\.(0|[1-9]\d*)(?:\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?)?$/;

/** Go's `semver.Canonical`: `v1` → `v1.0.0`, `v1.2` → `v1.2.0`, build metadata dropped. */
function canonicalSemver(v: string): string | undefined {
  if (!GO_SEMVER.test(v)) return undefined;
  const noBuild = v.replace(/\+.*$/, "");
  const parts = noBuild.split("-")[0]!.split(".");
  while (parts.length < 3) parts.push("0");
  const pre = noBuild.includes("-") ? noBuild.slice(noBuild.indexOf("-")) : "";
  return parts.join(".") + pre;
}

/** slsa-verifier's `VerifyVersionedTag`: major, then minor and patch as far as the expected tag names them. */
function checkVersionedTag(provenanceTag: string, expected: string): void {
  if (!GO_SEMVER.test(expected)) throw slsa("semver", "POLICY", expected);
  const tag = canonicalSemver(provenanceTag);
  if (tag === undefined) throw slsa("semver", "POLICY", provenanceTag);
  const want = expected.replace(/\+.*$/, "").split(".");
  const got = tag.split(".");
  const names = ["major", "minor", "patch"];
  for (let i = 0; i < Math.min(3, want.length); i++) {
    if (got[i] !== want[i]) throw slsa("tag", "POLICY", `${names[i]} version expected '${want[i]}', got '${got[i]}'`);
  }
}

/** The certificate's builder, trusted or not (slsa-verifier's `VerifyBuilderIdentity`): returns it and whether it is a delegator. */
function trustedCertificateBuilder(identity: WorkflowIdentity, expected: string | undefined): { builder: BuilderId; delegator: boolean; byName: boolean } {
  if (identity.issuer !== GITHUB_ACTIONS_ISSUER) throw slsa("issuer", "IDENTITY", JSON.stringify(identity.issuer));
  const builder = certificateBuilder(identity);
  const delegator = DELEGATOR_BUILDERS.has(builder.name);
  let byName = false;
  if (expected === undefined || expected === "") {
    if (!DEFAULT_TRUSTED_BUILDERS.has(builder.name)) throw slsa("untrusted", "IDENTITY", `${builder.name} (no --builder-id given)`);
  } else if (!delegator) {
    const mismatch = builderMismatch(builder, expected, false);
    if (mismatch !== undefined) throw slsa("untrusted", "IDENTITY", `${builderIdString(builder)}: ${mismatch}`);
    byName = !DEFAULT_TRUSTED_BUILDERS.has(builder.name);
  }
  // Trusted builders are pinned to a release; a workflow of the source repository signs its own builds.
  const ownWorkflow = builder.name.startsWith(`${GITHUB}${identity.sourceRepository}/`);
  if (!ownWorkflow && !isReleaseTagRef(builder.version)) throw slsa("ref", "IDENTITY", `builder ${builderIdString(builder)}: not of the form refs/tags/vX.Y.Z`);
  return { builder, delegator, byName };
}

/** Checks a verified statement against the certificate's workflow (slsa-verifier `verifyEnvAndCert`). */
function checkKeylessProvenance(statement: Obj, identity: WorkflowIdentity, o: VerifyProvenanceOptions): { prov: Provenance; builderId: string } {
  const { builder, delegator, byName } = trustedCertificateBuilder(identity, o.builderId);
  // The certificate's repository first: a build of another repository fails for that reason.
  const expectedRepo = normalizeSourceUri(o.sourceUri).replace(/^git\+https:\/\/(github\.com\/)?/, "");
  if (identity.sourceRepository !== expectedRepo) throw slsa("source", "POLICY", `expected source '${expectedRepo}', got '${identity.sourceRepository}'`);
  const prov = provenanceOf(statement);
  checkBuildType(prov, builder.name, byName);
  let builderId: string;
  if (delegator) {
    const provBuilder = parseBuilderId(prov.builderId, false);
    if (!isReleaseTagRef(provBuilder.version)) throw slsa("ref", "POLICY", `delegated builder ${prov.builderId}: not of the form refs/tags/vX.Y.Z`);
    let expected = o.builderId;
    if (expected === undefined || expected === "") {
      if (!provBuilder.name.startsWith(GENERATOR_WORKFLOWS_PREFIX)) {
        throw slsa("builderInvalid", "IDENTITY", `BuilderID Path Mismatch. Got: ${JSON.stringify(provBuilder.name)}. Expected BuilderID Path Prefix: ${JSON.stringify(GENERATOR_WORKFLOWS_PREFIX)}`);
      }
      expected = provBuilder.name;
    }
    const mismatch = builderMismatch(provBuilder, expected, false);
    if (mismatch !== undefined) throw slsa("builderMismatch", "IDENTITY", mismatch);
    builderId = prov.builderId;
  } else {
    const provBuilder = parseBuilderId(prov.builderId, false);
    const mismatch = builderMismatch(provBuilder, builderIdString(builder), true);
    if (mismatch !== undefined) throw slsa("builderMismatch", "IDENTITY", `the provenance names ${JSON.stringify(prov.builderId)}, the certificate ${builderIdString(builder)}`);
    builderId = builderIdString(builder);
  }
  checkSource(prov, o.sourceUri, identity);
  checkRefs(prov, o);
  return { prov, builderId };
}

/** Keyed provenance (tollgate `attest provenance --key`): the key vouches for the builder; `builderId` must match the provenance's. */
function checkKeyedProvenance(statement: Obj, o: VerifyProvenanceOptions): { prov: Provenance; builderId: string } {
  const prov = provenanceOf(statement);
  if (o.builderId !== undefined && o.builderId !== "") {
    const mismatch = builderMismatch(parseBuilderId(prov.builderId, false), o.builderId, false);
    if (mismatch !== undefined) throw slsa("builderMismatch", "IDENTITY", mismatch);
  }
  checkSource(prov, o.sourceUri, undefined);
  checkRefs(prov, o);
  return { prov, builderId: prov.builderId };
}

function verifyOne(raw: unknown, index: number, source: string, o: VerifyProvenanceOptions): ProvenanceVerdict {
  const bundle = leafOnly(parseBundle(JSON.stringify(raw ?? null), `${source} (attestation ${index + 1})`));
  const policy: VerificationPolicy =
    o.key !== undefined
      ? { kind: "key", key: o.key, insecureIgnoreTlog: o.insecureIgnoreTlog === true }
      : { kind: "certificate", subject: { regexp: /^https:\/\/github\.com\// }, issuer: { exact: GITHUB_ACTIONS_ISSUER } };
  const result = verifyBundle(bundle, o.artifact, policy, o.trustRoot);
  const statement = statementOf(bundle);
  const identity = o.key === undefined ? workflowIdentity(leafCertificate(bundle)) : undefined;
  const { prov, builderId } = identity !== undefined ? checkKeylessProvenance(statement, identity, o) : checkKeyedProvenance(statement, o);
  const commit = prov.sourceCommit();
  return {
    builderId,
    predicateType: prov.predicateType,
    buildType: prov.buildType,
    source: prov.sourceUri(),
    ...(commit !== undefined ? { sourceCommit: commit } : {}),
    signer: result.signer,
    statement,
    index,
  };
}

/** npm's provenance and publish attestations (slsa-verifier `VerifyNpmPackage`). */
function verifyNpm(set: unknown, source: string, o: VerifyProvenanceOptions): ProvenanceVerdict {
  if (o.artifact.kind !== "file") throw new InputError("npm provenance is checked against the package tarball (its sha512): give the .tgz file, not a digest", { file: source });
  const { provenance, publish } = npmAttestations(set, source);
  // 1. The provenance signature (keyless, GitHub Actions).
  const provBundle = leafOnly(parseBundle(JSON.stringify(provenance ?? null), `${source} (provenance)`));
  const provResult = verifyNpmBundle(provBundle, o, { kind: "certificate", subject: { regexp: /^https:\/\/github\.com\// }, issuer: { exact: GITHUB_ACTIONS_ISSUER } });
  const statement = statementOf(provBundle);
  const identity = workflowIdentity(leafCertificate(provBundle));
  // 2. The builder: users always name it; the npm CLI on GitHub's runners, or a delegator workflow.
  if (o.builderId === undefined || o.builderId === "") throw slsa("builderInvalid", "IDENTITY", "no expected builder ID (npm packages need --builder-id, e.g. https://github.com/actions/runner/github-hosted)");
  if (identity.issuer !== GITHUB_ACTIONS_ISSUER) throw slsa("issuer", "IDENTITY", JSON.stringify(identity.issuer));
  const certBuilder = certificateBuilder(identity);
  const expectedRepo = normalizeSourceUri(o.sourceUri).replace(/^git\+https:\/\/(github\.com\/)?/, "");
  const delegated = certBuilder.name === LOW_PERMS_DELEGATOR && isReleaseTagRef(certBuilder.version);
  if (identity.sourceRepository !== expectedRepo) throw slsa("source", "POLICY", `expected source '${expectedRepo}', got '${identity.sourceRepository}'`);
  let builderName: string;
  if (delegated) {
    if (identity.runnerEnvironment !== undefined && identity.runnerEnvironment !== "github-hosted") throw slsa("builderMismatch", "IDENTITY", "self hosted re-usable workflow");
    builderName = LOW_PERMS_DELEGATOR;
  } else {
    if (identity.runnerEnvironment === undefined) throw slsa("notSupported", "IDENTITY", "hosted status unknown");
    if (o.builderId === NPM_CLI_LEGACY_BUILDER || o.builderId === NPM_CLI_HOSTED_BUILDER) {
      if (identity.runnerEnvironment !== "github-hosted") throw slsa("builderMismatch", "IDENTITY", "the workflow ran on a self-hosted runner");
    } else if (o.builderId === NPM_CLI_SELF_HOSTED_BUILDER) {
      if (identity.runnerEnvironment !== "self-hosted") throw slsa("builderMismatch", "IDENTITY", "the workflow ran on a GitHub-hosted runner");
    } else {
      throw slsa("notSupported", "IDENTITY", `builder ${o.builderId}. Expected one of ${NPM_CLI_SELF_HOSTED_BUILDER}, ${NPM_CLI_HOSTED_BUILDER}`);
    }
    builderName = o.builderId;
  }
  const prov = provenanceOf(statement);
  checkBuildType(prov, builderName, false);
  // The provenance's builder (with or without the /github-hosted suffix, as npm wrote it over time).
  const provBuilder = parseBuilderId(prov.builderId, false);
  const candidates = [o.builderId, o.builderId.endsWith("/github-hosted") ? o.builderId.slice(0, -"/github-hosted".length) : `${o.builderId}/github-hosted`];
  if (candidates.every((c) => builderMismatch(provBuilder, c, false) !== undefined)) throw slsa("builderMismatch", "IDENTITY", `the provenance names ${JSON.stringify(prov.builderId)}, not ${o.builderId}`);
  checkSource(prov, o.sourceUri, identity);
  checkRefs(prov, o);
  if (!delegated) checkAgainstCertificate(prov, identity);
  // 3. The publish attestation: the registry's key, logged while the key was valid, about the same tarball.
  const pubBundle = parseBundle(JSON.stringify(publish ?? null), `${source} (publish attestation)`);
  const material = pubBundle.verificationMaterial.content;
  if (material.$case !== "publicKey") throw slsa("signature", "KEY", "the publish attestation is not signed by the npm registry's key");
  const npmKey = npmAttestationKey(material.publicKey.hint);
  const pubResult = verifyNpmBundle(pubBundle, o, { kind: "key", key: npmKey.key });
  const when = pubResult.signedAt;
  if (when === undefined || when < npmKey.start || (npmKey.end !== undefined && when > npmKey.end)) {
    throw slsa("signature", "KEY", `the publish attestation was logged ${when?.toISOString() ?? "at no verified time"}, outside the validity of npm key ${material.publicKey.hint}`);
  }
  const publishStatement = statementOf(pubBundle);
  const published = obj(publishStatement.predicate);
  // 4. Package name and version: the provenance subject and the publish predicate.
  const subjectPkg = subjectPackage(prov.subjects());
  if (prov.subjects().length !== 1 || typeof obj(prov.subjects()[0]!.digest).sha512 !== "string") throw slsa("certificate", "POLICY", "the provenance must have one subject with a sha512 digest");
  if (o.packageName !== undefined) {
    const wanted = o.packageName;
    const pubName = packageNameAndVersion(strOf(published.name) ?? "").name;
    if (subjectPkg.name !== wanted || pubName !== wanted) throw slsa("packageName", "POLICY", `got '${subjectPkg.name}' (provenance) and '${pubName}' (publish), expected '${wanted}'`);
  }
  if (o.packageVersion !== undefined) {
    const wanted = o.packageVersion;
    const pubVersion = strOf(published.version) ?? "";
    if (subjectPkg.version !== wanted || pubVersion !== wanted) throw slsa("packageVersion", "POLICY", `got '${subjectPkg.version}' (provenance) and '${pubVersion}' (publish), expected '${wanted}'`);
  }
  const commit = prov.sourceCommit();
  return {
    builderId: o.builderId,
    predicateType: prov.predicateType,
    buildType: prov.buildType,
    source: prov.sourceUri(),
    ...(commit !== undefined ? { sourceCommit: commit } : {}),
    signer: provResult.signer,
    statement,
    index: 0,
  };
}

/** A bundle of npm's set, verified; a bad signature is slsa-verifier's "invalid signature". */
function verifyNpmBundle(bundle: Bundle, o: VerifyProvenanceOptions, policy: VerificationPolicy): VerificationResult {
  try {
    return verifyBundle(bundle, o.artifact, policy, o.trustRoot);
  } catch (e) {
    if (e instanceof VerificationFailedError && (e.reason === "SIGNATURE" || e.reason === "TLOG")) {
      throw new VerificationFailedError(`${SLSA_ERRORS.signature}: ${e.message}`, { reason: e.reason, cause: e });
    }
    throw e;
  }
}

/**
 * A provenance not written by a trusted builder (the npm CLI in the user's own workflow) is only
 * as good as what the certificate confirms (slsa-verifier `provenance_forgeable.go`): the commit,
 * the trigger workflow, the run, one resolved dependency.
 */
function checkAgainstCertificate(prov: Provenance, identity: WorkflowIdentity): void {
  const commit = prov.sourceCommit();
  if (commit !== undefined && commit !== identity.sourceSha1) throw slsa("certificate", "POLICY", `the provenance's commit ${commit} is not the certificate's ${identity.sourceSha1}`);
  const path = prov.triggerPath();
  if (path !== undefined && identity.buildConfigPath !== undefined && path !== identity.buildConfigPath) {
    throw slsa("certificate", "POLICY", `trigger workflow ${JSON.stringify(path)} is not the certificate's ${JSON.stringify(identity.buildConfigPath)}`);
  }
  const invocation = prov.invocationId();
  if (invocation !== undefined && identity.runId !== undefined) {
    const run = identity.runId.split("/")[0]!;
    if (!invocation.includes(run)) throw slsa("certificate", "POLICY", `invocation ${JSON.stringify(invocation)} is not the certificate's run ${run}`);
  }
  if (prov.dependencies() !== 1) throw slsa("certificate", "POLICY", `unexpected number of resolved dependencies: ${prov.dependencies()}`);
}

/** Verifies provenance for an artifact (see the module comment); throws `VerificationFailedError` on failure. */
export async function verifyProvenance(o: VerifyProvenanceOptions): Promise<ProvenanceVerdict> {
  const text = o.provenanceText ?? (await readVerificationInput(o.provenancePath, MAX_PROVENANCE_BYTES, "provenance")).toString("utf8");
  const docs = provenanceDocuments(text, o.provenancePath);
  if (docs.kind === "npm") return verifyNpm(docs.set, o.provenancePath, o);
  let first: unknown;
  for (const [i, raw] of docs.bundles.entries()) {
    try {
      return verifyOne(raw, i, o.provenancePath, o);
    } catch (e) {
      if (!(e instanceof VerificationFailedError)) throw e;
      first ??= e;
    }
  }
  throw first instanceof Error ? first : new VerificationFailedError("no valid signature", { reason: "NOT_SIGNED" });
}
