/**
 * What a successful verification reports: the one-line verdict (stderr) and the JSON document of
 * `--format json` (stdout): the verified signer (key id, or certificate identity and issuer), the
 * signature time (the earliest verified timestamp), every timestamp and tlog entry.
 */
import type { VerificationResult } from "./verifier.ts";

/** `verified FILE: signed by WHO at TIME, tlog index N`. */
export function verdictLine(result: VerificationResult): string {
  const who = result.signer.kind === "key" ? `key ${result.signer.keyId.slice(0, 16)}…` : `${result.signer.subject} (issuer ${result.signer.issuer})`;
  const when = result.signedAt !== undefined ? ` at ${result.signedAt.toISOString()}` : " (no verified time: --insecure-ignore-tlog)";
  const log = result.tlogEntries.length > 0 ? `, tlog index ${result.tlogEntries.map((e) => e.logIndex).join(", ")}` : "";
  return `verified ${result.artifact}: signed by ${who}${when}${log}`;
}

/** The JSON verdict (version 1 of its shape: fields are only ever added). */
export function verdictJson(result: VerificationResult, inputs: { bundle: string; trustedRoot: string }): string {
  return `${JSON.stringify(
    {
      verified: true,
      artifact: result.artifact,
      bundle: inputs.bundle,
      mediaType: result.mediaType,
      content: result.content,
      signer: result.signer,
      signedAt: result.signedAt?.toISOString() ?? null,
      timestamps: result.timestamps.map((t) => ({ source: t.source, time: t.time.toISOString() })),
      tlogEntries: result.tlogEntries.map((e) => ({ ...e, integratedTime: e.integratedTime?.toISOString() })),
      trustedRoot: inputs.trustedRoot,
    },
    null,
    2,
  )}\n`;
}
