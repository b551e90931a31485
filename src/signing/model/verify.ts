/**
 * Verifying an OpenSSF model signature (model_signing's `model.sig`), as model_signing's verifiers do
 * (`verifying.py`, `signing.py`, `sign_ec_key.py`, `sign_certificate.py`, `sign_sigstore.py`):
 *
 * 1. the signature: a Sigstore bundle whose DSSE envelope is checked against who must have signed —
 *    an EC public key (`key`; the hash follows the curve), a Transit key in Vault (`hashivault`: Vault's
 *    `/verify` endpoint judges the signature), a certificate chaining to given trust anchors
 *    (`certificate`), or a keyless Sigstore identity (`keyless`: Fulcio chain, Rekor entry, identity,
 *    through tollgate's bundle verifier against a trusted root). Signatures of model_signing 0.2 (its
 *    non-standard PAE, and SHA-256 with certificates) are accepted as model_signing accepts them;
 * 2. the statement: in-toto v1, predicate `https://model_signing/signature/v1.0` (one subject whose
 *    digest must be the root digest of the resources) or the 0.2 compat `Digests/v0.1` (a subject per
 *    file);
 * 3. the model: re-hashed with the serialization the signature records (method, hash, shard size),
 *    leaving out the signature file, the signature's recorded ignore paths, git's files and the
 *    caller's; every file added, removed or changed is named and the verification fails.
 *
 * Every failure is a `VerificationFailedError` with a reason code (exit 1); unreadable inputs and bad
 * options are `InputError`/`UsageError` (exit 2).
 */
import { createHash, verify as cryptoVerify, type KeyObject, type X509Certificate } from "node:crypto";
import { stat } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type { TrustedRoot } from "@sigstore/protobuf-specs";
import { UnsafeInputError, VerificationFailedError } from "../../errors.ts";
import type { SignerOptions } from "../keys/types.ts";
import { parseBundle, readVerificationInput, MAX_BUNDLE_BYTES } from "../verify/bundle.ts";
import { verificationFailure } from "../verify/errors.ts";
import { publicKeyId } from "../verify/key.ts";
import type { VerificationPolicy } from "../verify/policy.ts";
import { verifyBundle } from "../verify/verifier.ts";
import { ecHashFor, modelKeyHint, pae, paeCompat } from "./dsse.ts";
import {
  compareResources,
  DEFAULT_SIGNATURE_NAME,
  IN_TOTO_PAYLOAD_TYPE,
  IN_TOTO_STATEMENT_V1,
  MAX_MODEL_FILES,
  MODEL_DIGESTS_COMPAT_PREDICATE_TYPE,
  MODEL_SIGNATURE_PREDICATE_TYPE,
  normalizeIgnorePath,
  rootDigest,
  serializeModel,
  type ModelHashType,
  type ModelResource,
  type ModelSerialization,
} from "./serialize.ts";
import { verifyCertificateChain } from "./x509-chain.ts";

export const SIGSTORE_BUNDLE_V03 = "application/vnd.dev.sigstore.bundle.v0.3+json";

/** Who must have signed. */
export type ModelTrust =
  | { readonly kind: "key"; readonly key: KeyObject }
  | { readonly kind: "hashivault"; readonly ref: string; readonly signerOptions?: SignerOptions }
  | { readonly kind: "certificate"; readonly anchors: readonly X509Certificate[] }
  | { readonly kind: "keyless"; readonly policy: Extract<VerificationPolicy, { kind: "certificate" }>; readonly trustRoot: TrustedRoot };

export interface VerifyModelSignatureOptions {
  /** The model directory (or single-file model). */
  modelPath: string;
  /** Default: `<model dir>/model.sig` (for a file model, `model.sig` beside it). */
  signaturePath?: string;
  trust: ModelTrust;
  /** More paths to leave out, relative to the model root. */
  ignorePaths?: readonly string[];
  /** Leave out `.git`, `.gitattributes`, `.github`, `.gitignore` (default true, as model_signing). */
  ignoreGitPaths?: boolean;
  /** Hash files reached through symbolic links (default false: a symlink fails the verification). */
  allowSymlinks?: boolean;
  /** Files the signature does not list are not checked (model_signing's `--ignore-unsigned-files`). */
  ignoreUnsignedFiles?: boolean;
  concurrency?: number;
}

export type ModelSigner =
  | { kind: "key"; keyId: string; hint?: string }
  | { kind: "hashivault"; ref: string; version: number }
  | { kind: "certificate"; subjects: string[]; fingerprint: string; checkedAt: string }
  | { kind: "keyless"; subject: string; issuer: string; signedAt?: string; tlogIndexes: string[] };

