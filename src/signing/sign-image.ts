/**
 * `signImage`: a container image signed in the registry as cosign does it, in the legacy ("tag-based")
 * layout (cosign specs/SIGNATURE_SPEC.md):
 *
 * - the reference is resolved to its manifest digest first (the manifest is read and hashed here;
 *   a digest reference is checked against the bytes): the digest is signed, never the tag;
 * - the simple-signing payload (simple-signing.ts) names the repository without its tag
 *   (`docker-reference`, as cosign's `Repository.Name()`), the digest, and the `-a` annotations;
 * - the signature is the Signer's over the payload bytes (ECDSA P-256 or RSA PKCS#1 v1.5 with
 *   SHA-256, DER for ECDSA), base64, in the layer annotation `dev.cosignproject.cosign/signature`;
 *   with a Rekor entry (`tlogUpload`, default true as cosign), the entry's SET in
 *   `dev.sigstore.cosign/bundle` as cosign writes it;
 * - the payload is one layer (`application/vnd.dev.cosign.simplesigning.v1+json`) of the OCI manifest
 *   tagged `sha256-<hex>.sig` in the image's repository (or `signatureRepository`, as
 *   COSIGN_REPOSITORY); an existing signature manifest there is read (by its checked digest) and its
 *   layers are kept as they were, the new one appended unless the same payload and signature are
 *   there already; the config is cosign's (zero times, one history entry and one diff_id per layer).
 *
 * With `bundleFormat` (cosign v3, specs/BUNDLE_SPEC.md), a Sigstore bundle v0.3 instead: a DSSE envelope
 * holding an in-toto Statement v1 whose one subject is the image digest (no name, the `-a` annotations),
 * predicate type `https://sigstore.dev/cosign/sign/v1`, empty predicate; pushed as an OCI 1.1 referrer
 * of the image (artifactType `application/vnd.dev.sigstore.bundle.v0.3+json`, the bundle as the one
 * layer, cosign's annotations), through pushReferrer and its `sha256-<hex>` tag-schema fallback.
 *
 * The legacy signature is made with @sigstore/sign's message-signature builder (the same Signer adapter and
 * Rekor witness as signBlob), so the Rekor entry is the hashedrekord of exactly these bytes.
 *
 * Every attempt is recorded with recordSigningEvent (operation "sign image"); a success is recorded
 * before anything is pushed, so no signature reaches the registry without its audit entry, and a
 * push that then fails is recorded as a second, failed event.
 */
import { createHash } from "node:crypto";
import { bundleToJSON, type TransparencyLogEntry } from "@sigstore/bundle";
import { DSSEBundleBuilder, MessageSignatureBundleBuilder, type Signer as SigstoreSigner } from "@sigstore/sign";
import { InputError, UsageError } from "../errors.ts";
import type { RecordOptions, SigningEvent } from "../audit/index.ts";
import { parseRegistryReference, RegistryClient, type RegistryOptions, type RegistryReference } from "../oci/registry.ts";
import { parseDescriptor, parseJsonDocument } from "../oci/manifest.ts";
import { pushReferrer } from "../oci/referrers.ts";
import { DEFAULT_OCI_LIMITS, EMPTY_JSON_DESCRIPTOR, MEDIA_TYPES, type Descriptor } from "../oci/types.ts";
import { certificateIdentity, fulcioSigner, identityToken, PUBLIC_GOOD_FULCIO_URL, PUBLIC_GOOD_REKOR_URL, serviceUrl, sigstoreServiceError, tokenClaims, witnesses } from "./keyless.ts";
import type { Signer, SignerOptions, SigningAlgorithm } from "./keys/types.ts";
import { COSIGN_SIGN_PREDICATE_TYPE, IN_TOTO_PAYLOAD_TYPE, IN_TOTO_STATEMENT_V1, sigstoreSignerFor } from "./sign-blob.ts";
import { buildSimpleSigningPayload, COSIGN_SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE } from "./simple-signing.ts";
import { signAudited, signingKeyOptions } from "./audited.ts";

