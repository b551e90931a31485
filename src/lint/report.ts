import { terminalText } from "../io/text.ts";
import type { LintRuleDescription } from "../model/index.ts";
import type { Reporter } from "../report/reporter.ts";
import { lintSarifResult, lintSarifRule, type LintFilesAt } from "../report/sarif-lint.ts";
import { TOLLGATE_VERSION } from "../version.ts";
import type { LintFinding } from "./engine.ts";
import { IMAGE_RULES, IMAGE_RULES_BY_ID } from "./image-rules.ts";
import { RULES, RULES_BY_ID } from "./rules/index.ts";

/** `{ "findings": [ { ruleId, severity, file, line, message, refs, fix } ] }` */
export function lintReportJson(findings: readonly LintFinding[]): string {
  return `${JSON.stringify({ findings }, null, 2)}\n`;
}

/**
 * A plain table for people: one finding per line, then a count. File names and messages (an image's
 * file names and Env, a Dockerfile's text) go through `terminalText`: control characters shown escaped.
 */
export function lintReportTable(findings: readonly LintFinding[], files: readonly string[], noun: "Dockerfile" | "image" = "Dockerfile"): string {
  const what = (n: number): string => (noun === "image" ? `${n} image${n === 1 ? "" : "s"}` : `${n} Dockerfile${n === 1 ? "" : "s"}`);
  if (findings.length === 0) return `No findings in ${what(files.length)}.\n`;
  const rows = findings.map((f) => [terminalText(f.line > 0 ? `${f.file}:${f.line}` : f.file), f.severity, terminalText(f.ruleId), terminalText(f.message)]);
  const w0 = Math.max(...rows.map((r) => (r[0] as string).length), "LOCATION".length);
  const w1 = "warning".length;
  const lines = [`${"LOCATION".padEnd(w0)}  ${"SEVERITY".padEnd(w1)}  RULE       MESSAGE`];
  for (const r of rows) lines.push(`${(r[0] as string).padEnd(w0)}  ${(r[1] as string).padEnd(w1)}  ${r[2] as string}  ${r[3] as string}`);
  const count = (s: string): number => findings.filter((f) => f.severity === s).length;
  lines.push("", `${findings.length} finding${findings.length === 1 ? "" : "s"} (${count("error")} error, ${count("warning")} warning, ${count("info")} info) in ${what(files.length)}`);
  return `${lines.join("\n")}\n`;
}

/** A lint rule id's rule (Dockerfile or image rules) as reports describe it, or undefined; `tollgate check` puts these in its result. */
export function lintRuleInfo(id: string): LintRuleDescription | undefined {
  const r = RULES_BY_ID.get(id) ?? IMAGE_RULES_BY_ID.get(id);
  return r && { id: r.id, severity: r.severity, message: r.message, fix: r.fix, refs: [...r.refs] };
}

/** SARIF 2.1.0 with every rule in `tool.driver.rules` (GitHub code scanning reads it). */
export function lintReportSarif(findings: readonly LintFinding[], base = process.cwd(), at: LintFilesAt = "local"): string {
  const all = [...RULES, ...IMAGE_RULES];
  const index = new Map(all.map((r, i) => [r.id, i]));
  const sarif = {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "tollgate",
            version: TOLLGATE_VERSION,
            rules: all.map(lintSarifRule),
          },
        },
        results: findings.map((f) => lintSarifResult(f, index.get(f.ruleId) ?? 0, base, at)),
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

/** What a lint report shows: the findings and the files (Dockerfiles or images) that were linted. */
export interface LintReportInput {
  findings: readonly LintFinding[];
  files: readonly string[];
}

/** How a lint report names what it linted and where its files are (SARIF locations). */
export interface LintReportOptions {
  noun: "Dockerfile" | "image";
  base: string;
  at: LintFilesAt;
}

/** The reports of `tollgate lint dockerfile` and `lint image`, one per format. */
export const LINT_REPORTERS = [
  { format: "table", stdout: true, render: (r, o) => lintReportTable(r.findings, r.files, o.noun) },
  { format: "json", stdout: true, render: (r) => lintReportJson(r.findings) },
  { format: "sarif", stdout: true, render: (r, o) => lintReportSarif(r.findings, o.base, o.at) },
] as const satisfies readonly Reporter<LintReportInput, LintReportOptions>[];
