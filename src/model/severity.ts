import type { SeverityThreshold } from "../config/index.ts";
import { severityRank, type Finding, type Severity } from "./index.ts";

/**
 * The severity each threshold starts at (`none`: none, never reached). A lookup, not ranks computed
 * when the module loads: this module and index.ts import each other.
 */
const THRESHOLD_SEVERITY: Record<SeverityThreshold, Severity | undefined> = {
  none: undefined,
  low: "LOW",
  medium: "MEDIUM",
  high: "HIGH",
  critical: "CRITICAL",
};

/** True when `severity` is at or above the threshold (`none` is never reached). */
export function atOrAbove(severity: Severity, threshold: SeverityThreshold): boolean {
  const start = THRESHOLD_SEVERITY[threshold];
  return start !== undefined && severityRank(severity) >= severityRank(start);
}

/** Counts of findings by severity (each finding once). */
export function countBySeverity(findings: readonly Finding[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, NONE: 0, UNKNOWN: 0 };
  for (const f of findings) counts[f.severity.level]++;
  return counts;
}
