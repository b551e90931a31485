/**
 * Inputs the run could not read (the gate's fail-closed decisions: `unreadable:fail|warn` with the
 * collect problem, `db:no-data…` for an ecosystem without vulnerability data) in every report, apart
 * from the vulnerability findings: the verdict line, table, Markdown, JSON (schema 1.2), SARIF
 * (`executionSuccessful: false` and one tool execution notification each) and JUnit (`<error>` when
 * failing, `<skipped>` when a warning).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import Ajv2020Module from "ajv/dist/2020.js";
import AjvDraft04Module from "ajv-draft-04";
import addFormatsModule from "ajv-formats";
import { XMLParser } from "fast-xml-parser";
import type { Decision } from "../../src/model/index.ts";
import { jsonReport, junitReport, markdownReport, sarifReport, tableReport, verdictLine } from "../../src/report/index.ts";
import { ROOT, SHARED_TESTDATA, sharedTestdataMissing } from "../helpers.ts";
import { ESC, checkResult, component, finding } from "./check-result.ts";

const Ajv2020 = Ajv2020Module.default;
const AjvDraft04 = AjvDraft04Module.default;
const addFormats = addFormatsModule as unknown as (ajv: unknown) => void;

const BASE = "/repo";
const lodash = component("lodash", "4.17.20");

const malformed: Decision = {
  outcome: "fail",
  rule: "unreadable:fail",
  problem: { source: "npm-lock", file: "sub/package-lock.json", line: 12, message: "sub/package-lock.json:12:5: unexpected token" },
  message: "input not read: sub/package-lock.json:12:5: unexpected token",
};
const tooBig: Decision = {
  outcome: "fail",
  rule: "unreadable:fail",
  problem: { source: "collect", file: "yarn.lock", message: `yarn.lock is over the 64 MiB limit <img src=x> [x](http://evil) ${ESC}[2J` },
  message: "input not read: yarn.lock is over the 64 MiB limit",
};
const warned: Decision = { outcome: "warn", rule: "unreadable:warn", problem: { source: "pipfile-lock", file: "Pipfile.lock", line: 3, message: "not a Pipfile.lock" }, message: "input not read: Pipfile.lock:3: not a Pipfile.lock" };
const noData: Decision = { outcome: "fail", rule: "db:no-data:PyPI", message: "the vulnerability database has no records for PyPI (1 component)" };
const low: Decision = { outcome: "pass", rule: "below:warn_on", finding: finding(lodash, { severity: { level: "LOW", source: "none" } }) };

const unreadable = () => checkResult([low, malformed, tooBig, warned, noData]);
const readable = () => checkResult([low]);

describe("reports of inputs that could not be read", () => {
  it("the verdict says why the gate fails: inputs not read, ecosystems without data", () => {
    const v = verdictLine(unreadable());
    assert.match(v, /^FAIL: 2 inputs could not be read; no vulnerability data for 1 ecosystem; 1 finding\(s\) in 1 component\(s\): 0 failing/);
    assert.match(v, /; 1 input not read \(warning\)/);
    assert.doesNotMatch(v, /other policy failure/, "not counted twice");
    assert.match(verdictLine(checkResult([malformed])), /^FAIL: 1 input could not be read; 0 finding\(s\)/);
    assert.match(verdictLine(checkResult([warned])), /^PASS: 0 finding\(s\).*; 1 input not read \(warning\)$/);
    assert.match(verdictLine(readable()), /^PASS: 1 finding\(s\) in 1 component\(s\)/);
  });

  it("table: a section 'Inputs not read' with file:line: problem (source), relative to the base directory", () => {
    const t = tableReport(unreadable(), { baseDir: BASE });
    const lines = t.split("\n");
    const at = lines.indexOf("Inputs not read (4):");
    assert.ok(at >= 0, t);
    assert.deepEqual(lines.slice(at + 1, at + 5), [
      "  FAIL  app/sub/package-lock.json:12:5: unexpected token (npm-lock)",
      "  FAIL  app/yarn.lock is over the 64 MiB limit <img src=x> [x](http://evil) \\u001b[2J (collect)",
      "  FAIL  the vulnerability database has no records for PyPI (1 component)",
      "  WARN  app/Pipfile.lock:3: not a Pipfile.lock (pipfile-lock)",
    ]);
    assert.ok(!lines.some((l) => /^FAIL {2}input not read/.test(l)), "not repeated as a policy failure");
    assert.match(lines.at(-2)!, /^FAIL: 2 inputs could not be read/);
    assert.doesNotMatch(tableReport(readable()), /Inputs not read/);
  });

  it("Markdown: a heading and an escaped bullet per input, apart from the findings and other failures", () => {
    const md = markdownReport(unreadable(), { baseDir: BASE });
    assert.match(md, /^### Inputs not read \(4\)$/m);
    assert.match(md, /^The gate fails closed: 3 input\(s\) could not be read/m);
    assert.match(md, /^- \*\*fail\*\* app\/sub\/package-lock\.json:12:5: unexpected token \\\(npm-lock\\\)$/m);
    assert.match(md, /^- \*\*fail\*\* app\/yarn\.lock is over the 64 MiB limit &lt;img src=x&gt; \\\[x\\\]\\\(http:\/\/evil\\\) \\\\u001b\\\[2J \\\(collect\\\)$/m);
    assert.match(md, /^- \*\*warn\*\* app\/Pipfile\.lock:3: not a Pipfile\.lock/m);
    assert.doesNotMatch(md, /### Other failures/, "inputs are not 'other failures'");
    assert.doesNotMatch(md, /<img/);
    assert.doesNotMatch(markdownReport(readable()), /Inputs not read/);
  });

  it("JSON: schemaVersion 1.2 with `unreadable` (and `problem` on policy decisions), valid against the schema", () => {
    const schema = JSON.parse(readFileSync(join(ROOT, "src", "report", "check-report.schema.json"), "utf8")) as object;
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    const doc = JSON.parse(jsonReport(unreadable(), { baseDir: BASE })) as {
      schemaVersion: string;
      summary: { unreadable: number };
      unreadable: { outcome: string; rule: string; message: string | null; problem: { source: string; file: string | null; line: number | null; message: string } | null }[];
      policyDecisions: { rule: string; problem: unknown }[];
      findings: unknown[];
    };
    assert.ok(validate(doc), JSON.stringify(validate.errors?.slice(0, 3)));
    assert.equal(doc.schemaVersion, "1.2");
    assert.equal(doc.summary.unreadable, 4);
    assert.equal(doc.findings.length, 1);
    assert.deepEqual(doc.unreadable[0], {
      outcome: "fail",
      rule: "unreadable:fail",
      message: "input not read: sub/package-lock.json:12:5: unexpected token",
      problem: { source: "npm-lock", file: "app/sub/package-lock.json", line: 12, message: "sub/package-lock.json:12:5: unexpected token" },
    });
    assert.deepEqual(doc.unreadable.map((u) => [u.outcome, u.rule, u.problem?.file ?? null]), [
      ["fail", "unreadable:fail", "app/sub/package-lock.json"],
      ["fail", "unreadable:fail", "app/yarn.lock"],
      ["fail", "db:no-data:PyPI", null],
      ["warn", "unreadable:warn", "app/Pipfile.lock"],
    ]);
    assert.equal(doc.policyDecisions.filter((d) => d.problem !== null).length, 3);
    // A report of 1.1's shape (no `unreadable`) still validates: the change is additive.
    const old = JSON.parse(jsonReport(readable(), { baseDir: BASE })) as Record<string, unknown>;
    delete old.unreadable;
    assert.ok(validate(old), JSON.stringify(validate.errors?.slice(0, 3)));
    assert.equal(validate({ ...doc, unreadable: [{ outcome: "fail", rule: "x", message: null, problem: { source: "s" } }] }), false, "the schema is not vacuous");
  });

  it("SARIF: executionSuccessful false with one notification per input (error/warning, file and line); valid SARIF 2.1.0", { skip: sharedTestdataMissing("sarif") }, () => {
    const schema = JSON.parse(readFileSync(join(SHARED_TESTDATA, "sarif", "sarif-schema-2.1.0.json"), "utf8")) as object;
    const ajv = new AjvDraft04({ allErrors: true, strict: false });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    type Invocation = {
      executionSuccessful: boolean;
      exitCode: number;
      toolExecutionNotifications?: { level: string; message: { text: string }; descriptor: { id: string }; locations?: { physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string }; region?: { startLine: number } } }[] }[];
    };
    const log = JSON.parse(sarifReport(unreadable(), { baseDir: BASE })) as { runs: { invocations: Invocation[]; results: unknown[] }[] };
    assert.ok(validate(log), JSON.stringify(validate.errors?.slice(0, 3)));
    const inv = log.runs[0]!.invocations[0]!;
    assert.equal(inv.executionSuccessful, false);
    assert.equal(inv.exitCode, 1);
    const n = inv.toolExecutionNotifications!;
    assert.deepEqual(n.map((x) => [x.level, x.descriptor.id]), [
      ["error", "unreadable:fail"],
      ["error", "unreadable:fail"],
      ["error", "db:no-data:PyPI"],
      ["warning", "unreadable:warn"],
    ]);
    assert.deepEqual(n[0]!.locations, [{ physicalLocation: { artifactLocation: { uri: "app/sub/package-lock.json", uriBaseId: "%SRCROOT%" }, region: { startLine: 12 } } }]);
    assert.equal(n[0]!.message.text, "input not read: app/sub/package-lock.json:12:5: unexpected token (npm-lock)");
    assert.deepEqual(n[1]!.locations, [{ physicalLocation: { artifactLocation: { uri: "app/yarn.lock", uriBaseId: "%SRCROOT%" } } }]);
    assert.ok(!n[1]!.message.text.includes(ESC));
    assert.equal(n[2]!.locations, undefined, "an ecosystem has no file");
    assert.equal(log.runs[0]!.results.length, 1, "inputs are not results");

    const ok = JSON.parse(sarifReport(readable(), { baseDir: BASE })) as { runs: { invocations: Invocation[] }[] };
    assert.ok(validate(ok));
    assert.equal(ok.runs[0]!.invocations[0]!.executionSuccessful, true);
    assert.equal(ok.runs[0]!.invocations[0]!.toolExecutionNotifications, undefined);
    // A warning only still means the analysis did not cover everything.
    const warnOnly = JSON.parse(sarifReport(checkResult([low, warned]), { baseDir: BASE })) as { runs: { invocations: Invocation[] }[] };
    assert.equal(warnOnly.runs[0]!.invocations[0]!.executionSuccessful, false);
    assert.equal(warnOnly.runs[0]!.invocations[0]!.exitCode, 0);
  });

  it("JUnit: a test case per input, <error> when it fails the gate, <skipped> when a warning; counts agree", () => {
    const xml = junitReport(unreadable(), { baseDir: BASE });
    type Case = { name: string; classname: string; error?: { message: string; type: string }; skipped?: { message: string }; failure?: unknown };
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(xml) as { testsuites: { tests: string; errors: string; failures: string; skipped: string; testsuite: { errors: string; testcase: Case[] } } };
    const cases = doc.testsuites.testsuite.testcase.filter((c) => c.classname === "tollgate.input");
    assert.deepEqual(
      cases.map((c) => [c.name, c.error ? "error" : c.skipped ? "skipped" : "?"]),
      [
        ["input not read: app/sub/package-lock.json:12", "error"],
        ["input not read: app/yarn.lock", "error"],
        ["the vulnerability database has no records for PyPI (1 component)", "error"],
        ["input not read: app/Pipfile.lock:3", "skipped"],
      ],
    );
    assert.equal(cases[0]!.error!.type, "unreadable:fail");
    assert.equal(cases[0]!.error!.message, "app/sub/package-lock.json:12:5: unexpected token (npm-lock)");
    assert.match(cases[3]!.skipped!.message, /^warn: app\/Pipfile\.lock:3: not a Pipfile\.lock/);
    assert.equal(doc.testsuites.errors, "3");
    assert.equal(doc.testsuites.testsuite.errors, "3");
    assert.equal(doc.testsuites.failures, "0");
    assert.equal(doc.testsuites.skipped, "1");
    assert.equal(doc.testsuites.tests, String(doc.testsuites.testsuite.testcase.length));
    assert.ok(!xml.includes(ESC));
  });
});
