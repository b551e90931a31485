/**
 * Offline verification of Sigstore bundles, the library behind `tollgate verify blob` and
 * `tollgate verify-bundle`: read a bundle, an artifact (or its digest) and a trust root, build a
 * policy, and `verifyBundle`. Every failure is a `VerificationFailedError` with a reason code.
 */
export { verifyBundle, type VerificationResult } from "./verifier.ts";
export { parseBundle, readBundle, MAX_BUNDLE_BYTES } from "./bundle.ts";
export { readArtifactArgument, artifactFromBytes, isDigestArgument, type ArtifactInput } from "./artifact.ts";
export { policyFromOptions, checkPolicyFlags, checkIdentity, type VerificationPolicy, type PolicyOptions, type Matcher } from "./policy.ts";
export { parsePublicKeyPem, readPublicKey, publicKeyId } from "./key.ts";
export { reasonForSigstoreCode, toVerificationFailure } from "./errors.ts";
export { verdictJson, verdictLine } from "./report.ts";
export type { CertificateIdentity } from "./certificate.ts";
export type { SignedContent } from "./signature.ts";
export type { VerifiedTimestamp } from "./timestamp.ts";
export type { VerifiedTlogEntry } from "./tlog.ts";
export { loadTrustedRoot, parseTrustedRoot, publicGoodTrustedRoot, type LoadedTrustRoot } from "../trust-root.ts";
