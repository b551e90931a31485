/**
 * The load-time check: `verifyModel(dir, …)`, which a Node service calls before it loads a model. It
 * returns the verified file list, or throws a `VerificationFailedError` (with its `reason`) when the
 * signature is not by whom the caller trusts or any file was added, removed or changed. Who is
 * trusted is exactly one of:
 *
 * - `key`: a PEM public key (text, a file, or a `KeyObject`), or a key reference: with
 *   `hashivault://KEY` Vault Transit's `/verify` endpoint judges the signature (the service needs a
 *   Vault token, never a copy of the key); other references (`pkcs11:`, `awskms://`, `gcpkms://`)
 *   give their public key;
 * - `identity`: a keyless Sigstore signer (SAN and OIDC issuer, exact or regexp) against a trusted
 *   root (a `trusted_root.json`, default the public-good root shipped with tollgate);
 * - `certificateChain`: PEM files of trusted certificates (model_signing's certificate method);
 * - `keyring`: an OpenPGP public keys file (detached `<file>.sig`/`.asc` per file);
 * - `policy`: a `VerificationPolicy` already built (a key, or a certificate identity).
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { existsSync } from "node:fs";
import { UsageError } from "../../errors.ts";
import type { SignerOptions } from "../keys/types.ts";
import type { VerificationPolicy } from "../verify/policy.ts";
import { parseCertificatesPem } from "./x509-chain.ts";
import type { ModelTrust, ModelVerification } from "./verify.ts";

export interface ModelIdentity {
  subject?: string;
  subjectRegExp?: string;
  issuer?: string;
  issuerRegExp?: string;
  /** A trusted_root.json file (default: the Sigstore public-good root shipped with tollgate). */
  trustedRoot?: string;
}

export interface VerifyModelOptions {
  key?: string | KeyObject;
  identity?: ModelIdentity;
  certificateChain?: readonly string[];
  keyring?: string;
  policy?: VerificationPolicy;
  /** With a certificate `policy`: the trusted_root.json (default: the public-good root shipped with tollgate). */
  trustedRoot?: string;
  /** The signature (OpenSSF methods; default `model.sig` in the model directory). */
  signature?: string;
  /** More paths to leave out of hashing, relative to the model root. */
  ignorePaths?: readonly string[];
  ignoreGitPaths?: boolean;
  allowSymlinks?: boolean;
  ignoreUnsignedFiles?: boolean;
  /** For key references: the environment (VAULT_ADDR, VAULT_TOKEN…) and tollgate.yaml's `signing:` section. */
  signerOptions?: SignerOptions;
}

/** A verified model: its files and who signed it. */
export interface VerifiedModel {
  method: "key" | "hashivault" | "certificate" | "keyless" | "openpgp";
  /** The verified files (resource names relative to the model root; for OpenPGP, the file paths). */
  files: string[];
  /** The OpenSSF verification's details (absent for OpenPGP). */
  verification?: ModelVerification;
}

/** The PEM text of a `key` option: PEM given inline, or a file. */
async function publicKeyOf(key: string | KeyObject, signerOptions: SignerOptions): Promise<KeyObject> {
  if (typeof key !== "string") return key.type === "private" ? createPublicKey(key) : key;
  if (key.includes("-----BEGIN")) {
    const { parsePublicKeyPem } = await import("../verify/key.ts");
    return parsePublicKeyPem(key, "key");
  }
  const { readPublicKey } = await import("../verify/key.ts");
  return readPublicKey(key, signerOptions);
}

