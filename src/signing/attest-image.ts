/**
 * `attestImage`: an in-toto attestation about a container image, stored in its registry as cosign does
 * (`cosign attest`, specs/ATTESTATION_SPEC.md):
 *
 * - the reference is resolved to its manifest digest (the manifest's bytes hashed; a digest reference
 *   checked against them);
 * - the predicate file is read as a regular file (size-capped) and must be JSON;
 * - the statement is cosign's: `_type: https://in-toto.io/Statement/v0.1`, one subject (the image's
 *   `registry/repo` name and `digest: {sha256: hex}`), the predicate type from cosign's `--type` short
 *   names (or a URI), the predicate;
 * - it is signed as a DSSE envelope (payload type `application/vnd.in-toto+json`, signature over the
 *   PAE) with @sigstore/sign's DSSE builder through the same Signer adapter as sign-blob.ts; a Rekor
 *   entry unless `tlogUpload` is false;
 * - legacy layout: the envelope JSON is a layer (`application/vnd.dsse.envelope.v1+json`, annotations
 *   `predicateType` and an empty `dev.cosignproject.cosign/signature`, and the Rekor SET in
 *   `dev.sigstore.cosign/bundle` when there is one) of the manifest tagged `sha256-<hex>.att`; the
 *   existing layers there are kept (read by the manifest's checked digest), the new one appended;
 * - with `bundleFormat`: the Sigstore bundle v0.3 (DSSE) as an OCI 1.1 referrer of the image, as
 *   `sign image --bundle-format` pushes its bundles (pushReferrer, with the tag-schema fallback).
 *
 * Every attempt is recorded (operation "attest"); a success before anything is pushed.
 */
import { createHash } from "node:crypto";
import { bundleToJSON } from "@sigstore/bundle";
import { DSSEBundleBuilder } from "@sigstore/sign";
import { InputError, UsageError } from "../errors.ts";
import { readRegularFile } from "../io/files.ts";
import type { RecordOptions, SigningEvent } from "../audit/index.ts";
import { pushReferrer } from "../oci/referrers.ts";
import { parseRegistryReference, RegistryClient, type RegistryOptions } from "../oci/registry.ts";
import { DEFAULT_OCI_LIMITS, EMPTY_JSON_DESCRIPTOR, MEDIA_TYPES } from "../oci/types.ts";
import { PUBLIC_GOOD_REKOR_URL, serviceUrl, sigstoreServiceError, witnesses } from "./keyless.ts";
import type { Signer, SignerOptions } from "./keys/types.ts";
import {
  COSIGN_BUNDLE_ANNOTATION,
  COSIGN_CERTIFICATE_ANNOTATION,
  COSIGN_CHAIN_ANNOTATION,
  dockerReferenceOf,
  existingLayers,
  imageSigner,
  keylessCertificates,
  OCI_CONFIG_MEDIA_TYPE,
  rekorBundleAnnotation,
  signatureConfig,
  SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
} from "./sign-image.ts";
import { IN_TOTO_PAYLOAD_TYPE } from "./sign-blob.ts";
import { COSIGN_SIGNATURE_ANNOTATION } from "./simple-signing.ts";
import { signAudited, signingKeyOptions } from "./audited.ts";

/** The statement type cosign's `attest` writes (in_toto.StatementInTotoV01). */
export const IN_TOTO_STATEMENT_V01 = "https://in-toto.io/Statement/v0.1";
/** The media type of a `.att` layer (cosign `types.DssePayloadType`). */
export const DSSE_ENVELOPE_MEDIA_TYPE = "application/vnd.dsse.envelope.v1+json";
/** The `.att` layer annotation naming the predicate type. */
export const PREDICATE_TYPE_ANNOTATION = "predicateType";
/** The largest predicate read (an SBOM of a large image is a few MiB). */
export const MAX_PREDICATE_BYTES = 64 * 1024 * 1024;

