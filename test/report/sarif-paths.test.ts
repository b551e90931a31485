/**
 * SARIF paths (issue 11, B): one convention for vulnerability results, Dockerfile lint results and
 * tool notifications: a URI relative to the repository root (`baseDir`, else the cwd) under
 * `uriBaseId` `%SRCROOT%` (as GitHub code scanning expects); a file outside it an absolute `file:`
 * URI; a path inside an image its path there. Relative target paths are relative to the cwd they were
 * read from, whatever `baseDir` is.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import AjvDraft04Module from "ajv-draft-04";
import addFormatsModule from "ajv-formats";
import type { CheckResult } from "../../src/model/index.ts";
import type { LintFinding } from "../../src/lint/engine.ts";
import { lintReportSarif } from "../../src/lint/report.ts";
import { sarifReport } from "../../src/report/index.ts";
import { SHARED_TESTDATA, sharedTestdataMissing } from "../helpers.ts";
import { checkResult, component, finding } from "./check-result.ts";

const AjvDraft04 = AjvDraft04Module.default;
const addFormats = addFormatsModule as unknown as (ajv: unknown) => void;

interface Loc {
  physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string }; region?: { startLine: number } };
}
interface Log {
  runs: { results: { ruleId: string; locations: Loc[] }[] }[];
}

const REPO = "/work/checkout";

/** A check of `<repo>/<app>` with one vulnerability (in its package-lock.json) and one Dockerfile lint finding. */
function check(targetPath: string, dockerfile: string, lockPath = "package-lock.json"): CheckResult {
  const c = component("lodash", "4.17.20", { locations: [{ path: lockPath, line: 7 }] });
  return checkResult([{ outcome: "fail", rule: "fail_on:high", finding: finding(c) }], {
    lint: { outcome: "fail", findings: [{ rule: "TG-DF-001", severity: "error", file: dockerfile, line: 1, message: "the final stage runs as root", failing: true }] },
  }, { kind: "dir", input: "app", path: targetPath });
}

const locOf = (log: Log, prefix: string): Loc["physicalLocation"]["artifactLocation"] => log.runs[0]!.results.find((r) => r.ruleId.startsWith(prefix))!.locations[0]!.physicalLocation.artifactLocation;

function validator(): (log: unknown) => boolean {
  const schema = JSON.parse(readFileSync(join(SHARED_TESTDATA, "sarif", "sarif-schema-2.1.0.json"), "utf8")) as object;
  const ajv = new AjvDraft04({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile(schema) as (log: unknown) => boolean;
}

describe("SARIF artifact locations: one convention", () => {
  it("vulnerability and Dockerfile lint results: relative to baseDir, both under %SRCROOT%", { skip: sharedTestdataMissing("sarif") }, () => {
    const log = JSON.parse(sarifReport(check(join(REPO, "app"), join(REPO, "app", "Dockerfile")), { baseDir: REPO })) as Log;
    assert.ok(validator()(log));
    assert.deepEqual(locOf(log, "GHSA-"), { uri: "app/package-lock.json", uriBaseId: "%SRCROOT%" });
    assert.deepEqual(locOf(log, "TG-DF-"), { uri: "app/Dockerfile", uriBaseId: "%SRCROOT%" });
  });

  it("relative target and Dockerfile paths are read from the cwd, and still land relative to baseDir", () => {
    const rel = relative(process.cwd(), join(REPO, "app"));
    const log = JSON.parse(sarifReport(check(rel, join(rel, "Dockerfile")), { baseDir: REPO })) as Log;
    assert.deepEqual(locOf(log, "GHSA-"), { uri: "app/package-lock.json", uriBaseId: "%SRCROOT%" });
    assert.deepEqual(locOf(log, "TG-DF-"), { uri: "app/Dockerfile", uriBaseId: "%SRCROOT%" });
  });

  it("without baseDir the cwd is the root, for both kinds", () => {
    const log = JSON.parse(sarifReport(check(join(process.cwd(), "app"), join(process.cwd(), "app", "Dockerfile")))) as Log;
    assert.deepEqual(locOf(log, "GHSA-"), { uri: "app/package-lock.json", uriBaseId: "%SRCROOT%" });
    assert.deepEqual(locOf(log, "TG-DF-"), { uri: "app/Dockerfile", uriBaseId: "%SRCROOT%" });
  });

  it("files outside the root are absolute file: URIs for both kinds; names are %-encoded", () => {
    const out = JSON.parse(sarifReport(check("/elsewhere/app", "/elsewhere/app/Dockerfile"), { baseDir: REPO })) as Log;
    assert.deepEqual(locOf(out, "GHSA-"), { uri: pathToFileURL("/elsewhere/app/package-lock.json").href });
    assert.deepEqual(locOf(out, "TG-DF-"), { uri: "file:///elsewhere/app/Dockerfile" });
    const odd = JSON.parse(sarifReport(check(join(REPO, "my app"), join(REPO, "my app", "web#1.Dockerfile"), "pkg?/100%/@scope/package-lock.json"), { baseDir: REPO })) as Log;
    assert.deepEqual(locOf(odd, "GHSA-"), { uri: "my%20app/pkg%3F/100%25/@scope/package-lock.json", uriBaseId: "%SRCROOT%" });
    assert.deepEqual(locOf(odd, "TG-DF-"), { uri: "my%20app/web%231.Dockerfile", uriBaseId: "%SRCROOT%" });
  });

  it("`tollgate lint dockerfile` and `lint image` SARIF follow it too", { skip: sharedTestdataMissing("sarif") }, () => {
    const f: LintFinding = { ruleId: "TG-DF-001", severity: "error", file: join(REPO, "app", "Dockerfile"), line: 1, message: "m", refs: [], fix: "x" };
    const lint = JSON.parse(lintReportSarif([f], REPO)) as Log;
    assert.ok(validator()(lint));
    assert.deepEqual(locOf(lint, "TG-DF-"), { uri: "app/Dockerfile", uriBaseId: "%SRCROOT%" });
    // A file of an image is its path in the image: no %SRCROOT%, no file: URI of this machine.
    const image = JSON.parse(lintReportSarif([{ ...f, ruleId: "TG-IMG-002", file: "/usr/bin/su", line: 0 }], REPO, "image")) as Log;
    assert.ok(validator()(image));
    assert.deepEqual(locOf(image, "TG-IMG-"), { uri: "usr/bin/su" });
    const config = JSON.parse(lintReportSarif([{ ...f, ruleId: "TG-IMG-001", file: "image config", line: 0 }], REPO, "image")) as Log;
    assert.deepEqual(locOf(config, "TG-IMG-"), { uri: "image%20config" });
  });

  it("an image target's findings are at their path in the image, without a base", () => {
    const c = component("openssl", "3.0.0", { locations: [{ path: "/var/lib/dpkg/status", line: 40 }] });
    const r = checkResult([{ outcome: "fail", rule: "fail_on:high", finding: finding(c) }], {}, { kind: "registry", input: "registry:x/y:1", reference: "x/y:1" });
    const log = JSON.parse(sarifReport(r, { baseDir: REPO })) as Log;
    assert.deepEqual(locOf(log, "GHSA-"), { uri: "var/lib/dpkg/status" });
  });
});
