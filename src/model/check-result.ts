import type { TollgateConfig } from "../config/index.ts";
import type { Decision, Report } from "./index.ts";

/**
 * What `tollgate check` hands to its reporters: the `CheckResult` and the shapes it is made of
 * (waivers, remediation, VEX statements, triage, GitHub issue actions, Dockerfile lint findings).
 * The gate produces them (src/gate); the reports (src/report) read them and nothing else of the gate.
 */

export type WaiverStatus = "active" | "expired" | "stale";

/** A waiver and what became of it in this run. */
export interface WaiverState {
  /** Index in `waivers:` (for messages such as `waivers[2]`). */
  index: number;
  ids: string[];
  package?: string;
  reason: string;
  owner?: string;
  expires: string;
  /** active: in force and matched; expired: past its date (stops applying); stale: in force but matched nothing. */
  status: WaiverStatus;
  /** How many findings it matched (for an expired waiver: would have matched). */
  matched: number;
}

export interface FindingFix {
  findingId: string;
  package: string;
  version?: string;
  /** The nearest fixed version, or undefined when none is known. */
  nearestFix?: string;
}

export interface UpgradeGroup {
  /** The component's purl (or name). */
  package: string;
  name: string;
  ecosystem?: string;
  from?: string;
  /** The lowest version that fixes every failing finding of the package. */
  to: string;
  /** Ids of the findings this upgrade fixes (failing or not). */
  fixes: string[];
  /** npm: "yes" when `to` satisfies every declared range that pulls the package in; "no" when one excludes it. */
  withinDeclaredRange?: "yes" | "no" | "unknown";
  /** The declared ranges checked, as `requester → range`. */
  declaredRanges?: string[];
}

/** The nearest fix of each failing finding and the upgrades grouped by package (src/gate/remediation.ts). */
export interface Remediation {
  fixes: FindingFix[];
  upgrades: UpgradeGroup[];
  /** Failing findings with no known fix. */
  unfixable: FindingFix[];
}

export type VexStatus = "not_affected" | "affected" | "fixed" | "under_investigation";

/** The product a statement is about: a purl, an image digest, or both, with optional subcomponents. */
export interface VexProduct {
  purl?: string;
  digest?: string;
  /** purls of the components inside the product that the statement is about. */
  subcomponents: string[];
}

/** One VEX statement, OpenVEX 0.2 and CycloneDX VEX read into one shape (src/gate/vex.ts). */
export interface VexStatement {
  vulnerability: string;
  aliases: string[];
  products: VexProduct[];
  status: VexStatus;
  justification?: string;
  impactStatement?: string;
  actionStatement?: string;
  /** ISO time the statement (or its document) was issued; a later statement wins. */
  timestamp?: string;
  /** The document it came from (path) and its format. */
  source: string;
  format: "openvex" | "cyclonedx";
  /** Position among all statements read, for ties. */
  order: number;
}

/** A triaged finding's status in the triage store (src/gate/triage.ts). */
export type TriageStatus = "new" | "acknowledged" | "fixed";

export type IssueActionKind = "open" | "comment" | "reopen" | "close" | "link";

/** What the GitHub issue sync did (or, in a dry run, would do) for one triaged finding (src/gate/github.ts). */
export interface IssueAction {
  kind: IssueActionKind;
  fingerprint: string;
  vulnerabilityId: string;
  package: string;
  issueNumber?: number;
  url?: string;
  /** Set when the action failed after retries (the gate goes on). */
  error?: string;
  dryRun?: boolean;
}

/** A Dockerfile lint finding of `tollgate check`. */
export interface CheckLintFinding {
  rule: string;
  severity: string;
  file: string;
  line?: number;
  message: string;
  failing: boolean;
  /** How to fix it (the rule's advice). */
  fix?: string;
  /** Equivalent checks of peer tools (hadolint, trivy, CIS). */
  refs?: string[];
  /** Stable across runs (see `lintFindingFingerprint`): SARIF partialFingerprints and the JSON report. */
  fingerprint?: string;
}

/** A lint rule (`TG-DF-###`, `TG-IMG-###`) as reports describe it: SARIF's `reportingDescriptor`. */
export interface LintRuleDescription {
  id: string;
  /** The rule's own severity (a finding's may differ: `lint.severity` in tollgate.yaml, or the finding's own). */
  severity: "error" | "warning" | "info";
  /** The one-line message of a finding. */
  message: string;
  /** How to fix it. */
  fix: string;
  /** Equivalent checks of peer tools: hadolint `DL####`, trivy `DS-####`, `CIS-4.x`. */
  refs: readonly string[];
}

/** What `tollgate check` produced: the report, plus what the gate did around it. */
export interface CheckResult extends Report {
  /** The stable name of the target used in fingerprints (`dir:.`, `registry:ghcr.io/org/app:1`). */
  targetKey: string;
  policy: Pick<TollgateConfig, "fail_on" | "warn_on" | "report" | "only_fixed" | "unresolved" | "unreadable" | "strict_waivers">;
  waivers: WaiverState[];
  /** The VEX statements read (from `vex:`), for the emitted OpenVEX document and the reports. */
  vexStatements: VexStatement[];
  remediation: Remediation;
  /** fingerprint per finding decision (same order as `decisions`; undefined for non-finding decisions). */
  fingerprints: (string | undefined)[];
  triage?: {
    store: string;
    firstSeen: number;
    recurring: number;
    reappeared: number;
    fixed: number;
    /** Triaged entries seen in this run, with their run counts and status. */
    entries: { fingerprint: string; id: string; package: string; runCount: number; status: TriageStatus; issueNumber?: number }[];
  };
  issues: IssueAction[];
  /** Dockerfile lint results when the target had Dockerfiles. */
  lint?: {
    outcome: "pass" | "fail";
    findings: CheckLintFinding[];
    /**
     * The rules of the findings, for SARIF's rule entries; a finding whose rule is not here gets an
     * entry made from the finding itself.
     */
    rules?: LintRuleDescription[];
  };
  /** Notices for people (expired/stale waivers, skipped issue sync…). */
  notices: string[];
  /** Why the triage store was not updated, when it was not (one line, no credentials). */
  triageError?: string;
}

/** The decisions shown in reports: failing ones always, others at or above the `report` threshold. */
export type ShownDecision = Decision & { fingerprint?: string };

/** The short form of a fingerprint shown to people (like a git abbreviated hash); `triage ack` accepts any unique prefix. */
export function shortFingerprint(fp: string): string {
  return fp.slice(0, 12);
}
