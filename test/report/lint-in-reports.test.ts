import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { cp, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Ajv2020Module from "ajv/dist/2020.js";
import AjvDraft04Module from "ajv-draft-04";
import addFormatsModule from "ajv-formats";
import { configSchema } from "../../src/config/index.ts";
import { runCheck } from "../../src/gate/check.ts";
import type { CheckResult } from "../../src/model/index.ts";
import { lintReportSarif } from "../../src/lint/index.ts";
import { jsonReport, sarifReport } from "../../src/report/index.ts";
import { ROOT, SHARED_TESTDATA, sharedTestdataMissing, tempDir } from "../helpers.ts";
import { EXAMPLE_APP, exampleSbom, findingsFor } from "../gate/fixtures.ts";

/**
 * Dockerfile lint findings of `tollgate check` in the SARIF and JSON reports. The target is a copy of
 * examples/vulnerable-app with a two-line Dockerfile written here; its findings were checked by hand
 * against the rules: no USER in the final stage (TG-DF-001, error, line 1, the final FROM), `:latest`
 * (TG-DF-003, warning, line 1), apt-get without --no-install-recommends (TG-DF-009, warning, line 2),
 * no HEALTHCHECK (TG-DF-028, info).
 */

const AjvDraft04 = AjvDraft04Module.default;
const Ajv2020 = Ajv2020Module.default;
const addFormats = addFormatsModule as unknown as (ajv: unknown) => void;
const NOW = new Date("2026-11-26T12:00:00Z");
const DOCKERFILE = "FROM ubuntu:latest\nRUN apt-get update && apt-get install -y curl\n";

interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: string;
  message: { text: string };
  locations: { physicalLocation: { artifactLocation: { uri: string }; region?: { startLine: number } } }[];
  partialFingerprints: Record<string, string>;
  properties: Record<string, unknown>;
}
interface SarifLog {
  runs: { tool: { driver: { rules: Record<string, unknown>[] } }; results: SarifResult[] }[];
}

async function check(dir: string): Promise<CheckResult> {
  const config = configSchema.parse({ fail_on: "none", triage: { store: join(dir, "triage.db"), github: { enabled: false } } });
  const sbom = exampleSbom();
  return runCheck({ kind: "dir", input: "app", path: join(dir, "app") }, { config, sbom, findings: findingsFor(sbom.components), now: NOW, cwd: dir, env: {}, noTriage: true });
}

const lintResults = (log: SarifLog): SarifResult[] => log.runs[0]!.results.filter((r) => r.ruleId.startsWith("TG-DF-"));
const byRule = (log: SarifLog, id: string): SarifResult => lintResults(log).find((r) => r.ruleId === id)!;

