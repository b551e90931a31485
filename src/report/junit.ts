import { XMLBuilder } from "fast-xml-parser";
import type { CheckResult } from "../gate/types.ts";
import { packageLabel, shownDecisions, sortDecisions, type ReportOptions } from "./common.ts";

/**
 * JUnit XML (the Ant/Surefire dialect CI systems read): one test case per reported finding or policy
 * decision; a failing decision is a `<failure>`, a suppressed finding is `<skipped>` with its reason.
 */

/** XML 1.0 cannot carry most control characters, even escaped: drop them. */
function xmlText(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "");
}

export function junitReport(r: CheckResult, _options: ReportOptions = {}): string {
  const ds = sortDecisions(shownDecisions(r));
  let failures = 0;
  let skipped = 0;
  const cases = ds.map((d) => {
    const f = d.finding;
    const name = f ? `${f.id} in ${packageLabel(f.component)}` : d.rule;
    const classname = f ? `tollgate.${f.component.ecosystem ?? "generic"}.${f.component.name}` : "tollgate.policy";
    const tc: Record<string, unknown> = { "@_name": xmlText(name), "@_classname": xmlText(classname) };
    const detail = f
      ? `${f.severity.level}${f.summary ? `: ${f.summary}` : ""}\nfixed in: ${f.fixedVersions.join(", ") || "no fix known"}\nrule: ${d.rule}${d.message ? `\n${d.message}` : ""}`
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
      "@_errors": 0,
      "@_skipped": skipped,
      testsuite: {
        "@_name": xmlText(`tollgate check ${r.target.input}`),
        "@_tests": cases.length,
        "@_failures": failures,
        "@_errors": 0,
        "@_skipped": skipped,
        "@_timestamp": r.generatedAt,
        testcase: cases,
      },
    },
  };
  const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: "@_", format: true, suppressEmptyNode: true });
  return `${builder.build(doc) as string}`;
}
