/**
 * containers/image "simple signing" with OpenPGP (the signatures podman, CRI-O and skopeo check with a
 * `signedBy` policy requirement; reference: signing-formats.md §2.4, containers/image
 * `signature/simple.go` and `docs/containers-signature.5.md`).
 *
 * The signature is an OpenPGP *signed message* (one-pass signature, literal data, signature; not a
 * detached signature) whose literal data is the JSON
 *
 *   {"critical":{"identity":{"docker-reference":"<registry/repo:tag>"},
 *                "image":{"docker-manifest-digest":"sha256:…"},"type":"atomic container signature"},
 *    "optional":{"creator":"tollgate …","timestamp":<unix seconds>}}
 *
 * containers/image accepts exactly these fields (no others in `critical`; `optional` may hold
 * `creator` and an integer `timestamp`). The docker-reference carries the tag the image was signed
 * under, as `skopeo copy --sign-by` writes it: the default `signedIdentity`, `matchRepoDigestOrExact`,
 * accepts it for that tag and for any digest reference of the repository.
 *
 * Signatures are stored where containers/image reads them, a "lookaside" directory
 * (registries.d `lookaside: file:///DIR`): `DIR/<repository path>@sha256=<hex>/signature-N`, N
 * counting from 1 with no gaps. A new signature takes the first free N; it is written to a temporary
 * file and hard-linked into place, so an existing signature is never overwritten and a reader never
 * sees half a file.
 */
import { randomBytes } from "node:crypto";
import { link, mkdir, open, readdir, unlink } from "node:fs/promises";
import { join, normalize } from "node:path";
import * as openpgp from "openpgp";
import { recordSigningEvent, signerIdentity, type RecordOptions, type SigningEvent } from "../audit/index.ts";
import { InputError, UsageError } from "../errors.ts";
import { readRegularFile } from "../io/files.ts";
import { redactSecrets } from "../io/text.ts";
import { parseRegistryReference, RegistryClient, type RegistryOptions, type RegistryReference } from "../oci/registry.ts";
import { DEFAULT_OCI_LIMITS } from "../oci/types.ts";

/** `critical.type` of a containers/image simple signature. */
export const ATOMIC_SIGNATURE_TYPE = "atomic container signature";
/** The largest armored private key file read. */
const MAX_KEY_FILE_BYTES = 1024 * 1024;
/** containers/image stops at this many signatures per image; so does the numbering here. */
const MAX_SIGNATURES = 1000;

const DIGEST_RE = /^sha256:[0-9a-f]{64}$|^sha512:[0-9a-f]{128}$/;

export interface AtomicSignaturePayload {
  /** `critical.identity.docker-reference`: registry/repository with its tag (or digest). */
  dockerReference: string;
  manifestDigest: string;
  creator?: string;
  /** Unix seconds. */
  timestamp?: number;
}

/** The payload JSON as containers/image writes it (`untrustedSignature.MarshalJSON`). */
export function buildAtomicSignaturePayload(payload: AtomicSignaturePayload): Buffer {
  if (payload.dockerReference === "") throw new InputError("atomic signature: docker-reference is empty");
  if (!DIGEST_RE.test(payload.manifestDigest)) throw new InputError(`atomic signature: ${JSON.stringify(payload.manifestDigest.slice(0, 140))} is not a manifest digest`);
  const optional: Record<string, unknown> = {};
  if (payload.creator !== undefined) optional["creator"] = payload.creator;
  if (payload.timestamp !== undefined) {
    if (!Number.isSafeInteger(payload.timestamp)) throw new InputError("atomic signature: timestamp must be an integer");
    optional["timestamp"] = payload.timestamp;
  }
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { "docker-reference": payload.dockerReference },
        image: { "docker-manifest-digest": payload.manifestDigest },
        type: ATOMIC_SIGNATURE_TYPE,
      },
      optional,
    }),
  );
}

/**
 * The docker reference containers/image uses for an image (reference.Named's String()): the
 * registry (Docker Hub as `docker.io`), the repository, and the tag or digest.
 */
export function containersDockerReference(ref: RegistryReference): string {
  const name = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) return `${name}:${ref.tag}`;
  return `${name}@${ref.digest as string}`;
}

/** `<repository path>@<algo>=<hex>`: the lookaside directory of one manifest's signatures. */
export function lookasideDirectory(baseDir: string, repository: string, manifestDigest: string): string {
  if (!DIGEST_RE.test(manifestDigest)) throw new InputError(`${manifestDigest.slice(0, 140)}: not a manifest digest`);
  if (normalize(repository) !== repository || repository.startsWith("/") || repository.split("/").some((c) => c === "" || c === "." || c === "..")) {
    throw new InputError(`${repository.slice(0, 200)}: unexpected path elements in a repository name`);
  }
  const [algorithm, hex] = manifestDigest.split(":") as [string, string];
  return join(baseDir, `${repository}@${algorithm}=${hex}`);
}

/**
 * Reads an armored (or binary) OpenPGP private key and unlocks it with the password when it is
 * encrypted; `passwordVariable` is the environment variable named when the password is missing.
 */