/** The layer annotations holding a keyless signature's Fulcio certificate and chain (PEM; cosign `static.CertificateAnnotationKey`, `ChainAnnotationKey`). */
export const COSIGN_CERTIFICATE_ANNOTATION = "dev.sigstore.cosign/certificate";
export const COSIGN_CHAIN_ANNOTATION = "dev.sigstore.cosign/chain";
/** The layer annotation holding the Rekor SET bundle (cosign `static.BundleAnnotationKey`). */
export const COSIGN_BUNDLE_ANNOTATION = "dev.sigstore.cosign/bundle";
/** The artifact type (and layer media type) of a Sigstore bundle v0.3 referrer. */
export const SIGSTORE_BUNDLE_V03_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json";
/** The config media type of a cosign signature manifest. */
export const OCI_CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json";

/** Key algorithms cosign verifies a legacy signature with (SHA-256 over the payload). */
const IMAGE_ALGORITHMS: readonly SigningAlgorithm[] = ["ecdsa-p256-sha256", "rsa-pkcs1v15-sha256"];

export interface SignImageOptions {
  /** The image (`registry/repo:tag` or `…@sha256:…`; a `registry:` prefix is accepted). */
  reference: string;
  /** Signing with this key (the caller opens and closes it)… */
  signer?: Signer;
  /** …or with the key this reference names, opened through openSigner and closed here. Neither: keyless (Fulcio + Rekor). */
  keyRef?: string;
  signerOptions?: SignerOptions;
  /** Keyless: the OIDC token, or a file holding it (else SIGSTORE_ID_TOKEN, else GitHub Actions). */
  identityToken?: string;
  fulcioUrl?: string;
  /** `-a key=value`: the payload's `optional` object. */
  annotations?: Record<string, string>;
  /** cosign v3's format: a Sigstore bundle (DSSE in-toto statement) as an OCI 1.1 referrer. */
  bundleFormat?: boolean;
  /** The referrer's `org.opencontainers.image.created` (default: now). */
  now?: Date;
  /** Add a Rekor entry (default true, as cosign). */
  tlogUpload?: boolean;
  rekorUrl?: string;
  /** Store the signature in this repository (`registry/repo`) instead of the image's (COSIGN_REPOSITORY). */
  signatureRepository?: string;
  /** Registry client options (insecure registries, timeouts, env for credentials). */
  registry?: RegistryOptions;
  env?: NodeJS.ProcessEnv;
  audit?: RecordOptions;
}

export interface SignImageResult {
  format: "legacy" | "bundle";
  /** The signed manifest digest. */
  manifestDigest: string;
  /** The payload's `docker-reference`. */
  dockerReference: string;
  /** The payload bytes signed (legacy: simple-signing; bundle: the in-toto statement). */
  payload: Buffer;
  /** Base64 signature over the payload. */
  signature: string;
  /** Legacy: `registry/repo:sha256-<hex>.sig`; bundle: the referrer, `registry/repo@sha256:…`. */
  signatureTag: string;
  /** The digest of the signature manifest (or referrer) pushed. */
  signatureManifestDigest: string;
  /** Layers in the signature manifest, and whether this signature was added (false: it was there already; a bundle is always added). */
  layers: number;
  appended: boolean;
  /** Keyed: the key id (hex SHA-256 of the DER SPKI); keyless: the certificate's SAN. */
  keyId: string;
  /** Keyless: the certificate's SAN and the token's issuer. */
  identity?: Record<string, string>;
  tlogEntries: number;
}

