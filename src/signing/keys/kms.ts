/**
 * What the cloud KMS backends (`awskms://`, `gcpkms://`; aws-kms.ts and gcp-kms.ts) share: a `Signer`
 * over a key that never leaves the KMS. The digest is computed here and only the digest is sent (AWS
 * `MessageType: DIGEST`, Cloud KMS `digest`), so the artifact never leaves this machine. Every
 * signature the KMS returns is checked against the KMS's own public key before it is handed out, so a
 * wrong key version or a corrupted answer fails here rather than in a verifier later.
 */
import { constants, createHash, createPublicKey, publicDecrypt, type KeyObject } from "node:crypto";
import { InputError, NetworkError } from "../../errors.ts";
import { isLoopbackHost } from "../../io/http.ts";
import { redactSecrets } from "../../io/text.ts";
import type { DigestAlgorithm, Signer, SigningAlgorithm } from "./types.ts";

/** The digest each algorithm a KMS key may have signs (Ed25519 and RSA-PSS are not offered by these backends). */
const DIGEST_OF: Partial<Record<SigningAlgorithm, DigestAlgorithm>> = {
  "ecdsa-p256-sha256": "sha256",
  "ecdsa-p384-sha384": "sha384",
  "ecdsa-p521-sha512": "sha512",
  "rsa-pkcs1v15-sha256": "sha256",
};

const DIGEST_BYTES: Record<DigestAlgorithm, number> = { sha256: 32, sha384: 48, sha512: 64 };

/** The DER DigestInfo prefix of PKCS#1 v1.5 signatures over a SHA-256 digest (RFC 8017 §9.2 note 1). */
const SHA256_DIGEST_INFO = Buffer.from("3031300d060960864801650304020105000420", "hex");

/** Signs a digest remotely; returns the signature as the KMS encodes it (DER for ECDSA). */
export type RemoteSign = (digest: Uint8Array, algorithm: DigestAlgorithm) => Promise<Uint8Array>;

export interface KmsSignerInit {
  backend: "awskms" | "gcpkms";
  ref: string;
  algorithm: SigningAlgorithm;
  /** The DER SubjectPublicKeyInfo the KMS reported. */
  publicKeyDer: Uint8Array;
  remoteSign: RemoteSign;
  /** Releases the SDK client (sockets). */
  release: () => void;
}

export function digestAlgorithmFor(algorithm: SigningAlgorithm): DigestAlgorithm {
  const digest = DIGEST_OF[algorithm];
  if (!digest) throw new InputError(`signing algorithm ${algorithm} is not supported for KMS keys`);
  return digest;
}

export class KmsSigner implements Signer {
  readonly backend: string;
  readonly ref: string;
  readonly algorithm: SigningAlgorithm;
  readonly #publicKey: KeyObject;
  readonly #publicKeyDer: Buffer;
  readonly #remoteSign: RemoteSign;
  #release: (() => void) | undefined;