export async function readOpenPgpSigningKey(path: string, password: string | undefined, passwordVariable = "TOLLGATE_PASSWORD"): Promise<openpgp.PrivateKey> {
  const bytes = await readRegularFile(path, MAX_KEY_FILE_BYTES);
  let key: openpgp.PrivateKey;
  try {
    const text = bytes.toString("utf8");
    key = text.includes("-----BEGIN PGP PRIVATE KEY BLOCK-----") ? await openpgp.readPrivateKey({ armoredKey: text }) : await openpgp.readPrivateKey({ binaryKey: bytes });
  } catch (e) {
    throw new UsageError(`${path}: not an OpenPGP private key (${e instanceof Error ? e.message.split("\n")[0] : String(e)})`);
  } finally {
    bytes.fill(0);
  }
  if (key.isDecrypted()) return key;
  if (password === undefined || password === "") throw new UsageError(`${path}: the OpenPGP key is encrypted: set ${passwordVariable}`);
  try {
    return await openpgp.decryptKey({ privateKey: key, passphrase: password });
  } catch {
    throw new UsageError(`${path}: cannot unlock the OpenPGP key (wrong password?)`);
  }
}

/** The OpenPGP signed message (binary, not detached) over the payload. */
export async function signAtomicPayload(payload: Uint8Array, key: openpgp.PrivateKey): Promise<Uint8Array> {
  const message = await openpgp.createMessage({ binary: payload });
  return await openpgp.sign({ message, signingKeys: key, format: "binary" });
}

/**
 * Stores a signature as the next `signature-N` of the lookaside directory: written and flushed to a
 * temporary file, then hard-linked to the first free name (link fails on an existing name, so nothing
 * is overwritten; a concurrent writer makes this one take the next number). Returns the path.
 */
export async function storeLookasideSignature(dir: string, signature: Uint8Array): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const tmp = join(dir, `.signature.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
  const handle = await open(tmp, "wx", 0o644);
  try {
    await handle.writeFile(signature);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    const names = new Set(await readdir(dir));
    for (let n = 1; n <= MAX_SIGNATURES; n++) {
      const name = `signature-${n}`;
      if (names.has(name)) continue;
      const target = join(dir, name);
      try {
        await link(tmp, target);
        return target;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EEXIST") continue;
        throw e;
      }
    }
    throw new InputError(`${dir}: already holds ${MAX_SIGNATURES} signatures`);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

export interface SignImageOpenPgpOptions {
  reference: string;
  /** The OpenPGP private key file (armored or binary). */
  keyFile: string;
  /** The key's password (TOLLGATE_PASSWORD), for an encrypted key. */
  password?: string;
  /** The lookaside base directory (registries.d `lookaside: file:///DIR`). */
  signatureDir: string;
  registry?: RegistryOptions;
  env?: NodeJS.ProcessEnv;
  audit?: RecordOptions;
  /** The signing time (default: now). */
  now?: Date;
  creator?: string;
}

export interface SignImageOpenPgpResult {
  dockerReference: string;
  manifestDigest: string;
  fingerprint: string;
  path: string;
}

/** Resolves the image to its manifest digest, signs the atomic-signature payload, stores it in the lookaside directory. */
export async function signImageOpenPgp(options: SignImageOpenPgpOptions): Promise<SignImageOpenPgpResult> {
  const env = options.env ?? process.env;
  const audit: RecordOptions = { env, ...options.audit };
  const event: SigningEvent = { operation: "sign image", artifact: options.reference, artifactDigest: "", result: "failure", signer: signerIdentity(env), backend: "openpgp", keyRef: options.keyFile };
  const secrets = options.password ? [options.password] : [];
  try {
    const bare = options.reference.startsWith("registry:") ? options.reference.slice("registry:".length) : options.reference;
    const ref = parseRegistryReference(bare);
    const key = await readOpenPgpSigningKey(options.keyFile, options.password);
    const fingerprint = key.getFingerprint().toUpperCase();
    event.keyId = fingerprint;
    const client = new RegistryClient(ref, { env, ...options.registry });
    const manifest = await client.getManifest(ref.digest ?? (ref.tag as string), DEFAULT_OCI_LIMITS.maxManifestBytes);
    const manifestDigest = ref.digest ?? manifest.digest;
    event.artifactDigest = manifestDigest;
    const dockerReference = containersDockerReference(ref);
    const payload = buildAtomicSignaturePayload({
      dockerReference,
      manifestDigest,
      creator: options.creator ?? "tollgate",
      timestamp: Math.floor((options.now ?? new Date()).getTime() / 1000),
    });
    const signature = await signAtomicPayload(payload, key);
    const dir = lookasideDirectory(options.signatureDir, ref.repository, manifestDigest);
    // The audit entry comes first: no signature is stored without one.
    event.result = "success";
    event.output = dir;
    await recordSigningEvent(event, audit);
    const path = await storeLookasideSignature(dir, signature);
    return { dockerReference, manifestDigest, fingerprint, path };
  } catch (e) {
    // A failure before the success entry, or storing the signature after it, is recorded as a failure.
    event.result = "failure";
    event.error = redactSecrets(e instanceof Error ? e.message : String(e), secrets).split("\n")[0];
    await recordSigningEvent(event, audit).catch(() => undefined);
    throw e;
  }
}