/** `-a key=value` pairs as an object; a flag without `=` or with an empty key is a usage error. */
export function parseAnnotations(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`-a ${JSON.stringify(pair.slice(0, 100))}: expected key=value`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** The reference without a `registry:` target prefix. */
function bareReference(reference: string): string {
  return reference.startsWith("registry:") ? reference.slice("registry:".length) : reference;
}

/** cosign's `Repository.Name()`: registry and repository, Docker Hub spelled `index.docker.io`. */
export function dockerReferenceOf(ref: RegistryReference): string {
  return `${ref.registry === "docker.io" ? "index.docker.io" : ref.registry}/${ref.repository}`;
}

/** The tag of the legacy signature manifest for a digest: `sha256-<hex>.sig`. */
export function signatureTagOf(manifestDigest: string): string {
  return `${manifestDigest.replace(":", "-")}.sig`;
}

/** cosign's config for a signature "image": zero times, a history entry and a diff_id per layer. */
export function signatureConfig(layerDigests: readonly string[]): Buffer {
  const history = layerDigests.map(() => ({ created: "0001-01-01T00:00:00Z" }));
  return Buffer.from(
    JSON.stringify({ architecture: "", created: "0001-01-01T00:00:00Z", history, os: "", rootfs: { type: "layers", diff_ids: layerDigests }, config: {} }),
  );
}

/** cosign's Rekor bundle annotation: the entry's SET and payload (body, integrated time, index, log id in hex). */
export function rekorBundleAnnotation(entry: TransparencyLogEntry): string {
  const set = entry.inclusionPromise?.signedEntryTimestamp;
  if (!set) throw new InputError("the Rekor entry has no signed entry timestamp (inclusion promise)");
  return JSON.stringify({
    SignedEntryTimestamp: Buffer.from(set).toString("base64"),
    Payload: {
      body: Buffer.from(entry.canonicalizedBody).toString("base64"),
      integratedTime: Number(entry.integratedTime),
      logIndex: Number(entry.logIndex),
      logID: Buffer.from(entry.logId?.keyId ?? []).toString("hex"),
    },
  });
}

/** Signs an image in the registry (see the module comment). */
export async function signImage(options: SignImageOptions): Promise<SignImageResult> {
  const env = options.env ?? process.env;
  return signAudited({
    operation: "sign image",
    artifact: options.reference,
    env,
    ...signingKeyOptions(options),
    withoutKey: "keyless",
    prepare: (signer, event, secrets) => prepareSignature(options, env, signer, event, secrets),
    store: (prepared) => (prepared.format === "legacy" ? pushSignature(prepared) : pushBundleReferrer(prepared)),
  });
}

type Prepared = PreparedLegacy | PreparedBundle;

interface PreparedBundle {
  format: "bundle";
  client: RegistryClient;
  manifestDigest: string;
  dockerReference: string;
  statement: Buffer;
  bundle: Buffer;
  referrer: Buffer;
  signature: string;
  keyId: string;
  identity?: Record<string, string>;
  tlogEntries: number;
}

interface PreparedLegacy {
  format: "legacy";
  client: RegistryClient;
  signatureTag: string;
  manifestDigest: string;
  dockerReference: string;
  payload: Buffer;
  signature: string;
  annotations: Record<string, string>;
  keyId: string;
  identity?: Record<string, string>;
  tlogEntries: number;
}


/**
 * The signer of a keyed or keyless signature. Keyless: a Fulcio certificate for an ephemeral key, and a
 * Rekor entry is required (cosign's rule: the certificate is short-lived, the log entry times the
 * signature; no RFC 3161 timestamp is stored in the image layouts here).
 */
export async function imageSigner(
  o: { signer: Signer | undefined; identityToken?: string; fulcioUrl?: string; rekorUrl: string | undefined },
  env: NodeJS.ProcessEnv,
  secrets: string[],
): Promise<{ sigstoreSigner: SigstoreSigner; issuer?: string }> {
  if (o.signer) {
    if (!IMAGE_ALGORITHMS.includes(o.signer.algorithm)) {
      throw new UsageError(`${o.signer.ref}: ${o.signer.algorithm} keys are not supported for image signatures (use ${IMAGE_ALGORITHMS.join(", ")})`);
    }
    return { sigstoreSigner: sigstoreSignerFor(o.signer) };
  }
  if (o.rekorUrl === undefined) throw new UsageError("keyless signing of an image needs a Rekor entry: --tlog-upload=false is for keyed signing (--key)");
  const fulcioUrl = serviceUrl("--fulcio-url", o.fulcioUrl ?? PUBLIC_GOOD_FULCIO_URL);
  const token = await identityToken(o.identityToken, env);
  secrets.push(token.token);
  const issuer = tokenClaims(token.token).iss;
  return { sigstoreSigner: fulcioSigner(token.token, fulcioUrl), ...(issuer !== undefined ? { issuer } : {}) };
}

/** Keyless: the bundle's certificate chain as PEM (leaf first); the identity goes into the audit event. */
export function keylessCertificates(
  material: { content: { $case: string; x509CertificateChain?: { certificates: { rawBytes: Uint8Array }[] }; certificate?: { rawBytes: Uint8Array } } },
  issuer: string | undefined,
  event: SigningEvent,
): { certificate: string; chain: string; identity: Record<string, string> } {
  const c = material.content;
  const ders = c.$case === "x509CertificateChain" ? (c.x509CertificateChain?.certificates ?? []).map((x) => x.rawBytes) : c.$case === "certificate" && c.certificate ? [c.certificate.rawBytes] : [];
  const [leaf, ...rest] = ders;
  if (leaf === undefined) throw new InputError("keyless signature without a certificate (sigstore-js returned an unexpected bundle)");
  const identity = certificateIdentity(leaf, issuer);
  event.keyId = identity.subjectAlternativeName ?? "";
  event.signer = { ...event.signer, ...identity };
  return { certificate: derToPem(leaf), chain: rest.map(derToPem).join(""), identity };
}

function derToPem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

async function prepareSignature(options: SignImageOptions, env: NodeJS.ProcessEnv, signer: Signer | undefined, event: SigningEvent, secrets: string[]): Promise<Prepared> {
  const tlogUpload = options.tlogUpload ?? true;
  const rekorUrl = tlogUpload ? serviceUrl("--rekor-url", options.rekorUrl ?? PUBLIC_GOOD_REKOR_URL) : undefined;
  const { sigstoreSigner, issuer } = await imageSigner({ signer, ...(options.identityToken !== undefined ? { identityToken: options.identityToken } : {}), ...(options.fulcioUrl !== undefined ? { fulcioUrl: options.fulcioUrl } : {}), rekorUrl }, env, secrets);
  const ref = parseRegistryReference(bareReference(options.reference));
  const registryOptions: RegistryOptions = { env, ...options.registry };
  const imageClient = new RegistryClient(ref, registryOptions);
  // Resolve to the digest: the manifest's bytes are hashed (and checked against a digest reference).
  const manifest = await imageClient.getManifest(ref.digest ?? (ref.tag as string), DEFAULT_OCI_LIMITS.maxManifestBytes);
  const manifestDigest = ref.digest ?? manifest.digest;
  event.artifactDigest = manifestDigest;

  const dockerReference = dockerReferenceOf(ref);
  if (options.bundleFormat === true) {
    if (options.signatureRepository !== undefined) throw new UsageError("--bundle-format: the bundle is a referrer in the image's own repository; another signature repository cannot be used");
    const subject = { mediaType: manifest.mediaType ?? MEDIA_TYPES.ociManifest, digest: manifestDigest, size: manifest.body.length };
    return prepareBundle({ client: imageClient, subject, dockerReference, signer, sigstoreSigner, issuer, rekorUrl, secrets, event, ...(options.annotations ? { annotations: options.annotations } : {}), now: options.now ?? new Date() });
  }

  let client = imageClient;
  if (options.signatureRepository !== undefined) {
    const repo = options.signatureRepository;
    if (repo.includes("@") || repo.slice(repo.lastIndexOf("/") + 1).includes(":")) {
      throw new UsageError(`signature repository ${repo}: name a repository, without a tag or digest`);
    }
    const target = parseRegistryReference(repo);
    client = new RegistryClient({ registry: target.registry, apiHost: target.apiHost, repository: target.repository }, registryOptions);
  }
  const signatureTag = signatureTagOf(manifestDigest);
  event.output = `${client.description}:${signatureTag}`;

  const payload = buildSimpleSigningPayload({ dockerReference, manifestDigest, optional: options.annotations ?? null });

  const builder = new MessageSignatureBundleBuilder({ signer: sigstoreSigner, witnesses: witnesses({ ...(rekorUrl ? { rekorUrl } : {}), dsse: false }) });
  let bundle;
  try {
    bundle = await builder.create({ data: payload });
  } catch (e) {
    throw signer ? signerError(e, signer, secrets) : sigstoreServiceError(e, secrets);
  }
  if (bundle.content.$case !== "messageSignature") throw new InputError("sigstore-js returned a bundle without a message signature");
  const signature = Buffer.from(bundle.content.messageSignature.signature).toString("base64");
  const annotations: Record<string, string> = { [COSIGN_SIGNATURE_ANNOTATION]: signature };
  let identity: Record<string, string> | undefined;
  if (!signer) {
    // cosign's keyless layer: the Fulcio certificate and its chain in annotations.
    const certs = keylessCertificates(bundle.verificationMaterial as Parameters<typeof keylessCertificates>[0], issuer, event);
    annotations[COSIGN_CERTIFICATE_ANNOTATION] = certs.certificate;
    annotations[COSIGN_CHAIN_ANNOTATION] = certs.chain;
    identity = certs.identity;
  }
  const entry = bundle.verificationMaterial.tlogEntries[0];
  if (entry) annotations[COSIGN_BUNDLE_ANNOTATION] = rekorBundleAnnotation(entry);
  return {
    format: "legacy",
    client,
    signatureTag,
    manifestDigest,
    dockerReference,
    payload,
    signature,
    annotations,
    keyId: event.keyId!,
    ...(identity ? { identity } : {}),
    tlogEntries: bundle.verificationMaterial.tlogEntries.length,
  };
}

/** A keyed signing error: a backend's own typed error as it is, a witness's (Rekor) as a service error. */
function signerError(e: unknown, signer: Signer, secrets: string[]): Error {
  if (e instanceof Error && "exitCode" in e) return e;
  const error = sigstoreServiceError(e, secrets);
  error.message = error.message.replace(/^sigstore: /, `sigstore (key ${signer.ref}): `);
  return error;
}

/** cosign v3's statement for an image signature: one subject, the digest (no name), the annotations. */
export function imageStatement(manifestDigest: string, annotations?: Record<string, string>): Record<string, unknown> {
  const [algorithm, hex] = manifestDigest.split(":") as [string, string];
  const subject: Record<string, unknown> = { digest: { [algorithm]: hex } };
  if (annotations && Object.keys(annotations).length > 0) subject.annotations = annotations;
  return { _type: IN_TOTO_STATEMENT_V1, subject: [subject], predicateType: COSIGN_SIGN_PREDICATE_TYPE, predicate: {} };
}

async function prepareBundle(o: {
  client: RegistryClient;
  subject: Descriptor;
  dockerReference: string;
  signer: Signer | undefined;
  sigstoreSigner: SigstoreSigner;
  issuer: string | undefined;
  rekorUrl: string | undefined;
  secrets: string[];
  event: SigningEvent;
  annotations?: Record<string, string>;
  now: Date;
}): Promise<PreparedBundle> {
  const statement = Buffer.from(JSON.stringify(imageStatement(o.subject.digest, o.annotations)));
  const builder = new DSSEBundleBuilder({ signer: o.sigstoreSigner, witnesses: witnesses({ ...(o.rekorUrl ? { rekorUrl: o.rekorUrl } : {}), dsse: true }), certificateChain: false });
  let bundle;
  try {
    bundle = await builder.create({ data: statement, type: IN_TOTO_PAYLOAD_TYPE });
  } catch (e) {
    throw o.signer ? signerError(e, o.signer, o.secrets) : sigstoreServiceError(e, o.secrets);
  }
  if (bundle.content.$case !== "dsseEnvelope") throw new InputError("sigstore-js returned a bundle without a DSSE envelope");
  const identity = o.signer ? undefined : keylessCertificates(bundle.verificationMaterial as Parameters<typeof keylessCertificates>[0], o.issuer, o.event).identity;
  const bundleBytes = Buffer.from(JSON.stringify(bundleToJSON(bundle)));
  const referrer = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      artifactType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
      config: { mediaType: EMPTY_JSON_DESCRIPTOR.mediaType, artifactType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE, digest: EMPTY_JSON_DESCRIPTOR.digest, size: EMPTY_JSON_DESCRIPTOR.size },
      layers: [{ mediaType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE, digest: sha256Of(bundleBytes), size: bundleBytes.length }],
      subject: { mediaType: o.subject.mediaType, digest: o.subject.digest, size: o.subject.size },
      annotations: {
        "org.opencontainers.image.created": o.now.toISOString().replace(/\.\d{3}Z$/, "Z"),
        "dev.sigstore.bundle.content": "dsse-envelope",
        "dev.sigstore.bundle.predicateType": COSIGN_SIGN_PREDICATE_TYPE,
      },
    }),
  );
  o.event.output = `${o.client.description}@${sha256Of(referrer)}`;
  const signature = Buffer.from(bundle.content.dsseEnvelope.signatures[0]?.sig ?? []).toString("base64");
  return {
    format: "bundle",
    client: o.client,
    manifestDigest: o.subject.digest,
    dockerReference: o.dockerReference,
    statement,
    bundle: bundleBytes,
    referrer,
    signature,
    keyId: o.event.keyId!,
    ...(identity ? { identity } : {}),
    tlogEntries: bundle.verificationMaterial.tlogEntries.length,
  };
}

