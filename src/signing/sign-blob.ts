/**
 * `signBlob`: a file signed into a Sigstore bundle v0.3 (`application/vnd.dev.sigstore.bundle.v0.3+json`),
 * as `cosign sign-blob --bundle` writes it:
 *
 * - a message signature over the file (`messageSignature`: its SHA-256 and the signature), or, with
 *   `inToto`, a DSSE envelope holding an in-toto Statement v1 whose one subject is the file's name
 *   and SHA-256 (predicate type `https://sigstore.dev/cosign/sign/v1`, cosign v3's, empty predicate);
 * - keyed, with any `Signer` (file, PKCS#11, Vault Transit, KMS): the bundle carries a public-key hint,
 *   `base64(sha256(DER SPKI))` as cosign v3 and sigstore-go write it; keyless (no signer), with a
 *   Fulcio certificate for an ephemeral key (keyless.ts);
 * - a Rekor entry unless `tlogUpload` is false (cosign's default: upload, keyed or keyless), and an
 *   RFC 3161 timestamp when a TSA URL is given.
 *
 * The bundle is assembled by @sigstore/sign's builders and written with writeFileAtomic: on any
 * failure no bundle file is written and an existing one is left as it was. Every attempt, successful
 * or not, is recorded in the audit log; a success is recorded before the bundle is written, so that
 * no bundle leaves tollgate without its audit entry (an unwritable log fails the command and no
 * bundle is written; a bundle that then cannot be written is recorded as a second, failed event).
 */
import { createHash } from "node:crypto";
import { basename } from "node:path";
import { bundleToJSON, toMessageSignatureBundle, type BundleWithMessageSignature, type SerializedBundle } from "@sigstore/bundle";
import { DSSEBundleBuilder, MessageSignatureBundleBuilder, type Artifact, type BundleBuilder, type Signature, type Signer as SigstoreSigner, type Witness } from "@sigstore/sign";
import { InputError, UsageError } from "../errors.ts";
import { writeFileAtomic } from "../io/atomic-write.ts";
import { readRegularFile } from "../io/files.ts";
import type { RecordOptions, SigningEvent } from "../audit/index.ts";
import { certificateIdentity, fulcioSigner, identityToken, PUBLIC_GOOD_FULCIO_URL, PUBLIC_GOOD_REKOR_URL, serviceUrl, sigstoreServiceError, tokenClaims, witnesses } from "./keyless.ts";
import type { DigestAlgorithm, Signer, SignerOptions, SigningAlgorithm } from "./keys/types.ts";
import { signAudited, signingKeyOptions } from "./audited.ts";

/** The in-toto payload type and the statement tollgate signs with `--in-toto`. */
export const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";
export const IN_TOTO_STATEMENT_V1 = "https://in-toto.io/Statement/v1";
/** cosign v3's predicate type for a signature as an in-toto statement. */
export const COSIGN_SIGN_PREDICATE_TYPE = "https://sigstore.dev/cosign/sign/v1";

/** The largest file signed (read whole: @sigstore/sign's builders take the artifact's bytes). */
export const MAX_BLOB_BYTES = 2 * 1024 * 1024 * 1024;

export interface SignBlobOptions {
  /** The file to sign. */
  artifact: string;
  /** Where the bundle is written (atomically). */
  bundlePath: string;
  /** Keyed signing with this key (the caller opens and closes it)… */
  signer?: Signer;
  /** …or with the key this reference names, opened through openSigner and closed here. Neither: keyless. */
  keyRef?: string;
  signerOptions?: SignerOptions;
  /** A DSSE in-toto statement instead of a message signature. */
  inToto?: boolean;
  /** Add a Rekor entry (default true, as cosign). Keyless signing without one needs a TSA. */
  tlogUpload?: boolean;
  rekorUrl?: string;
  fulcioUrl?: string;
  tsaUrl?: string;
  /** Keyless: the OIDC token, or a file holding it (else SIGSTORE_ID_TOKEN, else GitHub Actions). */
  identityToken?: string;
  /** The environment: CI identity for the audit log, SIGSTORE_ID_TOKEN, ACTIONS_ID_TOKEN_REQUEST_*. */
  env?: NodeJS.ProcessEnv;
  /** Where the attempt is recorded (recordSigningEvent's options; `env` defaults to this call's). */
  audit?: RecordOptions;
  maxBytes?: number;
}

