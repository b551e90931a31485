import { countBySeverity, shortFingerprint, type CheckResult } from "../model/index.ts";
import { markdownCode as code, markdownText as mdCell } from "../io/text.ts";
import { contentWhere, describeIssueAction, findingDecisions, inputDecisions, inputLine, isInputDecision, packageLabel, shownDecisions, sortDecisions, unresolvedGroupLine, unresolvedGroups, type ReportOptions } from "./common.ts";

/**
 * Markdown for a pull-request comment or `$GITHUB_STEP_SUMMARY`: counts by severity, the failing
 * findings with their fixed versions, the grouped upgrades, waivers with their expiry, VEX decisions
 * with their justification, and what went to triage. Inputs the run could not read come first, in a
 * section of their own. Every text from packages, files and advisories goes through `markdownText`
 * (or `markdownCode`): it stays text, never a link, raw HTML, a mention or a new cell.
 */

/**
 * Rows per table: a PR comment holds 65,536 characters and a step summary 1 MiB, so long tables end
 * with a count of what was left out (the JSON and SARIF reports have everything).
 */
export const MARKDOWN_MAX_ROWS = 100;

function capped<T>(rows: T[], out: string[], render: (row: T) => string): void {
  for (const row of rows.slice(0, MARKDOWN_MAX_ROWS)) out.push(render(row));
  if (rows.length > MARKDOWN_MAX_ROWS) out.push(`\n… and ${rows.length - MARKDOWN_MAX_ROWS} more (see the JSON or SARIF report)`);
}