function sha256Of(data: Uint8Array): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

async function pushBundleReferrer(p: PreparedBundle): Promise<SignImageResult> {
  await p.client.pushBlob(p.bundle, sha256Of(p.bundle));
  await p.client.pushBlob(Buffer.from("{}"), EMPTY_JSON_DESCRIPTOR.digest);
  const pushed = await pushReferrer(p.client, p.referrer, MEDIA_TYPES.ociManifest);
  return {
    format: "bundle",
    manifestDigest: p.manifestDigest,
    dockerReference: p.dockerReference,
    payload: p.statement,
    signature: p.signature,
    signatureTag: `${p.client.description}@${pushed.digest}`,
    signatureManifestDigest: pushed.digest,
    layers: 1,
    appended: true,
    keyId: p.keyId,
    ...(p.identity ? { identity: p.identity } : {}),
    tlogEntries: p.tlogEntries,
  };
}

/** The layers of the existing signature manifest (as stored), or none when the tag is not there. */
export async function existingLayers(client: RegistryClient, tag: string): Promise<Array<Record<string, unknown>>> {
  let existing;
  try {
    existing = await client.getManifest(tag, DEFAULT_OCI_LIMITS.maxManifestBytes);
  } catch (e) {
    if (e instanceof InputError && e.code === "NOT_FOUND") return [];
    throw e;
  }
  const where = `${client.description}:${tag}`;
  const doc = parseJsonDocument(existing.body, where);
  const mediaType = typeof doc.mediaType === "string" ? doc.mediaType : existing.mediaType;
  if ((mediaType !== MEDIA_TYPES.ociManifest && mediaType !== MEDIA_TYPES.dockerManifest) || !Array.isArray(doc.layers)) {
    throw new InputError(`${tag} holds something other than an image manifest (${String(mediaType).slice(0, 100)}); not overwritten`, { file: client.description });
  }
  return doc.layers.map((layer, i) => {
    parseDescriptor(layer, `${where}: layer ${i}`);
    return layer as Record<string, unknown>;
  });
}

