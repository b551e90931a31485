/**
 * File keys: cosign's encrypted key files (`ENCRYPTED SIGSTORE PRIVATE KEY`, `ENCRYPTED COSIGN PRIVATE
 * KEY`), PKCS#8 PEM (`PRIVATE KEY`, and `ENCRYPTED PRIVATE KEY` with the password), SEC1 `EC PRIVATE
 * KEY` and PKCS#1 `RSA PRIVATE KEY`. The keys cosign allows: ECDSA P-256/P-384/P-521, RSA 2048–4096
 * bits, Ed25519.
 *
 * ECDSA signs a digest the caller computed through @noble/curves (node:crypto hashes the message
 * itself and cannot sign a prehashed digest); RSA PKCS#1 v1.5 signs a digest as `privateEncrypt` of
 * the DigestInfo; Ed25519 signs messages only, through node:crypto.
 */
import { constants, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, privateEncrypt, sign as nodeSign, type KeyObject } from "node:crypto";
import { p256, p384, p521 } from "@noble/curves/nist.js";
import { InputError, UsageError } from "../../errors.ts";
import { readRegularFile } from "../../io/files.ts";
import { COSIGN_PEM_TYPE, SIGSTORE_PEM_TYPE, decryptCosignKey, encryptCosignKey, parsePemBlocks, toPem } from "./cosign-key.ts";
import { readPassword } from "./password.ts";
import type { DigestAlgorithm, KeySource, Signer, SignerOptions, SigningAlgorithm } from "./types.ts";

/** A key file is a few kilobytes; anything bigger is not one. */
export const MAX_KEY_FILE_BYTES = 1024 * 1024;

const DIGEST_BYTES: Record<DigestAlgorithm, number> = { sha256: 32, sha384: 48, sha512: 64 };

/** The DER prefix of a PKCS#1 v1.5 DigestInfo for each hash (RFC 8017 §9.2, note 1). */
const DIGEST_INFO_PREFIX: Record<DigestAlgorithm, Buffer> = {
  sha256: Buffer.from("3031300d060960864801650304020105000420", "hex"),
  sha384: Buffer.from("3041300d060960864801650304020205000430", "hex"),
  sha512: Buffer.from("3051300d060960864801650304020305000440", "hex"),
};

interface EcCurve {
  algorithm: SigningAlgorithm;
  hash: DigestAlgorithm;
  scalarBytes: number;
  sign: typeof p256.sign;
}

const EC_CURVES: Record<string, EcCurve> = {
  prime256v1: { algorithm: "ecdsa-p256-sha256", hash: "sha256", scalarBytes: 32, sign: p256.sign },
  secp384r1: { algorithm: "ecdsa-p384-sha384", hash: "sha384", scalarBytes: 48, sign: p384.sign },
  secp521r1: { algorithm: "ecdsa-p521-sha512", hash: "sha512", scalarBytes: 66, sign: p521.sign },
};

const CURVE_NAMES: Record<string, string> = { secp224r1: "P-224", prime256v1: "P-256", secp384r1: "P-384", secp521r1: "P-521" };

/** The signing algorithm of a private key cosign would accept; an InputError for any other key. */
export function signingAlgorithmOf(key: KeyObject, shown: string): SigningAlgorithm {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case "ec": {
      const curve = details.namedCurve ?? "unknown";
      const known = EC_CURVES[curve];
      if (!known) throw new InputError(`ECDSA curve ${CURVE_NAMES[curve] ?? curve} not allowed (P-256, P-384 or P-521)`, { file: shown });
      return known.algorithm;
    }
    case "rsa": {
      const bits = details.modulusLength ?? 0;
      if (bits < 2048 || bits > 4096) throw new InputError(`RSA key size not supported: ${bits} (2048 to 4096 bits)`, { file: shown });
      return "rsa-pkcs1v15-sha256";
    }
    case "ed25519":
      return "ed25519";
    default:
      throw new InputError(`unsupported private key type ${String(key.asymmetricKeyType)} (ECDSA, RSA or Ed25519)`, { file: shown });
  }
}

