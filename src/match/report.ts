/**
 * The outputs of `tollgate scan` and `tollgate explain`: the versioned JSON findings document, the
 * table, and the explanation of one finding.
 *
 * JSON document (schemaVersion "1.0"; fields are only ever added within a major version):
 *   { "schemaVersion", "target", "database": { "path", "updatedAt" }, "stats",
 *     "findings": [ { "id", "aliases", "summary", "package": { "name", "version", "purl", "ecosystem" },
 *                     "severity": { "level", "score", "vector", "source" }, "fixedVersions",
 *                     "matchedBy": [ { "advisoryId", "kind", "rangeType", "events", "comparison" } ] } ] }
 */
import type { Reporter } from "../report/reporter.ts";
import { terminalText as t } from "../io/text.ts";
import type { Finding } from "../model/index.ts";
import type { VulnDb } from "../vulndb/index.ts";
import type { MatchStats } from "./index.ts";

export const FINDINGS_SCHEMA_VERSION = "1.0";

export interface FindingsDocument {
  schemaVersion: string;
  target?: string;
  database?: { path: string; updatedAt?: string };
  stats?: MatchStats;
  findings: {
    id: string;
    aliases: string[];
    summary?: string;
    package: { name: string; version?: string; purl?: string; ecosystem?: string };
    severity: { level: string; score?: number; vector?: string; source: string };
    fixedVersions: string[];
    matchedBy: Finding["matchedBy"];
  }[];
}

export function findingsDocument(findings: readonly Finding[], context: { target?: string; db?: VulnDb; stats?: MatchStats } = {}): FindingsDocument {
  const status = context.db?.status();
  return {
    schemaVersion: FINDINGS_SCHEMA_VERSION,
    ...(context.target !== undefined ? { target: context.target } : {}),
    ...(status ? { database: { path: status.path, ...(status.updatedAt ? { updatedAt: status.updatedAt } : {}) } } : {}),
    ...(context.stats ? { stats: context.stats } : {}),
    findings: findings.map((f) => ({
      id: f.id,
      aliases: f.aliases,
      ...(f.summary !== undefined ? { summary: f.summary } : {}),
      package: {
        name: f.component.name,
        ...(f.component.version !== undefined ? { version: f.component.version } : {}),
        ...(f.component.purl !== undefined ? { purl: f.component.purl } : {}),
        ...(f.component.ecosystem !== undefined ? { ecosystem: f.component.ecosystem } : {}),
      },
      severity: {
        level: f.severity.level,
        ...(f.severity.score !== undefined ? { score: f.severity.score } : {}),
        ...(f.severity.vector !== undefined ? { vector: f.severity.vector } : {}),
        source: f.severity.source,
      },
      fixedVersions: f.fixedVersions,
      matchedBy: f.matchedBy,
    })),
  };
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + " ".repeat(n - s.length);
}

/** The first `n` characters (code points, so that no surrogate pair is cut). */
function firstChars(s: string, n: number): string {
  return [...s].slice(0, n).join("");
}

/**
 * A plain-text table, one row per finding. Names, versions, ids and summaries come from lockfiles
 * and advisories: `terminalText` shows their control characters escaped (here and in `explainFinding`).
 */
export function findingsTable(findings: readonly Finding[]): string {
  if (findings.length === 0) return "No known vulnerabilities found.\n";
  // One row per vulnerability, package and version: the same package from the registry and from git
  // (two components of one lockfile) made two rows that read the same. The JSON keeps both.
  const copies = new Map<string, { finding: Finding; count: number }>();
  for (const f of findings) {
    const key = JSON.stringify([f.id, f.component.ecosystem, f.component.name, f.component.version, f.fixedVersions[0]]);
    const seen = copies.get(key);
    if (seen) seen.count++;
    else copies.set(key, { finding: f, count: 1 });
  }
  const rows = [...copies.values()].map(({ finding: f, count }) => [
    f.severity.level + (f.severity.score !== undefined ? ` ${f.severity.score.toFixed(1)}` : ""),
    t(f.id),
    t(f.component.name) + (count > 1 ? ` (${count} copies)` : ""),
    t(f.component.version ?? ""),
    t(contentLocation(f) ?? f.fixedVersions[0] ?? "-"),
    firstChars(t(f.summary ?? ""), 60),
  ]);
  const head = ["SEVERITY", "ID", "PACKAGE", "VERSION", findings.some((f) => contentLocation(f) !== undefined) ? "FIXED IN / FOUND AT" : "FIXED IN", "SUMMARY"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : pad(c, widths[i]!))).join("  ").trimEnd();
  return [line(head), ...rows.map(line)].join("\n") + "\n";
}

