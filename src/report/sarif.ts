import { createHash } from "node:crypto";
import type { CheckResult, Finding, Severity } from "../model/index.ts";
import { markdownText, terminalText } from "../io/text.ts";
import { TOLLGATE_VERSION } from "../version.ts";
import { contentWhere, findingDecisions, inputDecisions, inputLine, packageLabel, primaryLocation, sarifLocation, sortDecisions, type ReportOptions } from "./common.ts";
import { lintSarifResult, lintSarifRule } from "./sarif-lint.ts";

/**
 * SARIF 2.1.0 for GitHub code scanning: one rule per vulnerability (with `security-severity`, which
 * GitHub uses to rank security alerts), results at the lockfile line of the component, level from
 * severity, and a stable `partialFingerprints` entry (the finding's fingerprint) so that alerts are
 * tracked across runs. Waived and VEX-suppressed findings carry a SARIF `suppressions` entry.
 * Dockerfile lint findings of the check are results of their own `TG-DF-###` rules in the same run
 * (one run per tool and category, as GitHub code scanning wants), at the Dockerfile line. Paths follow
 * one convention (sarif-location.ts): relative to the repository root (`baseDir`, else the cwd) under
 * `uriBaseId` `%SRCROOT%`. Inputs the run could not read make `invocations[0].executionSuccessful`
 * false, with one `toolExecutionNotifications` entry each (error when it fails the gate, warning when
 * the policy makes it a warning) at the file and line. Text from packages and advisories is
 * `terminalText` in plain-text messages and `markdownText` in `help.markdown`.
 */

const SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";

function level(s: Severity): "error" | "warning" | "note" {
  if (s === "CRITICAL" || s === "HIGH") return "error";
  if (s === "MEDIUM") return "warning";
  return "note";
}

const DEFAULT_SCORE: Record<Severity, string> = { CRITICAL: "9.5", HIGH: "8.0", MEDIUM: "5.5", LOW: "2.0", NONE: "0.0", UNKNOWN: "0.0" };

function securitySeverity(f: Finding): string {
  return f.severity.score !== undefined ? f.severity.score.toFixed(1) : DEFAULT_SCORE[f.severity.level];
}

function lintSeverity(s: string): "error" | "warning" | "info" {
  return s === "error" || s === "warning" ? s : "info";
}

function lintLevel(s: string): "error" | "warning" | "note" {
  const l = lintSeverity(s);
  return l === "info" ? "note" : l;
}

function sarifFingerprint(fingerprint: string, path: string | undefined): string {
  return createHash("sha256").update(`${fingerprint}\n${path ?? ""}`).digest("hex");
}

function helpUri(f: Finding): string {
  if (f.id.startsWith("GHSA-")) return `https://github.com/advisories/${encodeURIComponent(f.id)}`;
  return `https://osv.dev/vulnerability/${encodeURIComponent(f.id)}`;
}