/** What a verified model signature says: the verified files. */
export interface ModelVerification {
  model: string;
  signature: string;
  predicateType: string;
  /** `v1.0` (model_signing ≥ 1.0 and 0.3) or `v0.2` (the compat predicate). */
  format: "v1.0" | "v0.2";
  /** model_signing 0.2's PAE was needed to check the signature. */
  compatPae: boolean;
  serialization: ModelSerialization;
  /** The statement's root digest (v1.0 format). */
  rootDigest?: string;
  /** The verified resources, in model_signing's order. */
  files: { name: string; algorithm: string; digest: string }[];
  signer: ModelSigner;
}

/** The signature path used when none is given: `model.sig` in the model directory, or beside a file model. */
export async function defaultModelSignaturePath(modelPath: string): Promise<string> {
  let isFile: boolean;
  try {
    isFile = (await stat(modelPath)).isFile();
  } catch {
    isFile = false;
  }
  return join(isFile ? dirname(modelPath) : modelPath, DEFAULT_SIGNATURE_NAME);
}

/** The signature's path relative to the model root, when it is inside the model (so it is left out of hashing). */
export function signatureInsideModel(modelPath: string, signaturePath: string): string | undefined {
  const rel = relative(resolve(modelPath), resolve(signaturePath));
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) return undefined;
  return rel.split(sep).join("/");
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function base64Field(value: unknown, where: string): Buffer {
  if (typeof value !== "string" || !BASE64.test(value.replace(/\r?\n/g, ""))) throw verificationFailure("BUNDLE", `${where} is not base64`);
  return Buffer.from(value, "base64");
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

interface Envelope {
  payloadType: string;
  payload: Buffer;
  signature: Buffer;
  material: Record<string, unknown>;
}

/** The DSSE envelope of a keyed or certificate signature (model_signing's protobuf bundle; v0.3 media type). */
function readEnvelope(json: Record<string, unknown>, source: string): Envelope {
  if (json.mediaType !== SIGSTORE_BUNDLE_V03) throw verificationFailure("BUNDLE", `${source}: media type ${JSON.stringify(json.mediaType)}, expected ${SIGSTORE_BUNDLE_V03}`);
  const envelope = obj(json.dsseEnvelope);
  if (!envelope) throw verificationFailure("BUNDLE", `${source}: no DSSE envelope (model signatures sign an in-toto statement)`);
  const material = obj(json.verificationMaterial);
  if (!material) throw verificationFailure("BUNDLE", `${source}: no verificationMaterial`);
  if (typeof envelope.payloadType !== "string") throw verificationFailure("BUNDLE", `${source}: dsseEnvelope.payloadType is missing`);
  const signatures = envelope.signatures;
  if (!Array.isArray(signatures) || signatures.length !== 1) throw verificationFailure("BUNDLE", `${source}: expected exactly one DSSE signature`);
  return {
    payloadType: envelope.payloadType,
    payload: base64Field(envelope.payload, `${source}: dsseEnvelope.payload`),
    signature: base64Field(obj(signatures[0])?.sig, `${source}: dsseEnvelope.signatures[0].sig`),
    material,
  };
}

function ecdsaVerify(hash: string, data: Buffer, key: KeyObject, signature: Buffer): boolean {
  try {
    return cryptoVerify(hash, data, { key, dsaEncoding: "der" }, signature);
  } catch {
    return false;
  }
}

function requireEcHash(key: KeyObject, what: string): string {
  const hash = ecHashFor(key);
  if (hash === undefined) throw verificationFailure("KEY", `${what} is not an ECDSA P-256, P-384 or P-521 key: model signatures are made only with those`);
  return hash;
}

/** The signature checked with a key: the DSSE PAE, then model_signing 0.2's (with `compatHash`). */
function checkWithKey(env: Envelope, key: KeyObject, hash: string, compatHash: string, what: string): boolean {
  if (ecdsaVerify(hash, pae(env.payload, env.payloadType), key, env.signature)) return false;
  if (ecdsaVerify(compatHash, paeCompat(env.payload, env.payloadType), key, env.signature)) return true;
  throw verificationFailure("SIGNATURE", `the signature does not verify with ${what}`);
}

async function authenticate(
  text: string,
  source: string,
  trust: ModelTrust,
): Promise<{ payloadType: string; payload: Buffer; signer: ModelSigner; compatPae: boolean }> {
  let json: Record<string, unknown> | undefined;
  try {
    json = obj(JSON.parse(text));
  } catch (e) {
    throw verificationFailure("BUNDLE", `${source}: not JSON (${(e as Error).message})`, e);
  }
  if (!json) throw verificationFailure("BUNDLE", `${source}: not a JSON object`);

  if (trust.kind === "keyless") {
    const material = obj(json.verificationMaterial);
    if (material?.publicKey !== undefined || material?.x509CertificateChain !== undefined) {
      throw verificationFailure(
        "KEY",
        `${source}: the signature is made with ${material.publicKey !== undefined ? "a key" : "a certificate chain (model_signing's certificate method)"}, not a keyless certificate: verify it with ${material.publicKey !== undefined ? "--key" : "--certificate-chain"}`,
      );
    }
    const bundle = parseBundle(text, source);
    if (bundle.content.$case !== "dsseEnvelope") throw verificationFailure("BUNDLE", `${source}: a message signature, not a DSSE envelope: not a model signature`);
    const payload = Buffer.from(bundle.content.dsseEnvelope.payload);
    const subject = firstSubjectDigest(payload, source);
    const result = verifyBundle(bundle, { kind: "digest", algorithm: "sha256", digest: subject }, trust.policy, trust.trustRoot);
    if (result.signer.kind !== "certificate") throw verificationFailure("IDENTITY", "the verified signer has no certificate identity");
    return {
      payloadType: bundle.content.dsseEnvelope.payloadType,
      payload,
      compatPae: false,
      signer: {
        kind: "keyless",
        subject: result.signer.subject,
        issuer: result.signer.issuer,
        ...(result.signedAt ? { signedAt: result.signedAt.toISOString() } : {}),
        tlogIndexes: result.tlogEntries.map((e) => String(e.logIndex)),
      },
    };
  }

  const env = readEnvelope(json, source);
  if (trust.kind === "certificate") {
    const chain = obj(env.material.x509CertificateChain);
    if (!chain) {
      throw verificationFailure("KEY", `${source}: the signature carries ${env.material.publicKey ? "a public key" : env.material.certificate ? "a keyless certificate" : "no certificate chain"}, not a certificate chain: verify it with ${env.material.publicKey ? "--key" : "the keyless identity flags"}`);
    }
    const certs = Array.isArray(chain.certificates) ? chain.certificates : [];
    const ders = certs.map((c, i) => base64Field(obj(c)?.rawBytes, `${source}: certificate ${i}`));
    const verified = verifyCertificateChain(ders, trust.anchors);
    const hash = requireEcHash(verified.publicKey, "the signing certificate's key");
    // model_signing 0.2 signed with SHA-256 whatever the curve; its verifier retries so.
    const compatPae = checkWithKey(env, verified.publicKey, hash, "sha256", "the signing certificate's key");
    return { payloadType: env.payloadType, payload: env.payload, compatPae, signer: { kind: "certificate", subjects: verified.subjects, fingerprint: verified.fingerprint, checkedAt: verified.checkedAt.toISOString() } };
  }

  const publicKey = obj(env.material.publicKey);
  if (!publicKey) {
    throw verificationFailure("KEY", `${source}: the signature is made with a certificate, not a key: verify it with ${env.material.x509CertificateChain ? "--certificate-chain" : "the keyless identity flags"}`);
  }
  const hint = typeof publicKey.hint === "string" && publicKey.hint !== "" ? publicKey.hint : undefined;

  if (trust.kind === "key") {
    const hash = requireEcHash(trust.key, "the given key");
    if (hint !== undefined && hint !== modelKeyHint(trust.key)) {
      throw verificationFailure("KEY", `${source}: the signature names another key (hint ${hint}, the given key's is ${modelKeyHint(trust.key)})`);
    }
    const compatPae = checkWithKey(env, trust.key, hash, hash, "the given key");
    return { payloadType: env.payloadType, payload: env.payload, compatPae, signer: { kind: "key", keyId: publicKeyId(trust.key), ...(hint ? { hint } : {}) } };
  }

  // hashivault: Vault's /verify endpoint judges the signature.
  const { openHashivaultVerifier } = await import("../keys/hashivault.ts");
  const verifier = await openHashivaultVerifier(trust.ref, trust.signerOptions ?? {});
  try {
    let versions = [...verifier.versions.keys()].sort((a, b) => b - a);
    if (hint !== undefined) {
      versions = versions.filter((v) => modelKeyHint(verifier.versions.get(v)!) === hint);
      if (versions.length === 0) throw verificationFailure("KEY", `${source}: the signature names a key (hint ${hint}) that is no version of ${trust.ref}`);
    }
    for (const version of versions) {
      for (const [compat, bytes] of [
        [false, pae(env.payload, env.payloadType)],
        [true, paeCompat(env.payload, env.payloadType)],
      ] as const) {
        const digest = createHash(verifier.hash).update(bytes).digest();
        if (await verifier.verifyDigest(digest, env.signature, version)) {
          return { payloadType: env.payloadType, payload: env.payload, compatPae: compat, signer: { kind: "hashivault", ref: trust.ref, version } };
        }
      }
    }
    throw verificationFailure("SIGNATURE", `Vault says the signature does not verify with ${trust.ref}${versions.length > 1 ? ` (versions ${versions.join(", ")})` : ""}`);
  } finally {
    await verifier.close();
  }
}

/** The first subject's SHA-256 of an in-toto payload (what a keyless bundle's binding is checked against). */
function firstSubjectDigest(payload: Buffer, source: string): Buffer {
  let statement: Record<string, unknown> | undefined;
  try {
    statement = obj(JSON.parse(payload.toString("utf8")));
  } catch {
    statement = undefined;
  }
  const subjects = statement?.subject;
  const sha = Array.isArray(subjects) ? obj(obj(subjects[0])?.digest)?.sha256 : undefined;
  if (typeof sha !== "string" || !/^[0-9a-f]{64}$/.test(sha)) throw verificationFailure("BUNDLE", `${source}: the in-toto statement has no subject with a sha256 digest`);
  return Buffer.from(sha, "hex");
}

/** The manifest a verified statement describes. */
export interface SignedManifest {
  predicateType: string;
  format: "v1.0" | "v0.2";
  modelName: string;
  serialization: ModelSerialization;
  resources: ModelResource[];
  rootDigest?: string;
}

const HEX = /^[0-9a-f]+$/;

function resourcePath(name: string, source: string): string {
  if (name === ".") return name;
  if (name === "" || name.startsWith("/") || name.includes("\\") || name.split("/").some((s) => s === "" || s === "." || s === "..")) {
    throw verificationFailure("BUNDLE", `${source}: resource name ${JSON.stringify(name)} is not a relative path inside the model`);
  }
  return name;
}

/** Reads the statement (model_signing's `dsse_payload_to_manifest`); fails with reason BUNDLE on anything malformed. */
export function manifestFromPayload(payloadType: string, payload: Buffer, source: string): SignedManifest {
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE) throw verificationFailure("BUNDLE", `${source}: DSSE payload type ${JSON.stringify(payloadType)}, expected ${IN_TOTO_PAYLOAD_TYPE}`);
  let statement: Record<string, unknown> | undefined;
  try {
    statement = obj(JSON.parse(payload.toString("utf8")));
  } catch (e) {
    throw verificationFailure("BUNDLE", `${source}: the payload is not JSON (${(e as Error).message})`, e);
  }
  if (!statement) throw verificationFailure("BUNDLE", `${source}: the payload is not a JSON object`);
  if (statement._type !== IN_TOTO_STATEMENT_V1) throw verificationFailure("BUNDLE", `${source}: statement type ${JSON.stringify(statement._type)}, expected ${IN_TOTO_STATEMENT_V1}`);
  const predicateType = statement.predicateType;
  const subjects = Array.isArray(statement.subject) ? statement.subject : undefined;
  if (!subjects) throw verificationFailure("BUNDLE", `${source}: the statement has no subject list`);
  if (subjects.length > MAX_MODEL_FILES) throw verificationFailure("BUNDLE", `${source}: more than ${MAX_MODEL_FILES} subjects`);

  if (predicateType === MODEL_DIGESTS_COMPAT_PREDICATE_TYPE) {
    const resources = subjects.map((s, i): ModelResource => {
      const name = obj(s)?.name;
      const digest = obj(obj(s)?.digest)?.sha256;
      if (typeof name !== "string" || typeof digest !== "string" || !HEX.test(digest) || digest.length !== 64) throw verificationFailure("BUNDLE", `${source}: subject ${i} is not a name with a sha256 digest`);
      return { name, path: resourcePath(name, source), algorithm: "sha256", digest };
    });
    checkUnique(resources, source);
    return {
      predicateType,
      format: "v0.2",
      modelName: "compat-undefined-not-present",
      serialization: { method: "files", hashType: "sha256", allowSymlinks: false, ignorePaths: [] },
      resources: resources.sort(compareResources),
    };
  }
  if (predicateType !== MODEL_SIGNATURE_PREDICATE_TYPE) {
    throw verificationFailure("BUNDLE", `${source}: predicate type ${JSON.stringify(predicateType)} is not a model signature (${MODEL_SIGNATURE_PREDICATE_TYPE} or ${MODEL_DIGESTS_COMPAT_PREDICATE_TYPE})`);
  }
  if (subjects.length !== 1) throw verificationFailure("BUNDLE", `${source}: expected one subject, found ${subjects.length}`);
  const modelName = obj(subjects[0])?.name;
  const expectedRoot = obj(obj(subjects[0])?.digest)?.sha256;
  if (typeof modelName !== "string" || typeof expectedRoot !== "string") throw verificationFailure("BUNDLE", `${source}: the subject has no name or sha256 digest`);
  const predicate = obj(statement.predicate);
  const ser = obj(predicate?.serialization);
  if (!ser) throw verificationFailure("BUNDLE", `${source}: the predicate has no serialization`);
  const serialization = serializationFrom(ser, source);
  const list = predicate?.resources;
  if (!Array.isArray(list)) throw verificationFailure("BUNDLE", `${source}: the predicate has no resources`);
  if (list.length > MAX_MODEL_FILES * 4) throw verificationFailure("BUNDLE", `${source}: too many resources (${list.length})`);
  const resources = list.map((r, i): ModelResource => {
    const o = obj(r);
    const name = o?.name;
    const algorithm = o?.algorithm;
    const digest = o?.digest;
    if (typeof name !== "string" || typeof algorithm !== "string" || typeof digest !== "string" || !HEX.test(digest) || digest.length % 2 !== 0) {
      throw verificationFailure("BUNDLE", `${source}: resource ${i} is not a name, algorithm and hex digest`);
    }
    if (serialization.method === "files") return { name, path: resourcePath(name, source), algorithm, digest };
    const parts = name.split(":");
    if (parts.length !== 3 || !/^\d+$/.test(parts[1]!) || !/^\d+$/.test(parts[2]!)) throw verificationFailure("BUNDLE", `${source}: shard resource ${JSON.stringify(name)} is not path:start:end`);
    return { name, path: resourcePath(parts[0]!, source), start: Number(parts[1]), end: Number(parts[2]), algorithm, digest };
  });
  // The root digest is over the resources in the order they are listed (model_signing checks it so).
  const computed = rootDigest(resources);
  if (computed !== expectedRoot) throw verificationFailure("BUNDLE", `${source}: the manifest is inconsistent: the root digest is ${expectedRoot}, the resources hash to ${computed}`);
  checkUnique(resources, source);
  return { predicateType, format: "v1.0", modelName, serialization, resources: resources.sort(compareResources), rootDigest: expectedRoot };
}

