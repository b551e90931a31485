import type { CheckResult, Decision, Severity } from "../model/index.ts";
import { terminalText as clean } from "../io/text.ts";
import { contentWhere, describeIssueAction, inputDecisions, inputLine, isInputDecision, locationUri, packageLabel, shownDecisions, sortDecisions, UNRESOLVED_LINES_PER_FILE, unresolvedGroupLine, unresolvedGroups, verdictLine, type ReportOptions } from "./common.ts";

/**
 * The table for people at a terminal: one line per reported finding, then the inputs that could not
 * be read, policy notes and upgrades. Every text from packages, files and advisories goes through
 * `terminalText` (control characters shown escaped); colour is added after.
 */

export interface TableOptions extends ReportOptions {
  color?: boolean;
}

const COLORS: Partial<Record<Severity | "fail" | "pass", string>> = { CRITICAL: "\x1b[1;31m", HIGH: "\x1b[31m", MEDIUM: "\x1b[33m", LOW: "\x1b[36m", fail: "\x1b[1;31m", pass: "\x1b[1;32m" };

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + " ".repeat(n - s.length);
}

export function tableReport(r: CheckResult, options: TableOptions = {}): string {
  const paint = (key: keyof typeof COLORS, s: string) => (options.color && COLORS[key] ? `${COLORS[key]}${s}\x1b[0m` : s);
  const ds = sortDecisions(shownDecisions(r));
  const rows = ds
    .filter((d) => d.finding)
    .map((d) => {
      const f = d.finding!;
      return {
        sev: f.severity.level,
        cells: [
          f.severity.level,
          clean(f.id),
          clean(packageLabel(f.component)),
          clean(contentWhere(f) ?? f.fixedVersions[0] ?? "-"),
          d.suppressed ? `${d.suppressed.by === "vex" ? "vex" : "waived"}` : d.outcome,
          clean(d.rule),
        ],
      };
    });
  // A content finding (an unsafe pickle in a model file) shows where it was seen instead of a fix.
  const content = rows.length > 0 && ds.some((d) => d.finding && contentWhere(d.finding) !== undefined);
  const header = ["SEVERITY", "VULNERABILITY", "PACKAGE", content ? "FIXED IN / FOUND AT" : "FIXED IN", "OUTCOME", "RULE"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row.cells[i]!.length)));
  const lines: string[] = [];
  if (rows.length > 0) {
    lines.push(header.map((h, i) => pad(h, widths[i]!)).join("  ").trimEnd());
    for (const row of rows) {
      const text = row.cells.map((c, i) => pad(c, widths[i]!)).join("  ").trimEnd();
      lines.push(paint(row.sev, text));
    }
    lines.push("");
  }
  const inputs = inputDecisions(r);
  if (inputs.length > 0) {
    lines.push(`Inputs not read (${inputs.length}):`);
    for (const d of inputs) lines.push(paint(d.outcome === "fail" ? "fail" : "MEDIUM", `  ${d.outcome.toUpperCase()}  ${clean(inputLine(r, d, options.baseDir))}`));
    lines.push("");
  }
  const others = ds.filter((x) => !x.finding && !isInputDecision(x));
  // Unresolved components: one line each while a file has a few, one line per file beyond that.
  const groups = unresolvedGroups(r, others, options.baseDir);
  const grouped = new Set(groups.filter((g) => g.names.length > UNRESOLVED_LINES_PER_FILE).map((g) => `${g.outcome}\n${g.file ?? ""}`));
  const groupOf = (d: Decision) => `${d.outcome}\n${d.component?.locations[0] ? locationUri(r, d.component.locations[0], options.baseDir) : ""}`;
  for (const d of others) {
    if (d.rule.startsWith("unresolved:") && d.component && grouped.has(groupOf(d))) continue;
    lines.push(`${d.outcome.toUpperCase()}  ${clean(d.message ?? d.rule)}`);
  }
  for (const g of groups) if (grouped.has(`${g.outcome}\n${g.file ?? ""}`)) lines.push(`${g.outcome.toUpperCase()}  ${clean(unresolvedGroupLine(g))}`);
  if (r.remediation.upgrades.length > 0) {
    lines.push("Upgrades:");
    for (const u of r.remediation.upgrades) {
      const reach = u.withinDeclaredRange === "yes" ? " (within the declared range)" : u.withinDeclaredRange === "no" ? " (outside the declared range)" : "";
      lines.push(`  upgrade ${clean(u.name)} from ${clean(u.from ?? "?")} to ${clean(u.to)} fixes ${u.fixes.length} finding(s)${reach}`);
    }
  }
  if (r.triage) lines.push(`Triage: ${r.triage.entries.length} below the fail threshold (${r.triage.firstSeen} new, ${r.triage.recurring} recurring, ${r.triage.fixed} fixed) in ${clean(r.triage.store)}`);
  for (const a of r.issues) lines.push(`Issue: ${clean(describeIssueAction(a))}`);
  if (r.lint) for (const l of r.lint.findings) lines.push(`LINT  ${clean(l.rule)} ${clean(l.severity)} ${clean(l.file)}${l.line !== undefined ? `:${l.line}` : ""} ${clean(l.message)}`);
  lines.push(paint(r.outcome, verdictLine(r)));
  return `${lines.join("\n")}\n`;
}
