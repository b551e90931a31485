/**
 * `attestProvenance`: SLSA v1.0 build provenance for what a CI job built, as an in-toto Statement v1
 * signed into a DSSE Sigstore bundle (`tollgate attest provenance`).
 *
 * - Subjects: files (name = base name, digest = SHA-256 of the bytes) and OCI image layouts
 *   (`oci-dir:PATH[:TAG]`: the digest of the manifest or index `index.json` names, the digest a
 *   registry will serve it under). A registry image (`registry:REF`) is resolved to its manifest
 *   digest and the provenance is attached to it as a cosign attestation (`--type slsaprovenance1`,
 *   through attest-image.ts), keyed or keyless.
 * - The predicate comes from the CI environment: GitHub Actions (github-actions.ts) or GitLab CI
 *   (gitlab-ci.ts). Outside CI there is no builder to vouch for the build: the command fails with a
 *   usage error unless `builderId` names one (a local build, buildType `urn:tollgate:buildtype:local:v1`).
 * - Signing: with a key reference (any Signer) or keyless (an OIDC token, Fulcio, Rekor), through
 *   signAudited (the attempt is in the audit log before the bundle is written). Keyless is the
 *   default in a GitHub Actions job that can get an OIDC token (`id-token: write`) or with
 *   SIGSTORE_ID_TOKEN set. The bundle is written atomically to `output`, by default beside the first
 *   subject as `<file>.intoto.sigstore.json`.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { bundleToJSON, type SerializedBundle } from "@sigstore/bundle";
import { DSSEBundleBuilder, type Signer as SigstoreSigner } from "@sigstore/sign";
import { InputError, UsageError } from "../errors.ts";
import { writeFileAtomic } from "../io/atomic-write.ts";
import { openRegularFile, readRegularFile } from "../io/files.ts";
import type { RecordOptions } from "../audit/index.ts";
import type { RegistryOptions } from "../oci/registry.ts";
import { signAudited, signingKeyOptions } from "../signing/audited.ts";
import { fulcioSigner, identityToken, PUBLIC_GOOD_FULCIO_URL, PUBLIC_GOOD_REKOR_URL, serviceUrl, sigstoreServiceError, witnesses } from "../signing/keyless.ts";
import { githubActionsOidcAvailable } from "../signing/keys/github-oidc.ts";
import type { SignerOptions } from "../signing/keys/types.ts";
import { IN_TOTO_PAYLOAD_TYPE, IN_TOTO_STATEMENT_V1, sigstoreSignerFor } from "../signing/sign-blob.ts";
import { githubActionsPredicate, inGitHubActions, type GitHubTokenClaims } from "./github-actions.ts";
import { gitlabCiPredicate, inGitLabCi } from "./gitlab-ci.ts";

/** The SLSA Provenance v1 predicate type. */
export const SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1";
/** The buildType of a build outside CI, vouched for only by `--builder-id`. */
export const LOCAL_BUILD_TYPE = "urn:tollgate:buildtype:local:v1";
/** The file name suffix of a provenance bundle written beside its artifact. */
export const PROVENANCE_BUNDLE_SUFFIX = ".intoto.sigstore.json";

/** index.json of an OCI layout is small; a limit keeps a hostile one from filling memory. */
const MAX_OCI_INDEX_BYTES = 4 * 1024 * 1024;

export interface ProvenanceSubject {
  name: string;
  digest: { sha256: string };
}

/** Which builder filled the predicate. */
export type BuilderKind = "github-actions" | "gitlab-ci" | "local";

export interface PredicateOptions {
  env: NodeJS.ProcessEnv;
  /** Outside CI: the builder that vouches for the build (required there). */
  builderId?: string;
  /** GitHub Actions OIDC token claims (keyless signing), which win over the environment. */
  claims?: GitHubTokenClaims;
  /** The time of the build's end (metadata.finishedOn for local builds); default now. */
  now?: Date;
}