/** cosign's `--type` short names (cmd/cosign/cli/options/predicate.go). */
export const PREDICATE_TYPES: Readonly<Record<string, string>> = {
  custom: "https://cosign.sigstore.dev/attestation/v1",
  slsaprovenance: "https://slsa.dev/provenance/v0.2",
  slsaprovenance02: "https://slsa.dev/provenance/v0.2",
  slsaprovenance1: "https://slsa.dev/provenance/v1",
  spdx: "https://spdx.dev/Document",
  spdxjson: "https://spdx.dev/Document",
  cyclonedx: "https://cyclonedx.org/bom",
  link: "https://in-toto.io/Link/v1",
  vuln: "https://cosign.sigstore.dev/attestation/vuln/v1",
  openvex: "https://openvex.dev/ns",
};

/** A `--type` as its predicate type URI: a short name from cosign's table, or an absolute URI as given. */
export function predicateTypeOf(type: string): string {
  const known = PREDICATE_TYPES[type.toLowerCase()];
  if (known !== undefined) return known;
  let url: URL | undefined;
  try {
    url = new URL(type);
  } catch {
    url = undefined;
  }
  if (url === undefined || !/^[a-z][a-z0-9+.-]*:$/.test(url.protocol) || type.length > 2048) {
    throw new UsageError(`--type ${JSON.stringify(type.slice(0, 100))}: expected one of ${Object.keys(PREDICATE_TYPES).join(", ")} or a URI`);
  }
  return type;
}

/** The tag of the legacy attestation manifest for a digest: `sha256-<hex>.att`. */
export function attestationTagOf(manifestDigest: string): string {
  return `${manifestDigest.replace(":", "-")}.att`;
}

/** DSSE's pre-authentication encoding (what the signature covers). */
export function dssePae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, "utf8");
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), Buffer.from(payload)]);
}

export interface AttestImageOptions {
  reference: string;
  /** The predicate file (JSON). */
  predicatePath: string;
  /** A cosign short name or a predicate type URI. */
  type: string;
  signer?: Signer;
  /** The key; without signer and keyRef, keyless (Fulcio + Rekor). */
  keyRef?: string;
  signerOptions?: SignerOptions;
  /** Keyless: the OIDC token, or a file holding it (else SIGSTORE_ID_TOKEN, else GitHub Actions). */
  identityToken?: string;
  fulcioUrl?: string;
  /** Store the legacy `.att` manifest in this repository (`registry/repo`) instead of the image's (COSIGN_REPOSITORY). */
  signatureRepository?: string;
  bundleFormat?: boolean;
  tlogUpload?: boolean;
  rekorUrl?: string;
  now?: Date;
  registry?: RegistryOptions;
  env?: NodeJS.ProcessEnv;
  audit?: RecordOptions;
}

export interface AttestImageResult {
  format: "legacy" | "bundle";
  manifestDigest: string;
  predicateType: string;
  /** The statement signed (the DSSE payload). */
  statement: Buffer;
  /** The DSSE envelope as stored in a `.att` layer (legacy) or inside the bundle. */
  envelope: Buffer;
  /** Legacy: `registry/repo:sha256-<hex>.att`; bundle: `registry/repo@sha256:…` of the referrer. */
  location: string;
  pushedDigest: string;
  layers: number;
  /** Keyed: the key id; keyless: the certificate's SAN. */
  keyId: string;
  /** Keyless: the certificate's SAN and the token's issuer. */
  identity?: Record<string, string>;
  tlogEntries: number;
}

function sha256Of(data: Uint8Array): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** Attests an image in the registry (see the module comment). */
export async function attestImage(options: AttestImageOptions): Promise<AttestImageResult> {
  const env = options.env ?? process.env;
  return signAudited({
    operation: "attest",
    artifact: options.reference,
    env,
    ...signingKeyOptions(options),
    withoutKey: "keyless",
    prepare: (signer, event, secrets) => prepare(options, env, signer, event, secrets),
    store: push,
  });
}


interface Prepared {
  format: "legacy" | "bundle";
  client: RegistryClient;
  manifestDigest: string;
  subject: { mediaType: string; digest: string; size: number };
  predicateType: string;
  statement: Buffer;
  envelope: Buffer;
  bundle: Buffer;
  rekorAnnotation?: string;
  /** Keyless: the Fulcio certificate and chain (PEM) for the `.att` layer's annotations. */
  certificates?: { certificate: string; chain: string };
  now: Date;
  keyId: string;
  identity?: Record<string, string>;
  tlogEntries: number;
}