function checkUnique(resources: readonly ModelResource[], source: string): void {
  const seen = new Set<string>();
  for (const r of resources) {
    if (seen.has(r.name)) throw verificationFailure("BUNDLE", `${source}: resource ${JSON.stringify(r.name)} is listed twice`);
    seen.add(r.name);
  }
}

function serializationFrom(ser: Record<string, unknown>, source: string): ModelSerialization {
  const method = ser.method;
  if (method !== "files" && method !== "shards") throw verificationFailure("BUNDLE", `${source}: serialization method ${JSON.stringify(method)} is not supported (files, shards)`);
  const hashType = ser.hash_type;
  if (hashType === "blake3") throw verificationFailure("BUNDLE", `${source}: the model was hashed with BLAKE3, which tollgate does not compute (sign with sha256)`);
  if (hashType !== "sha256" && hashType !== "blake2b") throw verificationFailure("BUNDLE", `${source}: hash type ${JSON.stringify(hashType)} is not supported (sha256, blake2b)`);
  const allow = ser.allow_symlinks;
  const ignore = ser.ignore_paths;
  if (ignore !== undefined && (!Array.isArray(ignore) || ignore.some((p) => typeof p !== "string"))) throw verificationFailure("BUNDLE", `${source}: serialization.ignore_paths is not a list of paths`);
  let shardSize: number | undefined;
  if (method === "shards") {
    shardSize = typeof ser.shard_size === "number" ? ser.shard_size : NaN;
    if (!Number.isSafeInteger(shardSize) || shardSize < 1) throw verificationFailure("BUNDLE", `${source}: serialization.shard_size is not a positive whole number`);
  }
  return {
    method,
    hashType: hashType as ModelHashType,
    ...(shardSize !== undefined ? { shardSize } : {}),
    allowSymlinks: allow === true || allow === "true",
    ignorePaths: ((ignore as string[] | undefined) ?? []).map(normalizeIgnorePath).filter((p): p is string => p !== undefined),
  };
}

