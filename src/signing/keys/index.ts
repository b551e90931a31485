/**
 * Opening a key reference: each backend is a `KeySource` that claims the references it reads by
 * scheme (`pkcs11:`, `hashivault://`, `awskms://`, `gcpkms://`…); file keys take every reference
 * without a scheme, so they come last. Image, blob and model signing open keys only through here.
 */
import { UsageError } from "../../errors.ts";
import { awskmsSource } from "./aws-kms.ts";
import { fileSource, hasKeyScheme } from "./file.ts";
import { gcpkmsSource } from "./gcp-kms.ts";
import { hashivaultSource } from "./hashivault.ts";
import { pkcs11Source } from "./pkcs11.ts";
import type { KeySource, Signer, SignerOptions } from "./types.ts";

export type { DigestAlgorithm, KeySource, Signer, SignerOptions, SigningAlgorithm } from "./types.ts";

/**
 * The backends, tried in order. To add one: import its `KeySource` above and add one line to this
 * list, before `fileSource` (which must stay last: it takes whatever no scheme claims).
 */
export const KEY_SOURCES: readonly KeySource[] = [
  hashivaultSource,
  pkcs11Source,
  awskmsSource,
  gcpkmsSource,
  fileSource, // last
];

/** The backend that reads `ref`, or undefined. */
export function keySourceFor(ref: string): KeySource | undefined {
  return KEY_SOURCES.find((source) => source.handles(ref));
}

/** Opens the key a reference names as a Signer (close it when done). A scheme no backend reads is a UsageError. */
export async function openSigner(ref: string, options: SignerOptions = {}): Promise<Signer> {
  if (ref === "") throw new UsageError("empty key reference");
  const source = keySourceFor(ref);
  if (!source) {
    // Only the scheme is shown: the rest of a URI may carry a secret (a PKCS#11 pin-value).
    const scheme = hasKeyScheme(ref) ? ref.slice(0, ref.indexOf(":")) : "?";
    const schemes = KEY_SOURCES.filter((s) => s !== fileSource).map((s) => s.backend);
    throw new UsageError(
      `key reference scheme "${scheme}:" is not supported (supported: a key file path${schemes.length > 0 ? `, ${schemes.join(", ")}` : ""}; a file whose name has a colon is written ./NAME)`,
    );
  }
  return source.open(ref, options);
}
