/**
 * CVSS base scores for v2, v3.0, v3.1 and v4.0 vectors, through ae-cvss-calculator (checked exact
 * against the Red Hat python-cvss vector suites, including v4.0's rounding), and the qualitative
 * rating each version defines.
 */
import ae from "ae-cvss-calculator";
import type { Severity } from "../model/index.ts";

const { Cvss2, Cvss3P0, Cvss3P1, Cvss4P0 } = ae;

export type CvssVersion = "2.0" | "3.0" | "3.1" | "4.0";

export interface CvssScore {
  version: CvssVersion;
  /** The base score, 0.0–10.0. */
  score: number;
  level: Severity;
  vector: string;
}

/** The CVSS version a vector is written in: by its `CVSS:x.y/` prefix, else v2 (which has none). */
export function cvssVersionOf(vector: string): CvssVersion | undefined {
  const v = vector.trim();
  if (v.startsWith("CVSS:4.0/")) return "4.0";
  if (v.startsWith("CVSS:3.1/")) return "3.1";
  if (v.startsWith("CVSS:3.0/")) return "3.0";
  if (v.startsWith("CVSS:")) return undefined;
  const body = v.startsWith("(") && v.endsWith(")") ? v.slice(1, -1) : v;
  return /^AV:[LAN]\/AC:[HML]\/Au:[MSN]\//.test(body) ? "2.0" : undefined;
}

/** The qualitative rating of a score: v2 has LOW/MEDIUM/HIGH only; v3 and v4 add NONE and CRITICAL. */
export function cvssLevel(version: CvssVersion, score: number): Severity {
  if (version === "2.0") return score >= 7 ? "HIGH" : score >= 4 ? "MEDIUM" : "LOW";
  if (score === 0) return "NONE";
  if (score >= 9) return "CRITICAL";
  if (score >= 7) return "HIGH";
  if (score >= 4) return "MEDIUM";
  return "LOW";
}

/**
 * The base score of a CVSS vector, or undefined when the vector is malformed or lacks a base metric
 * (a partial vector is never scored as if the missing metrics were known).
 */
export function cvssScore(vector: string): CvssScore | undefined {
  const version = cvssVersionOf(vector);
  if (version === undefined) return undefined;
  let v = vector.trim();
  if (version === "2.0" && v.startsWith("(")) v = v.slice(1, -1);
  try {
    const calc = version === "4.0" ? new Cvss4P0(v) : version === "3.1" ? new Cvss3P1(v) : version === "3.0" ? new Cvss3P0(v) : new Cvss2(v);
    if (!calc.isBaseFullyDefined()) return undefined;
    const base = calc.calculateScores().base;
    if (base === undefined || !Number.isFinite(base)) return undefined;
    const score = Math.abs(base); // v2's formula can yield -0.0
    return { version, score, level: cvssLevel(version, score), vector: v };
  } catch {
    return undefined;
  }
}
