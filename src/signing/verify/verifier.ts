/**
 * The one verifier: `verifyBundle(bundle, artifact, policy, trustRoot)` composes the checks, each in its
 * module, in this order (the first failure is the reason reported):
 *
 * 1. the bundle's structure (`bundle.ts` parsed it; `tlog.ts` log indexes, `certificate.ts` no root in
 *    the chain);
 * 2. the policy against the kind of bundle (a key policy needs a keyed bundle, an identity policy a
 *    certificate);
 * 3. the artifact binding (`signature.ts`: message digest, in-toto subjects): is this bundle about
 *    this artifact at all;
 * 4. the evidence the policy demands (`policy.ts`: a tlog entry or a timestamp, unless
 *    `insecureIgnoreTlog` with a key);
 * 5. the signature with the signer's own key (`signature.ts`), so that a bad signature is reported as
 *    such and not as the log entry that recorded another one;
 * 6. sigstore-js's Verifier over the trust material: timestamps (RFC 3161 against the trusted TSAs,
 *    integrated times), the signing key or certificate (chain to a trusted CA at each timestamp, SCTs),
 *    the tlog entries (SET or inclusion proof against a signed checkpoint, body against the
 *    signature), the signature over the artifact or the DSSE PAE;
 * 7. the identity policy (`policy.ts`).
 *
 * Every failure is a `VerificationFailedError` with a reason code (see `errors.ts`).
 */
import type { Bundle } from "@sigstore/bundle";
import type { TrustedRoot } from "@sigstore/protobuf-specs";
import { toSignedEntity, toTrustMaterial, Verifier, type KeyFinderFunc, type SignedEntity, type Signer } from "@sigstore/verify";
import { describeArtifact, type ArtifactInput } from "./artifact.ts";
import { checkCertificateMaterial, signerIdentity } from "./certificate.ts";
import { toVerificationFailure, verificationFailure } from "./errors.ts";
import { givenKeyFinder, publicKeyId } from "./key.ts";
import { checkIdentity, type VerificationPolicy } from "./policy.ts";
import { checkArtifactBinding, checkSignature, withDigestSignature, type SignedContent } from "./signature.ts";
import { earliest, entityTimestamps, type VerifiedTimestamp } from "./timestamp.ts";
import { checkTlogEntries, describeTlogEntry, type VerifiedTlogEntry } from "./tlog.ts";

export interface VerificationResult {
  readonly artifact: string;
  readonly mediaType: string;
  readonly content: SignedContent;
  readonly signer: { readonly kind: "key"; readonly keyId: string } | { readonly kind: "certificate"; readonly subject: string; readonly issuer: string };
  /** The verified timestamps; empty only for a keyed bundle accepted with `insecureIgnoreTlog`. */
  readonly timestamps: readonly VerifiedTimestamp[];
  /** The earliest verified time. */
  readonly signedAt?: Date;
  readonly tlogEntries: readonly VerifiedTlogEntry[];
}

const refuseKeyHints: KeyFinderFunc = (hint) => {
  throw verificationFailure("KEY", `the bundle is signed with a key (hint ${JSON.stringify(hint)}); verify it with --key`);
};

/** Verifies `bundle` for `artifact` under `policy`, offline, against `trustRoot`. Throws on any failure. */
export function verifyBundle(bundle: Bundle, artifact: ArtifactInput, policy: VerificationPolicy, trustRoot: TrustedRoot): VerificationResult {
  checkTlogEntries(bundle);
  checkCertificateMaterial(bundle);

  const material = bundle.verificationMaterial;
  const keyed = material.content.$case === "publicKey";
  if (policy.kind === "key" && !keyed) {
    throw verificationFailure("KEY", "the bundle is signed with a certificate (keyless), not a key: verify it with --certificate-identity and --certificate-oidc-issuer");
  }
  if (policy.kind === "certificate" && material.content.$case === "publicKey") {
    throw verificationFailure("KEY", `the bundle is signed with a key (hint ${JSON.stringify(material.content.publicKey.hint)}), not a certificate: verify it with --key`);
  }

  const content = checkArtifactBinding(bundle, artifact);

  const timestampCount = material.timestampVerificationData?.rfc3161Timestamps.length ?? 0;
  const insecureIgnoreTlog = policy.kind === "key" && policy.insecureIgnoreTlog === true;
  if (material.tlogEntries.length === 0 && timestampCount === 0 && !insecureIgnoreTlog) {
    throw verificationFailure(
      "TLOG",
      policy.kind === "key"
        ? "the bundle has no transparency log entry and no timestamp: nothing proves when it was signed or that it was published; --insecure-ignore-tlog accepts it on the key's signature alone"
        : "the bundle has no transparency log entry and no timestamp",
    );
  }

  let entity: SignedEntity;
  let signer: Signer;
  try {
    entity = withDigestSignature(toSignedEntity(bundle, artifact.kind === "file" ? artifact.bytes : undefined), bundle, artifact);
    checkSignature(entity, policy.kind === "key" ? policy.key : undefined);
    const trustMaterial = toTrustMaterial(trustRoot, policy.kind === "key" ? givenKeyFinder(policy.key) : refuseKeyHints);
    const verifier = new Verifier(trustMaterial, insecureIgnoreTlog ? { tlogThreshold: 0, timestampThreshold: 0 } : {});
    signer = verifier.verify(entity);
  } catch (e) {
    throw toVerificationFailure(e);
  }

  let signerSummary: VerificationResult["signer"];
  if (policy.kind === "certificate") {
    const identity = signerIdentity(signer);
    if (identity === undefined) throw verificationFailure("IDENTITY", "the verified signer has no certificate identity");
    checkIdentity(policy, identity);
    signerSummary = { kind: "certificate", ...identity };
  } else {
    signerSummary = { kind: "key", keyId: publicKeyId(policy.key) };
  }

  const timestamps = entityTimestamps(entity);
  const signedAt = earliest(timestamps);
  return {
    artifact: describeArtifact(artifact),
    mediaType: bundle.mediaType,
    content,
    signer: signerSummary,
    timestamps,
    ...(signedAt !== undefined ? { signedAt } : {}),
    tlogEntries: material.tlogEntries.map(describeTlogEntry),
  };
}