/** A PKCS#8 DER private key as a KeyObject; an InputError naming the format when it is not PKCS#8. */
export function pkcs8PrivateKey(der: Buffer, shown: string): KeyObject {
  try {
    return createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  } catch {
    throw new InputError("the decrypted private key is not a PKCS#8 private key (cosign key files hold PKCS#8; re-import the key with cosign import-key-pair)", { file: shown });
  }
}

/**
 * Reads the private key of a key file. Encrypted cosign keys and encrypted PKCS#8 keys ask for the
 * password (see readPassword); plaintext buffers are zeroed once the KeyObject holds the key.
 */
export async function loadPrivateKeyFile(path: string, options: SignerOptions): Promise<KeyObject> {
  const raw = await readRegularFile(path, MAX_KEY_FILE_BYTES);
  const blocks = parsePemBlocks(raw.toString("utf8"), path);
  raw.fill(0);
  try {
    const block = blocks.find((b) => b.type.endsWith("PRIVATE KEY"));
    if (!block) {
      const what = blocks.some((b) => b.type === "PUBLIC KEY") ? "holds a public key, not a private key" : "holds no PEM private key";
      throw new InputError(what, { file: path });
    }
    switch (block.type) {
      case SIGSTORE_PEM_TYPE:
      case COSIGN_PEM_TYPE: {
        const password = await readPassword(path, options);
        const plaintext = await decryptCosignKey(block.der, password, path);
        try {
          return pkcs8PrivateKey(plaintext, path);
        } finally {
          plaintext.fill(0);
        }
      }
      case "PRIVATE KEY":
        return pkcs8PrivateKey(block.der, path);
      case "EC PRIVATE KEY":
      case "RSA PRIVATE KEY":
        try {
          return createPrivateKey({ key: block.der, format: "der", type: block.type === "EC PRIVATE KEY" ? "sec1" : "pkcs1" });
        } catch {
          throw new InputError(`the ${block.type} block is not a valid key`, { file: path });
        }
      case "ENCRYPTED PRIVATE KEY": {
        const password = await readPassword(path, options);
        try {
          return createPrivateKey({ key: block.der, format: "der", type: "pkcs8", passphrase: password });
        } catch {
          throw new InputError("cannot decrypt the private key: wrong password (or the key file is corrupted)", { file: path });
        }
      }
      default:
        throw new InputError(`PEM type "${block.type}" is not a key format tollgate reads (cosign encrypted keys, PKCS#8, SEC1, PKCS#1)`, { file: path });
    }
  } finally {
    for (const b of blocks) b.der.fill(0);
  }
}

/** The private scalar of an EC key, from its SEC1 DER (`ECPrivateKey`), left-padded to the curve's size. */
function ecScalar(key: KeyObject, size: number): Uint8Array {
  const der = key.export({ format: "der", type: "sec1" });
  try {
    // SEQUENCE { INTEGER 1, OCTET STRING d, ... }
    let i = 0;
    if (der[i++] !== 0x30) throw new Error("not a SEQUENCE");
    const lenByte = der[i++] ?? 0;
    if (lenByte & 0x80) i += lenByte & 0x7f;
    if (der[i] !== 0x02 || der[i + 1] !== 0x01 || der[i + 2] !== 0x01 || der[i + 3] !== 0x04) throw new Error("not an ECPrivateKey");
    i += 4;
    const len = der[i++] ?? 0;
    if (len > size || i + len > der.length) throw new Error("bad scalar length");
    const out = new Uint8Array(size);
    out.set(der.subarray(i, i + len), size - len);
    return out;
  } finally {
    der.fill(0);
  }
}

/** The `Signer` of a key held in a file (in memory once opened: `close` drops it). */
export class FileSigner implements Signer {
  readonly backend = "file";
  readonly ref: string;
  readonly algorithm: SigningAlgorithm;
  #key: KeyObject | undefined;
  readonly #publicKey: KeyObject;

  constructor(ref: string, key: KeyObject) {
    this.ref = ref;
    this.algorithm = signingAlgorithmOf(key, ref);
    this.#key = key;
    this.#publicKey = createPublicKey(key);
  }