  constructor(init: KmsSignerInit) {
    this.backend = init.backend;
    this.ref = init.ref;
    this.algorithm = init.algorithm;
    this.#publicKeyDer = Buffer.from(init.publicKeyDer);
    this.#publicKey = createPublicKey({ key: this.#publicKeyDer, format: "der", type: "spki" });
    this.#remoteSign = init.remoteSign;
    this.#release = init.release;
    checkKeyMatchesAlgorithm(this.#publicKey, init.algorithm, init.ref);
  }

  async publicKeyPem(): Promise<string> {
    return this.#publicKey.export({ type: "spki", format: "pem" }).toString();
  }

  async keyId(): Promise<string> {
    return createHash("sha256").update(this.#publicKeyDer).digest("hex");
  }

  async signDigest(digest: Uint8Array, algorithm: DigestAlgorithm): Promise<Uint8Array> {
    if (this.#release === undefined) throw new InputError(`${this.ref}: the signer is closed`);
    const expected = digestAlgorithmFor(this.algorithm);
    if (algorithm !== expected) throw new InputError(`${this.ref}: a ${this.algorithm} key signs ${expected} digests, not ${algorithm}`);
    if (digest.length !== DIGEST_BYTES[algorithm]) {
      throw new InputError(`${this.ref}: a ${algorithm} digest is ${DIGEST_BYTES[algorithm]} bytes, not ${digest.length}`);
    }
    const signature = await this.#remoteSign(digest, algorithm);
    if (!(await this.#verifies(digest, signature))) {
      throw new NetworkError(`${this.ref}: the KMS returned a signature that does not verify with the key's public key`);
    }
    return signature;
  }

  async signMessage(message: Uint8Array): Promise<Uint8Array> {
    const algorithm = digestAlgorithmFor(this.algorithm);
    return this.signDigest(createHash(algorithm).update(message).digest(), algorithm);
  }

  async close(): Promise<void> {
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }

  /** Checks a signature over a digest with the public key (no hashing: the digest is what was signed). */
  async #verifies(digest: Uint8Array, signature: Uint8Array): Promise<boolean> {
    if (this.algorithm === "rsa-pkcs1v15-sha256") {
      try {
        const recovered = publicDecrypt({ key: this.#publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
        return recovered.equals(Buffer.concat([SHA256_DIGEST_INFO, digest]));
      } catch {
        return false;
      }
    }
    const { p256, p384, p521 } = await import("@noble/curves/nist.js");
    const curve = this.algorithm === "ecdsa-p256-sha256" ? p256 : this.algorithm === "ecdsa-p384-sha384" ? p384 : p521;
    const jwk = this.#publicKey.export({ format: "jwk" });
    const point = Buffer.concat([Buffer.of(4), Buffer.from(jwk.x ?? "", "base64url"), Buffer.from(jwk.y ?? "", "base64url")]);
    try {
      return curve.verify(signature, digest, point, { prehash: false, format: "der", lowS: false });
    } catch {
      return false;
    }
  }
}

const CURVE_OF: Partial<Record<SigningAlgorithm, string>> = {
  "ecdsa-p256-sha256": "prime256v1",
  "ecdsa-p384-sha384": "secp384r1",
  "ecdsa-p521-sha512": "secp521r1",
};

/** The public key the KMS reported must be the kind its algorithm says (a P-256 key for ECDSA_SHA_256…). */
function checkKeyMatchesAlgorithm(key: KeyObject, algorithm: SigningAlgorithm, ref: string): void {
  const curve = CURVE_OF[algorithm];
  const ok = curve ? key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === curve : key.asymmetricKeyType === "rsa";
  if (!ok) throw new InputError(`${ref}: the KMS reported a ${key.asymmetricKeyType ?? "unknown"} public key that does not match its algorithm ${algorithm}`);
}

/**
 * An endpoint override (from the key reference, tollgate.yaml or the environment) as a URL. Requests
 * carry credentials (an AWS signature with the access key id, a Google bearer token), so plain HTTP is
 * refused except to this machine (a local emulator or test server).
 */
export function endpointUrl(value: string, source: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(`${source}: ${JSON.stringify(value)} is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new InputError(`${source}: the endpoint must be an https:// URL, not ${url.protocol}`);
  if (url.protocol === "http:" && !isLoopbackHost(url.host)) {
    throw new InputError(`${source}: refusing plain http:// to ${url.host}: credentials go over HTTPS (http is allowed only to this machine)`);
  }
  if (url.username || url.password) throw new InputError(`${source}: the endpoint URL must not carry credentials`);
  return url;
}

/** One line for an error the SDK threw: its name and message, redacted and short. */
export function sdkErrorText(e: unknown, secrets: Iterable<string | undefined> = []): string {
  const err = e as { name?: unknown; message?: unknown; code?: unknown };
  const name = typeof err?.name === "string" && err.name !== "Error" ? `${err.name}: ` : "";
  const message = typeof err?.message === "string" ? err.message : String(e);
  const line = redactSecrets(`${name}${message}`.replace(/\s+/g, " ").trim(), secrets);
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

/** The `signing:` section's sub-object for a backend, when it is an object. */
export function configSection(config: Record<string, unknown> | undefined, name: string): Record<string, unknown> {
  const section = config?.[name];
  return section !== null && typeof section === "object" && !Array.isArray(section) ? (section as Record<string, unknown>) : {};
}

export function configString(section: Record<string, unknown>, key: string): string | undefined {
  const value = section[key];
  return typeof value === "string" && value.length > 0 ? value : undefined;
}
