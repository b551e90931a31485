import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Ajv2020Module from "ajv/dist/2020.js";
import AjvDraft04Module from "ajv-draft-04";
import addFormatsModule from "ajv-formats";
import { XMLParser } from "fast-xml-parser";
import { configSchema } from "../../src/config/index.ts";
import { runCheck } from "../../src/gate/check.ts";
import type { CheckResult } from "../../src/model/index.ts";
import { jsonReport, junitReport, markdownReport, openVexDocument, parseReportSpec, sarifReport, tableReport } from "../../src/report/index.ts";
import { MARKDOWN_MAX_ROWS } from "../../src/report/markdown.ts";
import { parseVex } from "../../src/gate/vex.ts";
import { ROOT, SHARED_TESTDATA, sharedTestdataMissing, tempDir } from "../helpers.ts";
import { EXAMPLE_APP, exampleSbom, findingsFor } from "../gate/fixtures.ts";

/**
 * OpenVEX ids are IRIs such as `pkg:npm/lodash@4.17.20`; ajv-formats-draft2019's `iri` rejects every
 * purl (it wants an authority), so, as ../shared/testdata/README.md §12 did, the format is checked
 * permissively: a scheme, a colon, and no characters that RFC 3987 excludes.
 */
function permissiveIri(s: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"{}|\\^`]+$/.test(s);
}

const NOW = new Date("2026-11-26T12:00:00Z");

// CommonJS modules: the classes are their `default` exports; the plugin is the module itself.
const Ajv2020 = Ajv2020Module.default;
const AjvDraft04 = AjvDraft04Module.default;
const addFormats = addFormatsModule as unknown as (ajv: unknown) => void;
const ESC = String.fromCharCode(27);
const BEL = String.fromCharCode(7);

/** A check of the example app, with a waiver on minimist and a VEX statement on nanoid in force. */
async function exampleCheck(dir: string, extra: Record<string, unknown> = {}): Promise<CheckResult> {
  const vexPath = join(dir, "app.vex.json");
  const { writeFile } = await import("node:fs/promises");
  await writeFile(
    vexPath,
    JSON.stringify({
      "@context": "https://openvex.dev/ns/v0.2.0",
      "@id": "https://example.com/vex/app",
      author: "app team",
      timestamp: "2026-11-01T00:00:00Z",
      version: 1,
      statements: [{ vulnerability: { name: "CVE-2021-23566" }, products: [{ "@id": "pkg:npm/nanoid" }], status: "not_affected", justification: "vulnerable_code_not_in_execute_path", impact_statement: "ids are generated without valueOf input" }],
    }),
  );
  const config = configSchema.parse({
    waivers: [{ id: "GHSA-xvch-5gv4-984h", package: "pkg:npm/minimist", reason: "argv is our own", owner: "cli-team", expires: "2026-12-31" }],
    vex: [vexPath],
    triage: { store: join(dir, "triage.db") },
    ...extra,
  });
  const sbom = exampleSbom();
  const target = { kind: "dir" as const, input: "examples/vulnerable-app", path: EXAMPLE_APP };
  return runCheck(target, { config, sbom, findings: findingsFor(sbom.components), now: NOW, cwd: ROOT, env: {} });
}