  publicKeyPem(): Promise<string> {
    return Promise.resolve(this.#publicKey.export({ format: "pem", type: "spki" }).toString());
  }

  keyId(): Promise<string> {
    return Promise.resolve(createHash("sha256").update(this.#publicKey.export({ format: "der", type: "spki" })).digest("hex"));
  }

  #privateKey(): KeyObject {
    if (!this.#key) throw new UsageError(`${this.ref}: the signer is closed`);
    return this.#key;
  }

  signDigest(digest: Uint8Array, algorithm: DigestAlgorithm): Promise<Uint8Array> {
    try {
      return Promise.resolve(this.#signDigest(digest, algorithm));
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  #signDigest(digest: Uint8Array, algorithm: DigestAlgorithm): Uint8Array {
    const key = this.#privateKey();
    if (digest.length !== DIGEST_BYTES[algorithm]) throw new UsageError(`a ${algorithm} digest has ${DIGEST_BYTES[algorithm]} bytes, not ${digest.length}`);
    if (key.asymmetricKeyType === "ec") {
      const curve = EC_CURVES[key.asymmetricKeyDetails?.namedCurve ?? ""];
      if (!curve) throw new UsageError(`${this.ref}: unsupported curve`);
      if (curve.hash !== algorithm) throw new UsageError(`${this.ref}: ${this.algorithm} signs ${curve.hash} digests, not ${algorithm}`);
      const scalar = ecScalar(key, curve.scalarBytes);
      try {
        return curve.sign(digest, scalar, { prehash: false, format: "der" });
      } finally {
        scalar.fill(0);
      }
    }
    if (key.asymmetricKeyType === "rsa") {
      const digestInfo = Buffer.concat([DIGEST_INFO_PREFIX[algorithm], digest]);
      return new Uint8Array(privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, digestInfo));
    }
    throw new UsageError(`${this.ref}: ${this.algorithm} keys sign messages, not digests`);
  }

  signMessage(message: Uint8Array): Promise<Uint8Array> {
    try {
      const key = this.#privateKey();
      if (key.asymmetricKeyType === "ed25519") return Promise.resolve(new Uint8Array(nodeSign(null, message, key)));
      const hash: DigestAlgorithm = this.algorithm === "ecdsa-p384-sha384" ? "sha384" : this.algorithm === "ecdsa-p521-sha512" ? "sha512" : "sha256";
      return Promise.resolve(this.#signDigest(createHash(hash).update(message).digest(), hash));
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  close(): Promise<void> {
    this.#key = undefined;
    return Promise.resolve();
  }
}

/** Opens a key file as a Signer. */
export async function openFileSigner(path: string, options: SignerOptions): Promise<FileSigner> {
  return new FileSigner(path, await loadPrivateKeyFile(path, options));
}

/** A key reference with a URI scheme (`pkcs11:`, `hashivault://`, `k8s://`…); anything else is a path. */
export function hasKeyScheme(ref: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:/.test(ref);
}

/** File keys: every reference without a URI scheme (write `./name:x` for a file whose name has a colon). */
export const fileSource: KeySource = {
  backend: "file",
  handles: (ref) => !hasKeyScheme(ref),
  open: (ref, options) => openFileSigner(ref, options),
};

/** A new cosign key pair (ECDSA P-256, as `cosign generate-key-pair`): the encrypted private key PEM and the public key PEM. */
export async function generateCosignKeyPair(password: string): Promise<{ privateKeyPem: string; publicKeyPem: string; keyId: string }> {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const pkcs8 = privateKey.export({ format: "der", type: "pkcs8" });
  try {
    const privateKeyPem = await encryptCosignKey(pkcs8, password);
    const spki = publicKey.export({ format: "der", type: "spki" });
    return { privateKeyPem, publicKeyPem: toPem("PUBLIC KEY", spki), keyId: createHash("sha256").update(spki).digest("hex") };
  } finally {
    pkcs8.fill(0);
  }
}
