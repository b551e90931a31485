import type { ParsedDockerfile } from "../dockerfile.ts";

/** The shape of a Dockerfile rule (`TG-DF-###`) and of what it reports. */

export type LintSeverity = "error" | "warning" | "info";

export const LINT_SEVERITIES: readonly LintSeverity[] = ["info", "warning", "error"];

export function lintSeverityRank(s: LintSeverity): number {
  return LINT_SEVERITIES.indexOf(s);
}

export interface RuleHit {
  /** 1-based line. */
  line: number;
  /** A more specific message than the rule's default. */
  message?: string;
  /** This finding's severity, when it differs from the rule's (a severity set in tollgate.yaml wins over both). */
  severity?: LintSeverity;
}

export interface RuleContext {
  df: ParsedDockerfile;
  trustedRegistries: readonly string[];
}

export interface LintRule {
  id: string;
  severity: LintSeverity;
  /** The one-line message of a finding. */
  message: string;
  /** How to fix it. */
  fix: string;
  /** Equivalent checks of peer tools: hadolint `DL####`, trivy `DS-####`, `CIS-4.x`. */
  refs: readonly string[];
  check(ctx: RuleContext): RuleHit[];
}