async function prepare(options: AttestImageOptions, env: NodeJS.ProcessEnv, signer: Signer | undefined, event: SigningEvent, secrets: string[]): Promise<Prepared> {
  const predicateType = predicateTypeOf(options.type);
  const predicateBytes = await readRegularFile(options.predicatePath, MAX_PREDICATE_BYTES);
  let predicate: unknown;
  try {
    predicate = JSON.parse(predicateBytes.toString("utf8"));
  } catch (e) {
    throw new InputError(`${options.predicatePath}: the predicate is not JSON (${(e as Error).message})`, { file: options.predicatePath });
  }
  const tlogUpload = options.tlogUpload ?? true;
  const rekorUrl = tlogUpload ? serviceUrl("--rekor-url", options.rekorUrl ?? PUBLIC_GOOD_REKOR_URL) : undefined;
  const format = options.bundleFormat === true ? "bundle" : "legacy";
  if (format === "bundle" && options.signatureRepository !== undefined) {
    throw new UsageError("--bundle-format: the bundle is a referrer in the image's own repository; another signature repository cannot be used");
  }
  const { sigstoreSigner, issuer } = await imageSigner({ signer, ...(options.identityToken !== undefined ? { identityToken: options.identityToken } : {}), ...(options.fulcioUrl !== undefined ? { fulcioUrl: options.fulcioUrl } : {}), rekorUrl }, env, secrets);
  const bare = options.reference.startsWith("registry:") ? options.reference.slice("registry:".length) : options.reference;
  const ref = parseRegistryReference(bare);
  const client = new RegistryClient(ref, { env, ...options.registry });
  let attClient = client;
  if (options.signatureRepository !== undefined) {
    const repo = options.signatureRepository;
    if (repo.includes("@") || repo.slice(repo.lastIndexOf("/") + 1).includes(":")) throw new UsageError(`signature repository ${repo}: name a repository, without a tag or digest`);
    const target = parseRegistryReference(repo);
    attClient = new RegistryClient({ registry: target.registry, apiHost: target.apiHost, repository: target.repository }, { env, ...options.registry });
  }
  const manifest = await client.getManifest(ref.digest ?? (ref.tag as string), DEFAULT_OCI_LIMITS.maxManifestBytes);
  const manifestDigest = ref.digest ?? manifest.digest;
  event.artifactDigest = manifestDigest;
  const hex = /^sha256:([0-9a-f]{64})$/.exec(manifestDigest)?.[1];
  if (hex === undefined) throw new InputError(`${manifestDigest}: only sha256 image digests are attested`);

  const statement = Buffer.from(
    JSON.stringify({ _type: IN_TOTO_STATEMENT_V01, predicateType, subject: [{ name: dockerReferenceOf(ref), digest: { sha256: hex } }], predicate }),
  );
  const builder = new DSSEBundleBuilder({ signer: sigstoreSigner, witnesses: witnesses({ ...(rekorUrl ? { rekorUrl } : {}), dsse: true }), certificateChain: false });
  let bundle;
  try {
    bundle = await builder.create({ data: statement, type: IN_TOTO_PAYLOAD_TYPE });
  } catch (e) {
    if (e instanceof Error && "exitCode" in e) throw e;
    const error = sigstoreServiceError(e, secrets);
    if (signer) error.message = error.message.replace(/^sigstore: /, `sigstore (key ${signer.ref}): `);
    throw error;
  }
  if (bundle.content.$case !== "dsseEnvelope") throw new InputError("sigstore-js returned a bundle without a DSSE envelope");
  const certs = signer ? undefined : keylessCertificates(bundle.verificationMaterial as Parameters<typeof keylessCertificates>[0], issuer, event);
  const json = bundleToJSON(bundle);
  const dsse = json.dsseEnvelope as { payload: string; payloadType: string; signatures: { sig: string; keyid: string }[] };
  // cosign's `.att` layer: the envelope as dsse.Envelope marshals it (payloadType, payload, signatures).
  const envelope = Buffer.from(JSON.stringify({ payloadType: dsse.payloadType, payload: dsse.payload, signatures: dsse.signatures.map((s) => ({ keyid: s.keyid, sig: s.sig })) }));
  const entry = bundle.verificationMaterial.tlogEntries[0];
  const subject = { mediaType: manifest.mediaType ?? MEDIA_TYPES.ociManifest, digest: manifestDigest, size: manifest.body.length };
  event.output = format === "legacy" ? `${attClient.description}:${attestationTagOf(manifestDigest)}` : `${client.description} (referrer of ${manifestDigest})`;
  return {
    format,
    client: format === "legacy" ? attClient : client,
    manifestDigest,
    subject,
    predicateType,
    statement,
    envelope,
    bundle: Buffer.from(JSON.stringify(json)),
    ...(entry && format === "legacy" ? { rekorAnnotation: rekorBundleAnnotation(entry) } : {}),
    ...(certs ? { certificates: { certificate: certs.certificate, chain: certs.chain }, identity: certs.identity } : {}),
    now: options.now ?? new Date(),
    keyId: event.keyId!,
    tlogEntries: bundle.verificationMaterial.tlogEntries.length,
  };
}


