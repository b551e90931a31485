/**
 * The bytes a model signature signs: DSSE's pre-authentication encoding of the in-toto payload, and
 * the broken encoding of model_signing 0.2 (`DSSEV1`, the payload written as Python's `repr` of the
 * bytes) that model_signing's verifiers still accept for signatures made then.
 */
import { createHash, createPublicKey, type KeyObject } from "node:crypto";
import type { DigestAlgorithm } from "../keys/types.ts";
import { IN_TOTO_PAYLOAD_TYPE } from "./serialize.ts";

/** `DSSEv1 <len(type)> <type> <len(payload)> <payload>` (DSSE v1.0 protocol). */
export function pae(payload: Uint8Array, payloadType = IN_TOTO_PAYLOAD_TYPE): Buffer {
  const type = Buffer.from(payloadType, "utf8");
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

/** Python's `repr(bytes)`: `b'…'` with `\\`, `\t`, `\n`, `\r`, the quote and non-printable bytes escaped. */
export function pythonBytesRepr(data: Uint8Array): string {
  const hasSingle = data.includes(0x27);
  const hasDouble = data.includes(0x22);
  const quote = hasSingle && !hasDouble ? 0x22 : 0x27;
  let out = "b" + String.fromCharCode(quote);
  for (const b of data) {
    if (b === quote || b === 0x5c) out += "\\" + String.fromCharCode(b);
    else if (b === 0x09) out += "\\t";
    else if (b === 0x0a) out += "\\n";
    else if (b === 0x0d) out += "\\r";
    else if (b < 0x20 || b >= 0x7f) out += "\\x" + b.toString(16).padStart(2, "0");
    else out += String.fromCharCode(b);
  }
  return out + String.fromCharCode(quote);
}

/** model_signing 0.2's encoding (`pae_compat`): `DSSEV1 <len> <type> <len> b'<payload escaped>'`. */
export function paeCompat(payload: Uint8Array, payloadType = IN_TOTO_PAYLOAD_TYPE): Buffer {
  return Buffer.from(`DSSEV1 ${payloadType.length} ${payloadType} ${payload.length} ${pythonBytesRepr(payload)}`, "utf8");
}

/** The hash model_signing pairs with an EC key: by curve size (P-256 SHA-256, P-384 SHA-384, P-521 SHA-512); undefined for other keys. */
export function ecHashFor(key: KeyObject): DigestAlgorithm | undefined {
  if (key.asymmetricKeyType !== "ec") return undefined;
  switch (key.asymmetricKeyDetails?.namedCurve) {
    case "prime256v1":
      return "sha256";
    case "secp384r1":
      return "sha384";
    case "secp521r1":
      return "sha512";
    default:
      return undefined;
  }
}

/** model_signing's public-key hint: lowercase hex SHA-256 of the key's PEM SubjectPublicKeyInfo text. */
export function modelKeyHint(key: KeyObject | string): string {
  const k = typeof key === "string" ? createPublicKey(key) : key;
  return createHash("sha256").update(k.export({ type: "spki", format: "pem" }).toString()).digest("hex");
}
