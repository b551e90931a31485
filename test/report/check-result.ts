/**
 * CheckResult objects built by hand for the report tests: no policy, database or triage store runs,
 * so a report's rendering of hostile text, unreadable inputs or paths is tested on exactly the
 * decisions given (and does not move when the gate's policy changes).
 */
import type { CheckResult, Component, Decision, Finding, Target } from "../../src/model/index.ts";

export const ESC = String.fromCharCode(27);
export const BEL = String.fromCharCode(7);

/** Everything a hostile lockfile or advisory can put in a name or summary. */
export const HOSTILE =
  `evil${ESC}]8;;http://evil${BEL}link${ESC}]8;;${BEL} ${ESC}[2J[click](http://evil) <img src=x onerror=alert(1)> a|b \`tick\` @team\nsecond line\r\u202eoverride\u2066iso\u2069 \u0085nel\u009bcsi`;

/** No raw control character a terminal acts on (C0 but newline, DEL, C1) and no bidi control. */
// eslint-disable-next-line no-control-regex
export const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

export function component(name: string, version = "1.0.0", extra: Partial<Component> = {}): Component {
  return {
    ref: `pkg:npm/${name}@${version}`,
    name,
    version,
    purl: `pkg:npm/${encodeURIComponent(name)}@${version}`,
    ecosystem: "npm",
    type: "library",
    hashes: [],
    licenses: [],
    locations: [{ path: "package-lock.json", line: 7 }],
    dependencies: [],
    ...extra,
  };
}

export function finding(c: Component, extra: Partial<Finding> = {}): Finding {
  return {
    id: "GHSA-aaaa-bbbb-cccc",
    aliases: ["GHSA-aaaa-bbbb-cccc", "CVE-2099-0001"],
    component: c,
    severity: { level: "HIGH", score: 8.1, source: "cvss:3.1" },
    fixedVersions: ["1.0.1"],
    matchedBy: [{ advisoryId: "GHSA-aaaa-bbbb-cccc", kind: "range", rangeType: "SEMVER", events: [{ introduced: "0" }, { fixed: "1.0.1" }], comparison: "1.0.0 >= 0 and 1.0.0 < 1.0.1 (npm order)" }],
    summary: "Prototype pollution",
    ...extra,
  };
}

/** A CheckResult of the given decisions (findings are taken from them). */
export function checkResult(decisions: Decision[], extra: Partial<CheckResult> = {}, target: Target = { kind: "dir", input: "app", path: "/repo/app" }): CheckResult {
  const findings = decisions.flatMap((d) => (d.finding ? [d.finding] : []));
  const components = [...new Set(findings.map((f) => f.component))];
  return {
    schemaVersion: "1",
    target,
    sbom: { metadata: { timestamp: "2026-11-26T12:00:00.000Z", tool: { name: "tollgate", version: "0.0.0" } }, components, problems: decisions.flatMap((d) => (d.problem ? [d.problem] : [])) },
    findings,
    decisions,
    outcome: decisions.some((d) => d.outcome === "fail") ? "fail" : "pass",
    generatedAt: "2026-11-26T12:00:00.000Z",
    targetKey: "dir:app",
    policy: { fail_on: "high", warn_on: "medium", report: "low", only_fixed: false, unresolved: "warn", unreadable: "fail", strict_waivers: false },
    waivers: [],
    vexStatements: [],
    remediation: { fixes: [], upgrades: [], unfixable: [] },
    fingerprints: decisions.map((d, i) => (d.finding ? `${String(i).padStart(2, "0")}${"f".repeat(62)}` : undefined)),
    issues: [],
    notices: [],
    ...extra,
  };
}