async function push(p: Prepared): Promise<AttestImageResult> {
  const common = { manifestDigest: p.manifestDigest, predicateType: p.predicateType, statement: p.statement, envelope: p.envelope, keyId: p.keyId, ...(p.identity ? { identity: p.identity } : {}), tlogEntries: p.tlogEntries };
  if (p.format === "bundle") {
    const referrer = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociManifest,
        artifactType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
        config: { mediaType: EMPTY_JSON_DESCRIPTOR.mediaType, artifactType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE, digest: EMPTY_JSON_DESCRIPTOR.digest, size: EMPTY_JSON_DESCRIPTOR.size },
        layers: [{ mediaType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE, digest: sha256Of(p.bundle), size: p.bundle.length }],
        subject: p.subject,
        annotations: {
          "org.opencontainers.image.created": p.now.toISOString().replace(/\.\d{3}Z$/, "Z"),
          "dev.sigstore.bundle.content": "dsse-envelope",
          "dev.sigstore.bundle.predicateType": p.predicateType,
        },
      }),
    );
    await p.client.pushBlob(p.bundle, sha256Of(p.bundle));
    await p.client.pushBlob(Buffer.from("{}"), EMPTY_JSON_DESCRIPTOR.digest);
    const pushed = await pushReferrer(p.client, referrer, MEDIA_TYPES.ociManifest);
    return { ...common, format: "bundle", location: `${p.client.description}@${pushed.digest}`, pushedDigest: pushed.digest, layers: 1 };
  }
  const tag = attestationTagOf(p.manifestDigest);
  const layers = await existingLayers(p.client, tag);
  const envelopeDigest = sha256Of(p.envelope);
  await p.client.pushBlob(p.envelope, envelopeDigest);
  const annotations: Record<string, string> = { [COSIGN_SIGNATURE_ANNOTATION]: "", [PREDICATE_TYPE_ANNOTATION]: p.predicateType };
  if (p.certificates !== undefined) {
    annotations[COSIGN_CERTIFICATE_ANNOTATION] = p.certificates.certificate;
    annotations[COSIGN_CHAIN_ANNOTATION] = p.certificates.chain;
  }
  if (p.rekorAnnotation !== undefined) annotations[COSIGN_BUNDLE_ANNOTATION] = p.rekorAnnotation;
  layers.push({ mediaType: DSSE_ENVELOPE_MEDIA_TYPE, size: p.envelope.length, digest: envelopeDigest, annotations });
  const config = signatureConfig(layers.map((l) => l.digest as string));
  const configDigest = sha256Of(config);
  await p.client.pushBlob(config, configDigest);
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: { mediaType: OCI_CONFIG_MEDIA_TYPE, size: config.length, digest: configDigest }, layers }),
  );
  const pushed = await p.client.putManifest(manifest, MEDIA_TYPES.ociManifest, tag);
  return { ...common, format: "legacy", location: `${p.client.description}:${tag}`, pushedDigest: pushed.digest, layers: layers.length };
}
