import { XMLBuilder } from "fast-xml-parser";
import type { CheckResult } from "../model/index.ts";
import { xmlText } from "../io/text.ts";
import { contentWhere, inputDecisions, inputLine, isInputDecision, packageLabel, problemPath, shownDecisions, sortDecisions, type ReportOptions } from "./common.ts";

/**
 * JUnit XML (the Ant/Surefire dialect CI systems read): one test case per reported finding or policy
 * decision; a failing decision is a `<failure>`, a suppressed finding is `<skipped>` with its reason.
 * An input the run could not read (a malformed lockfile, a file over a limit, an ecosystem without
 * vulnerability data) is a test case of its own (classname `tollgate.input`): an `<error>` when it
 * fails the gate (counted in `errors`: the test could not run), `<skipped>` with the reason when the
 * policy makes it a warning. Text is `xmlText`: control characters shown escaped, none that XML 1.0
 * cannot carry.
 */

export function junitReport(r: CheckResult, options: ReportOptions = {}): string {
  const ds = sortDecisions(shownDecisions(r)).filter((d) => !isInputDecision(d));
  let failures = 0;
  let skipped = 0;
  let errors = 0;
  const cases = ds.map((d) => {
    const f = d.finding;
    const name = f ? `${f.id} in ${packageLabel(f.component)}` : d.rule;
    const classname = f ? `tollgate.${f.component.ecosystem ?? "generic"}.${f.component.name}` : "tollgate.policy";
    const tc: Record<string, unknown> = { "@_name": xmlText(name), "@_classname": xmlText(classname) };
    const detail = f
      ? `${f.severity.level}${f.summary ? `: ${f.summary}` : ""}\n${contentWhere(f) !== undefined ? `found at: ${contentWhere(f)}\nseen: ${f.matchedBy.find((m) => m.kind === "content")?.comparison ?? ""}` : `fixed in: ${f.fixedVersions.join(", ") || "no fix known"}`}\nrule: ${d.rule}${d.message ? `\n${d.message}` : ""}`
      : (d.message ?? d.rule);
    if (d.outcome === "fail") {
      failures++;
      tc.failure = { "@_message": xmlText(d.message ?? d.rule), "@_type": xmlText(d.rule), "#text": xmlText(detail) };
    } else if (d.suppressed) {
      skipped++;
      tc.skipped = { "@_message": xmlText(`${d.suppressed.by}: ${d.suppressed.justification ?? d.suppressed.detail}`) };
    } else {
      tc["system-out"] = xmlText(`${d.outcome}: ${detail}`);
    }
    return tc;
  });
  for (const d of inputDecisions(r)) {
    const where = problemPath(r, d, options.baseDir);
    const line = inputLine(r, d, options.baseDir);
    const name = d.problem ? `input not read: ${where ?? d.problem.source}${where !== undefined && d.problem.line !== undefined ? `:${d.problem.line}` : ""}` : (d.message ?? d.rule);
    const tc: Record<string, unknown> = { "@_name": xmlText(name), "@_classname": "tollgate.input" };
    if (d.outcome === "fail") {
      errors++;
      tc.error = { "@_message": xmlText(line), "@_type": xmlText(d.rule), "#text": xmlText(`${d.message ?? line}\nrule: ${d.rule}`) };
    } else {
      skipped++;
      tc.skipped = { "@_message": xmlText(`${d.outcome}: ${line}`) };
    }
    cases.push(tc);
  }
  for (const l of r.lint?.findings ?? []) {
    const tc: Record<string, unknown> = { "@_name": xmlText(`${l.rule} ${l.file}${l.line !== undefined ? `:${l.line}` : ""}`), "@_classname": "tollgate.lint" };
    if (l.failing) {
      failures++;
      tc.failure = { "@_message": xmlText(l.message), "@_type": xmlText(l.rule), "#text": xmlText(`${l.severity}: ${l.message}`) };
    } else {
      tc["system-out"] = xmlText(`${l.severity}: ${l.message}`);
    }
    cases.push(tc);
  }
  const doc = {
    "?xml": { "@_version": "1.0", "@_encoding": "UTF-8" },
    testsuites: {
      "@_name": "tollgate check",
      "@_tests": cases.length,
      "@_failures": failures,
      "@_errors": errors,
      "@_skipped": skipped,
      testsuite: {
        "@_name": xmlText(`tollgate check ${r.target.input}`),
        "@_tests": cases.length,
        "@_failures": failures,
        "@_errors": errors,
        "@_skipped": skipped,
        "@_timestamp": r.generatedAt,
        testcase: cases,
      },
    },
  };
  const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: "@_", format: true, suppressEmptyNode: true });
  return `${builder.build(doc) as string}`;
}