/** The CI system this environment is, or undefined outside CI. */
export function detectBuilder(env: NodeJS.ProcessEnv): Exclude<BuilderKind, "local"> | undefined {
  if (inGitHubActions(env)) return "github-actions";
  if (inGitLabCi(env)) return "gitlab-ci";
  return undefined;
}

/** The SLSA v1 predicate for this environment (see the module comment). */
export function provenancePredicate(o: PredicateOptions): { kind: BuilderKind; predicate: Record<string, unknown> } {
  const kind = detectBuilder(o.env);
  if (kind === "github-actions") return { kind, predicate: githubActionsPredicate(o.env, o.claims) };
  if (kind === "gitlab-ci") return { kind, predicate: gitlabCiPredicate(o.env) };
  if (o.builderId === undefined || o.builderId === "") {
    throw new UsageError(
      "attest provenance: not running in GitHub Actions (GITHUB_ACTIONS=true) or GitLab CI (GITLAB_CI=true): no CI builder vouches for this build; give --builder-id URI to attest a local build",
    );
  }
  const id = o.builderId;
  try {
    new URL(id);
  } catch {
    throw new UsageError(`--builder-id ${JSON.stringify(id.slice(0, 100))}: not a URI`);
  }
  const now = (o.now ?? new Date()).toISOString().replace(/\.\d{3}Z$/, "Z");
  return {
    kind: "local",
    predicate: {
      buildDefinition: { buildType: LOCAL_BUILD_TYPE, externalParameters: { builderId: id } },
      runDetails: { builder: { id }, metadata: { finishedOn: now } },
    },
  };
}

/** The in-toto Statement v1 with the SLSA v1 predicate. */
export function provenanceStatement(subjects: readonly ProvenanceSubject[], predicate: Record<string, unknown>): Record<string, unknown> {
  if (subjects.length === 0) throw new UsageError("attest provenance: no subject");
  return { _type: IN_TOTO_STATEMENT_V1, subject: subjects, predicateType: SLSA_PROVENANCE_V1, predicate };
}

/** A file's subject: its base name and SHA-256, streamed (any size). */
export async function fileSubject(path: string): Promise<ProvenanceSubject> {
  const { handle } = await openRegularFile(path);
  try {
    const hash = createHash("sha256");
    for await (const chunk of handle.createReadStream({ autoClose: false }) as AsyncIterable<Buffer>) hash.update(chunk);
    return { name: basename(path), digest: { sha256: hash.digest("hex") } };
  } finally {
    await handle.close();
  }
}

/**
 * An OCI image layout's subject: the manifest (or index) `index.json` lists, chosen by its
 * `org.opencontainers.image.ref.name` when a tag is given (`oci-dir:PATH:TAG`), else the only one.
 */