export function sarifReport(r: CheckResult, options: ReportOptions = {}): string {
  const decisions = sortDecisions(findingDecisions(r));
  const rules: Record<string, unknown>[] = [];
  const ruleIndex = new Map<string, number>();
  for (const d of decisions) {
    const f = d.finding!;
    if (ruleIndex.has(f.id)) continue;
    ruleIndex.set(f.id, rules.length);
    const content = contentWhere(f) !== undefined;
    const fixed = content ? "Found in a file's content (not a package version): remove or replace the file." : f.fixedVersions.length ? `Fixed in ${f.fixedVersions.join(", ")}.` : "No fixed version is known.";
    rules.push({
      id: f.id,
      name: f.id.replace(/[^A-Za-z0-9]/g, ""),
      shortDescription: { text: terminalText(f.summary ?? `${f.id} in ${f.component.name}`) },
      fullDescription: { text: terminalText(`${f.summary ?? f.id}. Aliases: ${f.aliases.join(", ") || "none"}.`) },
      // tollgate's own rules (TG-…, content findings) have no OSV page.
      ...(content ? {} : { helpUri: helpUri(f) }),
      help: content
        ? { text: terminalText(`${f.summary ?? f.id} (${f.severity.level}). ${fixed}`), markdown: `**${markdownText(f.summary ?? f.id)}** (${f.severity.level})\n\n${markdownText(fixed)}` }
        : {
            text: terminalText(`${f.summary ?? f.id} (${f.severity.level}). ${fixed} See ${helpUri(f)}.`),
            markdown: `**${markdownText(f.summary ?? f.id)}** (${f.severity.level})\n\n${markdownText(fixed)}\n\n[${markdownText(f.id)}](${helpUri(f)})`,
          },
      defaultConfiguration: { level: level(f.severity.level) },
      properties: {
        "security-severity": securitySeverity(f),
        tags: content ? ["security", "model", "content"] : ["security", "vulnerability", "dependency", ...(f.component.ecosystem ? [f.component.ecosystem] : [])],
        precision: "very-high",
      },
    });
  }
  const results: Record<string, unknown>[] = decisions.map((d) => {
    const f = d.finding!;
    // A content finding's location is the file it was read from (its byte offset in the message).
    const seen = f.matchedBy.find((m) => m.kind === "content");
    const loc = seen?.location ? { path: seen.location.path } : primaryLocation(f.component);
    const fixed = f.fixedVersions[0] ? ` Upgrade to ${f.fixedVersions[0]}.` : "";
    const text = seen
      ? `${contentWhere(f)}: ${f.id} (${f.severity.level}) ${seen.comparison}: ${d.outcome} by ${d.rule}.`
      : `${packageLabel(f.component)} is affected by ${f.id} (${f.severity.level}): ${d.outcome} by ${d.rule}.${fixed}`;
    const result: Record<string, unknown> = {
      ruleId: f.id,
      ruleIndex: ruleIndex.get(f.id),
      level: level(f.severity.level),
      message: { text: terminalText(text) },
      locations: loc
        ? [
            {
              physicalLocation: {
                artifactLocation: sarifLocation(r, loc, options.baseDir),
                ...(loc.line !== undefined ? { region: { startLine: loc.line } } : {}),
              },
              logicalLocations: [{ name: f.component.purl ?? packageLabel(f.component), kind: seen ? "module" : "package" }],
            },
          ]
        : [],
      // The finding's fingerprint, plus the file: the same package installed at two paths is two alerts.
      partialFingerprints: { "tollgate/v1": sarifFingerprint(d.fingerprint ?? `${f.id}|${f.component.purl ?? f.component.name}`, loc?.path) },
      properties: {
        outcome: d.outcome,
        rule: d.rule,
        purl: f.component.purl,
        fixedVersions: f.fixedVersions,
        aliases: f.aliases,
      },
    };
    if (d.suppressed) {
      result.suppressions = [
        {
          kind: "external",
          status: "accepted",
          justification: [d.suppressed.by === "vex" ? "VEX" : "waiver", d.suppressed.justification ?? d.suppressed.detail, d.suppressed.expires ? `until ${d.suppressed.expires}` : ""]
            .filter(Boolean)
            .join(": "),
        },
      ];
    }
    return result;
  });
  // Dockerfile lint findings (a source tree with Dockerfiles): rules and results of their own, in the
  // same run, as `tollgate lint dockerfile --format sarif` writes them, plus the gate's stable fingerprint.
  const base = options.baseDir ?? process.cwd();
  const lintRules = new Map((r.lint?.rules ?? []).map((rule) => [rule.id, rule]));
  for (const l of r.lint?.findings ?? []) {
    const rule = lintRules.get(l.rule);
    let index = ruleIndex.get(l.rule);
    if (index === undefined) {
      index = rules.length;
      ruleIndex.set(l.rule, index);
      rules.push(rule ? lintSarifRule(rule) : { id: l.rule, shortDescription: { text: terminalText(l.message) }, defaultConfiguration: { level: lintLevel(l.severity) } });
    }
    // The Dockerfile as found (relative to the cwd, or absolute): the same %SRCROOT% convention as above.
    const result = lintSarifResult(
      { ruleId: l.rule, severity: lintSeverity(l.severity), file: l.file, line: l.line ?? 0, message: l.message, fix: l.fix ?? rule?.fix ?? "see the rule" },
      index,
      base,
    );
    // The gate's fingerprint (rule, file, message, occurrence); a CheckResult made elsewhere may have none.
    if (l.fingerprint !== undefined) result.partialFingerprints = { "tollgate/v1": l.fingerprint };
    result.properties = { failing: l.failing, refs: l.refs ?? rule?.refs ?? [] };
    results.push(result);
  }
  // Inputs not read: the analysis did not cover them, so the run did not execute successfully.
  const inputs = inputDecisions(r);
  const notifications = inputs.map((d) => {
    const p = d.problem;
    const n: Record<string, unknown> = {
      level: d.outcome === "fail" ? "error" : "warning",
      message: { text: terminalText(`${d.problem ? "input not read: " : ""}${inputLine(r, d, options.baseDir)}`) },
      descriptor: { id: d.rule },
    };
    if (p?.file) {
      n.locations = [{ physicalLocation: { artifactLocation: sarifLocation(r, { path: p.file }, base), ...(p.line !== undefined && p.line > 0 ? { region: { startLine: p.line } } : {}) } }];
    }
    if (p) n.properties = { source: p.source };
    return n;
  });
  const invocation: Record<string, unknown> = { executionSuccessful: inputs.length === 0, exitCode: r.outcome === "fail" ? 1 : 0 };
  if (notifications.length > 0) invocation.toolExecutionNotifications = notifications;
  const log = {
    $schema: SCHEMA,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "tollgate",
            semanticVersion: TOLLGATE_VERSION,
            version: TOLLGATE_VERSION,
            rules,
          },
        },
        automationDetails: { id: `tollgate/check/${r.targetKey}/` },
        results,
        invocations: [invocation],
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
