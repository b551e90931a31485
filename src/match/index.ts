/**
 * Matching: each component of an SBOM against the OSV records of its ecosystem and package name,
 * with that ecosystem's exact version order. No CPEs, no guessing: a component without an ecosystem
 * or an exact version is not matched (it is counted, and the gate reports it as unresolved).
 *
 * For one component, every matching record becomes a reason; records that share an id or alias
 * (GHSA ↔ CVE ↔ PYSEC …) are merged into one finding that carries all their ids.
 */
import { appendAll } from "../collect/collect.ts";
import type { Component, Finding, MatchReason, Sbom, SeverityScore } from "../model/index.ts";
import { severityRank } from "../model/index.ts";
import { compareSemver, ecosystemOfPurl, normalizePackageName, releaseMatches, sameOsPackageKind, sourcePackageMatching, versionComparator, type VersionComparator } from "../ecosystem/index.ts";
import type { VulnDb } from "../vulndb/index.ts";
import type { OsvAffected, OsvEvent, OsvRange, OsvRecord } from "../vulndb/osv.ts";
import { recordSeverity } from "../vulndb/severity.ts";

export interface MatchOptions {
  /** Called once with the run's counters (GIT ranges skipped, components not matchable…). */
  onStats?: (stats: MatchStats) => void;
}

export interface MatchStats {
  components: number;
  /** Components looked up in the database. */
  matched: number;
  /** Components with no ecosystem (and no purl to derive it from). */
  noEcosystem: number;
  /** Components with an ecosystem but without an exact version: not looked up. */
  noVersion: number;
  /** Components without an exact version, whatever their ecosystem (`isUnresolved`): what `check` reports as unresolved. */
  unresolved: number;
  /** Components whose ecosystem has no version order in tollgate. */
  unsupportedEcosystem: number;
  /** GIT ranges met in candidate records: skipped (commit ranges need the source repository). */
  gitRangesSkipped: number;
  findings: number;
}

/** What a component is looked up as: OSV ecosystem (base), release scope, package name and version. */
export interface PackageKey {
  ecosystem: string;
  release?: string;
  name: string;
  version: string;
}


/**
 * A package without an exact version: a range, or no version at all. It is never matched (a guess
 * would be wrong both ways), so `scan` counts it and the gate reports it (`unresolved:`), the same set.
 * Files and operating systems are not packages and need no version.
 */
export function isUnresolved(c: Component): boolean {
  if (c.unresolved === true) return true;
  return (c.version === undefined || c.version === "") && (c.type === "library" || c.type === "framework" || c.type === "application");
}

/** How a component is looked up, or why it cannot be. */
export function packageKeyOf(c: Component): PackageKey | "no-ecosystem" | "no-version" {
  let ecosystem: string | undefined = c.ecosystem;
  let name = c.name;
  let release = c.ecosystemRelease;
  const fromPurl = c.purl ? ecosystemOfPurl(c.purl) : undefined;
  if (fromPurl) {
    if (ecosystem === undefined || ecosystem === "generic") ecosystem = fromPurl.ecosystem;
    // The purl names the package as OSV does (npm scope, Maven group, Go module path) when it agrees
    // with the component's ecosystem; a distribution's purl namespace says which distribution of a
    // package format it is (a Debian-style package from Ubuntu is matched as Ubuntu).
    if (ecosystem !== undefined && fromPurl.ecosystem !== undefined && (fromPurl.ecosystem === ecosystem || sameOsPackageKind(ecosystem, fromPurl.ecosystem))) {
      name = fromPurl.name;
      ecosystem = fromPurl.ecosystem;
    }
    release ??= fromPurl.release;
  }
  if (ecosystem === undefined || ecosystem === "generic") return "no-ecosystem";
  // OSV names some distributions' packages by their source package (and its version).
  const bySource = sourcePackageMatching(ecosystem);
  if (c.sourceName && bySource) name = c.sourceName;
  const version = bySource === "name-and-version" && c.sourceVersion ? c.sourceVersion : c.version;
  if (version === undefined || version === "" || c.unresolved) return "no-version";
  return { ecosystem, name, version, ...(release !== undefined ? { release } : {}) };
}

interface RangeHit {
  reason: MatchReason;
}

function eventEntries(e: OsvEvent): [string, string] {
  const [k, v] = Object.entries(e)[0]!;
  return [k, v as string];
}

/**
 * Evaluates one SEMVER/ECOSYSTEM range for `version` the way the OSV schema specifies: events sorted
 * by version ("0" lowest); an introduced event opens, fixed (≥) and last_affected (>) close; limit
 * events cap the whole range.
 */