/** A short list of names for a message. */
function names(list: readonly string[]): string {
  const shown = list.slice(0, 20).join(", ");
  return list.length > 20 ? `${shown}, … (${list.length - 20} more)` : shown;
}

/** Compares the signed manifest with the model on disk; throws DIGEST_MISMATCH naming every difference. */
function compareManifests(expected: readonly ModelResource[], actual: readonly ModelResource[], model: string): void {
  const want = new Map(expected.map((r) => [r.name, r]));
  const have = new Map(actual.map((r) => [r.name, r]));
  const extra = actual.filter((r) => !want.has(r.name)).map((r) => r.name);
  const missing = expected.filter((r) => !have.has(r.name)).map((r) => r.name);
  const changed = expected.filter((r) => {
    const h = have.get(r.name);
    return h !== undefined && (h.digest !== r.digest || h.algorithm !== r.algorithm);
  });
  const parts: string[] = [];
  if (extra.length > 0) parts.push(`unsigned file${extra.length === 1 ? "" : "s"} added: ${names(extra)}`);
  if (missing.length > 0) parts.push(`signed file${missing.length === 1 ? "" : "s"} missing: ${names(missing)}`);
  if (changed.length > 0) {
    parts.push(
      `changed: ${names(changed.map((r) => {
        const h = have.get(r.name)!;
        return `${r.name} (signed ${r.algorithm}:${r.digest.slice(0, 16)}…, found ${h.algorithm}:${h.digest.slice(0, 16)}…)`;
      }))}`,
    );
  }
  if (parts.length > 0) throw verificationFailure("DIGEST_MISMATCH", `${model} does not match its signature: ${parts.join("; ")}`);
}

