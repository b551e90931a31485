/**
 * The severity of an OSV record: computed from its CVSS vectors (the newest CVSS version present wins;
 * within one version the highest score), else the database's own rating (GHSA's
 * `database_specific.severity`), else Ubuntu's priority. The source is always recorded.
 */
import type { Severity, SeverityScore } from "../model/index.ts";
import { cvssScore, type CvssScore } from "./cvss.ts";
import type { OsvRecord } from "./osv.ts";

const VERSION_RANK: Record<string, number> = { "2.0": 0, "3.0": 1, "3.1": 2, "4.0": 3 };

const WORDS: Record<string, Severity> = {
  NONE: "NONE",
  NEGLIGIBLE: "LOW",
  LOW: "LOW",
  MODERATE: "MEDIUM",
  MEDIUM: "MEDIUM",
  IMPORTANT: "HIGH",
  HIGH: "HIGH",
  CRITICAL: "CRITICAL",
};

/** A word rating (GHSA's MODERATE, Ubuntu's "medium", Red Hat's "Important") as a tollgate level. */
export function severityFromWord(word: string): Severity | undefined {
  return WORDS[word.trim().toUpperCase()];
}

export function recordSeverity(record: OsvRecord): SeverityScore {
  let best: CvssScore | undefined;
  const entries = [...(record.severity ?? []), ...(record.affected ?? []).flatMap((a) => a.severity ?? [])];
  let ubuntu: string | undefined;
  for (const e of entries) {
    if (e.type === "Ubuntu") {
      ubuntu ??= e.score;
      continue;
    }
    if (!e.type.startsWith("CVSS_")) continue;
    const s = cvssScore(e.score);
    if (!s) continue;
    if (!best || VERSION_RANK[s.version]! > VERSION_RANK[best.version]! || (s.version === best.version && s.score > best.score)) best = s;
  }
  if (best) return { level: best.level, score: best.score, vector: best.vector, source: `cvss:${best.version}` };
  const ds = record.database_specific?.severity;
  if (typeof ds === "string") {
    const level = severityFromWord(ds);
    if (level) return { level, source: record.id.startsWith("GHSA-") ? "ghsa:database_specific" : "osv:database_specific" };
  }
  if (ubuntu !== undefined) {
    const level = severityFromWord(ubuntu);
    if (level) return { level, source: "ubuntu:priority" };
  }
  return { level: "UNKNOWN", source: "none" };
}