export interface SignBlobResult {
  /** The bundle as written (its JSON form). */
  bundle: SerializedBundle;
  /** `sha256:<hex>` of the file. */
  artifactDigest: string;
  /** Keyed: the signer's key id (hex SHA-256 of the DER SPKI); keyless: absent. */
  keyId?: string;
  /** Keyless: the certificate's SAN and the token's issuer. */
  identity?: Record<string, string>;
  tlogEntries: number;
  timestamps: number;
}

/** Algorithms whose signatures sigstore-js verifies in a bundle (message signatures are checked with SHA-256). */
const MESSAGE_ALGORITHMS: readonly SigningAlgorithm[] = ["ecdsa-p256-sha256", "rsa-pkcs1v15-sha256"];
const DSSE_ALGORITHMS: readonly SigningAlgorithm[] = ["ecdsa-p256-sha256", "rsa-pkcs1v15-sha256", "ed25519"];

const DIGEST_OF: Partial<Record<SigningAlgorithm, DigestAlgorithm>> = {
  "ecdsa-p256-sha256": "sha256",
  "rsa-pkcs1v15-sha256": "sha256",
};

/** cosign v3's key hint: base64 of the SHA-256 of the DER SPKI (the Signer's key id, which is its hex). */
export function keyHintOf(keyIdHex: string): string {
  return Buffer.from(keyIdHex, "hex").toString("base64");
}

/**
 * A tollgate `Signer` as @sigstore/sign's signer: the data is hashed here and only the digest goes to
 * the backend (Vault, KMS, HSM); Ed25519, which signs messages, gets the data.
 */
export function sigstoreSignerFor(signer: Signer): SigstoreSigner {
  return {
    async sign(data: Buffer): Promise<Signature> {
      const digestAlgorithm = DIGEST_OF[signer.algorithm];
      const signature = digestAlgorithm
        ? await signer.signDigest(createHash(digestAlgorithm).update(data).digest(), digestAlgorithm)
        : await signer.signMessage(data);
      return {
        signature: Buffer.from(signature),
        key: { $case: "publicKey", publicKey: await signer.publicKeyPem(), hint: keyHintOf(await signer.keyId()) },
      };
    },
  };
}

/**
 * @sigstore/sign's message-signature builder writes media type v0.2 (it always asks for a
 * certificate chain); this one packages the same signature as v0.3, with a single `certificate`
 * for keyless bundles as v0.3 requires.
 */
class MessageSignatureV03BundleBuilder extends MessageSignatureBundleBuilder {
  protected override package(artifact: Artifact, signature: Signature): Promise<BundleWithMessageSignature> {
    return Promise.resolve(
      toMessageSignatureBundle({
        digest: createHash("sha256").update(artifact.data).digest(),
        signature: signature.signature,
        ...(signature.key.$case === "x509Certificate" ? { certificate: pemToDer(signature.key.certificate) } : {}),
        ...(signature.key.$case === "publicKey" && signature.key.hint ? { keyHint: signature.key.hint } : {}),
        certificateChain: false,
      }),
    );
  }
}

function pemToDer(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----(BEGIN|END) [^-]+-----/g, "").replace(/\s+/g, ""), "base64");
}

/** The in-toto Statement v1 for a file: one subject, its name and SHA-256. */
export function blobStatement(name: string, sha256Hex: string): Record<string, unknown> {
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ name, digest: { sha256: sha256Hex } }],
    predicateType: COSIGN_SIGN_PREDICATE_TYPE,
    predicate: {},
  };
}

/** Signs a file into a Sigstore bundle v0.3 and writes it atomically (see the module comment). */
export async function signBlob(options: SignBlobOptions): Promise<SignBlobResult> {
  const env = options.env ?? process.env;
  return signAudited({
    operation: "sign blob",
    artifact: options.artifact,
    output: options.bundlePath,
    env,
    ...signingKeyOptions(options),
    withoutKey: "keyless",
    prepare: (signer, event, secrets) => signBlobInMemory(options, env, signer, event, secrets),
    store: async (signed) => {
      await writeFileAtomic(options.bundlePath, signed.json);
      return signed.result;
    },
  });
}

