/**
 * `tollgate verify image REF`: verifies the cosign signatures of a container image in a registry, in
 * both of cosign's storage formats:
 *
 * - legacy (cosign ≤ v2, and `sign image` by default): the manifest tagged `sha256-<hex>.sig`, whose
 *   layers of media type `application/vnd.dev.cosign.simplesigning.v1+json` are simple-signing
 *   payloads, each with its signature (`dev.cosignproject.cosign/signature`) and optionally a Fulcio
 *   certificate and a Rekor SET (`dev.sigstore.cosign/certificate`, `…/bundle`) in annotations;
 * - Sigstore bundles (cosign v3) attached as OCI 1.1 referrers of artifact type
 *   `application/vnd.dev.sigstore.bundle.v0.3+json`: a DSSE in-toto statement whose subject is the image.
 *
 * The image reference is resolved to its manifest digest by hashing the manifest read. A legacy
 * signature is checked by the same verifier as `verify blob` (`verifyBundle`): it is rewritten as the
 * v0.1 Sigstore bundle it is equivalent to (message signature over the payload bytes, the certificate,
 * the SET as the inclusion promise of a hashedrekord entry), so the key, the certificate chain to the
 * trusted Fulcio CA, the SCTs and the SET are verified by sigstore-js as they are for bundles. Then the
 * payload must parse strictly (simple-signing.ts, as containers/image parses it), name this image's digest, and carry
 * the required `-a` annotations. The image verifies when at least one signature satisfies all of it.
 */
import { createHash, X509Certificate as NodeX509Certificate } from "node:crypto";
import { bundleToJSON, type Bundle } from "@sigstore/bundle";
import type { TrustedRoot } from "@sigstore/protobuf-specs";
import { InputError, UsageError, VerificationFailedError, type VerificationReason } from "../errors.ts";
import { parseJsonDocument } from "../oci/manifest.ts";
import { listReferrers } from "../oci/referrers.ts";
import { parseRegistryReference, RegistryClient, type RegistryOptions, type RegistryReference } from "../oci/registry.ts";
import { DEFAULT_OCI_LIMITS, type Descriptor } from "../oci/types.ts";
import { COSIGN_SIGNATURE_ANNOTATION, parseSimpleSigningPayload, SIMPLE_SIGNING_MEDIA_TYPE, SimpleSigningPayloadError, type SimpleSigningPayload } from "./simple-signing.ts";
import { parseBundle } from "./verify/bundle.ts";
import { verifyPrivatePkiSignature, type PrivatePkiPolicy } from "./verify/private-pki.ts";
import { verificationFailure } from "./verify/errors.ts";
import type { VerificationPolicy } from "./verify/policy.ts";
import { verifyBundle, type VerificationResult } from "./verify/verifier.ts";

export const SIGSTORE_BUNDLE_ARTIFACT_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json";
export const COSIGN_ANNOTATIONS = {
  signature: COSIGN_SIGNATURE_ANNOTATION,
  certificate: "dev.sigstore.cosign/certificate",
  chain: "dev.sigstore.cosign/chain",
  bundle: "dev.sigstore.cosign/bundle",
} as const;

/** A signature's payload, its signature layer and the SET are small; 1 MiB is generous. */
const MAX_SIGNATURE_BLOB_BYTES = 1024 * 1024;
/** A `.sig` manifest with more layers than this is not read (each layer is a fetch and a verification). */
const MAX_SIGNATURES = 256;

/** The payload parsed strictly (simple-signing.ts, as containers/image), with the parsed JSON for output; a bad payload is reason `POLICY`. */
export function checkedSimpleSigningPayload(bytes: Uint8Array): SimpleSigningPayload & { json: Record<string, unknown> } {
  try {
    const payload = parseSimpleSigningPayload(bytes);
    return { ...payload, json: JSON.parse(Buffer.from(bytes).toString("utf8")) as Record<string, unknown> };
  } catch (e) {
    if (e instanceof SimpleSigningPayloadError) throw verificationFailure("POLICY", e.message, e);
    throw e;
  }
}

/** One signature layer of a `.sig` manifest (or of a containers/image `dir:` signature file). */
export interface LegacySignature {
  readonly mediaType: string;
  readonly payload: Buffer;
  readonly annotations: Readonly<Record<string, string>>;
  /** Where it came from, for messages. */
  readonly source: string;
}

