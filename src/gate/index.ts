/** The gate: policy, waivers, VEX, remediation, the triage store and GitHub issues; `runCheck` ties them together. */
export { runCheck, targetKey, type CheckOptions } from "./check.ts";
export { evaluatePolicy, waiverExpiry, type PolicyConfig, type PolicyOptions, type PolicyResult } from "./policy.ts";
export { parseVex, parseOpenVex, parseCycloneDxVex, loadVexFiles, vexStatementFor, vexSubjectOf, MAX_VEX_BYTES, type VexSubject } from "./vex.ts";
export { purlMatches, splitPurl, purlIdentity } from "./purl-match.ts";
export { findingFingerprint, packageIdentity } from "./fingerprint.ts";
export { planRemediation, checkDeclaredRanges } from "./remediation.ts";
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
  type TriageInput,
  type TriageRunResult,
} from "./triage.ts";
// The PostgreSQL store is reached through openTriageStore (postgres:// URLs), which loads node-postgres only then.
export { syncIssues, issueMarker, githubSettingsFromEnv, type IssueSyncOptions } from "./github.ts";
// What the gate hands to its reports: the check result's shapes and the helpers shared with the reports live
// below both (src/model, src/report); exported here too, under the names the gate has always exported.
export {
  atOrAbove,
  countBySeverity,
  shortFingerprint,
  type CheckResult,
  type WaiverState,
  type WaiverStatus,
  type VexStatement,
  type VexStatus,
  type VexProduct,
  type Remediation,
  type UpgradeGroup,
  type FindingFix,
  type TriageStatus,
  type IssueAction,
  type IssueActionKind,
} from "../model/index.ts";
export { describeIssueAction } from "../report/common.ts";
