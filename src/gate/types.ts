import type { TollgateConfig } from "../config/index.ts";
import type { Decision, Report } from "../model/index.ts";
import type { IssueAction } from "./github.ts";
import type { WaiverState } from "./policy.ts";
import type { Remediation } from "./remediation.ts";
import type { TriageStatus } from "./triage.ts";
import type { VexStatement } from "./vex.ts";

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
    findings: {
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
    }[];
  };
  /** Notices for people (expired/stale waivers, skipped issue sync…). */
  notices: string[];
  /** Why the triage store was not updated, when it was not (one line, no credentials). */
  triageError?: string;
}

/** The decisions shown in reports: failing ones always, others at or above the `report` threshold. */
export type ShownDecision = Decision & { fingerprint?: string };
