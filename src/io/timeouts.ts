/**
 * The network timeouts and their defaults, apart from the HTTP client (src/io/http.ts) so that the
 * SBOM and image options can carry them without loading node:http and node:https.
 */
import { durationSeconds } from "../config/duration.ts";

export interface NetworkTimeouts {
  /** DNS, TCP and TLS until the connection is up, ms. */
  connectMs: number;
  /** From the connection to the response headers, ms. */
  responseMs: number;
  /** Longest wait for the next body bytes while the reader waits, ms. */
  idleMs: number;
  /** A body of known size must average this rate (bytes per second) on top of connect + response. */
  minBytesPerSecond: number;
}

/** Defaults a CI job can live with: a dead host costs 15 s, a stalled one 30 s. */
export const DEFAULT_NETWORK_TIMEOUTS: Readonly<NetworkTimeouts> = Object.freeze({
  connectMs: 15_000,
  responseMs: 30_000,
  idleMs: 30_000,
  minBytesPerSecond: 512 * 1024,
});

export function networkTimeouts(partial: Partial<NetworkTimeouts> = {}): NetworkTimeouts {
  const t = { ...DEFAULT_NETWORK_TIMEOUTS };
  for (const k of Object.keys(t) as (keyof NetworkTimeouts)[]) {
    const v = partial[k];
    if (v !== undefined && Number.isFinite(v) && v > 0) t[k] = v;
  }
  return t;
}

/** The `timeouts:` section of tollgate.yaml in milliseconds. */
export function networkTimeoutsFromConfig(c: { connect: string; response: string; idle: string; min_rate: number } | undefined): NetworkTimeouts {
  if (!c) return networkTimeouts();
  return networkTimeouts({
    connectMs: durationSeconds(c.connect) * 1000,
    responseMs: durationSeconds(c.response) * 1000,
    idleMs: durationSeconds(c.idle) * 1000,
    minBytesPerSecond: c.min_rate,
  });
}

/** The time allowed for a body of `bytes` bytes (connect + response + bytes at the minimum rate). */
export function totalTimeoutMs(bytes: number, t: NetworkTimeouts): number {
  return t.connectMs + t.responseMs + Math.ceil((bytes / t.minBytesPerSecond) * 1000);
}