/**
 * How the image must be named by the payload's `docker-reference` (containers/image's identity
 * policies; cosign ignores the field, and so does tollgate unless asked): `repository` (cosign signs the
 * repository without tag: the repositories must be equal, and tags too when both have one) or
 * `exact` (both tagged or digested, and equal).
 */
export interface ReferencePolicy {
  readonly reference: string;
  readonly match: "repository" | "exact";
}

export interface ImageVerificationOptions {
  /** Who must have signed: any one of these (one per `--key`, or one certificate identity). */
  readonly policies: readonly VerificationPolicy[];
  readonly trustRoot: TrustedRoot;
  /** `-a key=value`: each must be in the payload's `optional` (legacy) or the subject's annotations (bundle). */
  readonly annotations?: Readonly<Record<string, string>>;
  readonly referencePolicy?: ReferencePolicy;
  /**
   * Private PKI (`--ca-roots`): legacy signatures whose certificate chains to these roots, with no
   * Fulcio and no log (verify/private-pki.ts), instead of `policies`.
   */
  readonly pki?: PrivatePkiPolicy;
}

export interface VerifiedImageSignature {
  readonly format: "legacy" | "bundle";
  readonly source: string;
  /** The verified payload as cosign prints it (legacy: with `optional.Bundle`, `Issuer`, `Subject`). */
  readonly payload: Record<string, unknown>;
  readonly result: VerificationResult;
}

export interface SignatureFailure {
  readonly source: string;
  readonly reason: VerificationReason;
  readonly message: string;
  /** The failure is about what the payload says (another digest, annotations, reference), not about the signature. */
  readonly aboutPayload: boolean;
}

