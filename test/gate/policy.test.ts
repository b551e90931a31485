import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { configSchema, type TollgateConfig } from "../../src/config/index.ts";
import { evaluatePolicy, waiverExpiry } from "../../src/gate/policy.ts";
import type { Decision } from "../../src/model/index.ts";
import { exampleComponents, exampleSbom, findingsFor, readAdvisories } from "./fixtures.ts";

function config(partial: Record<string, unknown> = {}): TollgateConfig {
  return configSchema.parse(partial);
}

function outcomes(ds: Decision[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of ds) if (d.finding) out[`${d.finding.id} ${d.finding.component.name}`] = `${d.outcome} ${d.rule}`;
  return out;
}

const NOW = new Date("2026-11-26T12:00:00Z");

describe("policy: thresholds on the example app's real advisories", () => {
  const sbom = exampleSbom();
  const findings = findingsFor(sbom.components);

  it("finds the five published advisories (the fixture matcher agrees with the records)", () => {
    assert.deepEqual(findings.map((f) => `${f.id} ${f.component.name}@${f.component.version} ${f.severity.level}`).sort(), [
      "GHSA-29mw-wpgm-hmr9 lodash@4.17.20 MEDIUM",
      "GHSA-35jh-r3h4-6jhm lodash@4.17.20 HIGH",
      "GHSA-gxpj-cx7g-858c debug@2.6.8 LOW",
      "GHSA-qrpm-p2h7-hrv2 nanoid@3.1.30 MEDIUM",
      "GHSA-xvch-5gv4-984h minimist@1.2.5 CRITICAL",
    ]);
  });

  it("default policy: HIGH and CRITICAL fail, MEDIUM warns, LOW goes to triage", () => {
    const r = evaluatePolicy(findings, sbom, config(), { now: NOW });
    assert.equal(r.outcome, "fail");
    assert.deepEqual(outcomes(r.decisions), {
      "GHSA-35jh-r3h4-6jhm lodash": "fail fail_on:high",
      "GHSA-xvch-5gv4-984h minimist": "fail fail_on:high",
      "GHSA-29mw-wpgm-hmr9 lodash": "warn warn_on:medium",
      "GHSA-qrpm-p2h7-hrv2 nanoid": "warn warn_on:medium",
      "GHSA-gxpj-cx7g-858c debug": "triage report:low",
    });
  });

  it("fail_on: critical lets HIGH through as a warning; none never fails", () => {
    const crit = evaluatePolicy(findings, sbom, config({ fail_on: "critical" }), { now: NOW });
    assert.equal(outcomes(crit.decisions)["GHSA-35jh-r3h4-6jhm lodash"], "warn warn_on:medium");
    assert.equal(outcomes(crit.decisions)["GHSA-xvch-5gv4-984h minimist"], "fail fail_on:critical");
    const none = evaluatePolicy(findings, sbom, config({ fail_on: "none" }), { now: NOW });
    assert.equal(none.outcome, "pass");
  });

  it("report is a separate knob: below it a finding passes unseen, but failing is unchanged", () => {
    const r = evaluatePolicy(findings, sbom, config({ report: "medium" }), { now: NOW });
    assert.equal(outcomes(r.decisions)["GHSA-gxpj-cx7g-858c debug"], "pass report:medium");
    assert.equal(r.outcome, "fail");
    assert.equal(outcomes(r.decisions)["GHSA-35jh-r3h4-6jhm lodash"], "fail fail_on:high");
  });

  it("only_fixed: a failing finding without a fixed version only warns", () => {
    // The minimist record with its fixed events removed (as an advisory looks before a fix ships).
    const records = readAdvisories().map((r) =>
      r.id === "GHSA-xvch-5gv4-984h" ? { ...r, affected: r.affected.map((a) => ({ ...a, ranges: a.ranges.map((g) => ({ ...g, events: g.events.filter((e) => e.fixed === undefined) })) })) } : r,
    );
    const unfixed = findingsFor(sbom.components, records);
    const minimist = unfixed.find((f) => f.id === "GHSA-xvch-5gv4-984h")!;
    assert.deepEqual(minimist.fixedVersions, []);
    const on = evaluatePolicy(unfixed, sbom, config({ only_fixed: true }), { now: NOW });
    assert.equal(outcomes(on.decisions)["GHSA-xvch-5gv4-984h minimist"], "warn only_fixed");
    assert.equal(outcomes(on.decisions)["GHSA-35jh-r3h4-6jhm lodash"], "fail fail_on:high", "lodash has a fix and still fails");
    const off = evaluatePolicy(unfixed, sbom, config(), { now: NOW });
    assert.equal(outcomes(off.decisions)["GHSA-xvch-5gv4-984h minimist"], "fail fail_on:high", "only_fixed is not the default");
  });

  it("unresolved components: warn by default, fail or ignore on request", () => {
    const comps = [...exampleComponents(), { ...exampleComponents()[0]!, ref: "npm:left-pad", name: "left-pad", version: undefined, purl: "pkg:npm/left-pad", unresolved: true }];
    const s = exampleSbom(comps);
    const pass = findingsFor(comps).filter((f) => f.severity.level !== "HIGH" && f.severity.level !== "CRITICAL");
    const warn = evaluatePolicy(pass, s, config(), { now: NOW });
    const gap = warn.decisions.find((d) => d.rule === "unresolved:warn");
    assert.equal(gap?.component?.name, "left-pad");
    assert.equal(warn.outcome, "pass");
    const fail = evaluatePolicy(pass, s, config({ unresolved: "fail" }), { now: NOW });
    assert.equal(fail.outcome, "fail");
    assert.ok(fail.decisions.some((d) => d.rule === "unresolved:fail" && d.outcome === "fail"));
    const ignore = evaluatePolicy(pass, s, config({ unresolved: "ignore" }), { now: NOW });
    assert.ok(!ignore.decisions.some((d) => d.rule.startsWith("unresolved")));
  });
});

