/**
 * The signature and what it is over: the binding of a bundle to the artifact (the message digest of a
 * message-signature bundle, the in-toto subjects of a DSSE bundle), and the signature check itself
 * when only the artifact's digest is known (a prehashed ECDSA or RSA PKCS#1 v1.5 verification; with
 * the artifact's bytes, sigstore-js's own check runs).
 */
import { constants, createPublicKey, publicDecrypt, type KeyObject } from "node:crypto";
import { createRequire } from "node:module";
import type * as NobleNistModule from "@noble/curves/nist.js";
import type { Bundle } from "@sigstore/bundle";
import type { SignedEntity } from "@sigstore/verify";
import { HashAlgorithm } from "@sigstore/protobuf-specs";
import { VerificationFailedError } from "../../errors.ts";
import { artifactDigest, describeArtifact, type ArtifactInput } from "./artifact.ts";
import { verificationFailure } from "./errors.ts";

export const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";

/** node:crypto names of the message digest algorithms a bundle may name. */
const HASH_NAMES: Partial<Record<HashAlgorithm, string>> = {
  [HashAlgorithm.HASH_ALGORITHM_UNSPECIFIED]: "sha256",
  [HashAlgorithm.SHA2_256]: "sha256",
  [HashAlgorithm.SHA2_384]: "sha384",
  [HashAlgorithm.SHA2_512]: "sha512",
  [HashAlgorithm.SHA3_256]: "sha3-256",
  [HashAlgorithm.SHA3_384]: "sha3-384",
};

/** DER DigestInfo prefixes (RFC 8017 §9.2) for RSA PKCS#1 v1.5 over a digest. */
const DIGEST_INFO_PREFIX: Record<string, string> = {
  sha256: "3031300d060960864801650304020105000420",
  sha384: "3041300d060960864801650304020205000430",
  sha512: "3051300d060960864801650304020305000440",
};

/** What the bundle says was signed, for the verdict. */
export interface SignedContent {
  readonly kind: "message-signature" | "dsse";
  /** For DSSE: the payload type. */
  readonly payloadType?: string;
  /** For in-toto statements: the predicate type. */
  readonly predicateType?: string;
}

/**
 * Checks that the bundle is about `artifact`: a message signature's digest is the artifact's digest
 * (the digest is an unauthenticated hint in the bundle, but it is what the transparency log entry
 * records, so a mismatch is a bundle for another artifact); a DSSE envelope must carry an in-toto
 * statement with a subject of the artifact's SHA-256. Fails with reason `DIGEST_MISMATCH`.
 */
export function checkArtifactBinding(bundle: Bundle, artifact: ArtifactInput): SignedContent {
  const content = bundle.content;
  if (content.$case === "messageSignature") {
    const md = content.messageSignature.messageDigest;
    if (md === undefined) throw verificationFailure("BUNDLE", "the message signature has no message digest");
    const name = HASH_NAMES[md.algorithm];
    if (name === undefined) throw verificationFailure("BUNDLE", `unsupported message digest algorithm ${String(md.algorithm)}`);
    const digest = artifactDigest(artifact, name);
    if (digest === undefined) {
      throw verificationFailure("DIGEST_MISMATCH", `the bundle signs a ${name} digest; give the artifact file instead of its sha256 digest`);
    }
    if (!digest.equals(Buffer.from(md.digest))) {
      throw verificationFailure(
        "DIGEST_MISMATCH",
        `the bundle's message digest (${name}:${Buffer.from(md.digest).toString("hex")}) is not the digest of ${describeArtifact(artifact)} (${name}:${digest.toString("hex")})`,
      );
    }
    return { kind: "message-signature" };
  }
  const envelope = content.dsseEnvelope;
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw verificationFailure("BUNDLE", `DSSE payload type ${JSON.stringify(envelope.payloadType)} is not an in-toto statement: nothing binds it to an artifact`);
  }
  let statement: { subject?: unknown; predicateType?: unknown };
  try {
    statement = JSON.parse(Buffer.from(envelope.payload).toString("utf8")) as typeof statement;
  } catch (e) {
    throw verificationFailure("BUNDLE", `the DSSE payload is not JSON (${(e as Error).message})`, e);
  }
  if (typeof statement !== "object" || statement === null || !Array.isArray(statement.subject)) {
    throw verificationFailure("BUNDLE", "the in-toto statement has no subject list");
  }
  const wanted = artifactDigest(artifact, "sha256")?.toString("hex");
  // A file also matches a sha512 subject (npm's provenance names the tarball by its sha512 only).
  const wanted512 = artifact.kind === "file" ? artifactDigest(artifact, "sha512")?.toString("hex") : undefined;
  const subjects = statement.subject as unknown[];
  const match = subjects.some((s) => {
    const digest = (s as { digest?: { sha256?: unknown; sha512?: unknown } } | null)?.digest;
    const d = digest?.sha256;
    const d512 = digest?.sha512;
    return (typeof d === "string" && d.toLowerCase() === wanted) || (wanted512 !== undefined && typeof d512 === "string" && d512.toLowerCase() === wanted512);
  });
  if (!match) {
    throw verificationFailure(
      "DIGEST_MISMATCH",
      `${describeArtifact(artifact)} (sha256:${wanted ?? "?"}) is not a subject of the in-toto statement (${subjects.length} subject(s))`,
    );
  }
  return {
    kind: "dsse",
    payloadType: envelope.payloadType,
    predicateType: typeof statement.predicateType === "string" ? statement.predicateType : undefined,
  };
}