export function evaluateRange(range: OsvRange, version: string, cmp: VersionComparator, orderName: string, advisoryId: string): RangeHit | undefined {
  const events = range.events.map(eventEntries);
  const limits = events.filter(([k]) => k === "limit").map(([, v]) => v);
  if (limits.length > 0 && !limits.some((l) => l === "*" || cmp(version, l) < 0)) return undefined;
  const ordered = events
    .filter(([k]) => k !== "limit")
    .sort((a, b) => {
      if (a[1] === b[1]) return 0;
      if (a[0] === "introduced" && a[1] === "0") return -1;
      if (b[0] === "introduced" && b[1] === "0") return 1;
      return cmp(a[1], b[1]);
    });
  let affected = false;
  let opened: [string, string] | undefined;
  for (const ev of ordered) {
    const [k, v] = ev;
    if (k === "introduced" && (v === "0" || cmp(version, v) >= 0)) {
      affected = true;
      opened = ev;
    } else if (k === "fixed" && cmp(version, v) >= 0) {
      affected = false;
    } else if (k === "last_affected" && cmp(version, v) > 0) {
      affected = false;
    }
  }
  if (!affected || !opened) return undefined;
  // The closing event of the open interval: the first fixed/last_affected after the introduced one.
  const after = ordered.slice(ordered.indexOf(opened) + 1).find(([k]) => k === "fixed" || k === "last_affected");
  const parts = [`${version} >= ${opened[1]}`];
  if (after) parts.push(after[0] === "fixed" ? `${version} < ${after[1]}` : `${version} <= ${after[1]}`);
  if (limits.length > 0 && !limits.includes("*")) parts.push(`${version} < ${limits.join(" or ")} (limit)`);
  const matchedEvents: Record<string, string>[] = [{ [opened[0]]: opened[1] }];
  if (after) matchedEvents.push({ [after[0]]: after[1] });
  return {
    reason: {
      advisoryId,
      kind: "range",
      rangeType: range.type as "SEMVER" | "ECOSYSTEM",
      events: matchedEvents,
      comparison: `${parts.join(" and ")} (${orderName} order)`,
    },
  };
}

interface RecordMatch {
  record: OsvRecord;
  reasons: MatchReason[];
  fixed: string[];
}

/** Matches one affected[] entry; pushes reasons and the entry's fixed versions. */
function matchAffected(a: OsvAffected, key: PackageKey, cmp: VersionComparator, record: OsvRecord, stats: MatchStats): RecordMatch | undefined {
  const reasons: MatchReason[] = [];
  if (a.versions?.includes(key.version)) {
    reasons.push({ advisoryId: record.id, kind: "versions", comparison: `${key.version} is listed in affected versions` });
  }
  for (const r of a.ranges ?? []) {
    if (r.type === "GIT") {
      stats.gitRangesSkipped++;
      continue;
    }
    const rc = r.type === "SEMVER" ? compareSemver : cmp;
    const hit = evaluateRange(r, key.version, rc, r.type === "SEMVER" ? "SemVer" : key.ecosystem, record.id);
    if (hit) reasons.push(hit.reason);
  }
  if (reasons.length === 0 && a.versions && !a.ranges?.length) {
    // A versions list compared by version order as well (e.g. "1.0" listed, "1.0.0" installed in SemVer).
    const eq = a.versions.find((v) => cmp(v, key.version) === 0);
    if (eq !== undefined) reasons.push({ advisoryId: record.id, kind: "versions", comparison: `${key.version} = ${eq} (${key.ecosystem} order), listed in affected versions` });
  }
  if (reasons.length === 0) return undefined;
  return { record, reasons, fixed: [] };
}

/** The fixed versions of an affected[] entry that are above the installed version. */
function fixedAbove(a: OsvAffected, version: string, cmp: VersionComparator): string[] {
  const fixed: string[] = [];
  for (const r of a.ranges ?? []) {
    if (r.type === "GIT") continue;
    const rc = r.type === "SEMVER" ? compareSemver : cmp;
    for (const e of r.events) if (e.fixed !== undefined && rc(e.fixed, version) > 0) fixed.push(e.fixed);
  }
  return fixed;
}

function packageNameMatches(ecosystem: string, recordName: string, name: string): boolean {
  return normalizePackageName(ecosystem, recordName) === normalizePackageName(ecosystem, name);
}

/** The records that affect one component, each with why. */
export function matchComponentRecords(db: VulnDb, key: PackageKey, cmp: VersionComparator, stats: MatchStats): RecordMatch[] {
  const out: RecordMatch[] = [];
  const seen = new Set<string>();
  for (const cand of db.candidates(key.ecosystem, key.name)) {
    if (!releaseMatches(key.ecosystem, cand.release, key.release)) continue;
    const record = cand.record;
    if (record.withdrawn !== undefined) continue;
    const dedupe = `${record.id}\0${cand.release}`;
    if (seen.has(dedupe)) continue;
    seen.add(dedupe);
    let merged: RecordMatch | undefined;
    // Fixed versions come from every affected[] entry of this package (a record may split its
    // ranges across entries, e.g. one per release line), once any of them matched.
    const fixed: string[] = [];
    for (const a of record.affected ?? []) {
      if (!a.package) continue;
      const colon = a.package.ecosystem.indexOf(":");
      const base = colon < 0 ? a.package.ecosystem : a.package.ecosystem.slice(0, colon);
      const release = colon < 0 ? "" : a.package.ecosystem.slice(colon + 1);
      if (base !== key.ecosystem || release !== cand.release || !packageNameMatches(base, a.package.name, key.name)) continue;
      appendAll(fixed, fixedAbove(a, key.version, cmp));
      const m = matchAffected(a, key, cmp, record, stats);
      if (!m) continue;
      if (!merged) merged = m;
      else appendAll(merged.reasons, m.reasons);
    }
    if (merged) {
      merged.fixed = fixed;
      out.push(merged);
    }
  }
  return out;
}

