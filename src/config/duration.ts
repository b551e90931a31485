import { InputError } from "../errors.ts";

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 } as const;

/** A duration of the config's form (7d, 12h, 30m, 45s, 2w) in seconds. */
export function durationSeconds(d: string): number {
  const m = /^(\d+)(s|m|h|d|w)$/.exec(d);
  if (!m) throw new InputError(`expected a duration such as 7d, got ${JSON.stringify(d)}`);
  return Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS];
}