/** Builds the trust of an OpenSSF verification from the options (exactly one way; UsageError otherwise). */
export async function modelTrustFrom(o: VerifyModelOptions): Promise<ModelTrust> {
  const given = [o.key !== undefined, o.identity !== undefined, o.certificateChain !== undefined, o.keyring !== undefined, o.policy !== undefined].filter(Boolean).length;
  if (given !== 1) throw new UsageError("verifyModel: give exactly one of key, identity, certificateChain, keyring or policy");
  const signerOptions = o.signerOptions ?? {};
  if (o.policy !== undefined) {
    if (o.policy.kind === "key") return { kind: "key", key: o.policy.key };
    const { loadTrustedRoot } = await import("../trust-root.ts");
    return { kind: "keyless", policy: o.policy, trustRoot: (await loadTrustedRoot(o.trustedRoot, { env: signerOptions.env ?? process.env })).root };
  }
  if (o.key !== undefined) {
    if (typeof o.key === "string" && /^(hashivault|vault):\/\//.test(o.key) && !existsSync(o.key)) return { kind: "hashivault", ref: o.key, signerOptions };
    return { kind: "key", key: await publicKeyOf(o.key, signerOptions) };
  }
  if (o.certificateChain !== undefined) {
    if (o.certificateChain.length === 0) throw new UsageError("verifyModel: certificateChain is empty");
    const [{ readVerificationInput }] = await Promise.all([import("../verify/bundle.ts")]);
    const anchors = [];
    for (const file of o.certificateChain) {
      const pem = (await readVerificationInput(file, 1024 * 1024, "certificate chain")).toString("utf8");
      const certs = parseCertificatesPem(pem);
      if (certs.length === 0) {
        const { InputError } = await import("../../errors.ts");
        throw new InputError("no PEM certificate in the file", { file });
      }
      anchors.push(...certs);
    }
    return { kind: "certificate", anchors };
  }
  const id = o.identity!;
  const { policyFromOptions } = await import("../verify/policy.ts");
  const policy = policyFromOptions({
    ...(id.subject !== undefined ? { certificateIdentity: id.subject } : {}),
    ...(id.subjectRegExp !== undefined ? { certificateIdentityRegexp: id.subjectRegExp } : {}),
    ...(id.issuer !== undefined ? { certificateOidcIssuer: id.issuer } : {}),
    ...(id.issuerRegExp !== undefined ? { certificateOidcIssuerRegexp: id.issuerRegExp } : {}),
  });
  if (policy.kind !== "certificate") throw new UsageError("verifyModel: identity needs a subject and an issuer");
  const { loadTrustedRoot } = await import("../trust-root.ts");
  return { kind: "keyless", policy, trustRoot: (await loadTrustedRoot(id.trustedRoot, { env: signerOptions.env ?? process.env })).root };
}

/**
 * Verifies the model at `dir` before it is loaded (see the module comment). Returns the verified
 * files; throws `VerificationFailedError` (reason code in `.reason`) when it must not be loaded, and
 * `UsageError`/`InputError` for bad options or unreadable inputs.
 */
export async function verifyModel(dir: string, options: VerifyModelOptions): Promise<VerifiedModel> {
  if (options.keyring !== undefined) {
    if ([options.key, options.identity, options.certificateChain, options.policy].some((x) => x !== undefined)) {
      throw new UsageError("verifyModel: give exactly one of key, identity, certificateChain, keyring or policy");
    }
    const { verifyModelOpenPgp } = await import("./openpgp.ts");
    const result = await verifyModelOpenPgp(dir, { keyringFile: options.keyring });
    return { method: "openpgp", files: result.verified.map((v) => v.file) };
  }
  const trust = await modelTrustFrom(options);
  const { verifyModelSignature } = await import("./verify.ts");
  const verification = await verifyModelSignature({
    modelPath: dir,
    ...(options.signature !== undefined ? { signaturePath: options.signature } : {}),
    trust,
    ...(options.ignorePaths ? { ignorePaths: options.ignorePaths } : {}),
    ...(options.ignoreGitPaths !== undefined ? { ignoreGitPaths: options.ignoreGitPaths } : {}),
    ...(options.allowSymlinks !== undefined ? { allowSymlinks: options.allowSymlinks } : {}),
    ...(options.ignoreUnsignedFiles !== undefined ? { ignoreUnsignedFiles: options.ignoreUnsignedFiles } : {}),
  });
  return { method: verification.signer.kind, files: verification.files.map((f) => f.name), verification };
}
