import type { CheckResult } from "../gate/types.ts";
import { UsageError } from "../errors.ts";
import { jsonReport } from "./json.ts";
import { junitReport } from "./junit.ts";
import { markdownReport } from "./markdown.ts";
import { openVexDocument } from "./openvex.ts";
import { sarifReport } from "./sarif.ts";
import { tableReport } from "./table.ts";
import type { ReportOptions } from "./common.ts";

export { jsonReport, CHECK_REPORT_SCHEMA_VERSION } from "./json.ts";
export { junitReport } from "./junit.ts";
export { markdownReport } from "./markdown.ts";
export { openVexDocument, type OpenVexOptions } from "./openvex.ts";
export { sarifReport } from "./sarif.ts";
export { tableReport, type TableOptions } from "./table.ts";
export { inputLine, shownDecisions, verdictLine, type ReportOptions } from "./common.ts";

/** The formats `tollgate check` writes (`--format` and `--report FORMAT=PATH`). */
export const REPORT_FORMATS = ["table", "json", "sarif", "markdown", "junit", "openvex"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** Renders a check result in one format. */
export function renderReport(format: ReportFormat, r: CheckResult, options: ReportOptions & { color?: boolean } = {}): string {
  switch (format) {
    case "table":
      return tableReport(r, options);
    case "json":
      return jsonReport(r, options);
    case "sarif":
      return sarifReport(r, options);
    case "markdown":
      return markdownReport(r, options);
    case "junit":
      return junitReport(r, options);
    case "openvex":
      return openVexDocument(r);
  }
}

/** Parses a `--report FORMAT=PATH` value. */
export function parseReportSpec(spec: string): { format: ReportFormat; path: string } {
  const eq = spec.indexOf("=");
  const format = (eq < 0 ? spec : spec.slice(0, eq)).trim().toLowerCase();
  const path = eq < 0 ? "" : spec.slice(eq + 1);
  if (!(REPORT_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--report ${spec}: unknown format ${JSON.stringify(format)} (formats: ${REPORT_FORMATS.join(", ")})`);
  }
  if (!path) throw new UsageError(`--report ${spec}: expected FORMAT=PATH, e.g. sarif=tollgate.sarif`);
  return { format: format as ReportFormat, path };
}