async function pushSignature(p: PreparedLegacy): Promise<SignImageResult> {
  const payloadDigest = `sha256:${createHash("sha256").update(p.payload).digest("hex")}`;
  const layers = await existingLayers(p.client, p.signatureTag);
  const already = layers.some((l) => l.digest === payloadDigest && (l.annotations as Record<string, unknown> | undefined)?.[COSIGN_SIGNATURE_ANNOTATION] === p.signature);
  if (!already) {
    await p.client.pushBlob(p.payload, payloadDigest);
    const layer: Descriptor = { mediaType: SIMPLE_SIGNING_MEDIA_TYPE, size: p.payload.length, digest: payloadDigest, annotations: p.annotations };
    layers.push(layer as unknown as Record<string, unknown>);
  }
  const config = signatureConfig(layers.map((l) => l.digest as string));
  const configDigest = `sha256:${createHash("sha256").update(config).digest("hex")}`;
  await p.client.pushBlob(config, configDigest);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: OCI_CONFIG_MEDIA_TYPE, size: config.length, digest: configDigest },
      layers,
    }),
  );
  const pushed = await p.client.putManifest(manifest, MEDIA_TYPES.ociManifest, p.signatureTag);
  return {
    format: "legacy",
    manifestDigest: p.manifestDigest,
    dockerReference: p.dockerReference,
    payload: p.payload,
    signature: p.signature,
    signatureTag: `${p.client.description}:${p.signatureTag}`,
    signatureManifestDigest: pushed.digest,
    layers: layers.length,
    appended: !already,
    keyId: p.keyId,
    ...(p.identity ? { identity: p.identity } : {}),
    tlogEntries: p.tlogEntries,
  };
}
