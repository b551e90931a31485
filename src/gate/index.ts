/** The gate: policy, waivers, VEX, remediation, the triage store and GitHub issues; `runCheck` ties them together. */
export { runCheck, targetKey, type CheckOptions } from "./check.ts";
export { evaluatePolicy, atOrAbove, waiverExpiry, countBySeverity, type PolicyConfig, type PolicyOptions, type PolicyResult, type WaiverState, type WaiverStatus } from "./policy.ts";
export { parseVex, parseOpenVex, parseCycloneDxVex, loadVexFiles, vexStatementFor, vexSubjectOf, MAX_VEX_BYTES, type VexStatement, type VexStatus, type VexProduct, type VexSubject } from "./vex.ts";
export { purlMatches, splitPurl, purlIdentity } from "./purl-match.ts";
export { findingFingerprint, packageIdentity, shortFingerprint } from "./fingerprint.ts";
export { planRemediation, checkDeclaredRanges, type Remediation, type UpgradeGroup, type FindingFix } from "./remediation.ts";
export {
  openTriageStore,
  SqliteTriageStore,
  triageToCsv,
  triageStoreLocation,
  isPostgresLocation,
  type TriageStore,
  type TriageStoreOptions,
  type TriageEntry,
  type TriageFilter,
  type TriageRun,
  type TriageStatus,
  type TriageInput,
  type TriageRunResult,
} from "./triage.ts";
// The PostgreSQL store is reached through openTriageStore (postgres:// URLs), which loads node-postgres only then.
export { syncIssues, issueMarker, describeIssueAction, githubSettingsFromEnv, type IssueAction, type IssueActionKind, type IssueSyncOptions } from "./github.ts";
export type { CheckResult } from "./types.ts";
