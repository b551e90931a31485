/**
 * `tollgate verify image --gpg-keyring FILE --signature-dir DIR`: containers/image OpenPGP "simple
 * signing" signatures of an image (what `sign image --gpg-key` and `skopeo copy --sign-by` write), read
 * from a lookaside directory (registries.d `lookaside: file:///DIR`,
 * `DIR/<repository>@sha256=<hex>/signature-N`, N from 1 with no gaps) and checked as containers/image's
 * `signedBy` requirement does:
 *
 * - the image reference is resolved to its manifest digest in the registry (the manifest's bytes hashed);
 * - each signature is a binary OpenPGP signed message made by a key of the keyring, valid now
 *   (verifyAtomicSignature), whose payload parses strictly;
 * - the payload's `docker-manifest-digest` is the image's digest;
 * - its `docker-reference` satisfies `matchRepoDigestOrExact` (containers/image's default identity
 *   policy): for an image named by digest, the same repository; for a tag, exactly that tag.
 *
 * The image verifies when at least one signature satisfies all of it; otherwise VerificationFailedError.
 */
import * as openpgp from "openpgp";
import { InputError, VerificationFailedError, type VerificationReason } from "../errors.ts";
import { readRegularFile } from "../io/files.ts";
import { parseRegistryReference, RegistryClient, type RegistryOptions, type RegistryReference } from "../oci/registry.ts";
import { DEFAULT_OCI_LIMITS } from "../oci/types.ts";
import { AtomicSignatureError, lookasideDirectory, verifyAtomicSignature, type AtomicSignaturePayload } from "./openpgp-signing.ts";
import { imageReferenceArgument } from "./verify-image.ts";

/** The largest keyring read. */
const MAX_KEYRING_BYTES = 16 * 1024 * 1024;
/** The largest signature file read (a signature is a few hundred bytes). */
const MAX_SIGNATURE_FILE_BYTES = 1024 * 1024;
/** containers/image reads at most this many `signature-N` files. */
const MAX_SIGNATURES = 1000;

export interface VerifiedOpenPgpSignature {
  readonly path: string;
  readonly payload: AtomicSignaturePayload;
  /** The JSON payload as signed. */
  readonly json: Record<string, unknown>;
  readonly signingKeyId: string;
}

export interface OpenPgpImageVerification {
  readonly imageDigest: string;
  readonly verified: readonly VerifiedOpenPgpSignature[];
  readonly failures: readonly { path: string; reason: VerificationReason; message: string }[];
}

/** Reads a keyring: binary (`gpg --export`, the `keyPath` of a policy.json) or armored, one or more public keys. */
export async function readOpenPgpKeyring(path: string): Promise<openpgp.PublicKey[]> {
  const bytes = await readRegularFile(path, MAX_KEYRING_BYTES);
  try {
    const text = bytes.toString("latin1");
    const keys = text.includes("-----BEGIN PGP PUBLIC KEY BLOCK-----") ? await openpgp.readKeys({ armoredKeys: bytes.toString("utf8") }) : await openpgp.readKeys({ binaryKeys: bytes });
    if (keys.length === 0) throw new Error("no key in it");
    return keys.map((k) => k.toPublic());
  } catch (e) {
    throw new InputError(`not an OpenPGP keyring (${e instanceof Error ? e.message.split("\n")[0] : String(e)})`, { file: path });
  }
}

/** containers/image's `matchRepoDigestOrExact`: by digest, the same repository; by tag, the same reference. */
export function matchRepoDigestOrExact(image: RegistryReference, signedReference: string): boolean {
  let signed: RegistryReference;
  try {
    signed = parseRegistryReference(signedReference);
  } catch {
    return false;
  }
  if (signed.registry !== image.registry || signed.repository !== image.repository) return false;
  if (image.digest !== undefined) return true;
  // A signature names a tag or a digest; a name without either parses as `latest` above, so it must be explicit.
  const explicitTag = /:[^/@]+$/.test(signedReference);
  return explicitTag && signed.digest === undefined && signed.tag === image.tag;
}

/** Verifies the lookaside OpenPGP signatures of the image `reference` with the keys of `keyringPath`. */
export async function verifyImageOpenPgp(
  reference: string,
  options: { keyringPath: string; signatureDir: string; registry?: RegistryOptions; now?: Date },
): Promise<OpenPgpImageVerification> {
  const keys = await readOpenPgpKeyring(options.keyringPath);
  const ref = parseRegistryReference(imageReferenceArgument(reference));
  const client = new RegistryClient(ref, options.registry ?? {});
  const manifest = await client.getManifest(ref.digest ?? ref.tag ?? "latest", DEFAULT_OCI_LIMITS.maxManifestBytes);
  const imageDigest = manifest.digest; // computed from the bytes read (and checked against a digest reference)
  const dir = lookasideDirectory(options.signatureDir, ref.repository, imageDigest);
  const verified: VerifiedOpenPgpSignature[] = [];
  const failures: { path: string; reason: VerificationReason; message: string }[] = [];
  for (let n = 1; n <= MAX_SIGNATURES; n++) {
    const path = `${dir}/signature-${n}`;
    let bytes: Buffer;
    try {
      bytes = await readRegularFile(path, MAX_SIGNATURE_FILE_BYTES);
    } catch (e) {
      if (e instanceof InputError && e.code === "NOT_FOUND") break; // signature-N with no gaps, as containers/image reads them
      throw e;
    }
    try {
      const { payload, payloadBytes, signingKeyId } = await verifyAtomicSignature(bytes, keys, options.now);
      if (payload.manifestDigest !== imageDigest) {
        failures.push({ path, reason: "DIGEST_MISMATCH", message: `${path}: the signature is for ${payload.manifestDigest}, not for this image (${imageDigest})` });
        continue;
      }
      if (!matchRepoDigestOrExact(ref, payload.dockerReference)) {
        failures.push({ path, reason: "POLICY", message: `${path}: the signature names ${JSON.stringify(payload.dockerReference)}, which does not match ${reference} (matchRepoDigestOrExact)` });
        continue;
      }
      verified.push({ path, payload, json: JSON.parse(Buffer.from(payloadBytes).toString("utf8")) as Record<string, unknown>, signingKeyId });
    } catch (e) {
      if (!(e instanceof AtomicSignatureError)) throw e;
      failures.push({ path, reason: "SIGNATURE", message: `${path}: ${e.message}` });
    }
  }
  if (verified.length > 0) return { imageDigest, verified, failures };
  if (failures.length === 0) throw new VerificationFailedError(`${imageDigest}: no OpenPGP signature in ${dir}`, { reason: "NOT_SIGNED" });
  const decisive = failures.find((f) => f.reason !== "SIGNATURE") ?? failures[0]!;
  const more = failures.length > 1 ? ` (and ${failures.length - 1} more signature(s) that failed)` : "";
  throw new VerificationFailedError(`${decisive.message}${more}`, { reason: decisive.reason });
}
