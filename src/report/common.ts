import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { atOrAbove } from "../gate/policy.ts";
import type { CheckResult, ShownDecision } from "../gate/types.ts";
import type { Component, Decision, Location, Severity } from "../model/index.ts";

/** Options every report writer takes. */
export interface ReportOptions {
  /** Directory that report paths are relative to (the repository root in CI; default: the cwd). */
  baseDir?: string;
}

/** The decisions a report shows: failing ones always; the rest when at or above `report`. */
export function shownDecisions(r: CheckResult): ShownDecision[] {
  const out: ShownDecision[] = [];
  r.decisions.forEach((d, i) => {
    const fp = r.fingerprints[i];
    if (d.outcome === "fail" || !d.finding) {
      out.push({ ...d, fingerprint: fp });
      return;
    }
    if (d.suppressed || atOrAbove(d.finding.severity.level, r.policy.report) || d.finding.severity.level === "UNKNOWN") {
      out.push({ ...d, fingerprint: fp });
    }
  });
  return out;
}

export function findingDecisions(r: CheckResult): ShownDecision[] {
  return shownDecisions(r).filter((d) => d.finding !== undefined);
}

/** The file a component was found in, relative to `baseDir`, with forward slashes. */
export function locationUri(r: CheckResult, loc: Location, baseDir = process.cwd()): string {
  const t = r.target;
  let p = loc.path;
  if (t.kind !== "dir" && t.kind !== "file") {
    // A path inside an image or SBOM: keep it as it is there, without the leading slash.
    return p.replace(/^\/+/, "");
  }
  if (!isAbsolute(p)) {
    const rootDir = t.kind === "dir" ? t.path : join(t.path, "..");
    p = t.kind === "file" && loc.path === t.path ? t.path : join(rootDir, loc.path);
  }
  p = relative(baseDir, resolve(baseDir, p));
  return p.split(sep).join("/");
}

export function primaryLocation(c: Component): Location | undefined {
  return c.locations[0];
}

export function severityOrder(a: Severity, b: Severity): number {
  const order: Severity[] = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "NONE", "UNKNOWN"];
  return order.indexOf(a) - order.indexOf(b);
}

const OUTCOME_ORDER: Decision["outcome"][] = ["fail", "warn", "triage", "pass"];

/** Failing first, then by severity, id and package. */
export function sortDecisions<T extends Decision>(ds: T[]): T[] {
  return [...ds].sort((a, b) => {
    const o = OUTCOME_ORDER.indexOf(a.outcome) - OUTCOME_ORDER.indexOf(b.outcome);
    if (o) return o;
    if (a.finding && b.finding) {
      return (
        severityOrder(a.finding.severity.level, b.finding.severity.level) ||
        a.finding.id.localeCompare(b.finding.id) ||
        (a.finding.component.purl ?? a.finding.component.name).localeCompare(b.finding.component.purl ?? b.finding.component.name)
      );
    }
    return a.finding ? -1 : b.finding ? 1 : 0;
  });
}

export function packageLabel(c: Component): string {
  return `${c.name}${c.version ? `@${c.version}` : ""}`;
}

/** The one-line verdict. */
export function verdictLine(r: CheckResult): string {
  const ds = r.decisions;
  const n = (o: Decision["outcome"]) => ds.filter((d) => d.outcome === o && d.finding).length;
  const suppressed = ds.filter((d) => d.suppressed).length;
  const other = ds.filter((d) => !d.finding && d.outcome === "fail").length;
  const lint = r.lint ? `; Dockerfile lint ${r.lint.outcome === "fail" ? "failed" : "passed"} (${r.lint.findings.length} finding(s))` : "";
  return `${r.outcome === "fail" ? "FAIL" : "PASS"}: ${r.findings.length} finding(s) in ${r.sbom.components.length} component(s): ${n("fail")} failing, ${n("warn")} warning, ${n("triage")} triaged, ${suppressed} suppressed${other ? `; ${other} other policy failure(s)` : ""}${lint}`;
}
