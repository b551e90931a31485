import { basename } from "node:path";
import type { SeverityThreshold, TollgateConfig, Waiver } from "../config/index.ts";
import { isCalendarDate } from "../config/dates.ts";
import { atOrAbove, type Decision, type Finding, type Sbom, type VexStatement, type WaiverState } from "../model/index.ts";
import { problemLine } from "../collect/collect.ts";
import { isUnresolved } from "../match/index.ts";
import { purlMatches } from "./purl-match.ts";
import { vexStatementFor, vexSubjectOf } from "./vex.ts";

/**
 * The policy engine: turns findings into decisions with the rule that decided. Separate knobs for
 * what fails (`fail_on`), what warns (`warn_on`) and what is shown (`report`); waivers with expiry
 * (an injected clock, so tests and reports agree on "now"); VEX; unresolved components.
 */

export type PolicyConfig = Pick<TollgateConfig, "fail_on" | "warn_on" | "report" | "only_fixed" | "unresolved" | "waivers" | "strict_waivers"> &
  Partial<Pick<TollgateConfig, "unreadable">>;

export interface PolicyOptions {
  /** The clock for waiver expiry (default: the current time). */
  now?: Date;
  /** Statements read from the VEX documents. */
  vex?: readonly VexStatement[];
}

export interface PolicyResult {
  decisions: Decision[];
  waivers: WaiverState[];
  outcome: "pass" | "fail";
}

/**
 * The moment a waiver stops applying: the end of its `expires` day (UTC), or the exact time given.
 * A date that is not a real one (`2026-13-45`, reaching here from a library caller that skipped the
 * config's validation) has already expired: a waiver must never outlive its date by being unreadable.
 */
export function waiverExpiry(expires: string): Date {
  if (!isCalendarDate(expires)) return new Date(-8.64e15); // the earliest Date there is
  return /^\d{4}-\d{2}-\d{2}$/.test(expires) ? new Date(`${expires}T23:59:59.999Z`) : new Date(expires);
}

function waiverIds(w: Waiver): string[] {
  return Array.isArray(w.id) ? w.id : [w.id];
}

function waiverMatches(w: Waiver, f: Finding): boolean {
  const ids = new Set([f.id, ...f.aliases].map((s) => s.toUpperCase()));
  if (!waiverIds(w).some((id) => ids.has(id.toUpperCase()))) return false;
  if (w.package !== undefined) {
    if (w.package.toLowerCase().startsWith("pkg:")) return purlMatches(w.package, f.component.purl);
    return w.package === f.component.name;
  }
  return true;
}

function thresholdRule(name: string, t: SeverityThreshold): string {
  return `${name}:${t}`;
}