export function markdownReport(r: CheckResult, options: ReportOptions = {}): string {
  const out: string[] = [];
  const counts = countBySeverity(r.findings);
  const ds = sortDecisions(findingDecisions(r));
  const failing = ds.filter((d) => d.outcome === "fail");
  const warnings = ds.filter((d) => d.outcome === "warn" || d.outcome === "triage");
  const suppressed = ds.filter((d) => d.suppressed);
  out.push(`## tollgate: ${r.outcome === "fail" ? "❌ gate failed" : "✅ gate passed"}`);
  out.push("");
  out.push(`Target ${code(r.target.input)}: ${r.sbom.components.length} components, ${r.findings.length} findings. Policy: fail on ${r.policy.fail_on} and above, warn on ${r.policy.warn_on}, report ${r.policy.report}${r.policy.only_fixed ? ", only fixed" : ""}.`);
  out.push("");
  out.push("| Critical | High | Medium | Low | Unknown |");
  out.push("|---:|---:|---:|---:|---:|");
  out.push(`| ${counts.CRITICAL} | ${counts.HIGH} | ${counts.MEDIUM} | ${counts.LOW} | ${counts.UNKNOWN + counts.NONE} |`);
  out.push("");
  const inputs = inputDecisions(r);
  if (inputs.length > 0) {
    const failed = inputs.filter((d) => d.outcome === "fail").length;
    out.push(`### Inputs not read (${inputs.length})`);
    out.push("");
    out.push(failed > 0 ? `The gate fails closed: ${failed} input(s) could not be read, so their vulnerabilities are unknown.` : "These inputs could not be read (a warning under the policy): their vulnerabilities are unknown.");
    out.push("");
    capped(inputs, out, (d) => `- **${d.outcome}** ${mdCell(inputLine(r, d, options.baseDir))}`);
    out.push("");
  }
  if (failing.length > 0) {
    out.push(`### Failing (${failing.length})`);
    out.push("");
    out.push("| Severity | Vulnerability | Package | Fixed in | Rule |");
    out.push("|---|---|---|---|---|");
    capped(failing, out, (d) => {
      const f = d.finding!;
      return `| ${f.severity.level} | ${mdCell(f.id)}${f.summary ? `<br>${mdCell(f.summary)}` : ""} | ${mdCell(packageLabel(f.component))} | ${mdCell(contentWhere(f) !== undefined ? `found at ${contentWhere(f)}` : (f.fixedVersions[0] ?? "no fix"))} | ${mdCell(d.rule)} |`;
    });
    out.push("");
  }
  const others = shownDecisions(r).filter((d) => !d.finding && d.outcome === "fail" && !isInputDecision(d));
  if (others.length > 0) {
    out.push("### Other failures");
    out.push("");
    for (const d of others) out.push(`- ${mdCell(d.message ?? d.rule)} (${mdCell(d.rule)})`);
    out.push("");
  }
  if (r.remediation.upgrades.length > 0) {
    out.push("### Upgrades");
    out.push("");
    for (const u of r.remediation.upgrades) {
      const reach = u.withinDeclaredRange === "yes" ? " (within the declared range: a lockfile update is enough)" : u.withinDeclaredRange === "no" ? " (outside the declared range: change the version range)" : "";
      out.push(`- upgrade ${code(u.name)} from ${mdCell(u.from ?? "?")} to **${mdCell(u.to)}** fixes ${u.fixes.length} finding(s): ${u.fixes.map(mdCell).join(", ")}${reach}`);
    }
    out.push("");
  }
  if (warnings.length > 0) {
    out.push(`<details><summary>Below the fail threshold (${warnings.length})</summary>`);
    out.push("");
    out.push("| Severity | Vulnerability | Package | Fixed in | Outcome |");
    out.push("|---|---|---|---|---|");
    capped(warnings, out, (d) => {
      const f = d.finding!;
      return `| ${f.severity.level} | ${mdCell(f.id)} | ${mdCell(packageLabel(f.component))} | ${mdCell(contentWhere(f) !== undefined ? `found at ${contentWhere(f)}` : (f.fixedVersions[0] ?? "no fix"))} | ${d.outcome} |`;
    });
    out.push("");
    out.push("</details>");
    out.push("");
  }
  if (suppressed.length > 0) {
    out.push(`### Suppressed (${suppressed.length})`);
    out.push("");
    out.push("| Vulnerability | Package | By | Justification | Expires |");
    out.push("|---|---|---|---|---|");
    capped(suppressed, out, (d) => {
      const f = d.finding!;
      const s = d.suppressed!;
      return `| ${mdCell(f.id)} | ${mdCell(packageLabel(f.component))} | ${s.by === "vex" ? `VEX ${mdCell(d.rule.replace(/^vex:/, ""))}` : "waiver"} | ${mdCell(s.justification ?? s.detail)} | ${mdCell(s.expires ?? "")} |`;
    });
    out.push("");
  }
  if (r.waivers.length > 0) {
    out.push("### Waivers");
    out.push("");
    out.push("| Ids | Package | Owner | Expires | Status | Matched |");
    out.push("|---|---|---|---|---|---:|");
    for (const w of r.waivers) {
      out.push(`| ${mdCell(w.ids.join(", "))} | ${mdCell(w.package ?? "any")} | ${mdCell(w.owner ?? "")} | ${mdCell(w.expires)} | ${w.status === "active" ? "active" : `**${w.status}**`} | ${w.matched} |`);
    }
    out.push("");
  }
  const unresolved = shownDecisions(r).filter((d) => d.rule.startsWith("unresolved:"));
  if (unresolved.length > 0) {
    out.push(`### Coverage gaps (${unresolved.length} unresolved component(s))`);
    out.push("");
    // One bullet per file (npm/cli's lockfile has 245): the count and the first names.
    for (const g of unresolvedGroups(r, unresolved, options.baseDir)) out.push(`- ${g.outcome === "fail" ? "**fail** " : ""}${mdCell(unresolvedGroupLine(g))}`);
    out.push("");
  }
  if (r.triage) {
    const t = r.triage;
    out.push("### Triage");
    out.push("");
    out.push(`${t.entries.length} finding(s) below the fail threshold recorded: ${t.firstSeen} new, ${t.recurring} recurring, ${t.reappeared} seen again, ${t.fixed} fixed since the last run.`);
    const recurring = t.entries.filter((e) => e.runCount > 1);
    if (recurring.length > 0) {
      out.push("");
      for (const e of recurring) out.push(`- ${mdCell(e.id)} in ${code(e.package)}: seen in ${e.runCount} runs (${e.status}${e.issueNumber !== undefined ? `, issue #${e.issueNumber}` : ""}) ${code(shortFingerprint(e.fingerprint))}`);
    }
    out.push("");
  }
  if (r.issues.length > 0) {
    out.push("### Issues");
    out.push("");
    for (const a of r.issues) out.push(`- ${mdCell(describeIssueAction(a))}`);
    out.push("");
  }
  if (r.lint && r.lint.findings.length > 0) {
    out.push(`### Dockerfile lint (${r.lint.outcome})`);
    out.push("");
    for (const l of r.lint.findings) out.push(`- ${mdCell(l.rule)} ${mdCell(l.severity)} ${code(`${l.file}${l.line !== undefined ? `:${l.line}` : ""}`)}: ${mdCell(l.message)}`);
    out.push("");
  }
  return `${out.join("\n").trimEnd()}\n`;
}
