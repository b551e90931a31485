/**
 * `signModel`: an OpenSSF model signature (model_signing ≥ 1.0's `model.sig`) for a model directory or
 * file: the model is serialized (serialize.ts), the in-toto statement signed in a DSSE envelope, and
 * the Sigstore bundle v0.3 written atomically (by default `model.sig` in the model directory, which
 * is then left out of hashing and recorded in `ignore_paths`, as model_signing does). Three ways, as
 * model_signing's `sign key`, `sign certificate` and `sign sigstore`:
 *
 * - a key (any `Signer`: a key file, PKCS#11, Vault Transit, AWS/GCP KMS): ECDSA P-256/P-384/P-521
 *   with the curve's hash (the only keys model_signing verifies), the public-key hint
 *   `hex(sha256(PEM))`, no transparency log entry (model_signing neither writes nor reads one);
 * - a key and its certificate (`signingCertificate` + `certificateChain`): the chain, leaf first, in
 *   `x509CertificateChain`;
 * - keyless: a Fulcio certificate for an ephemeral key and a Rekor `dsse` entry (sigstore-js).
 *
 * Every attempt goes through signAudited: the audit log records it (the root digest as the artifact
 * digest) before the signature is written.
 */
import { createHash, createPublicKey, X509Certificate } from "node:crypto";
import { bundleToJSON } from "@sigstore/bundle";
import { DSSEBundleBuilder } from "@sigstore/sign";
import { InputError, UsageError } from "../../errors.ts";
import { writeFileAtomic } from "../../io/atomic-write.ts";
import { readRegularFile } from "../../io/files.ts";
import type { RecordOptions } from "../../audit/index.ts";
import { signAudited, signingKeyOptions } from "../audited.ts";
import { certificateIdentity, fulcioSigner, identityToken, PUBLIC_GOOD_FULCIO_URL, PUBLIC_GOOD_REKOR_URL, serviceUrl, sigstoreServiceError, tokenClaims, witnesses } from "../keyless.ts";
import type { DigestAlgorithm, Signer, SignerOptions, SigningAlgorithm } from "../keys/types.ts";
import { modelKeyHint, pae } from "./dsse.ts";
import { defaultModelSignaturePath, SIGSTORE_BUNDLE_V03, signatureInsideModel } from "./verify.ts";
import { IN_TOTO_PAYLOAD_TYPE, rootDigest, serializeModel, statementBytes, type ModelHashType, type ModelResource } from "./serialize.ts";

/** A certificate file is a few kilobytes. */
const MAX_CERTIFICATE_FILE_BYTES = 1024 * 1024;

const EC_DIGESTS: Partial<Record<SigningAlgorithm, DigestAlgorithm>> = {
  "ecdsa-p256-sha256": "sha256",
  "ecdsa-p384-sha384": "sha384",
  "ecdsa-p521-sha512": "sha512",
};

export interface SignModelOptions {
  /** The model directory (or single-file model). */
  modelPath: string;
  /** Default: `<model dir>/model.sig` (beside a file model). */
  signaturePath?: string;
  /** Keyed signing with this signer (the caller closes it)… */
  signer?: Signer;
  /** …or the key this reference names (opened and closed here). Neither: keyless. */
  keyRef?: string;
  signerOptions?: SignerOptions;
  /** The signing key's certificate (PEM): model_signing's certificate method. */
  signingCertificate?: string;
  /** Further certificates (PEM files, intermediates up to the root) written after the signing certificate. */
  certificateChain?: readonly string[];
  /** More paths to leave out, relative to the model root. */
  ignorePaths?: readonly string[];
  /** Leave out `.git`, `.gitattributes`, `.github`, `.gitignore` (default true). */
  ignoreGitPaths?: boolean;
  allowSymlinks?: boolean;
  method?: "files" | "shards";
  shardSize?: number;
  hashType?: ModelHashType;
  /** Keyless: the OIDC token or a file holding it (else SIGSTORE_ID_TOKEN, else GitHub Actions). */
  identityToken?: string;
  fulcioUrl?: string;
  rekorUrl?: string;
  tsaUrl?: string;
  /** Keyless: add a Rekor entry (default true; without one a TSA is needed). */
  tlogUpload?: boolean;
  env?: NodeJS.ProcessEnv;
  audit?: RecordOptions;
  concurrency?: number;
}

export interface SignModelResult {
  signaturePath: string;
  /** `sha256:<root digest>` as model_signing's `digest` command prints it. */
  rootDigest: string;
  resources: ModelResource[];
  method: "key" | "certificate" | "keyless";
  keyId?: string;
  identity?: Record<string, string>;
  tlogEntries: number;
}

function pemToDerCertificates(pem: string, file: string): Buffer[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new InputError("no PEM certificate in the file", { file });
  return blocks.map((b) => {
    try {
      return new X509Certificate(b).raw;
    } catch (e) {
      throw new InputError(`not a valid certificate (${(e as Error).message})`, { file, cause: e });
    }
  });
}

async function readCertificates(file: string): Promise<Buffer[]> {
  return pemToDerCertificates((await readRegularFile(file, MAX_CERTIFICATE_FILE_BYTES)).toString("utf8"), file);
}