const ID_PREFERENCE = ["GHSA-", "GO-", "RUSTSEC-", "PYSEC-", "DSA-", "DLA-", "DEBIAN-", "ALSA-", "RHSA-", "USN-", "CVE-"];

function idRank(id: string): number {
  const i = ID_PREFERENCE.findIndex((p) => id.startsWith(p));
  return i < 0 ? ID_PREFERENCE.length : i;
}

/** Groups record matches that share any id or alias: one group per vulnerability. */
function groupByAlias(matches: RecordMatch[]): RecordMatch[][] {
  const parent = matches.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  const owner = new Map<string, number>();
  matches.forEach((m, i) => {
    for (const id of [m.record.id, ...(m.record.aliases ?? [])]) {
      const o = owner.get(id);
      if (o === undefined) owner.set(id, i);
      else parent[find(i)] = find(o);
    }
  });
  const groups = new Map<number, RecordMatch[]>();
  matches.forEach((m, i) => {
    const r = find(i);
    const g = groups.get(r) ?? [];
    g.push(m);
    groups.set(r, g);
  });
  return [...groups.values()];
}

function worstSeverity(records: OsvRecord[]): SeverityScore {
  let best: SeverityScore | undefined;
  for (const r of records) {
    const s = recordSeverity(r);
    if (!best || severityRank(s.level) > severityRank(best.level) || (s.level === best.level && (s.score ?? -1) > (best.score ?? -1))) best = s;
  }
  return best ?? { level: "UNKNOWN", source: "none" };
}

/** Matches a list of components; returns the findings and the run's counters. */
export function matchComponents(components: readonly Component[], db: VulnDb): { findings: Finding[]; stats: MatchStats } {
  const stats: MatchStats = { components: components.length, matched: 0, noEcosystem: 0, noVersion: 0, unresolved: 0, unsupportedEcosystem: 0, gitRangesSkipped: 0, findings: 0 };
  const findings: Finding[] = [];
  for (const c of components) {
    if (isUnresolved(c)) stats.unresolved++;
    const key = packageKeyOf(c);
    if (key === "no-ecosystem") {
      stats.noEcosystem++;
      continue;
    }
    if (key === "no-version") {
      stats.noVersion++;
      continue;
    }
    const cmp = versionComparator(key.ecosystem);
    if (!cmp) {
      stats.unsupportedEcosystem++;
      continue;
    }
    stats.matched++;
    const matches = matchComponentRecords(db, key, cmp, stats);
    for (const group of groupByAlias(matches)) {
      const records = group.map((m) => m.record);
      const primary = [...records].sort((a, b) => idRank(a.id) - idRank(b.id) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))[0]!;
      const ids = new Set<string>([primary.id]);
      for (const r of records) for (const id of [r.id, ...(r.aliases ?? [])]) ids.add(id);
      const fixed = [...new Set(group.flatMap((m) => m.fixed))].sort((a, b) => cmp(a, b));
      findings.push({
        id: primary.id,
        aliases: [primary.id, ...[...ids].filter((i) => i !== primary.id).sort((a, b) => idRank(a) - idRank(b) || (a < b ? -1 : a > b ? 1 : 0))],
        component: c,
        severity: worstSeverity(records),
        fixedVersions: fixed,
        matchedBy: group.flatMap((m) => m.reasons),
        ...(primary.summary !== undefined ? { summary: primary.summary } : {}),
      });
    }
  }
  findings.sort(
    (a, b) =>
      severityRank(b.severity.level) - severityRank(a.severity.level) ||
      (a.component.name < b.component.name ? -1 : a.component.name > b.component.name ? 1 : 0) ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  stats.findings = findings.length;
  return { findings, stats };
}

/** Matches every component of an SBOM against the database: one finding per vulnerability and component. */
export async function matchSbom(sbom: Sbom, db: VulnDb, options: MatchOptions = {}): Promise<Finding[]> {
  const { findings, stats } = matchComponents(sbom.components, db);
  options.onStats?.(stats);
  return findings;
}

export { explainFinding, findingsDocument, findingsTable, FINDINGS_SCHEMA_VERSION, type FindingsDocument } from "./report.ts";