async function signBlobInMemory(options: SignBlobOptions, env: NodeJS.ProcessEnv, signer: Signer | undefined, event: SigningEvent, secrets: string[]): Promise<{ result: SignBlobResult; json: string }> {
  const inToto = options.inToto === true;
  const tlogUpload = options.tlogUpload ?? true;
  // Flags first: a usage error is found before any file is read or any service is called.
  const rekorUrl = tlogUpload ? serviceUrl("--rekor-url", options.rekorUrl ?? PUBLIC_GOOD_REKOR_URL) : undefined;
  const tsaUrl = options.tsaUrl !== undefined ? serviceUrl("--tsa-url", options.tsaUrl) : undefined;
  const fulcioUrl = signer ? undefined : serviceUrl("--fulcio-url", options.fulcioUrl ?? PUBLIC_GOOD_FULCIO_URL);
  if (!signer && rekorUrl === undefined && tsaUrl === undefined) {
    throw new UsageError("keyless signing without a Rekor entry needs --tsa-url: the certificate is short-lived and nothing else would time the signature");
  }
  if (signer) {
    const allowed = inToto ? DSSE_ALGORITHMS : MESSAGE_ALGORITHMS;
    if (!allowed.includes(signer.algorithm)) {
      throw new UsageError(`${signer.ref}: ${signer.algorithm} keys are not supported for ${inToto ? "DSSE" : "message-signature"} bundles (use ${allowed.join(", ")})`);
    }
  }

  const data = await readRegularFile(options.artifact, options.maxBytes ?? MAX_BLOB_BYTES);
  const sha256Hex = createHash("sha256").update(data).digest("hex");
  event.artifactDigest = `sha256:${sha256Hex}`;

  let sigstoreSigner: SigstoreSigner;
  let issuer: string | undefined;
  if (signer) {
    sigstoreSigner = sigstoreSignerFor(signer);
  } else {
    const token = await identityToken(options.identityToken, env);
    secrets.push(token.token);
    issuer = tokenClaims(token.token).iss;
    sigstoreSigner = fulcioSigner(token.token, fulcioUrl!);
  }
  const witnessList: Witness[] = witnesses({ ...(rekorUrl ? { rekorUrl } : {}), ...(tsaUrl ? { tsaUrl } : {}), dsse: inToto });
  const builder: BundleBuilder = inToto
    ? new DSSEBundleBuilder({ signer: sigstoreSigner, witnesses: witnessList, certificateChain: false })
    : new MessageSignatureV03BundleBuilder({ signer: sigstoreSigner, witnesses: witnessList });
  const artifact: Artifact = inToto
    ? { data: Buffer.from(JSON.stringify(blobStatement(basename(options.artifact), sha256Hex))), type: IN_TOTO_PAYLOAD_TYPE }
    : { data };

  let bundle;
  try {
    bundle = await builder.create(artifact);
  } catch (e) {
    throw signer ? signerError(e, signer, secrets) : sigstoreServiceError(e, secrets);
  }
  const serialized = bundleToJSON(bundle);
  const result: SignBlobResult = {
    bundle: serialized,
    artifactDigest: `sha256:${sha256Hex}`,
    tlogEntries: bundle.verificationMaterial.tlogEntries.length,
    timestamps: bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps.length ?? 0,
  };
  if (signer) {
    result.keyId = event.keyId!;
  } else {
    const content = bundle.verificationMaterial.content;
    if (content.$case !== "certificate") throw new InputError("keyless bundle without a certificate (sigstore-js returned an unexpected bundle)");
    result.identity = certificateIdentity(content.certificate.rawBytes, issuer);
    event.keyId = result.identity.subjectAlternativeName ?? "";
    event.signer = { ...event.signer, ...result.identity };
  }
  return { result, json: `${JSON.stringify(serialized)}\n` };
}

/** A keyed signing error: a backend's own typed error as it is, a witness's (Rekor, TSA) as a service error. */
function signerError(e: unknown, signer: Signer, secrets: string[]): Error {
  if (e instanceof Error && "exitCode" in e) return e;
  const error = sigstoreServiceError(e, secrets);
  error.message = error.message.replace(/^sigstore: /, `sigstore (key ${signer.ref}): `);
  return error;
}
