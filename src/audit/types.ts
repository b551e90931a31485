/**
 * The audit log's event: one entry per signing operation (issue 12, item 4). Every command that signs
 * calls `recordSigningEvent` (src/audit/index.ts) after the attempt, successful or not.
 */
export interface SigningEvent {
  /** "sign blob", "sign image", "sign model", "attest", "keys generate". */
  operation: string;
  /** What was signed: `sha256:<hex>` of the artifact (an image's manifest digest, a model manifest's digest). */
  artifactDigest: string;
  /** The artifact as named by the user (a path, an image reference). */
  artifact: string;
  /** Key id (hex SHA-256 of the public key's DER SPKI) and backend, or the certificate identity for keyless signing. */
  keyId?: string;
  backend?: string;
  /** The key reference, secrets removed. */
  keyRef?: string;
  /** Who signed: the CI workflow and run (GITHUB_WORKFLOW_REF, GITHUB_RUN_ID…), the OIDC identity, or the local user. */
  signer?: Record<string, string>;
  result: "success" | "failure";
  /** Why it failed (one line, secrets removed). */
  error?: string;
  /** Where the signature went (a bundle path, a registry reference). */
  output?: string;
}