/** Signs a model (see the module comment) and writes the signature atomically. */
export async function signModel(options: SignModelOptions): Promise<SignModelResult> {
  const env = options.env ?? process.env;
  const signaturePath = options.signaturePath ?? (await defaultModelSignaturePath(options.modelPath));
  if (options.signingCertificate === undefined && (options.certificateChain ?? []).length > 0) {
    throw new UsageError("sign model: --certificate-chain goes with --signing-certificate (the key's own certificate)");
  }
  return signAudited({
    operation: "sign model",
    artifact: options.modelPath,
    output: signaturePath,
    env,
    ...signingKeyOptions(options),
    withoutKey: options.signingCertificate !== undefined ? { error: "sign model: --signing-certificate needs --key (the certificate's private key)" } : "keyless",
    prepare: async (signer, event, secrets) => {
      const digestAlgorithm = signer ? EC_DIGESTS[signer.algorithm] : undefined;
      if (signer && digestAlgorithm === undefined) {
        throw new UsageError(`${signer.ref}: ${signer.algorithm} keys cannot sign models: OpenSSF model signatures are ECDSA P-256, P-384 or P-521 (model_signing verifies only those)`);
      }
      // Keyless settings are checked before the model is hashed.
      const tlogUpload = options.tlogUpload ?? true;
      const rekorUrl = !signer && tlogUpload ? serviceUrl("--rekor-url", options.rekorUrl ?? PUBLIC_GOOD_REKOR_URL) : undefined;
      const tsaUrl = !signer && options.tsaUrl !== undefined ? serviceUrl("--tsa-url", options.tsaUrl) : undefined;
      const fulcioUrl = signer ? undefined : serviceUrl("--fulcio-url", options.fulcioUrl ?? PUBLIC_GOOD_FULCIO_URL);
      if (!signer && rekorUrl === undefined && tsaUrl === undefined) throw new UsageError("keyless signing without a Rekor entry needs --tsa-url");
      let chain: Buffer[] | undefined;
      if (signer && options.signingCertificate !== undefined) {
        const leaf = await readCertificates(options.signingCertificate);
        const spki = createPublicKey(await signer.publicKeyPem()).export({ type: "spki", format: "der" });
        const leafSpki = new X509Certificate(leaf[0]!).publicKey.export({ type: "spki", format: "der" });
        if (!spki.equals(leafSpki)) throw new InputError("the certificate's public key is not the signing key's", { file: options.signingCertificate });
        chain = [leaf[0]!];
        for (const file of options.certificateChain ?? []) chain.push(...(await readCertificates(file)));
      }

      const inside = signatureInsideModel(options.modelPath, signaturePath);
      const manifest = await serializeModel(options.modelPath, {
        ...(options.method ? { method: options.method } : {}),
        ...(options.shardSize !== undefined ? { shardSize: options.shardSize } : {}),
        ...(options.hashType ? { hashType: options.hashType } : {}),
        allowSymlinks: options.allowSymlinks === true,
        ignorePaths: [...(options.ignorePaths ?? []), ...(inside !== undefined ? [inside] : [])],
        ignoreGitPaths: options.ignoreGitPaths ?? true,
        ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      });
      const root = rootDigest(manifest.resources);
      event.artifactDigest = `sha256:${root}`;
      const payload = statementBytes(manifest);
      const base = { signaturePath, rootDigest: `sha256:${root}`, resources: manifest.resources };

      if (signer) {
        const pem = await signer.publicKeyPem();
        const signature = await signer.signDigest(createHash(digestAlgorithm!).update(pae(payload)).digest(), digestAlgorithm!);
        const material = chain
          ? { x509CertificateChain: { certificates: chain.map((c) => ({ rawBytes: c.toString("base64") })) }, tlogEntries: [] }
          : { publicKey: { hint: modelKeyHint(pem) }, tlogEntries: [] };
        const bundle = {
          mediaType: SIGSTORE_BUNDLE_V03,
          verificationMaterial: material,
          dsseEnvelope: {
            payload: payload.toString("base64"),
            payloadType: IN_TOTO_PAYLOAD_TYPE,
            signatures: [{ sig: Buffer.from(signature).toString("base64"), keyid: "" }],
          },
        };
        const result: SignModelResult = { ...base, method: chain ? "certificate" : "key", keyId: event.keyId!, tlogEntries: 0 };
        return { result, json: JSON.stringify(bundle) };
      }

      const token = await identityToken(options.identityToken, env);
      secrets.push(token.token);
      const issuer = tokenClaims(token.token).iss;
      const builder = new DSSEBundleBuilder({
        signer: fulcioSigner(token.token, fulcioUrl!),
        witnesses: witnesses({ ...(rekorUrl ? { rekorUrl } : {}), ...(tsaUrl ? { tsaUrl } : {}), dsse: true }),
        certificateChain: false,
      });
      let bundle;
      try {
        bundle = await builder.create({ data: payload, type: IN_TOTO_PAYLOAD_TYPE });
      } catch (e) {
        throw sigstoreServiceError(e, secrets);
      }
      const content = bundle.verificationMaterial.content;
      if (content.$case !== "certificate") throw new InputError("keyless bundle without a certificate (sigstore-js returned an unexpected bundle)");
      const identity = certificateIdentity(content.certificate.rawBytes, issuer);
      event.keyId = identity.subjectAlternativeName ?? "";
      event.signer = { ...event.signer, ...identity };
      const result: SignModelResult = { ...base, method: "keyless", identity, tlogEntries: bundle.verificationMaterial.tlogEntries.length };
      return { result, json: JSON.stringify(bundleToJSON(bundle)) };
    },
    store: async (signed) => {
      await writeFileAtomic(signaturePath, signed.json);
      return signed.result;
    },
  });
}