/** Where a content finding was seen (`file[!member] @ offset N`), or undefined for an advisory finding. */
function contentLocation(f: Finding): string | undefined {
  const loc = f.matchedBy.find((m) => m.kind === "content")?.location;
  if (!loc) return undefined;
  return `${loc.path}${loc.member ? `!${loc.member}` : ""}${loc.offset !== undefined ? ` @ offset ${loc.offset}` : ""}`;
}

/** The record, range and comparison that made a finding, as text. */
export function explainFinding(finding: Finding, db?: VulnDb): string {
  const c = finding.component;
  const out: string[] = [];
  out.push(`${t(finding.id)}${finding.summary ? `: ${t(finding.summary)}` : ""}`);
  out.push(`  ids:        ${t(finding.aliases.join(", "))}`);
  out.push(`  package:    ${t(c.name)} ${t(c.version ?? "(no version)")}${c.ecosystem ? ` (${t(c.ecosystem)}${c.ecosystemRelease ? `:${t(c.ecosystemRelease)}` : ""})` : ""}${c.purl ? ` ${t(c.purl)}` : ""}`);
  if (c.sourceName) out.push(`  source pkg: ${t(c.sourceName)}${c.sourceVersion ? ` ${t(c.sourceVersion)}` : ""} (distro advisories name the source package)`);
  const s = finding.severity;
  out.push(`  severity:   ${s.level}${s.score !== undefined ? ` ${s.score.toFixed(1)}` : ""}${s.vector ? ` ${t(s.vector)}` : ""} (from ${t(s.source)})`);
  const where = contentLocation(finding);
  if (where !== undefined) out.push(`  found at:   ${t(where)} (in the file's content: nothing to upgrade)`);
  else out.push(`  fixed in:   ${finding.fixedVersions.length > 0 ? t(finding.fixedVersions.join(", ")) : "no fixed version published"}`);
  out.push("  matched by:");
  for (const r of finding.matchedBy) {
    // JSON.stringify escapes C0 controls but not DEL, C1 or bidi controls: terminalText after it.
    const events = r.events ? ` ${r.events.map((e) => t(JSON.stringify(e))).join(" ")}` : "";
    out.push(`    ${t(r.advisoryId)}: ${r.kind === "range" ? `${t(String(r.rangeType))} range` : r.kind === "content" ? "file content" : "versions list"}${events}`);
    out.push(`      ${t(r.comparison)}`);
  }
  if (db) {
    for (const id of new Set(finding.matchedBy.map((r) => r.advisoryId))) {
      const rec = db.get(id);
      if (!rec) continue;
      out.push(`  record ${t(rec.id)}: modified ${t(rec.modified)}${rec.published ? `, published ${t(rec.published)}` : ""}${rec.aliases?.length ? `, aliases ${t(rec.aliases.join(", "))}` : ""}`);
      for (const ref of (rec.references ?? []).slice(0, 5)) out.push(`    ${t(ref.type)} ${t(ref.url)}`);
    }
  }
  return out.join("\n") + "\n";
}

/** What a scan report shows: the findings, and for JSON the target, database and counters. */
export interface ScanReportInput {
  findings: readonly Finding[];
  target?: string;
  db?: VulnDb;
  stats?: MatchStats;
}

/** The reports of `tollgate scan`, one per format. */
export const SCAN_REPORTERS = [
  { format: "table", stdout: true, render: (r) => findingsTable(r.findings) },
  {
    format: "json",
    stdout: true,
    render: (r) =>
      `${JSON.stringify(findingsDocument(r.findings, { ...(r.target !== undefined ? { target: r.target } : {}), ...(r.db ? { db: r.db } : {}), ...(r.stats ? { stats: r.stats } : {}) }), null, 2)}\n`,
  },
] as const satisfies readonly Reporter<ScanReportInput>[];