/** Verifies a model signature and re-hashes the model (see the module comment). Returns the verified files. */
export async function verifyModelSignature(options: VerifyModelSignatureOptions): Promise<ModelVerification> {
  const modelPath = options.modelPath;
  const signaturePath = options.signaturePath ?? (await defaultModelSignaturePath(modelPath));
  const text = (await readVerificationInput(signaturePath, MAX_BUNDLE_BYTES, "model signature")).toString("utf8");
  const auth = await authenticate(text, signaturePath, options.trust);
  const manifest = manifestFromPayload(auth.payloadType, auth.payload, signaturePath);

  const inside = signatureInsideModel(modelPath, signaturePath);
  const ignorePaths = [...(options.ignorePaths ?? []), ...manifest.serialization.ignorePaths, ...(inside !== undefined ? [inside] : [])];
  let actual;
  try {
    actual = await serializeModel(modelPath, {
      method: manifest.serialization.method,
      hashType: manifest.serialization.hashType,
      ...(manifest.serialization.shardSize !== undefined ? { shardSize: manifest.serialization.shardSize } : {}),
      allowSymlinks: options.allowSymlinks === true,
      ignorePaths,
      ignoreGitPaths: options.ignoreGitPaths ?? true,
      ...(options.ignoreUnsignedFiles === true ? { onlyPaths: [...new Set(manifest.resources.map((r) => r.path))] } : {}),
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    });
  } catch (e) {
    // A symlink or special file where the signature has a file: the model is not what was signed.
    if (e instanceof UnsafeInputError) throw verificationFailure("DIGEST_MISMATCH", e.message, e);
    throw e;
  }
  compareManifests(manifest.resources, actual.resources, modelPath);
  return {
    model: modelPath,
    signature: signaturePath,
    predicateType: manifest.predicateType,
    format: manifest.format,
    compatPae: auth.compatPae,
    serialization: manifest.serialization,
    ...(manifest.rootDigest !== undefined ? { rootDigest: manifest.rootDigest } : {}),
    files: manifest.resources.map((r) => ({ name: r.name, algorithm: r.algorithm, digest: r.digest })),
    signer: auth.signer,
  };
}

/** A failure with the model named, for the CLI and the load-time API. */
export function modelVerificationFailure(model: string, e: unknown): unknown {
  if (e instanceof VerificationFailedError) {
    return new VerificationFailedError(`verify model: ${model}: verification failed [${e.reason}]: ${e.message}`, { reason: e.reason, cause: e });
  }
  return e;
}