/** Applies the policy to the findings (and the SBOM's unresolved components). */
export function evaluatePolicy(findings: readonly Finding[], sbom: Sbom, config: PolicyConfig, options: PolicyOptions = {}): PolicyResult {
  const now = options.now ?? new Date();
  const statements = options.vex ?? [];
  const subject = vexSubjectOf(sbom);
  const waivers: WaiverState[] = config.waivers.map((w, index) => ({
    index,
    ids: waiverIds(w),
    package: w.package,
    reason: w.reason,
    owner: w.owner,
    expires: w.expires,
    status: now.getTime() > waiverExpiry(w.expires).getTime() ? "expired" : "stale",
    matched: 0,
  }));
  const decisions: Decision[] = [];

  // Statements indexed by vulnerability id and alias, so that each finding looks at its own only.
  const byId = new Map<string, VexStatement[]>();
  for (const st of statements) {
    for (const id of new Set([st.vulnerability, ...st.aliases].map((v) => v.toUpperCase()))) {
      const list = byId.get(id) ?? [];
      list.push(st);
      byId.set(id, list);
    }
  }
  for (const f of findings) {
    // 1. VEX: not_affected and fixed suppress, shown with their justification.
    const candidates = new Set([f.id, ...f.aliases].flatMap((id) => byId.get(id.toUpperCase()) ?? []));
    const st = candidates.size > 0 ? vexStatementFor(f, [...candidates], subject) : undefined;
    if (st && (st.status === "not_affected" || st.status === "fixed")) {
      const justification = st.justification ?? st.impactStatement;
      decisions.push({
        outcome: "pass",
        rule: `vex:${st.status}`,
        finding: f,
        suppressed: { by: "vex", detail: `${st.status} in ${basename(st.source)}${st.impactStatement ? `: ${st.impactStatement}` : ""}`, justification },
        message: `VEX ${st.status}${justification ? `: ${justification}` : ""}${st.impactStatement && st.justification ? ` — ${st.impactStatement}` : ""}`,
      });
      continue;
    }
    // 2. Waivers: the first active one that matches; an expired one no longer applies.
    let waived: WaiverState | undefined;
    const expiredHits: WaiverState[] = [];
    config.waivers.forEach((w, i) => {
      if (!waiverMatches(w, f)) return;
      const state = waivers[i]!;
      state.matched++;
      if (state.status === "expired") expiredHits.push(state);
      else waived ??= state;
    });
    if (waived) {
      waived.status = "active";
      decisions.push({
        outcome: "pass",
        rule: `waiver:${waived.ids.join(",")}`,
        finding: f,
        suppressed: { by: "waiver", detail: `${waived.reason}${waived.owner ? ` (owner ${waived.owner})` : ""}`, expires: waived.expires },
        message: `waived until ${waived.expires}: ${waived.reason}`,
      });
      continue;
    }
    const vexNote = st ? ` (VEX ${st.status}${st.actionStatement ? `: ${st.actionStatement}` : ""})` : "";
    const expiredNote = expiredHits.length > 0 ? ` (waiver expired ${expiredHits.map((w) => w.expires).join(", ")})` : "";
    const sev = f.severity.level;
    // 3. Thresholds.
    if (atOrAbove(sev, config.fail_on)) {
      // only_fixed is about advisories without a fixed version yet; a content finding (an unsafe pickle) has none to wait for.
      if (config.only_fixed && f.fixedVersions.length === 0 && !f.matchedBy.some((m) => m.kind === "content")) {
        decisions.push({ outcome: "warn", rule: "only_fixed", finding: f, message: `${sev}, no fixed version yet (only_fixed)${vexNote}${expiredNote}` });
      } else {
        decisions.push({ outcome: "fail", rule: thresholdRule("fail_on", config.fail_on), finding: f, message: `${sev} at or above fail_on ${config.fail_on}${vexNote}${expiredNote}` });
      }
    } else if (atOrAbove(sev, config.warn_on) || sev === "UNKNOWN") {
      const rule = sev === "UNKNOWN" ? "severity:unknown" : thresholdRule("warn_on", config.warn_on);
      decisions.push({ outcome: "warn", rule, finding: f, message: `${sev} below fail_on ${config.fail_on}${vexNote}${expiredNote}` });
    } else if (atOrAbove(sev, config.report)) {
      decisions.push({ outcome: "triage", rule: thresholdRule("report", config.report), finding: f, message: `${sev} below warn_on ${config.warn_on}${vexNote}${expiredNote}` });
    } else {
      decisions.push({ outcome: "pass", rule: thresholdRule("report", config.report), finding: f, message: `${sev} below report ${config.report}` });
    }
  }

  // 4. Components whose version could not be resolved: coverage gaps are shown, never hidden.
  if (config.unresolved !== "ignore") {
    for (const c of sbom.components) {
      if (!isUnresolved(c)) continue;
      decisions.push({
        outcome: config.unresolved === "fail" ? "fail" : "warn",
        rule: `unresolved:${config.unresolved}`,
        component: c,
        message: `${c.name}: version not resolved${c.version ? ` (${c.version})` : ""}; not matched against advisories${c.locations[0] ? ` (${c.locations[0].path}${c.locations[0].line !== undefined ? `:${c.locations[0].line}` : ""})` : ""}`,
      });
    }
  }

  // 5. Inputs the run could not read: the gate fails closed on them unless `unreadable: warn`. A
  // finding in a lockfile that did not parse is a finding nobody saw.
  const unreadable = config.unreadable ?? "fail";
  for (const problem of sbom.problems) {
    decisions.push({
      outcome: unreadable,
      rule: `unreadable:${unreadable}`,
      problem,
      message: `input not read: ${problemLine(problem)}`,
    });
  }

  // 6. Stale waivers: in force but matching nothing. They fail the gate under strict_waivers.
  for (const w of waivers) {
    if (w.status !== "stale") continue;
    decisions.push({
      outcome: config.strict_waivers ? "fail" : "warn",
      rule: config.strict_waivers ? "strict_waivers" : "waiver:stale",
      message: `waivers[${w.index}] (${w.ids.join(", ")}${w.package ? ` ${w.package}` : ""}) matches no finding`,
    });
  }
  for (const w of waivers) {
    if (w.status !== "expired") continue;
    decisions.push({
      outcome: "warn",
      rule: "waiver:expired",
      message: `waivers[${w.index}] (${w.ids.join(", ")}) expired on ${w.expires}${w.matched > 0 ? ` and no longer applies to ${w.matched} finding(s)` : ""}`,
    });
  }

  const outcome = decisions.some((d) => d.outcome === "fail") ? "fail" : "pass";
  return { decisions, waivers, outcome };
}
