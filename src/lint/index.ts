/**
 * Dockerfile hardening lint: `lintDockerfiles(pathsOrDir, config)` and the rules behind it
 * (`TG-DF-###`, with their hadolint, trivy and CIS Docker 4.x equivalents).
 */
export {
  lintDockerfiles,
  lintDockerfileText,
  findDockerfiles,
  isDockerfileName,
  dockerignoreFor,
  reachesThreshold,
  validateLintConfig,
  DEFAULT_LINT_CONFIG,
  MAX_DOCKERFILE_BYTES,
  type LintFinding,
  type LintResult,
  type LintConfig,
  type LintTextOptions,
} from "./engine.ts";
export { RULES as LINT_RULES, RULES_BY_ID as LINT_RULES_BY_ID, isSecretName, secretValueKind, type LintRule, type LintSeverity } from "./rules/index.ts";
export { lintReportJson, lintReportSarif, lintReportTable } from "./report.ts";
export { parseDockerfile, type ParsedDockerfile, type Stage as DockerfileStage } from "./dockerfile.ts";
export { lintImage } from "./image.ts";
export { IMAGE_RULES as LINT_IMAGE_RULES, IMAGE_RULES_BY_ID as LINT_IMAGE_RULES_BY_ID, type ImageRule, type ImageRuleInfo, type ImageRuleHit, type ImageConfigView, type ImageFileContext } from "./image-rules.ts";
