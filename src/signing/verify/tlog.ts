/**
 * Transparency log evidence: what sigstore-js checks (inclusion proofs against signed checkpoints,
 * signed entry timestamps, entry bodies against the bundle's signature) plus the checks it leaves
 * out, run first: a log index must be a non-negative integer. And the summary of the entries that
 * verified, for the verdict.
 */
import type { Bundle, TransparencyLogEntry } from "@sigstore/bundle";
import { verificationFailure } from "./errors.ts";

export interface VerifiedTlogEntry {
  readonly logIndex: string;
  /** The log's id (base64 of the key id), as trust roots name it. */
  readonly logId: string;
  readonly kind: string;
  /** Rekor v1 integrated time; Rekor v2 entries have none (their time comes from a timestamp authority). */
  readonly integratedTime?: Date;
}

const NON_NEGATIVE_INTEGER = /^(0|[1-9][0-9]*)$/;

/** Structural checks of every tlog entry, before any cryptography. */
export function checkTlogEntries(bundle: Bundle): void {
  bundle.verificationMaterial.tlogEntries.forEach((entry, i) => {
    if (!NON_NEGATIVE_INTEGER.test(entry.logIndex)) {
      throw verificationFailure("TLOG", `tlog entry ${i}: log index ${JSON.stringify(entry.logIndex)} is not a non-negative integer`);
    }
    if (entry.inclusionProof !== undefined && !NON_NEGATIVE_INTEGER.test(entry.inclusionProof.logIndex)) {
      throw verificationFailure("TLOG", `tlog entry ${i}: inclusion proof log index ${JSON.stringify(entry.inclusionProof.logIndex)} is not a non-negative integer`);
    }
    if (entry.integratedTime !== "" && !NON_NEGATIVE_INTEGER.test(entry.integratedTime)) {
      throw verificationFailure("TLOG", `tlog entry ${i}: integrated time ${JSON.stringify(entry.integratedTime)} is not a non-negative integer`);
    }
  });
}

/** The summary of a tlog entry (call after verification). */
export function describeTlogEntry(entry: TransparencyLogEntry): VerifiedTlogEntry {
  const seconds = entry.integratedTime === "" ? 0 : Number(entry.integratedTime);
  return {
    logIndex: entry.logIndex,
    logId: Buffer.from(entry.logId.keyId).toString("base64"),
    kind: `${entry.kindVersion.kind}/${entry.kindVersion.version}`,
    ...(seconds > 0 ? { integratedTime: new Date(seconds * 1000) } : {}),
  };
}