export async function ociLayoutSubject(spec: string): Promise<ProvenanceSubject> {
  let dir = spec;
  let tag: string | undefined;
  const m = /^(.*[^:]):([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$/.exec(spec);
  if (m !== null && !m[2]!.includes("/")) {
    if (!existsSync(join(spec, "index.json")) && existsSync(join(m[1]!, "index.json"))) {
      dir = m[1]!;
      tag = m[2]!;
    }
  }
  const where = join(dir, "index.json");
  let index: unknown;
  try {
    index = JSON.parse((await readRegularFile(where, MAX_OCI_INDEX_BYTES)).toString("utf8"));
  } catch (e) {
    if (e instanceof SyntaxError) throw new InputError(`not JSON (${e.message})`, { file: where });
    throw e;
  }
  const manifests = (index as { manifests?: unknown } | null)?.manifests;
  if (!Array.isArray(manifests)) throw new InputError("not an OCI image index (no manifests list)", { file: where });
  const entries = manifests.filter((d): d is { digest: string; annotations?: Record<string, unknown> } => typeof (d as { digest?: unknown } | null)?.digest === "string");
  const chosen = tag !== undefined ? entries.filter((d) => d.annotations?.["org.opencontainers.image.ref.name"] === tag) : entries;
  if (chosen.length !== 1) {
    throw new InputError(tag !== undefined ? `${chosen.length === 0 ? "no" : "more than one"} image tagged ${tag}` : `${entries.length} images in the layout: name one as oci-dir:PATH:TAG`, { file: where });
  }
  const hex = /^sha256:([0-9a-f]{64})$/.exec(chosen[0]!.digest)?.[1];
  if (hex === undefined) throw new InputError(`${chosen[0]!.digest}: only sha256 image digests are attested`, { file: where });
  const name = tag !== undefined ? `${basename(dir.replace(/\/+$/, ""))}:${tag}` : basename(dir.replace(/\/+$/, ""));
  return { name, digest: { sha256: hex } };
}

export interface AttestProvenanceOptions {
  /** Files, `oci-dir:PATH[:TAG]`, or one `registry:REF`. */
  subjects: readonly string[];
  /** Where the bundle goes (files and layouts); default `<first subject>.intoto.sigstore.json`. */
  output?: string;
  keyRef?: string;
  signerOptions?: SignerOptions;
  /** Force keyless signing (else keyless only when no key is given and an OIDC token is at hand). */
  keyless?: boolean;
  builderId?: string;
  identityToken?: string;
  fulcioUrl?: string;
  rekorUrl?: string;
  tsaUrl?: string;
  tlogUpload?: boolean;
  /** For a registry image: push cosign v3's bundle referrer instead of the `.att` tag. */
  bundleFormat?: boolean;
  registry?: RegistryOptions;
  env?: NodeJS.ProcessEnv;
  audit?: RecordOptions;
  now?: Date;
}

export interface AttestProvenanceResult {
  builder: BuilderKind;
  builderId: string;
  subjects: ProvenanceSubject[];
  statement: Record<string, unknown>;
  /** Where the provenance went: the bundle file, or the image's attestation location. */
  location: string;
  signer: { kind: "key"; keyId: string } | { kind: "keyless"; identity: string };
  tlogEntries: number;
  bundle?: SerializedBundle;
}

/** An OIDC token is at hand for keyless signing: given, SIGSTORE_ID_TOKEN, or a GitHub Actions job with id-token: write. */
export function keylessAvailable(o: { identityToken?: string; env: NodeJS.ProcessEnv }): boolean {
  return (o.identityToken !== undefined && o.identityToken !== "") || Boolean(o.env.SIGSTORE_ID_TOKEN?.trim()) || githubActionsOidcAvailable(o.env);
}

function claimsOf(token: string): GitHubTokenClaims {
  try {
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
    const out: Record<string, string> = {};
    for (const k of ["job_workflow_ref", "ref", "sha", "repository", "workflow_ref", "runner_environment", "event_name", "repository_id", "repository_owner_id", "run_id", "run_attempt"]) {
      if (typeof payload[k] === "string" && payload[k] !== "") out[k] = payload[k];
    }
    return out;
  } catch {
    return {};
  }
}

function builderIdOf(predicate: Record<string, unknown>): string {
  return ((predicate.runDetails as { builder?: { id?: string } } | undefined)?.builder?.id ?? "") as string;
}

/** Generates, signs and stores the provenance (see the module comment). */
export async function attestProvenance(options: AttestProvenanceOptions): Promise<AttestProvenanceResult> {
  const env = options.env ?? process.env;
  if (options.subjects.length === 0) throw new UsageError("attest provenance: give at least one subject (a file, oci-dir:PATH or registry:REF)");
  const registryRefs = options.subjects.filter((s) => s.startsWith("registry:"));
  if (registryRefs.length > 0) {
    if (options.subjects.length > 1) throw new UsageError("attest provenance: a registry: image is attested on its own (one registry: subject, nothing else)");
    return attestImageProvenance(options, env, registryRefs[0]!);
  }
  const keyless = options.keyRef === undefined;
  if (options.keyless === true && options.keyRef !== undefined) throw new UsageError("attest provenance: --keyless and --key: choose one");
  if (keyless && options.keyless !== true && !keylessAvailable({ env, ...(options.identityToken !== undefined ? { identityToken: options.identityToken } : {}) })) {
    throw new UsageError("attest provenance: no signing key (--key) and no OIDC token for keyless signing (--identity-token, SIGSTORE_ID_TOKEN, or GitHub Actions with id-token: write)");
  }
  const first = options.subjects[0]!;
  const output = options.output ?? `${first.startsWith("oci-dir:") ? ociDirPath(first) : first.replace(/^file:/, "")}${PROVENANCE_BUNDLE_SUFFIX}`;
  const tlogUpload = options.tlogUpload ?? true;
  return signAudited({
    operation: "attest provenance",
    artifact: options.subjects.join(" "),
    output,
    env,
    ...signingKeyOptions(options),
    withoutKey: "keyless",
    prepare: async (signer, event, secrets) => {
      const rekorUrl = tlogUpload ? serviceUrl("--rekor-url", options.rekorUrl ?? PUBLIC_GOOD_REKOR_URL) : undefined;
      const tsaUrl = options.tsaUrl !== undefined ? serviceUrl("--tsa-url", options.tsaUrl) : undefined;
      if (!signer && rekorUrl === undefined && tsaUrl === undefined) throw new UsageError("keyless signing without a Rekor entry needs --tsa-url");
      let sigstoreSigner: SigstoreSigner;
      let claims: GitHubTokenClaims = {};
      let identity = "";
      if (signer) {
        sigstoreSigner = sigstoreSignerFor(signer);
      } else {
        const fulcioUrl = serviceUrl("--fulcio-url", options.fulcioUrl ?? PUBLIC_GOOD_FULCIO_URL);
        const token = await identityToken(options.identityToken, env);
        secrets.push(token.token);
        claims = claimsOf(token.token);
        sigstoreSigner = fulcioSigner(token.token, fulcioUrl);
      }
      const { kind, predicate } = provenancePredicate({ env, claims, ...(options.builderId !== undefined ? { builderId: options.builderId } : {}), ...(options.now ? { now: options.now } : {}) });
      const subjects: ProvenanceSubject[] = [];
      for (const s of options.subjects) subjects.push(s.startsWith("oci-dir:") ? await ociLayoutSubject(s.slice("oci-dir:".length)) : await fileSubject(s.startsWith("file:") ? s.slice(5) : s));
      event.artifactDigest = subjects.map((s) => `sha256:${s.digest.sha256}`).join(" ");
      const statement = provenanceStatement(subjects, predicate);
      const builder = new DSSEBundleBuilder({ signer: sigstoreSigner, witnesses: witnesses({ ...(rekorUrl ? { rekorUrl } : {}), ...(tsaUrl ? { tsaUrl } : {}), dsse: true }), certificateChain: false });
      let bundle;
      try {
        bundle = await builder.create({ data: Buffer.from(JSON.stringify(statement)), type: IN_TOTO_PAYLOAD_TYPE });
      } catch (e) {
        if (e instanceof Error && "exitCode" in e) throw e;
        throw sigstoreServiceError(e, secrets);
      }
      const json = bundleToJSON(bundle);
      if (!signer) {
        const content = bundle.verificationMaterial.content;
        if (content.$case !== "certificate") throw new InputError("keyless bundle without a certificate (sigstore-js returned an unexpected bundle)");
        const { certificateIdentity } = await import("../signing/keyless.ts");
        identity = certificateIdentity(content.certificate.rawBytes, undefined).subjectAlternativeName ?? "";
        event.keyId = identity;
      }
      const result: AttestProvenanceResult = {
        builder: kind,
        builderId: builderIdOf(predicate),
        subjects,
        statement,
        location: output,
        signer: signer ? { kind: "key", keyId: event.keyId! } : { kind: "keyless", identity },
        tlogEntries: bundle.verificationMaterial.tlogEntries.length,
        bundle: json,
      };
      return { result, text: `${JSON.stringify(json)}\n` };
    },
    store: async (prepared) => {
      await writeFileAtomic(output, prepared.text);
      return prepared.result;
    },
  });
}

/** The directory of `oci-dir:PATH[:TAG]` (where a bundle is written beside). */
function ociDirPath(spec: string): string {
  const path = spec.slice("oci-dir:".length);
  const m = /^(.*[^:]):[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.exec(path);
  const dir = m !== null && !existsSync(join(path, "index.json")) && existsSync(join(m[1]!, "index.json")) ? m[1]! : path;
  return dir.replace(/\/+$/, "");
}

/**
 * A registry image: the predicate written to a scratch file and attached by attest-image.ts as
 * `slsaprovenance1` (keyed, or keyless with the job's token, fetched first so that its claims fill
 * the predicate as for files).
 */
async function attestImageProvenance(options: AttestProvenanceOptions, env: NodeJS.ProcessEnv, reference: string): Promise<AttestProvenanceResult> {
  if (options.output !== undefined) throw new UsageError("attest provenance: --output is for files; a registry image's provenance is attached to the image");
  let token: string | undefined;
  if (options.keyRef === undefined) {
    if (options.keyless !== true && !keylessAvailable({ env, ...(options.identityToken !== undefined ? { identityToken: options.identityToken } : {}) })) {
      throw new UsageError("attest provenance: no signing key (--key) and no OIDC token for keyless signing (--identity-token, SIGSTORE_ID_TOKEN, or GitHub Actions with id-token: write)");
    }
    token = (await identityToken(options.identityToken, env)).token;
  }
  const { kind, predicate } = provenancePredicate({ env, ...(token !== undefined ? { claims: claimsOf(token) } : {}), ...(options.builderId !== undefined ? { builderId: options.builderId } : {}), ...(options.now ? { now: options.now } : {}) });
  const [{ attestImage }, { mkdtemp, rm }, { tmpdir }] = await Promise.all([import("../signing/attest-image.ts"), import("node:fs/promises"), import("node:os")]);
  const dir = await mkdtemp(join(tmpdir(), "tollgate-provenance-"));
  try {
    const predicatePath = join(dir, "predicate.json");
    await writeFileAtomic(predicatePath, JSON.stringify(predicate));
    const result = await attestImage({
      reference,
      predicatePath,
      type: "slsaprovenance1",
      ...(options.keyRef !== undefined ? { keyRef: options.keyRef } : {}),
      ...(token !== undefined ? { identityToken: token } : {}),
      ...(options.fulcioUrl !== undefined ? { fulcioUrl: options.fulcioUrl } : {}),
      ...(options.signerOptions ? { signerOptions: options.signerOptions } : {}),
      ...(options.bundleFormat !== undefined ? { bundleFormat: options.bundleFormat } : {}),
      ...(options.tlogUpload !== undefined ? { tlogUpload: options.tlogUpload } : {}),
      ...(options.rekorUrl !== undefined ? { rekorUrl: options.rekorUrl } : {}),
      ...(options.registry ? { registry: options.registry } : {}),
      env,
      ...(options.audit ? { audit: options.audit } : {}),
    });
    const statement = JSON.parse(result.statement.toString("utf8")) as Record<string, unknown>;
    return {
      builder: kind,
      builderId: builderIdOf(predicate),
      subjects: statement.subject as ProvenanceSubject[],
      statement,
      location: result.location,
      signer: token === undefined ? { kind: "key", keyId: result.keyId } : { kind: "keyless", identity: result.keyId },
      tlogEntries: result.tlogEntries,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