describe("policy: waivers", () => {
  const sbom = exampleSbom();
  const findings = findingsFor(sbom.components);
  const lodashWaiver = { id: "GHSA-35jh-r3h4-6jhm", package: "pkg:npm/lodash", reason: "template() is never called", owner: "sec@example.com", expires: "2026-12-31" };
  const minimistWaiver = { id: ["CVE-2021-44906"], reason: "only parses our own argv", owner: "cli-team", expires: "2026-12-31" };

  it("an active waiver suppresses the finding and is shown with its expiry", () => {
    const r = evaluatePolicy(findings, sbom, config({ waivers: [lodashWaiver, minimistWaiver] }), { now: NOW });
    assert.equal(r.outcome, "pass");
    const d = r.decisions.find((x) => x.finding?.id === "GHSA-35jh-r3h4-6jhm")!;
    assert.equal(d.outcome, "pass");
    assert.equal(d.suppressed?.by, "waiver");
    assert.equal(d.suppressed?.expires, "2026-12-31");
    assert.match(d.suppressed?.detail ?? "", /template\(\) is never called \(owner sec@example.com\)/);
    assert.deepEqual(r.waivers.map((w) => [w.status, w.matched]), [["active", 1], ["active", 1]]);
  });

  it("matches by alias (a CVE id for a GHSA finding)", () => {
    const r = evaluatePolicy(findings, sbom, config({ waivers: [minimistWaiver] }), { now: NOW });
    const d = r.decisions.find((x) => x.finding?.id === "GHSA-xvch-5gv4-984h")!;
    assert.equal(d.suppressed?.by, "waiver");
  });

  it("expiry with an injected clock: applies through its last day, stops the day after and is reported expired", () => {
    assert.equal(waiverExpiry("2026-12-31").toISOString(), "2026-12-31T23:59:59.999Z");
    const lastDay = evaluatePolicy(findings, sbom, config({ waivers: [lodashWaiver, minimistWaiver] }), { now: new Date("2026-12-31T23:00:00Z") });
    assert.equal(lastDay.outcome, "pass");
    const after = evaluatePolicy(findings, sbom, config({ waivers: [lodashWaiver, minimistWaiver] }), { now: new Date("2027-01-01T00:00:00Z") });
    assert.equal(after.outcome, "fail");
    const d = after.decisions.find((x) => x.finding?.id === "GHSA-35jh-r3h4-6jhm")!;
    assert.equal(d.outcome, "fail");
    assert.equal(d.suppressed, undefined);
    assert.match(d.message ?? "", /waiver expired 2026-12-31/);
    assert.deepEqual(after.waivers.map((w) => w.status), ["expired", "expired"]);
    assert.ok(after.decisions.some((x) => x.rule === "waiver:expired" && /no longer applies to 1 finding/.test(x.message ?? "")));
  });

  it("a waiver whose package pattern matches nothing is stale: a warning, or a failure with strict_waivers", () => {
    const stale = { id: "GHSA-35jh-r3h4-6jhm", package: "pkg:npm/lodash-es", reason: "x", expires: "2026-12-31" };
    const passing = findings.filter((f) => f.severity.level === "LOW" || f.severity.level === "MEDIUM");
    const lax = evaluatePolicy(passing, sbom, config({ waivers: [stale] }), { now: NOW });
    assert.equal(lax.waivers[0]?.status, "stale");
    assert.equal(lax.outcome, "pass");
    assert.ok(lax.decisions.some((d) => d.rule === "waiver:stale" && d.outcome === "warn"));
    const strict = evaluatePolicy(passing, sbom, config({ waivers: [stale], strict_waivers: true }), { now: NOW });
    assert.equal(strict.outcome, "fail");
    assert.ok(strict.decisions.some((d) => d.rule === "strict_waivers" && d.outcome === "fail" && /waivers\[0\]/.test(d.message ?? "")));
  });

  it("package patterns: with a version only that version, qualifiers as a subset, * as a wildcard", () => {
    const at = (pkg: string) => evaluatePolicy(findings, sbom, config({ waivers: [{ ...lodashWaiver, package: pkg }] }), { now: NOW }).waivers[0]!.status;
    assert.equal(at("pkg:npm/lodash@4.17.20"), "active");
    assert.equal(at("pkg:npm/lodash@4.17.19"), "stale");
    assert.equal(at("pkg:npm/lodash@4.17.*"), "active");
    assert.equal(at("pkg:npm/lod*"), "active");
    assert.equal(at("pkg:npm/lodash?repository_url=https://example.com"), "stale");
    assert.equal(at("lodash"), "active", "a bare name matches the component name");
  });
});
