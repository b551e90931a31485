/**
 * Timestamps: the times at which the signature is proven to have existed, from RFC 3161 timestamp
 * authorities (checked by sigstore-js against the trust root's TSAs and their validity windows) and
 * from Rekor v1 integrated times (bound by the signed entry timestamp or the inclusion proof). The
 * signing certificate must be valid at each of them. This module reports them after verification.
 */
import type { SignedEntity } from "@sigstore/verify";

export interface VerifiedTimestamp {
  readonly source: "timestamp-authority" | "transparency-log";
  readonly time: Date;
}

/** The timestamps of a signed entity (call after verification: before it, they are claims). */
export function entityTimestamps(entity: SignedEntity): VerifiedTimestamp[] {
  return entity.timestamps.map((t) =>
    t.$case === "timestamp-authority"
      ? { source: "timestamp-authority" as const, time: t.timestamp.signingTime }
      : { source: "transparency-log" as const, time: new Date(Number(t.tlogEntry.integratedTime) * 1000) },
  );
}

/** The earliest verified time, the one a verdict reports as the signature time. */
export function earliest(timestamps: readonly VerifiedTimestamp[]): Date | undefined {
  let first: Date | undefined;
  for (const t of timestamps) if (first === undefined || t.time < first) first = t.time;
  return first;
}