type NobleNist = typeof NobleNistModule;
let noble: NobleNist | undefined;
/**
 * @noble/curves, loaded on first use (synchronously: require of an ES module): only digest-only checks
 * need it, and loading it costs every verification about 65 ms of start-up otherwise.
 */
function nobleNist(): NobleNist {
  noble ??= createRequire(import.meta.url)("@noble/curves/nist.js") as NobleNist;
  return noble;
}

/**
 * Verifies a signature over a digest (no rehashing): ECDSA on P-256/P-384/P-521 (DER signature) and
 * RSA PKCS#1 v1.5. Ed25519 signs the message itself, so a digest cannot be checked against it.
 */
export function verifyDigestSignature(key: KeyObject, digest: Buffer, signature: Buffer, hash: string): boolean {
  if (key.asymmetricKeyType === "ec") {
    const jwk = key.export({ format: "jwk" });
    const { p256, p384, p521 } = nobleNist();
    const curve = jwk.crv === "P-256" ? p256 : jwk.crv === "P-384" ? p384 : jwk.crv === "P-521" ? p521 : undefined;
    if (curve === undefined || jwk.x === undefined || jwk.y === undefined) return false;
    const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, "base64url"), Buffer.from(jwk.y, "base64url")]);
    try {
      return curve.verify(signature, digest, point, { prehash: false, lowS: false, format: "der" });
    } catch {
      return false;
    }
  }
  if (key.asymmetricKeyType === "rsa") {
    const prefix = DIGEST_INFO_PREFIX[hash];
    if (prefix === undefined) return false;
    try {
      const decoded = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature);
      return decoded.equals(Buffer.concat([Buffer.from(prefix, "hex"), digest]));
    } catch {
      return false;
    }
  }
  throw verificationFailure("KEY", `a ${key.asymmetricKeyType ?? "?"} signature cannot be checked against a digest; give the artifact file`);
}

/**
 * Checks the signature over the artifact (or the DSSE PAE) with the signer's key (the given key, or
 * the leaf certificate's key) before anything else is verified: a signature that does not verify
 * under the bundle's own key fails for that reason (`SIGNATURE`), not for the log entry that
 * recorded another signature. sigstore-js checks the signature again with the verified signer.
 */
export function checkSignature(entity: SignedEntity, givenKey: KeyObject | undefined): void {
  let key: KeyObject;
  if (givenKey !== undefined) {
    key = givenKey;
  } else if (entity.key.$case === "certificate") {
    try {
      key = createPublicKey({ key: entity.key.certificate.publicKey, format: "der", type: "spki" });
    } catch (e) {
      throw verificationFailure("CERTIFICATE", `the certificate's public key is not usable (${(e as Error).message})`, e);
    }
  } else {
    return;
  }
  let valid: boolean;
  try {
    valid = entity.signature.verifySignature(key);
  } catch (e) {
    if (e instanceof VerificationFailedError) throw e;
    throw verificationFailure("SIGNATURE", `the signature cannot be checked with this key (${(e as Error).message})`, e);
  }
  if (!valid) {
    throw verificationFailure(
      "SIGNATURE",
      givenKey !== undefined ? "the signature does not verify with the given key" : "the signature does not verify with the key of the bundle's certificate",
    );
  }
}

/**
 * The signed entity for a message-signature bundle checked against a digest only: everything as
 * sigstore-js builds it, but the signature is verified over the digest.
 */
export function withDigestSignature(entity: SignedEntity, bundle: Bundle, artifact: ArtifactInput): SignedEntity {
  if (artifact.kind !== "digest" || bundle.content.$case !== "messageSignature") return entity;
  const original = entity.signature;
  const digest = artifact.digest;
  return {
    ...entity,
    signature: {
      signature: original.signature,
      compareSignature: (s) => original.compareSignature(s),
      compareDigest: (d) => original.compareDigest(d),
      compareSignedDigest: (d) => original.compareSignedDigest(d),
      verifySignature: (key) => verifyDigestSignature(key, digest, original.signature, artifact.algorithm),
    },
  };
}