/** An atomic signature that does not verify or whose payload containers/image would refuse. */
export class AtomicSignatureError extends InputError {
  constructor(problem: string) {
    super(`atomic container signature: ${problem}`);
    this.name = "AtomicSignatureError";
  }
}

function exactKeys(value: unknown, keys: readonly string[], where: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new AtomicSignatureError(`${where} is not an object`);
  const record = value as Record<string, unknown>;
  const present = Object.keys(record).sort();
  if (present.join("\n") !== [...keys].sort().join("\n")) throw new AtomicSignatureError(`${where} has fields ${JSON.stringify(present)}, expected ${JSON.stringify(keys)}`);
  return record;
}

/** Parses the payload as strictly as containers/image (`untrustedSignature.strictUnmarshalJSON`). */
export function parseAtomicSignaturePayload(bytes: Uint8Array): AtomicSignaturePayload {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    throw new AtomicSignatureError("the payload is not JSON");
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) throw new AtomicSignatureError("the payload is not an object");
  const top = doc as Record<string, unknown>;
  for (const k of Object.keys(top)) if (k !== "critical" && k !== "optional") throw new AtomicSignatureError(`the payload has an unknown field ${JSON.stringify(k.slice(0, 100))}`);
  const critical = exactKeys(top["critical"], ["identity", "image", "type"], "critical");
  if (critical["type"] !== ATOMIC_SIGNATURE_TYPE) throw new AtomicSignatureError(`critical.type is ${JSON.stringify(critical["type"])}, not ${JSON.stringify(ATOMIC_SIGNATURE_TYPE)}`);
  const identity = exactKeys(critical["identity"], ["docker-reference"], "critical.identity");
  const image = exactKeys(critical["image"], ["docker-manifest-digest"], "critical.image");
  const dockerReference = identity["docker-reference"];
  const manifestDigest = image["docker-manifest-digest"];
  if (typeof dockerReference !== "string" || dockerReference === "") throw new AtomicSignatureError("critical.identity.docker-reference is not a string");
  if (typeof manifestDigest !== "string" || !DIGEST_RE.test(manifestDigest)) throw new AtomicSignatureError("critical.image.docker-manifest-digest is not a digest");
  const out: AtomicSignaturePayload = { dockerReference, manifestDigest };
  if (top["optional"] !== undefined) {
    const optional = top["optional"];
    if (optional === null || typeof optional !== "object" || Array.isArray(optional)) throw new AtomicSignatureError("optional is not an object");
    const o = optional as Record<string, unknown>;
    for (const k of Object.keys(o)) if (k !== "creator" && k !== "timestamp") throw new AtomicSignatureError(`optional has an unknown field ${JSON.stringify(k.slice(0, 100))}`);
    if (o["creator"] !== undefined) {
      if (typeof o["creator"] !== "string") throw new AtomicSignatureError("optional.creator is not a string");
      out.creator = o["creator"];
    }
    if (o["timestamp"] !== undefined) {
      if (typeof o["timestamp"] !== "number" || !Number.isSafeInteger(o["timestamp"])) throw new AtomicSignatureError("optional.timestamp is not an integer");
      out.timestamp = o["timestamp"];
    }
  }
  return out;
}

/**
 * Verifies an atomic signature (a binary OpenPGP signed message) with these public keys: exactly one
 * signature, made by one of the keys (or their subkeys), valid now (not expired, key not revoked);
 * then the payload parsed strictly. Fails closed with AtomicSignatureError.
 */
export async function verifyAtomicSignature(signature: Uint8Array, verificationKeys: openpgp.PublicKey[], date: Date = new Date()): Promise<{ payload: AtomicSignaturePayload; payloadBytes: Uint8Array; signingKeyId: string }> {
  let message: openpgp.Message<Uint8Array>;
  try {
    message = await openpgp.readMessage({ binaryMessage: signature });
  } catch (e) {
    throw new AtomicSignatureError(`not an OpenPGP message (${e instanceof Error ? e.message.split("\n")[0] : String(e)})`);
  }
  let data: Uint8Array;
  let signingKeyId: string;
  try {
    const result = await openpgp.verify({ message, verificationKeys, format: "binary", expectSigned: true, date });
    if (result.signatures.length !== 1) throw new Error(`${result.signatures.length} signatures, expected exactly one`);
    const only = result.signatures[0]!;
    await only.verified;
    signingKeyId = only.keyID.toHex().toUpperCase();
    data = result.data;
  } catch (e) {
    throw new AtomicSignatureError(`the signature does not verify (${e instanceof Error ? e.message.split("\n")[0] : String(e)})`);
  }
  return { payload: parseAtomicSignaturePayload(data), payloadBytes: data, signingKeyId };
}
