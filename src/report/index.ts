import type { CheckResult } from "../model/index.ts";
import { UsageError } from "../errors.ts";
import { jsonReport } from "./json.ts";
import { junitReport } from "./junit.ts";
import { markdownReport } from "./markdown.ts";
import { openVexDocument } from "./openvex.ts";
import { sarifReport } from "./sarif.ts";
import { tableReport } from "./table.ts";
import type { ReportOptions } from "./common.ts";
import { findReporter, reporterFormats, type Reporter } from "./reporter.ts";

export { jsonReport, CHECK_REPORT_SCHEMA_VERSION } from "./json.ts";
export { junitReport } from "./junit.ts";
export { markdownReport } from "./markdown.ts";
export { openVexDocument, type OpenVexOptions } from "./openvex.ts";
export { sarifReport } from "./sarif.ts";
export { tableReport, type TableOptions } from "./table.ts";
export { describeIssueAction, inputLine, shownDecisions, verdictLine, type ReportOptions } from "./common.ts";
export { findReporter, reporterFormats, type Reporter } from "./reporter.ts";

/** The reports of `tollgate check`, one per format (`--format` takes those with `stdout`; `--report NAME=PATH` all). */
export const CHECK_REPORTERS = [
  { format: "table", stdout: true, render: (r, o) => tableReport(r, o) },
  { format: "json", stdout: true, render: (r, o) => jsonReport(r, o) },
  { format: "sarif", stdout: true, render: (r, o) => sarifReport(r, o) },
  { format: "markdown", stdout: true, render: (r, o) => markdownReport(r, o) },
  { format: "junit", stdout: true, render: (r, o) => junitReport(r, o) },
  { format: "openvex", stdout: false, render: (r) => openVexDocument(r) },
] as const satisfies readonly Reporter<CheckResult, CheckReportOptions>[];

export type CheckReportOptions = ReportOptions & { color?: boolean };
export type ReportFormat = (typeof CHECK_REPORTERS)[number]["format"];
/** Every format `tollgate check` writes (`--report FORMAT=PATH`). */
export const REPORT_FORMATS: readonly ReportFormat[] = reporterFormats(CHECK_REPORTERS);
/** The formats `tollgate check --format` prints. */
export const CHECK_FORMATS: readonly ReportFormat[] = reporterFormats(CHECK_REPORTERS, true);

/** Renders a check result in one format. */
export function renderReport(format: ReportFormat, r: CheckResult, options: CheckReportOptions = {}): string {
  return findReporter(CHECK_REPORTERS, format, "report").render(r, options);
}

/** Parses a `--report FORMAT=PATH` value. */
export function parseReportSpec(spec: string): { format: ReportFormat; path: string } {
  const eq = spec.indexOf("=");
  const format = (eq < 0 ? spec : spec.slice(0, eq)).trim().toLowerCase();
  const path = eq < 0 ? "" : spec.slice(eq + 1);
  findReporter(CHECK_REPORTERS, format, `--report ${spec}`);
  if (!path) throw new UsageError(`--report ${spec}: expected FORMAT=PATH, e.g. sarif=tollgate.sarif`);
  return { format: format as ReportFormat, path };
}
