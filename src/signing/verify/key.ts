/**
 * The verification key of keyed (non-Fulcio) bundles: a PEM public key given by the user (`--key`).
 * A bundle's `publicKey.hint` is unauthenticated (anyone can write any hint), so it never selects the
 * key: the given key is the only one tried, whatever the hint says (as cosign does).
 */
import { createHash, createPublicKey, type KeyObject } from "node:crypto";
import type { KeyFinderFunc } from "@sigstore/verify";
import { existsSync } from "node:fs";
import { InputError, UsageError } from "../../errors.ts";
import type { SignerOptions } from "../keys/types.ts";
import { readVerificationInput } from "./bundle.ts";

/** A public key file is a few hundred bytes. */
export const MAX_PUBLIC_KEY_BYTES = 64 * 1024;

/** Parses a PEM public key (SubjectPublicKeyInfo or PKCS#1 RSA); a malformed key is an `InputError` (exit 2). */
export function parsePublicKeyPem(pem: string, source: string): KeyObject {
  if (!pem.includes("-----BEGIN")) throw new InputError("not a PEM public key (no BEGIN line)", { file: source });
  if (pem.includes("PRIVATE KEY-----")) throw new InputError("this is a private key; --key takes the public key", { file: source });
  try {
    return createPublicKey({ key: pem, format: "pem" });
  } catch (e) {
    throw new InputError(`not a valid PEM public key (${(e as Error).message})`, { file: source, cause: e });
  }
}

/**
 * The public key `--key` names: a PEM public key file, or, as cosign's `--key` takes them, a key
 * reference (`pkcs11:…`, `hashivault://…`, `awskms://…`, `gcpkms://…`), whose public key its backend
 * reports (`openSigner(ref).publicKeyPem()`; nothing is signed).
 */
export async function readPublicKey(path: string, options: SignerOptions = {}): Promise<KeyObject> {
  if (/^[a-z][a-z0-9+.-]*:/i.test(path) && !existsSync(path)) {
    const { keySourceFor, openSigner } = await import("../keys/index.ts");
    const source = keySourceFor(path);
    if (!source || source.backend === "file") throw new UsageError(`--key ${path.replace(/:.*$/, ":…")}: not a public key file nor a key reference tollgate reads`);
    const signer = await openSigner(path, options);
    try {
      return parsePublicKeyPem(await signer.publicKeyPem(), signer.ref);
    } finally {
      await signer.close();
    }
  }
  const bytes = await readVerificationInput(path, MAX_PUBLIC_KEY_BYTES, "public key");
  return parsePublicKeyPem(bytes.toString("utf8"), path);
}

/** A key finder for sigstore-js's trust material that returns the given key, valid at any time, for any hint. */
export function givenKeyFinder(key: KeyObject): KeyFinderFunc {
  return () => ({ publicKey: key, validFor: () => true });
}

/** The key id tollgate reports: lowercase hex SHA-256 of the DER SubjectPublicKeyInfo (as `Signer.keyId`). */
export function publicKeyId(key: KeyObject): string {
  return createHash("sha256").update(key.export({ type: "spki", format: "der" })).digest("hex");
}