describe("check reports: Dockerfile lint findings in SARIF and JSON", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let result: CheckResult;
  let log: SarifLog;
  before(async () => {
    ({ dir, cleanup } = await tempDir());
    await cp(EXAMPLE_APP, join(dir, "app"), { recursive: true });
    await writeFile(join(dir, "app", "Dockerfile"), DOCKERFILE);
    result = await check(dir);
    log = JSON.parse(sarifReport(result, { baseDir: dir })) as SarifLog;
  });
  after(() => cleanup());

  it("the lint error fails the gate (fail_on: none, so no vulnerability does)", () => {
    assert.equal(result.outcome, "fail");
    assert.equal(result.lint?.outcome, "fail");
  });

  it("SARIF still validates against the SARIF 2.1.0 schema, with the lint results in it", { skip: sharedTestdataMissing("sarif") }, async () => {
    const schema = JSON.parse(await readFile(join(SHARED_TESTDATA, "sarif", "sarif-schema-2.1.0.json"), "utf8")) as object;
    const ajv = new AjvDraft04({ allErrors: true, strict: false });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    assert.ok(validate(log), JSON.stringify(validate.errors?.slice(0, 3)));
    assert.ok(lintResults(log).length >= 4);
  });

  it("one run: vulnerability and lint results side by side, every ruleIndex pointing at its rule", () => {
    assert.equal(log.runs.length, 1);
    const run = log.runs[0]!;
    assert.ok(run.results.some((r) => r.ruleId === "GHSA-35jh-r3h4-6jhm"), "the vulnerability results are still there");
    for (const r of run.results) assert.equal(run.tool.driver.rules[r.ruleIndex]!.id, r.ruleId);
    const ids = run.tool.driver.rules.map((r) => r.id as string);
    assert.equal(new Set(ids).size, ids.length, "one rule per id");
  });

  it("lint rules are the ones `tollgate lint dockerfile --format sarif` writes", () => {
    const lintLog = JSON.parse(lintReportSarif([])) as SarifLog;
    const own = lintLog.runs[0]!.tool.driver.rules.find((r) => r.id === "TG-DF-001");
    const inCheck = log.runs[0]!.tool.driver.rules.find((r) => r.id === "TG-DF-001");
    assert.ok(own);
    assert.deepEqual(inCheck, own);
  });

  it("level from the lint severity, location at the Dockerfile line, failing flag", () => {
    const user = byRule(log, "TG-DF-001");
    assert.equal(user.level, "error");
    assert.equal(user.locations[0]!.physicalLocation.artifactLocation.uri, "app/Dockerfile");
    assert.equal(user.locations[0]!.physicalLocation.region?.startLine, 1);
    assert.equal(user.properties.failing, true);
    assert.match(user.message.text, /no USER.*Fix: /);
    const apt = byRule(log, "TG-DF-009");
    assert.equal(apt.level, "warning");
    assert.equal(apt.locations[0]!.physicalLocation.region?.startLine, 2);
    assert.equal(apt.properties.failing, false);
    assert.equal(byRule(log, "TG-DF-028").level, "note");
  });

  it("partialFingerprints: distinct per finding, stable across runs and when lines move, changed when the finding changes", async () => {
    const fps = (l: SarifLog): string[] => lintResults(l).map((r) => r.partialFingerprints["tollgate/v1"]!);
    for (const fp of fps(log)) assert.match(fp, /^[0-9a-f]{64}$/);
    assert.equal(new Set(fps(log)).size, fps(log).length);
    const again = JSON.parse(sarifReport(await check(dir), { baseDir: dir })) as SarifLog;
    assert.deepEqual(fps(again), fps(log));
    // A comment above moves every finding one line down: same alerts.
    await writeFile(join(dir, "app", "Dockerfile"), `# build image\n${DOCKERFILE}`);
    const moved = JSON.parse(sarifReport(await check(dir), { baseDir: dir })) as SarifLog;
    assert.equal(byRule(moved, "TG-DF-001").locations[0]!.physicalLocation.region?.startLine, 2);
    assert.deepEqual(fps(moved).sort(), fps(log).sort());
    // Another base image is another TG-DF-003 finding; the USER finding stays the same alert.
    await writeFile(join(dir, "app", "Dockerfile"), DOCKERFILE.replace("ubuntu", "debian"));
    const other = JSON.parse(sarifReport(await check(dir), { baseDir: dir })) as SarifLog;
    assert.notEqual(byRule(other, "TG-DF-003").partialFingerprints["tollgate/v1"], byRule(log, "TG-DF-003").partialFingerprints["tollgate/v1"]);
    assert.equal(byRule(other, "TG-DF-001").partialFingerprints["tollgate/v1"], byRule(log, "TG-DF-001").partialFingerprints["tollgate/v1"]);
    await writeFile(join(dir, "app", "Dockerfile"), DOCKERFILE);
  });

  it("JSON (since schemaVersion 1.1): lint findings with fix, refs and the SARIF fingerprint, valid against the schema", () => {
    const schema = JSON.parse(readFileSync(join(ROOT, "src", "report", "check-report.schema.json"), "utf8")) as object;
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    const doc = JSON.parse(jsonReport(result, { baseDir: dir })) as {
      schemaVersion: string;
      lint: { outcome: string; findings: { rule: string; severity: string; file: string; line: number; failing: boolean; fix: string; refs: string[]; fingerprint: string }[] };
    };
    assert.ok(validate(doc), JSON.stringify(validate.errors?.slice(0, 3)));
    assert.equal(doc.schemaVersion, "1.2");
    assert.equal(doc.lint.outcome, "fail");
    const user = doc.lint.findings.find((f) => f.rule === "TG-DF-001")!;
    assert.equal(user.severity, "error");
    assert.equal(user.line, 1);
    assert.equal(user.failing, true);
    assert.match(user.fix, /USER/);
    assert.ok(user.refs.length > 0);
    assert.equal(user.fingerprint, byRule(log, "TG-DF-001").partialFingerprints["tollgate/v1"]);
    // The lint part of the schema is not vacuous.
    const bad = { ...doc, lint: { ...doc.lint, findings: [{ ...user, severity: "fatal" }] } };
    assert.equal(validate(bad), false);
  });
});
