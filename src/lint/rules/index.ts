import { BASE_IMAGE_RULES } from "./base-images.ts";
import { BUILD_HYGIENE_RULES } from "./build-hygiene.ts";
import { DOWNLOAD_RULES } from "./downloads.ts";
import { FILE_RULES } from "./files.ts";
import { LANGUAGE_PACKAGE_RULES } from "./language-packages.ts";
import { OS_PACKAGE_RULES } from "./os-packages.ts";
import { RUNTIME_RULES } from "./runtime.ts";
import { SECRET_RULES } from "./secrets.ts";
import { STAGE_RULES } from "./stages.ts";
import type { LintRule } from "./types.ts";
import { USER_RULES } from "./users.ts";

/**
 * tollgate's Dockerfile hardening rules. Each rule has a stable id (`TG-DF-###`), a default severity,
 * a one-line message, a fix hint, and the ids of the equivalent hadolint (`DL`), trivy (`DS-`) and
 * CIS Docker Benchmark 4.x checks where one exists (sources: hadolint `src/Hadolint/Rule/`,
 * aquasecurity/trivy-checks `checks/docker/`, CIS Docker Benchmark section 4).
 */

export { isSecretName, secretValueKind } from "./secret-detection.ts";
export { LINT_SEVERITIES, lintSeverityRank, type LintRule, type LintSeverity, type RuleContext, type RuleHit } from "./types.ts";

/**
 * Every rule, one list per topic (a new rule goes in its topic's file; a new topic's list is added
 * here), in the order of their ids, which `tollgate lint rules` and the reports follow.
 */
export const RULES: readonly LintRule[] = [
  ...USER_RULES,
  ...BASE_IMAGE_RULES,
  ...DOWNLOAD_RULES,
  ...SECRET_RULES,
  ...OS_PACKAGE_RULES,
  ...LANGUAGE_PACKAGE_RULES,
  ...RUNTIME_RULES,
  ...FILE_RULES,
  ...STAGE_RULES,
  ...BUILD_HYGIENE_RULES,
].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

/** Rules by id. */
export const RULES_BY_ID: ReadonlyMap<string, LintRule> = new Map(RULES.map((r) => [r.id, r]));
