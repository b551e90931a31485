import { countBySeverity, type CheckResult, type Decision } from "../model/index.ts";
import { TOLLGATE_VERSION } from "../version.ts";
import { inputDecisions, locationUri, problemPath, shownDecisions, sortDecisions, type ReportOptions } from "./common.ts";

/**
 * The JSON report of `tollgate check`: a documented, versioned schema
 * (src/report/check-report.schema.json, `schemaVersion` "1.2"; 1.1 added the lint findings' `fix`, `refs`
 * and `fingerprint`; 1.2 added `unreadable`, the inputs the run could not read, and `problem` on policy
 * decisions). Additive changes keep the major version; a field removed or changed in meaning bumps it.
 */

export const CHECK_REPORT_SCHEMA_VERSION = "1.2";

/** An input-not-read decision's problem, its file relative to `baseDir` as the findings' locations are. */
function problemJson(r: CheckResult, d: Decision, options: ReportOptions): { source: string; file: string | null; line: number | null; message: string } | null {
  const p = d.problem;
  return p ? { source: p.source, file: problemPath(r, d, options.baseDir) ?? null, line: p.line ?? null, message: p.message } : null;
}

export function jsonReport(r: CheckResult, options: ReportOptions = {}): string {
  const shown = sortDecisions(shownDecisions(r));
  const findings = shown.filter((d) => d.finding);
  const other = shown.filter((d) => !d.finding);
  const byOutcome = { fail: 0, warn: 0, triage: 0, pass: 0, suppressed: 0 };
  for (const d of r.decisions) {
    if (!d.finding) continue;
    if (d.suppressed) byOutcome.suppressed++;
    else byOutcome[d.outcome]++;
  }
  const doc = {
    schema: "tollgate/check-report",
    schemaVersion: CHECK_REPORT_SCHEMA_VERSION,
    tool: { name: "tollgate", version: TOLLGATE_VERSION },
    generatedAt: r.generatedAt,
    target: { kind: r.target.kind, input: r.target.input, key: r.targetKey },
    outcome: r.outcome,
    policy: r.policy,
    summary: {
      components: r.sbom.components.length,
      findings: r.findings.length,
      bySeverity: countBySeverity(r.findings),
      byOutcome,
      unresolved: r.sbom.components.filter((c) => c.unresolved).length,
      // Since 1.2: the inputs not read (the length of `unreadable`).
      unreadable: inputDecisions(r).length,
    },
    findings: findings.map((d) => {
      const f = d.finding!;
      const c = f.component;
      return {
        id: f.id,
        aliases: f.aliases,
        summary: f.summary ?? null,
        severity: { level: f.severity.level, score: f.severity.score ?? null, vector: f.severity.vector ?? null, source: f.severity.source },
        package: {
          name: c.name,
          version: c.version ?? null,
          purl: c.purl ?? null,
          ecosystem: c.ecosystem ?? null,
          scope: c.scope ?? null,
          direct: c.direct ?? null,
          locations: c.locations.map((l) => ({ path: locationUri(r, l, options.baseDir), line: l.line ?? null })),
        },
        fixedVersions: f.fixedVersions,
        decision: {
          outcome: d.outcome,
          rule: d.rule,
          message: d.message ?? null,
          suppressed: d.suppressed
            ? { by: d.suppressed.by, detail: d.suppressed.detail, justification: d.suppressed.justification ?? null, expires: d.suppressed.expires ?? null }
            : null,
        },
        fingerprint: d.fingerprint ?? null,
        matchedBy: f.matchedBy.map((m) => ({ advisoryId: m.advisoryId, kind: m.kind, comparison: m.comparison, ...(m.location ? { location: { ...m.location, path: locationUri(r, { path: m.location.path }, options.baseDir) } } : {}) })),
      };
    }),
    // Every decision that is not about a finding, inputs not read included (since 1.2 with `problem`).
    policyDecisions: other.map((d) => ({
      outcome: d.outcome,
      rule: d.rule,
      message: d.message ?? null,
      component: d.component ? { name: d.component.name, version: d.component.version ?? null, purl: d.component.purl ?? null } : null,
      problem: problemJson(r, d, options),
    })),
    // Since 1.2: the inputs the run could not read (a malformed lockfile, a file over a size limit, a
    // cataloger failure; an ecosystem without vulnerability data), failing or warning, with the file.
    unreadable: inputDecisions(r).map((d) => ({
      outcome: d.outcome,
      rule: d.rule,
      message: d.message ?? null,
      problem: problemJson(r, d, options),
    })),
    waivers: r.waivers.map((w) => ({ ids: w.ids, package: w.package ?? null, reason: w.reason, owner: w.owner ?? null, expires: w.expires, status: w.status, matched: w.matched })),
    remediation: r.remediation,
    triage: r.triage ?? null,
    issues: r.issues,
    // Since 1.1: each lint finding has `fix`, `refs` and a stable `fingerprint` (as in SARIF).
    lint: r.lint
      ? {
          outcome: r.lint.outcome,
          findings: r.lint.findings.map((l) => ({
            rule: l.rule,
            severity: l.severity,
            file: l.file,
            line: l.line ?? null,
            message: l.message,
            failing: l.failing,
            fix: l.fix ?? null,
            refs: l.refs ?? [],
            fingerprint: l.fingerprint ?? null,
          })),
        }
      : null,
    problems: r.sbom.problems,
    notices: r.notices,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