export interface ImageVerification {
  readonly imageDigest: string;
  readonly verified: readonly VerifiedImageSignature[];
  readonly failures: readonly SignatureFailure[];
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function pemToDer(pem: string, where: string): Buffer {
  try {
    return Buffer.from(new NodeX509Certificate(pem).raw);
  } catch (e) {
    throw verificationFailure("CERTIFICATE", `${where}: not a PEM certificate (${(e as Error).message})`, e);
  }
}

/**
 * The v0.1 Sigstore bundle a legacy signature is equivalent to (what cosign verifies internally): a
 * message signature over the payload, the leaf certificate or a key, and the SET as a hashedrekord
 * entry's inclusion promise. The chain annotation is not used: intermediates and roots come from the
 * trusted root only.
 */
export function legacySignatureBundle(sig: LegacySignature): Bundle {
  const signature = sig.annotations[COSIGN_ANNOTATIONS.signature];
  if (signature === undefined || signature === "") throw verificationFailure("SIGNATURE", `${sig.source}: no ${COSIGN_ANNOTATIONS.signature} annotation`);
  if (!BASE64.test(signature)) throw verificationFailure("SIGNATURE", `${sig.source}: the signature annotation is not base64`);
  const certificatePem = sig.annotations[COSIGN_ANNOTATIONS.certificate];
  const material: Record<string, unknown> =
    certificatePem !== undefined && certificatePem !== ""
      ? { x509CertificateChain: { certificates: [{ rawBytes: pemToDer(certificatePem, `${sig.source}: certificate`).toString("base64") }] } }
      : { publicKey: { hint: "" } };
  const tlogEntries: unknown[] = [];
  const setText = sig.annotations[COSIGN_ANNOTATIONS.bundle];
  if (setText !== undefined && setText !== "") {
    let set: { SignedEntryTimestamp?: unknown; Payload?: { body?: unknown; integratedTime?: unknown; logIndex?: unknown; logID?: unknown } };
    try {
      set = JSON.parse(setText) as typeof set;
    } catch (e) {
      throw verificationFailure("TLOG", `${sig.source}: the Rekor bundle annotation is not JSON`, e);
    }
    const p = set.Payload;
    if (
      typeof set.SignedEntryTimestamp !== "string" ||
      typeof p?.body !== "string" ||
      !Number.isSafeInteger(p.integratedTime) ||
      !Number.isSafeInteger(p.logIndex) ||
      typeof p.logID !== "string" ||
      !/^[0-9a-f]{64}$/.test(p.logID)
    ) {
      throw verificationFailure("TLOG", `${sig.source}: the Rekor bundle annotation lacks SignedEntryTimestamp, Payload.body, integratedTime, logIndex or logID`);
    }
    let kind = "hashedrekord";
    let version = "0.0.1";
    try {
      const body = JSON.parse(Buffer.from(p.body, "base64").toString("utf8")) as { kind?: unknown; apiVersion?: unknown };
      if (typeof body.kind === "string") kind = body.kind;
      if (typeof body.apiVersion === "string") version = body.apiVersion;
    } catch (e) {
      throw verificationFailure("TLOG", `${sig.source}: the Rekor entry body is not base64 JSON`, e);
    }
    tlogEntries.push({
      logIndex: String(p.logIndex),
      logId: { keyId: Buffer.from(p.logID, "hex").toString("base64") },
      kindVersion: { kind, version },
      integratedTime: String(p.integratedTime),
      inclusionPromise: { signedEntryTimestamp: set.SignedEntryTimestamp },
      canonicalizedBody: p.body,
    });
  }
  const json = {
    mediaType: "application/vnd.dev.sigstore.bundle+json;version=0.1",
    verificationMaterial: { ...material, tlogEntries, timestampVerificationData: { rfc3161Timestamps: [] } },
    messageSignature: {
      messageDigest: { algorithm: "SHA2_256", digest: createHash("sha256").update(sig.payload).digest("base64") },
      signature,
    },
  };
  return parseBundle(JSON.stringify(json), sig.source);
}

/** Runs `verify` under each policy in turn; the first that passes wins, else the first failure is thrown. */
function underAnyPolicy<T>(policies: readonly VerificationPolicy[], verify: (policy: VerificationPolicy) => T): T {
  if (policies.length === 0) throw new UsageError("no verification policy: give --key or --certificate-identity with --certificate-oidc-issuer");
  let first: unknown;
  for (const policy of policies) {
    try {
      return verify(policy);
    } catch (e) {
      if (!(e instanceof VerificationFailedError)) throw e;
      first ??= e;
    }
  }
  throw first;
}

function checkAnnotations(present: Readonly<Record<string, unknown>> | null | undefined, wanted: Readonly<Record<string, string>> | undefined, where: string): void {
  for (const [k, v] of Object.entries(wanted ?? {})) {
    const got = present?.[k];
    if (got !== v) {
      throw verificationFailure("POLICY", `${where}: annotation ${k}=${JSON.stringify(v)} required, ${got === undefined ? "absent" : `found ${JSON.stringify(got)}`}`);
    }
  }
}

function referenceMatches(policy: ReferencePolicy, signed: string): boolean {
  let intended: RegistryReference;
  let signature: RegistryReference;
  try {
    intended = parseRegistryReference(policy.reference);
    const bare = !/[:@][^/]*$/.test(signed);
    signature = parseRegistryReference(signed);
    if (bare) delete signature.tag; // parseRegistryReference adds `latest`; a name-only signature names no tag
  } catch {
    return false;
  }
  const sameRepository = intended.registry === signature.registry && intended.repository === signature.repository;
  if (!sameRepository) return false;
  if (policy.match === "exact") {
    const hasTagOrDigest = signature.tag !== undefined || signature.digest !== undefined;
    return hasTagOrDigest && intended.tag === signature.tag && intended.digest === signature.digest;
  }
  return signature.tag === undefined || intended.tag === undefined || signature.tag === intended.tag;
}

/** Verifies one legacy signature of the image `imageDigest`; throws a VerificationFailedError. */
export function verifyLegacySignature(sig: LegacySignature, imageDigest: string, options: ImageVerificationOptions): VerifiedImageSignature {
  if (sig.mediaType !== SIMPLE_SIGNING_MEDIA_TYPE) throw verificationFailure("NOT_SIGNED", `${sig.source}: media type ${JSON.stringify(sig.mediaType)} is not a cosign signature`);
  let result: VerificationResult;
  if (options.pki !== undefined) {
    // Go's base64 decoder skips line breaks, and some signers wrap the signature (the fixture of containers/image does).
    const signature = sig.annotations[COSIGN_ANNOTATIONS.signature]?.replace(/[\r\n]/g, "");
    if (signature === undefined || signature === "" || !BASE64.test(signature)) throw verificationFailure("SIGNATURE", `${sig.source}: no base64 ${COSIGN_ANNOTATIONS.signature} annotation`);
    result = verifyPrivatePkiSignature(
      { payload: sig.payload, signature, certificatePem: sig.annotations[COSIGN_ANNOTATIONS.certificate], chainPem: sig.annotations[COSIGN_ANNOTATIONS.chain], source: sig.source },
      options.pki,
    );
  } else {
    const bundle = legacySignatureBundle(sig);
    result = underAnyPolicy(options.policies, (policy) => verifyBundle(bundle, { kind: "file", path: sig.source, bytes: sig.payload }, policy, options.trustRoot));
  }
  const payload = checkedSimpleSigningPayload(sig.payload);
  if (payload.manifestDigest !== imageDigest) {
    throw verificationFailure("DIGEST_MISMATCH", `${sig.source}: the signature is for ${payload.manifestDigest}, not for this image (${imageDigest})`);
  }
  checkAnnotations(payload.optional, options.annotations, sig.source);
  if (options.referencePolicy !== undefined && !referenceMatches(options.referencePolicy, payload.dockerReference)) {
    throw verificationFailure(
      "POLICY",
      `${sig.source}: the signature names ${JSON.stringify(payload.dockerReference)}, which does not match ${options.referencePolicy.reference} (${options.referencePolicy.match})`,
    );
  }
  const optional: Record<string, unknown> = { ...(payload.optional ?? {}) };
  const setText = sig.annotations[COSIGN_ANNOTATIONS.bundle];
  if (setText !== undefined && setText !== "") optional.Bundle = JSON.parse(setText) as unknown;
  if (result.signer.kind === "certificate") {
    optional.Issuer = result.signer.issuer;
    optional.Subject = result.signer.subject;
  }
  return {
    format: "legacy",
    source: sig.source,
    payload: { ...payload.json, optional: Object.keys(optional).length > 0 ? optional : null },
    result,
  };
}

/** Verifies one Sigstore bundle attached to the image `imageDigest` (a DSSE in-toto statement about it). */
export function verifyImageBundle(bundleJson: string, source: string, imageDigest: string, options: ImageVerificationOptions): VerifiedImageSignature {
  if (options.pki !== undefined) throw verificationFailure("POLICY", `${source}: private-PKI roots (--ca-roots) verify legacy .sig signatures only, not Sigstore bundles`);
  const bundle = parseBundle(bundleJson, source);
  if (bundle.content.$case !== "dsseEnvelope") {
    throw verificationFailure("BUNDLE", `${source}: a message-signature bundle does not say which image it signs; only DSSE (in-toto) bundles are read`);
  }
  const hex = /^sha256:([0-9a-f]{64})$/.exec(imageDigest)?.[1];
  if (hex === undefined) throw verificationFailure("DIGEST_MISMATCH", `${imageDigest}: only sha256 image digests are verified`);
  const artifact = { kind: "digest" as const, algorithm: "sha256" as const, digest: Buffer.from(hex, "hex") };
  const result = underAnyPolicy(options.policies, (policy) => verifyBundle(bundle, artifact, policy, options.trustRoot));
  const statement = JSON.parse(Buffer.from(bundle.content.dsseEnvelope.payload).toString("utf8")) as { subject?: { digest?: { sha256?: string }; annotations?: Record<string, unknown> }[] };
  const subject = statement.subject?.find((s) => s.digest?.sha256?.toLowerCase() === hex);
  checkAnnotations(subject?.annotations, options.annotations, source);
  return { format: "bundle", source, payload: statement as Record<string, unknown>, result };
}

/**
 * Verifies every candidate; returns the verified ones and the failures. Throws when none verifies:
 * `NOT_SIGNED` when there was nothing to verify, else the reason of a signature whose payload did not
 * fit (another digest, annotations, reference), else the first failure's reason.
 */
export function settleImageVerification(imageDigest: string, attempts: readonly (() => VerifiedImageSignature)[], sources: readonly string[]): ImageVerification {
  const verified: VerifiedImageSignature[] = [];
  const failures: SignatureFailure[] = [];
  attempts.forEach((attempt, i) => {
    try {
      verified.push(attempt());
    } catch (e) {
      if (!(e instanceof VerificationFailedError)) throw e;
      const aboutPayload = e.reason === "POLICY" || e.reason === "DIGEST_MISMATCH";
      failures.push({ source: sources[i] ?? `signature ${i + 1}`, reason: e.reason, message: e.message, aboutPayload });
    }
  });
  if (verified.length > 0) return { imageDigest, verified, failures };
  const counted = failures.filter((f) => f.reason !== "NOT_SIGNED");
  if (counted.length === 0) throw verificationFailure("NOT_SIGNED", `${imageDigest}: no cosign signature found`);
  const decisive = counted.find((f) => f.aboutPayload) ?? counted[0];
  if (decisive === undefined) throw verificationFailure("NOT_SIGNED", `${imageDigest}: no cosign signature found`);
  const more = counted.length > 1 ? ` (and ${counted.length - 1} more signature(s) that failed)` : "";
  throw verificationFailure(decisive.reason, `${decisive.message}${more}`);
}

/** The legacy signatures and the bundle referrers of `imageDigest`, read from the registry. */
async function readSignatures(
  client: RegistryClient,
  imageDigest: string,
  options: ImageVerificationOptions,
  signatureClient: RegistryClient = client,
): Promise<{ attempts: (() => VerifiedImageSignature)[]; sources: string[] }> {
  const attempts: (() => VerifiedImageSignature)[] = [];
  const sources: string[] = [];
  const maxManifest = DEFAULT_OCI_LIMITS.maxManifestBytes;
  const sigTag = `${imageDigest.replace(":", "-")}.sig`;
  let sigManifest: Awaited<ReturnType<RegistryClient["getManifest"]>> | undefined;
  try {
    sigManifest = await signatureClient.getManifest(sigTag, maxManifest);
  } catch (e) {
    if (!(e instanceof InputError && e.code === "NOT_FOUND")) throw e;
  }
  if (sigManifest !== undefined) {
    const where = `${signatureClient.description}:${sigTag}`;
    const doc = parseJsonDocument(sigManifest.body, where);
    const layers = Array.isArray(doc.layers) ? (doc.layers as Descriptor[]) : [];
    if (layers.length > MAX_SIGNATURES) throw verificationFailure("POLICY", `${where}: ${layers.length} signature layers, over the limit of ${MAX_SIGNATURES}`);
    for (const [i, layer] of layers.entries()) {
      const source = `${where} layer ${i}`;
      if (layer.mediaType !== SIMPLE_SIGNING_MEDIA_TYPE || typeof layer.digest !== "string") continue;
      const payload = await signatureClient.fetch({ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }, MAX_SIGNATURE_BLOB_BYTES);
      const annotations = typeof layer.annotations === "object" && layer.annotations !== null ? layer.annotations : {};
      const sig: LegacySignature = { mediaType: layer.mediaType, payload, annotations, source };
      attempts.push(() => verifyLegacySignature(sig, imageDigest, options));
      sources.push(source);
    }
  }
  const referrers = await listReferrers(client, imageDigest, { artifactType: SIGSTORE_BUNDLE_ARTIFACT_TYPE });
  for (const d of referrers.manifests.slice(0, MAX_SIGNATURES)) {
    const source = `${client.description}@${d.digest}`;
    let fetched: Awaited<ReturnType<RegistryClient["getManifest"]>>;
    try {
      fetched = await client.getManifest(d.digest, maxManifest);
    } catch (e) {
      // A tag-schema index can name a referrer deleted since: skipped, as readers do.
      if (e instanceof InputError && e.code === "NOT_FOUND") continue;
      throw e;
    }
    const manifest = parseJsonDocument(fetched.body, source);
    // Anyone with push access writes the referrers tag's index: the referrer itself must name this image.
    if ((manifest.subject as { digest?: unknown } | undefined)?.digest !== imageDigest) continue;
    const layer = (Array.isArray(manifest.layers) ? (manifest.layers as Descriptor[]) : []).find((l) => l.mediaType === SIGSTORE_BUNDLE_ARTIFACT_TYPE);
    if (layer === undefined) continue;
    const bytes = await client.fetch({ mediaType: SIGSTORE_BUNDLE_ARTIFACT_TYPE, digest: layer.digest, size: layer.size }, MAX_SIGNATURE_BLOB_BYTES * 16);
    attempts.push(() => verifyImageBundle(bytes.toString("utf8"), source, imageDigest, options));
    sources.push(source);
  }
  return { attempts, sources };
}

/** `registry:REF` or a bare reference; other target kinds are not images in a registry. */
export function imageReferenceArgument(arg: string): string {
  const ref = arg.startsWith("registry:") ? arg.slice("registry:".length) : arg;
  if (/^(oci-dir|oci-archive|docker-archive|dir):/.test(ref)) throw new UsageError(`${arg}: verify image reads signatures from a registry; give registry:REF`);
  return ref;
}

/** The client of the repository COSIGN_REPOSITORY names (a repository: no tag, no digest). */
function signatureRepositoryClient(repo: string, registry: RegistryOptions | undefined): RegistryClient {
  if (repo.includes("@") || repo.slice(repo.lastIndexOf("/") + 1).includes(":")) throw new UsageError(`signature repository ${repo}: name a repository, without a tag or digest`);
  return new RegistryClient(parseRegistryReference(repo), registry ?? {});
}

/**
 * Verifies the signatures of the image `reference` (a tag or a digest) in its registry. Throws
 * `VerificationFailedError` (reason NOT_SIGNED, SIGNATURE, DIGEST_MISMATCH, POLICY, …) when no
 * signature satisfies `options`.
 */
export async function verifyImage(
  reference: string,
  options: ImageVerificationOptions & { registry?: RegistryOptions; /** Legacy signatures stored in another repository (COSIGN_REPOSITORY), as `sign image` writes them. */ signatureRepository?: string },
): Promise<ImageVerification> {
  const ref = parseRegistryReference(imageReferenceArgument(reference));
  const client = new RegistryClient(ref, options.registry ?? {});
  const manifest = await client.getManifest(ref.digest ?? ref.tag ?? "latest", DEFAULT_OCI_LIMITS.maxManifestBytes);
  const imageDigest = manifest.digest; // computed from the bytes read (and checked against a digest reference)
  const signatureClient = options.signatureRepository !== undefined ? signatureRepositoryClient(options.signatureRepository, options.registry) : client;
  const { attempts, sources } = await readSignatures(client, imageDigest, options, signatureClient);
  return settleImageVerification(imageDigest, attempts, sources);
}

/**
 * Attestations (`verify image --attestation-type T`). A legacy `.att` layer (a DSSE envelope, with
 * the Rekor SET in `dev.sigstore.cosign/bundle` when there is one) is rewritten as the v0.1 DSSE
 * Sigstore bundle it is equivalent to and verified by `verifyImageBundle` (so by `verifyBundle`:
 * the key or certificate, the DSSE signature over the PAE, the in-toto subject against the image
 * digest, the tlog evidence the policy demands); bundle referrers are verified as they are. Then the
 * statement's predicate type must be T, and a subject must name the image digest.
 */
export interface VerifiedAttestation {
  readonly format: "legacy" | "bundle";
  readonly source: string;
  readonly predicateType: string;
  /** The verified in-toto statement (its `predicate` included). */
  readonly statement: Record<string, unknown>;
  readonly result: VerificationResult;
}

/** The v0.1 DSSE bundle a `.att` layer (envelope JSON and layer annotations) is equivalent to. */
export function legacyAttestationBundle(envelopeBytes: Uint8Array, annotations: Readonly<Record<string, string>>, source: string): string {
  let envelope: { payloadType?: unknown; payload?: unknown; signatures?: unknown };
  try {
    envelope = JSON.parse(Buffer.from(envelopeBytes).toString("utf8")) as typeof envelope;
  } catch (e) {
    throw verificationFailure("SIGNATURE", `${source}: the attestation layer is not a DSSE envelope (not JSON)`, e);
  }
  const sigs = Array.isArray(envelope.signatures) ? (envelope.signatures as { sig?: unknown; keyid?: unknown }[]) : [];
  if (typeof envelope.payloadType !== "string" || typeof envelope.payload !== "string" || !BASE64.test(envelope.payload) || sigs.length !== 1 || typeof sigs[0]?.sig !== "string") {
    throw verificationFailure("SIGNATURE", `${source}: the attestation layer is not a DSSE envelope with one signature`);
  }
  let tlogEntries: unknown[] = [];
  const setText = annotations[COSIGN_ANNOTATIONS.bundle];
  if (setText !== undefined && setText !== "") {
    // The SET's entry, as legacySignatureBundle reads it (the signature there is a placeholder, unused).
    const asSignature = legacySignatureBundle({ mediaType: SIMPLE_SIGNING_MEDIA_TYPE, payload: Buffer.alloc(0), annotations: { [COSIGN_ANNOTATIONS.signature]: "AA==", [COSIGN_ANNOTATIONS.bundle]: setText }, source });
    tlogEntries = (bundleToJSON(asSignature).verificationMaterial as { tlogEntries: unknown[] }).tlogEntries;
  }
  // Keyless (cosign attest without --key): the Fulcio certificate in the layer's annotation, as for signatures.
  const certificatePem = annotations[COSIGN_ANNOTATIONS.certificate];
  const material =
    certificatePem !== undefined && certificatePem !== ""
      ? { x509CertificateChain: { certificates: [{ rawBytes: pemToDer(certificatePem, `${source}: certificate`).toString("base64") }] } }
      : { publicKey: { hint: "" } };
  return JSON.stringify({
    mediaType: "application/vnd.dev.sigstore.bundle+json;version=0.1",
    verificationMaterial: { ...material, tlogEntries, timestampVerificationData: { rfc3161Timestamps: [] } },
    dsseEnvelope: { payload: envelope.payload, payloadType: envelope.payloadType, signatures: [{ sig: sigs[0].sig, keyid: typeof sigs[0].keyid === "string" ? sigs[0].keyid : "" }] },
  });
}

/** Verifies one attestation (a DSSE bundle) of `imageDigest` whose predicate type must be `predicateType`. */
export function verifyImageAttestation(format: "legacy" | "bundle", bundleJson: string, source: string, imageDigest: string, predicateType: string, options: ImageVerificationOptions): VerifiedAttestation {
  const verified = verifyImageBundle(bundleJson, source, imageDigest, options);
  const statement = verified.payload as { _type?: unknown; predicateType?: unknown; subject?: { digest?: { sha256?: unknown } }[] };
  const hex = imageDigest.slice("sha256:".length);
  if (!Array.isArray(statement.subject) || !statement.subject.some((s) => typeof s?.digest?.sha256 === "string" && s.digest.sha256.toLowerCase() === hex)) {
    throw verificationFailure("DIGEST_MISMATCH", `${source}: the attestation's subjects do not name this image (${imageDigest})`);
  }
  if (statement.predicateType !== predicateType) {
    throw verificationFailure("POLICY", `${source}: predicate type ${JSON.stringify(statement.predicateType)}, not ${predicateType}`);
  }
  return { format, source, predicateType, statement: verified.payload, result: verified.result };
}

/**
 * Verifies the attestations of predicate type `predicateType` of the image `reference`: the `.att`
 * layers of media type `application/vnd.dsse.envelope.v1+json` and the Sigstore bundle referrers.
 * Throws `VerificationFailedError` when none verifies (NOT_SIGNED when there is none).
 */
export async function verifyImageAttestations(
  reference: string,
  predicateType: string,
  options: ImageVerificationOptions & { registry?: RegistryOptions; /** Legacy `.att` attestations stored in another repository (COSIGN_REPOSITORY), as `attest` writes them. */ signatureRepository?: string },
): Promise<{ imageDigest: string; verified: VerifiedAttestation[]; failures: SignatureFailure[] }> {
  // cosign's verify-attestation accepts -a but never checks it (IntotoSubjectClaimVerifier ignores the
  // annotations; cosign attest writes none): refused here rather than silently ignored.
  if (Object.keys(options.annotations ?? {}).length > 0) {
    throw new UsageError("-a with --attestation-type: attestations carry no annotations to check (cosign attest writes none and cosign verify-attestation ignores -a); check the predicate instead");
  }
  const ref = parseRegistryReference(imageReferenceArgument(reference));
  const client = new RegistryClient(ref, options.registry ?? {});
  const manifest = await client.getManifest(ref.digest ?? ref.tag ?? "latest", DEFAULT_OCI_LIMITS.maxManifestBytes);
  const imageDigest = manifest.digest;
  const attClient = options.signatureRepository !== undefined ? signatureRepositoryClient(options.signatureRepository, options.registry) : client;
  // `declaredType`: the (unsigned) annotation naming the predicate type, used only to choose which to verify first.
  const candidates: { format: "legacy" | "bundle"; source: string; declaredType: unknown; bundleJson: () => string }[] = [];
  const attTag = `${imageDigest.replace(":", "-")}.att`;
  let attManifest: Awaited<ReturnType<RegistryClient["getManifest"]>> | undefined;
  try {
    attManifest = await attClient.getManifest(attTag, DEFAULT_OCI_LIMITS.maxManifestBytes);
  } catch (e) {
    if (!(e instanceof InputError && e.code === "NOT_FOUND")) throw e;
  }
  if (attManifest !== undefined) {
    const where = `${attClient.description}:${attTag}`;
    const doc = parseJsonDocument(attManifest.body, where);
    const layers = Array.isArray(doc.layers) ? (doc.layers as Descriptor[]) : [];
    if (layers.length > MAX_SIGNATURES) throw verificationFailure("POLICY", `${where}: ${layers.length} attestation layers, over the limit of ${MAX_SIGNATURES}`);
    for (const [i, layer] of layers.entries()) {
      if (layer.mediaType !== "application/vnd.dsse.envelope.v1+json" || typeof layer.digest !== "string") continue;
      const source = `${where} layer ${i}`;
      const bytes = await attClient.fetch({ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }, MAX_SIGNATURE_BLOB_BYTES * 16);
      const annotations = typeof layer.annotations === "object" && layer.annotations !== null ? layer.annotations : {};
      candidates.push({ format: "legacy", source, declaredType: annotations.predicateType, bundleJson: () => legacyAttestationBundle(bytes, annotations, source) });
    }
  }
  const referrers = await listReferrers(client, imageDigest, { artifactType: SIGSTORE_BUNDLE_ARTIFACT_TYPE });
  for (const d of referrers.manifests.slice(0, MAX_SIGNATURES)) {
    const source = `${client.description}@${d.digest}`;
    let fetched: Awaited<ReturnType<RegistryClient["getManifest"]>>;
    try {
      fetched = await client.getManifest(d.digest, DEFAULT_OCI_LIMITS.maxManifestBytes);
    } catch (e) {
      if (e instanceof InputError && e.code === "NOT_FOUND") continue;
      throw e;
    }
    const doc = parseJsonDocument(fetched.body, source);
    if ((doc.subject as { digest?: unknown } | undefined)?.digest !== imageDigest) continue;
    const layer = (Array.isArray(doc.layers) ? (doc.layers as Descriptor[]) : []).find((l) => l.mediaType === SIGSTORE_BUNDLE_ARTIFACT_TYPE);
    if (layer === undefined) continue;
    const bytes = await client.fetch({ mediaType: SIGSTORE_BUNDLE_ARTIFACT_TYPE, digest: layer.digest, size: layer.size }, MAX_SIGNATURE_BLOB_BYTES * 16);
    const declaredType = (doc.annotations as Record<string, unknown> | undefined)?.["dev.sigstore.bundle.predicateType"];
    candidates.push({ format: "bundle", source, declaredType, bundleJson: () => bytes.toString("utf8") });
  }
  // Those that say they are of the wanted type, when there are some (so that their failure is the one
  // reported); else all, so that a verified attestation of another type is reported as such (POLICY).
  // Whatever is chosen, the predicate type of the signed statement is what is checked.
  const declared = candidates.filter((c) => c.declaredType === predicateType);
  const chosen = declared.length > 0 ? declared : candidates;
  const verified: VerifiedAttestation[] = [];
  const settled = settleImageVerification(
    imageDigest,
    chosen.map((c) => () => {
      const v = verifyImageAttestation(c.format, c.bundleJson(), c.source, imageDigest, predicateType, options);
      verified.push(v);
      return { format: v.format, source: v.source, payload: v.statement, result: v.result };
    }),
    chosen.map((c) => c.source),
  );
  return { imageDigest, verified, failures: [...settled.failures] };
}