describe("reports of a check on the example app", () => {
  let result: CheckResult;
  let cleanup: () => Promise<void>;
  before(async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    result = await exampleCheck(t.dir);
  });
  after(() => cleanup());

  it("the gate fails on lodash (HIGH); the waived CRITICAL and the VEX'd MEDIUM are suppressed", () => {
    assert.equal(result.outcome, "fail");
    const failing = result.decisions.filter((d) => d.outcome === "fail").map((d) => d.finding?.id);
    assert.deepEqual(failing, ["GHSA-35jh-r3h4-6jhm"]);
    assert.deepEqual(result.decisions.filter((d) => d.suppressed).map((d) => `${d.finding?.id} ${d.suppressed?.by}`).sort(), ["GHSA-qrpm-p2h7-hrv2 vex", "GHSA-xvch-5gv4-984h waiver"]);
  });

  it("remediation: nearest fix and a grouped upgrade; lodash 4.17.21 is outside the declared exact range", () => {
    assert.deepEqual(result.remediation.fixes.map((f) => [f.findingId, f.nearestFix]), [["GHSA-35jh-r3h4-6jhm", "4.17.21"]]);
    const u = result.remediation.upgrades[0]!;
    assert.equal(u.name, "lodash");
    assert.equal(u.from, "4.17.20");
    assert.equal(u.to, "4.17.21");
    assert.deepEqual(u.fixes.sort(), ["GHSA-29mw-wpgm-hmr9", "GHSA-35jh-r3h4-6jhm"], "the upgrade also fixes the MEDIUM ReDoS");
    assert.equal(u.withinDeclaredRange, "no", "package.json pins lodash to 4.17.20 exactly");
    assert.deepEqual(u.declaredRanges, ["(project) → 4.17.20"]);
  });

  it("SARIF validates against the SARIF 2.1.0 schema, with rules, levels, lockfile lines and fingerprints", { skip: sharedTestdataMissing("sarif") }, () => {
    const schema = JSON.parse(readFileSync(join(SHARED_TESTDATA, "sarif", "sarif-schema-2.1.0.json"), "utf8")) as object;
    const ajv = new AjvDraft04({ allErrors: true, strict: false });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    const log = JSON.parse(sarifReport(result, { baseDir: ROOT })) as {
      runs: { tool: { driver: { rules: { id: string; properties: Record<string, unknown> }[] } }; results: Record<string, unknown>[] }[];
    };
    assert.ok(validate(log), JSON.stringify(validate.errors?.slice(0, 3)));
    const run = log.runs[0]!;
    const rule = run.tool.driver.rules.find((r) => r.id === "GHSA-35jh-r3h4-6jhm")!;
    assert.equal(rule.properties["security-severity"], "8.0");
    const res = run.results.find((r) => r.ruleId === "GHSA-35jh-r3h4-6jhm") as { level: string; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[]; partialFingerprints: Record<string, string> };
    assert.equal(res.level, "error");
    assert.equal(res.locations[0]!.physicalLocation.artifactLocation.uri, "examples/vulnerable-app/package-lock.json");
    const lockLines = readFileSync(join(EXAMPLE_APP, "package-lock.json"), "utf8").split("\n");
    assert.match(lockLines[res.locations[0]!.physicalLocation.region.startLine - 1]!, /"node_modules\/lodash": \{/);
    assert.match(res.partialFingerprints["tollgate/v1"]!, /^[0-9a-f]{64}$/);
    const waived = run.results.find((r) => r.ruleId === "GHSA-xvch-5gv4-984h") as { suppressions: { justification: string }[] };
    assert.match(waived.suppressions[0]!.justification, /waiver: argv is our own .*until 2026-12-31/);
    const debug = run.results.find((r) => r.ruleId === "GHSA-gxpj-cx7g-858c") as { level: string };
    assert.equal(debug.level, "note");
  });

  it("SARIF fingerprints are stable across runs and differ between findings", async () => {
    const t = await tempDir();
    try {
      const again = await exampleCheck(t.dir);
      const fps = (r: CheckResult) => (JSON.parse(sarifReport(r)) as { runs: { results: { partialFingerprints: Record<string, string> }[] }[] }).runs[0]!.results.map((x) => x.partialFingerprints["tollgate/v1"]);
      assert.deepEqual(fps(again), fps(result));
      assert.equal(new Set(fps(result)).size, fps(result).length);
    } finally {
      await t.cleanup();
    }
  });

  it("the emitted OpenVEX validates against the OpenVEX schema and reads back", { skip: sharedTestdataMissing("openvex") }, () => {
    const schema = JSON.parse(readFileSync(join(SHARED_TESTDATA, "openvex", "openvex_json_schema.json"), "utf8")) as object;
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
    ajv.addFormat("iri", permissiveIri);
    const validate = ajv.compile(schema);
    // Controls: the upstream example passes, and an id that is not an IRI fails.
    const upstream = JSON.parse(readFileSync(join(SHARED_TESTDATA, "openvex", "go-vex-testdata", "v0.2.0.json"), "utf8")) as Record<string, unknown>;
    assert.ok(validate(upstream));
    assert.equal(validate({ ...upstream, "@id": "not an iri" }), false);
    const text = openVexDocument(result);
    const doc = JSON.parse(text) as unknown;
    assert.ok(validate(doc), JSON.stringify(validate.errors?.slice(0, 3)));
    const back = parseVex(text, "emitted.json");
    const byVuln = Object.fromEntries(back.map((s) => [s.vulnerability, s]));
    assert.equal(byVuln["GHSA-qrpm-p2h7-hrv2"]?.status, "not_affected");
    assert.equal(byVuln["GHSA-qrpm-p2h7-hrv2"]?.justification, "vulnerable_code_not_in_execute_path");
    assert.equal(byVuln["GHSA-xvch-5gv4-984h"]?.status, "affected");
    assert.match(byVuln["GHSA-xvch-5gv4-984h"]?.actionStatement ?? "", /Risk accepted by waiver until 2026-12-31/);
    assert.deepEqual(byVuln["GHSA-xvch-5gv4-984h"]?.products[0]?.subcomponents, ["pkg:npm/minimist@1.2.5"]);
  });

  it("JSON validates against its documented schema (src/report/check-report.schema.json)", () => {
    const schema = JSON.parse(readFileSync(join(ROOT, "src", "report", "check-report.schema.json"), "utf8")) as object;
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    const doc = JSON.parse(jsonReport(result, { baseDir: ROOT })) as { schemaVersion: string; summary: { byOutcome: Record<string, number> }; findings: unknown[] };
    assert.ok(validate(doc), JSON.stringify(validate.errors?.slice(0, 3)));
    assert.equal(doc.schemaVersion, "1.2");
    assert.deepEqual(doc.summary.byOutcome, { fail: 1, warn: 1, triage: 1, pass: 0, suppressed: 2 });
    // The schema is not vacuous: a report with a bad outcome is rejected.
    assert.equal(validate({ ...doc, outcome: "maybe" }), false);
  });

  it("Markdown: counts by severity, failing findings with fixed versions, upgrades, waivers with expiry, VEX justification", () => {
    const md = markdownReport(result);
    assert.match(md, /## tollgate: ❌ gate failed/);
    assert.match(md, /\| 1 \| 1 \| 2 \| 1 \| 0 \|/);
    assert.match(md, /\| HIGH \| GHSA-35jh-r3h4-6jhm<br>Command Injection in lodash \| lodash@4\.17\.20 \| 4\.17\.21 \| fail_on:high \|/);
    assert.match(md, /upgrade `lodash` from 4\.17\.20 to \*\*4\.17\.21\*\* fixes 2 finding\(s\)/);
    assert.match(md, /\| GHSA-xvch-5gv4-984h \| pkg:npm\/minimist \| cli-team \| 2026-12-31 \| active \| 1 \|/);
    assert.match(md, /VEX not_affected \| vulnerable_code_not_in_execute_path/);
    assert.match(md, /### Triage/);
  });

  it("JUnit: one failure for the failing finding, skipped for suppressed ones, well-formed XML", () => {
    const xml = junitReport(result);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(xml) as { testsuites: { failures: string; skipped: string; testsuite: { testcase: { name: string; failure?: unknown; skipped?: unknown }[] } } };
    assert.equal(doc.testsuites.failures, "1");
    assert.equal(doc.testsuites.skipped, "2");
    const failed = doc.testsuites.testsuite.testcase.filter((t) => t.failure !== undefined).map((t) => t.name);
    assert.deepEqual(failed, ["GHSA-35jh-r3h4-6jhm in lodash@4.17.20"]);
  });

  it("table: a row per reported finding and the verdict", () => {
    const t = tableReport(result);
    assert.match(t, /^SEVERITY\s+VULNERABILITY\s+PACKAGE/m);
    assert.match(t, /HIGH\s+GHSA-35jh-r3h4-6jhm\s+lodash@4\.17\.20\s+4\.17\.21\s+fail/);
    assert.match(t, /CRITICAL\s+GHSA-xvch-5gv4-984h\s+minimist@1\.2\.5\s+1\.2\.6\s+waived/);
    assert.match(t, /FAIL: 5 finding\(s\) in 5 component\(s\): 1 failing/);
    assert.ok(!t.includes(ESC), "no colour unless asked");
  });

  it("--report specs: FORMAT=PATH, unknown formats and missing paths are usage errors", () => {
    assert.deepEqual(parseReportSpec("sarif=out/x.sarif"), { format: "sarif", path: "out/x.sarif" });
    assert.deepEqual(parseReportSpec("markdown=/tmp/a=b.md"), { format: "markdown", path: "/tmp/a=b.md" });
    assert.throws(() => parseReportSpec("html=x.html"), /unknown format "html"/);
    assert.throws(() => parseReportSpec("sarif"), /expected FORMAT=PATH/);
  });
});

describe("reports: hostile text from advisories", () => {
  it("Markdown cells escape pipes and HTML; JUnit drops control characters; the table strips escapes", async () => {
    const t = await tempDir();
    try {
      const sbom = exampleSbom();
      const findings = findingsFor(sbom.components).map((f) => ({ ...f, summary: "evil | <img src=x onerror=alert(1)> @team \u0007\u001b[31m" }));
      const config = configSchema.parse({ triage: { store: join(t.dir, "t.db") } });
      const r = await runCheck({ kind: "dir", input: "x", path: EXAMPLE_APP }, { config, sbom, findings, now: NOW, env: {} });
      const md = markdownReport(r);
      assert.match(md, /evil \\\| &lt;img src=x onerror=alert\\\(1\\\)&gt; @\u200bteam/);
      assert.doesNotMatch(md, /<img/);
      const xml = junitReport(r);
      assert.ok(!xml.includes(BEL) && !xml.includes(ESC));
      assert.ok(new XMLParser().parse(xml));
      assert.ok(!tableReport(r).includes(ESC));
    } finally {
      await t.cleanup();
    }
  });
});

describe("reports: size", () => {
  it("Markdown tables stop at MARKDOWN_MAX_ROWS rows and say how many were left out", async () => {
    const t = await tempDir();
    try {
      const base = exampleSbom();
      // 150 copies of lodash at distinct paths: 150 failing findings of the same real advisory.
      const lodash = base.components.find((c) => c.name === "lodash")!;
      const copies = Array.from({ length: 150 }, (_, i) => ({ ...lodash, ref: `${lodash.ref}#${i}`, purl: `pkg:npm/lodash@4.17.20?copy=${i}`, locations: [{ path: `nested/${i}/package-lock.json`, line: 1 }] }));
      const sbom = exampleSbom(copies);
      const findings = findingsFor(copies).filter((f) => f.id === "GHSA-35jh-r3h4-6jhm");
      assert.equal(findings.length, 150);
      const config = configSchema.parse({ triage: { store: join(t.dir, "t.db") } });
      const r = await runCheck({ kind: "dir", input: "x", path: EXAMPLE_APP }, { config, sbom, findings, now: NOW, env: {} });
      const md = markdownReport(r);
      assert.equal(md.split("\n").filter((l) => l.startsWith("| HIGH |")).length, MARKDOWN_MAX_ROWS);
      assert.match(md, /… and 50 more \(see the JSON or SARIF report\)/);
    } finally {
      await t.cleanup();
    }
  });
});
