/** The gate: policy, waivers, VEX, remediation, the triage store and GitHub issues; `runCheck` ties them together. */
export { runCheck, targetKey, type CheckOptions } from "./check.ts";
export { evaluatePolicy, atOrAbove, waiverExpiry, countBySeverity, type PolicyConfig, type PolicyOptions, type PolicyResult, type WaiverState, type WaiverStatus } from "./policy.ts";
export { parseVex, parseOpenVex, parseCycloneDxVex, loadVexFiles, vexStatementFor, vexSubjectOf, MAX_VEX_BYTES, type VexStatement, type VexStatus, type VexProduct, type VexSubject } from "./vex.ts";
export { purlMatches, splitPurl, purlIdentity } from "./purl-match.ts";
export { findingFingerprint, packageIdentity, shortFingerprint } from "./fingerprint.ts";
export { planRemediation, checkDeclaredRanges, type Remediation, type UpgradeGroup, type FindingFix } from "./remediation.ts";
export { openTriageStore, SqliteTriageStore, triageToCsv, type TriageStore, type TriageEntry, type TriageStatus, type TriageInput, type TriageRunResult } from "./triage.ts";
export { syncIssues, issueMarker, describeIssueAction, githubSettingsFromEnv, type IssueAction, type IssueActionKind, type IssueSyncOptions } from "./github.ts";
export type { CheckResult } from "./types.ts";
