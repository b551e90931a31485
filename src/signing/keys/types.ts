/**
 * The one interface every signing backend implements (files, PKCS#11 HSMs, Vault Transit, AWS KMS,
 * GCP KMS), chosen by a key reference as cosign chooses them: a path, `pkcs11:…` (RFC 7512),
 * `hashivault://KEY` (or `vault://KEY`), `awskms://…`, `gcpkms://…`. Image, blob and model signing
 * all sign through a `Signer`; none of them knows which backend holds the key.
 */
import type { NetworkTimeouts } from "../../io/timeouts.ts";

/** The signature algorithms tollgate signs with (cosign's defaults first). */
export type SigningAlgorithm = "ecdsa-p256-sha256" | "ecdsa-p384-sha384" | "ecdsa-p521-sha512" | "ed25519" | "rsa-pkcs1v15-sha256" | "rsa-pss-sha256";

/** The digest a signer signs: the hash named by the algorithm (sha256 for P-256), over the artifact's bytes. */
export type DigestAlgorithm = "sha256" | "sha384" | "sha512";

export interface Signer {
  /** The backend that holds the key: "file", "pkcs11", "hashivault", "awskms", "gcpkms". */
  readonly backend: string;
  /** The key reference as the user gave it, with any secret (PIN, token) removed: safe to log and audit. */
  readonly ref: string;
  readonly algorithm: SigningAlgorithm;
  /** The public key as PEM (SubjectPublicKeyInfo). */
  publicKeyPem(): Promise<string>;
  /** A stable id of the key: lowercase hex SHA-256 of the DER SubjectPublicKeyInfo. */
  keyId(): Promise<string>;
  /**
   * Signs a digest the caller computed (Vault Transit `prehashed`, PKCS#11 `CKM_ECDSA`, KMS `DIGEST`):
   * the artifact never leaves this machine. Returns the signature as the algorithm's standard
   * encoding: ASN.1 DER for ECDSA (what cosign and Sigstore bundles carry), raw for Ed25519 (which
   * signs the message, not a digest: Ed25519 signers throw here and implement `signMessage`).
   */
  signDigest(digest: Uint8Array, algorithm: DigestAlgorithm): Promise<Uint8Array>;
  /** Signs a whole message (hashing it as the algorithm says). Every backend has it. */
  signMessage(message: Uint8Array): Promise<Uint8Array>;
  /** Ends sessions and zeroes what can be zeroed. Safe to call twice. */
  close(): Promise<void>;
}

/** What opening a key reference may need besides the reference itself. */
export interface SignerOptions {
  /** The environment (TOLLGATE_PASSWORD, COSIGN_PASSWORD, VAULT_ADDR, VAULT_TOKEN, ACTIONS_ID_TOKEN_REQUEST_URL…). */
  env?: NodeJS.ProcessEnv;
  /** Asks for a password on a TTY (the CLI gives one; libraries may not). */
  promptPassword?: (question: string) => Promise<string>;
  /** The `signing:` section of tollgate.yaml, as each backend reads it. */
  config?: Record<string, unknown>;
  /** Network timeouts for backends that call a service (KMS; default: DEFAULT_NETWORK_TIMEOUTS). */
  timeouts?: Partial<NetworkTimeouts>;
}

/** A backend: the key references it reads, and how to open one. */
export interface KeySource {
  readonly backend: string;
  /** True when this backend reads `ref` (by scheme; file keys take what no other scheme claims). */
  handles(ref: string): boolean;
  open(ref: string, options: SignerOptions): Promise<Signer>;
}
