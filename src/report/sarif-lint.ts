import { terminalText } from "../io/text.ts";
import type { LintRuleDescription } from "../model/index.ts";
import { sarifFileLocation, sarifInsideLocation } from "./sarif-location.ts";

/**
 * Lint rules and findings in SARIF 2.1.0, one shape for `tollgate lint dockerfile|image --format sarif`
 * (src/lint/report.ts) and the Dockerfile lint results of `tollgate check` (sarif.ts).
 */

type LintSeverity = LintRuleDescription["severity"];

function sarifLevel(s: LintSeverity): "error" | "warning" | "note" {
  return s === "info" ? "note" : s;
}

/**
 * GitHub code scanning ranks a `security`-tagged rule by its `security-severity` (0.1–3.9 low, 4.0–6.9
 * medium, 7.0–8.9 high, 9.0+ critical). A lint rule's severity maps to the scores trivy's SARIF uses
 * for misconfigurations of the same rank: error → high (8.0), warning → medium (5.5), info → low (2.0).
 */
export function lintSecuritySeverity(s: LintSeverity): string {
  return s === "error" ? "8.0" : s === "warning" ? "5.5" : "2.0";
}

/** The SARIF `reportingDescriptor` of a lint rule (`TG-DF-###` or `TG-IMG-###`); `tollgate check` reuses it. */
export function lintSarifRule(r: LintRuleDescription): Record<string, unknown> {
  return {
    id: r.id,
    name: r.id.replace(/-/g, ""),
    shortDescription: { text: r.message },
    fullDescription: { text: `${r.message}. Fix: ${r.fix}` },
    help: { text: `${r.fix}${r.refs.length > 0 ? ` (equivalent checks: ${r.refs.join(", ")})` : ""}` },
    defaultConfiguration: { level: sarifLevel(r.severity) },
    properties: { tags: ["security", r.id.startsWith("TG-IMG") ? "container-image" : "dockerfile", ...r.refs], "security-severity": lintSecuritySeverity(r.severity) },
  };
}

/** Where the linted files are: on this machine (Dockerfiles), or inside an image (`lint image`). */
export type LintFilesAt = "local" | "image";

/** What a SARIF lint result is made of: a finding of `lint` (src/lint/engine.ts `LintFinding`) or of `check`. */
export interface LintSarifFinding {
  ruleId: string;
  severity: LintSeverity;
  file: string;
  /** 1-based; 0 for none. */
  line: number;
  message: string;
  fix: string;
}

/**
 * The SARIF `result` of a lint finding (level from its severity, location at the file and line);
 * `ruleIndex` is its rule's index in `tool.driver.rules`, `base` the repository root that URIs are
 * relative to (`%SRCROOT%`, as for vulnerability results: see sarif-location.ts); a file of an image
 * (`at: "image"`) is its path in the image.
 */
export function lintSarifResult(f: LintSarifFinding, ruleIndex: number, base = process.cwd(), at: LintFilesAt = "local"): Record<string, unknown> {
  const artifactLocation = at === "image" ? sarifInsideLocation(f.file) : sarifFileLocation(f.file, base);
  return {
    ruleId: f.ruleId,
    ruleIndex,
    level: sarifLevel(f.severity),
    message: { text: terminalText(`${f.message}. Fix: ${f.fix}`) },
    locations: [{ physicalLocation: { artifactLocation, ...(f.line > 0 ? { region: { startLine: f.line } } : {}) } }],
  };
}
