import assert from "node:assert/strict";
import { cp, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { configSchema, loadConfig } from "../../src/config/index.ts";
import { runCheck } from "../../src/gate/check.ts";
import { ROOT, runCli, tempDir } from "../helpers.ts";
import { ADVISORIES, EXAMPLE_APP, exampleSbom, findingsFor } from "./fixtures.ts";
import { GitHubStandin } from "./github-standin.ts";

/** No GitHub settings leak in from the environment the tests run in. */
const NO_GITHUB = { GITHUB_TOKEN: "", GITHUB_REPOSITORY: "", GITHUB_API_URL: "" };

describe("tollgate check (CLI, end to end on the bundled example)", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await tempDir()));
  after(() => cleanup());

  it("the README's Quick start shows a real failing gate: exit 1 on lodash (HIGH) and minimist (CRITICAL)", async () => {
    const readme = await readFile(join(ROOT, "README.md"), "utf8");
    assert.ok(readme.includes("npx tollgate check examples/vulnerable-app --db examples/advisories"), "the README runs this command");
    const r = await runCli(["check", join(EXAMPLE_APP), "--db", ADVISORIES], { cwd: dir, env: NO_GITHUB });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^CRITICAL\s+GHSA-xvch-5gv4-984h\s+minimist@1\.2\.5\s+1\.2\.6\s+fail\s+fail_on:high$/m);
    assert.match(r.stdout, /^HIGH\s+GHSA-35jh-r3h4-6jhm\s+lodash@4\.17\.20\s+4\.17\.21\s+fail/m);
    assert.match(r.stdout, /^LOW\s+GHSA-gxpj-cx7g-858c\s+debug@2\.6\.8\s+2\.6\.9\s+triage/m);
    assert.match(r.stdout, /upgrade lodash from 4\.17\.20 to 4\.17\.21 fixes 2 finding\(s\) \(outside the declared range\)/);
    assert.match(r.stdout, /^FAIL: 5 finding\(s\) in 5 component\(s\): 2 failing, 2 warning, 1 triaged, 0 suppressed$/m);
    // The output the README shows is the output a newcomer gets.
    const shown = /```text\n(SEVERITY[\s\S]*?)```/.exec(readme)?.[1];
    assert.equal(r.stdout, shown);
  });

  it("a policy that waives and raises the bar passes (exit 0), writes every report and the OpenVEX document", async () => {
    const cfg = join(dir, "tollgate.yaml");
    await writeFile(
      cfg,
      [
        "fail_on: critical",
        "waivers:",
        "  - id: CVE-2021-44906",
        "    package: pkg:npm/minimist",
        "    reason: argv comes from our own scripts",
        "    owner: platform@example.com",
        "    expires: 2999-12-31",
        "triage:",
        "  store: state/triage.db",
        "  github:",
        "    enabled: false",
        "",
      ].join("\n"),
    );
    const r = await runCli(
      ["check", EXAMPLE_APP, "--db", ADVISORIES, "--config", cfg, "--format", "json", "--output", "report.json", "--report", "sarif=out/t.sarif", "--report", "markdown=summary.md", "--report", "junit=junit.xml", "--emit-vex", "decisions.vex.json"],
      { cwd: dir, env: NO_GITHUB },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "", "the report went to --output");
    const report = JSON.parse(await readFile(join(dir, "report.json"), "utf8")) as { outcome: string; summary: { byOutcome: Record<string, number> }; triage: { store: string } };
    assert.equal(report.outcome, "pass");
    assert.deepEqual(report.summary.byOutcome, { fail: 0, warn: 3, triage: 1, pass: 0, suppressed: 1 });
    assert.equal(report.triage.store, "state/triage.db", "relative to the config file's directory");
    const sarif = JSON.parse(await readFile(join(dir, "out", "t.sarif"), "utf8")) as { version: string };
    assert.equal(sarif.version, "2.1.0");
    assert.match(await readFile(join(dir, "summary.md"), "utf8"), /✅ gate passed/);
    assert.match(await readFile(join(dir, "junit.xml"), "utf8"), /<testsuites name="tollgate check" tests="5" failures="0" errors="0" skipped="1">/);
    const vex = JSON.parse(await readFile(join(dir, "decisions.vex.json"), "utf8")) as { statements: { vulnerability: { name: string }; status: string }[] };
    assert.deepEqual(vex.statements.map((s) => [s.vulnerability.name, s.status]), [["GHSA-xvch-5gv4-984h", "affected"]]);
  });

  it("an expired waiver stops applying: exit 1, and the report says it expired", async () => {
    const cfg = join(dir, "expired.yaml");
    await writeFile(cfg, "fail_on: critical\nwaivers:\n  - id: GHSA-xvch-5gv4-984h\n    reason: old decision\n    expires: 2020-01-31\ntriage:\n  github:\n    enabled: false\n  store: expired.db\n");
    const r = await runCli(["check", EXAMPLE_APP, "--db", ADVISORIES, "--config", cfg, "--quiet"], { cwd: dir, env: NO_GITHUB });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /CRITICAL\s+GHSA-xvch-5gv4-984h\s+minimist@1\.2\.5\s+1\.2\.6\s+fail/);
    assert.match(r.stdout, /^WARN\s+waivers\[0\] \(GHSA-xvch-5gv4-984h\) expired on 2020-01-31 and no longer applies to 1 finding\(s\)$/m);
  });

  it("usage and input errors exit 2 with one line", async () => {
    const badReport = await runCli(["check", EXAMPLE_APP, "--db", ADVISORIES, "--report", "pdf=x.pdf"], { cwd: dir, env: NO_GITHUB });
    assert.equal(badReport.code, 2);
    // Line-anchored: Node 22 may print an ExperimentalWarning for node:sqlite before it.
    assert.match(badReport.stderr, /^tollgate: --report pdf=x\.pdf: unknown format "pdf" \(formats: table, json, sarif, markdown, junit, openvex\)$/m);
    const cfg = join(dir, "bad.yaml");
    await writeFile(cfg, "vex:\n  - missing.vex.json\n");
    const missingVex = await runCli(["check", EXAMPLE_APP, "--db", ADVISORIES, "--config", cfg], { cwd: dir, env: NO_GITHUB });
    assert.equal(missingVex.code, 2);
    assert.match(missingVex.stderr, /^tollgate: .*missing\.vex\.json: VEX document not found$/m);
    const badWaiver = join(dir, "badwaiver.yaml");
    await writeFile(badWaiver, "waivers:\n  - id: X\n    reason: r\n    expires: next week\n");
    const w = await runCli(["check", EXAMPLE_APP, "--db", ADVISORIES, "--config", badWaiver], { cwd: dir, env: NO_GITHUB });
    assert.equal(w.code, 2);
    assert.match(w.stderr, /badwaiver\.yaml:4:14: waivers\[0\]\.expires: expected a date such as 2026-12-31$/m);
  });
});

describe("tollgate check with a SQLite database", () => {
  it("matches like the records directory; a stale database fails, or warns with db.fail_when_stale: false", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const db = join(dir, "vulns.db");
      const imp = await runCli(["db", "import", ADVISORIES, "--db", db], { cwd: dir, env: NO_GITHUB });
      assert.equal(imp.code, 0, imp.stderr);
      const target = { kind: "dir" as const, input: "app", path: EXAMPLE_APP };
      const check = (extra: Record<string, unknown>, now: Date) =>
        runCheck(target, { config: configSchema.parse({ ...extra }), db, now, noTriage: true, env: {} });
      const fresh = await check({ fail_on: "none" }, new Date());
      assert.deepEqual(fresh.findings.map((f) => f.id).sort(), ["GHSA-29mw-wpgm-hmr9", "GHSA-35jh-r3h4-6jhm", "GHSA-gxpj-cx7g-858c", "GHSA-qrpm-p2h7-hrv2", "GHSA-xvch-5gv4-984h"]);
      assert.ok(!fresh.decisions.some((d) => d.rule === "db:stale"));
      const later = new Date(Date.now() + 30 * 86400_000);
      const warned = await check({ fail_on: "none", db: { fail_when_stale: false } }, later);
      assert.equal(warned.outcome, "pass");
      assert.ok(warned.decisions.some((d) => d.rule === "db:stale" && d.outcome === "warn"));
      const failed = await check({ fail_on: "none" }, later);
      assert.equal(failed.outcome, "fail");
    } finally {
      await cleanup();
    }
  });
});

describe("the example policy (examples/vulnerable-app/tollgate.yaml)", () => {
  it("validates, waives minimist until its expiry, suppresses nanoid by VEX, and still fails on lodash", async () => {
    const loaded = await loadConfig(undefined, EXAMPLE_APP);
    assert.equal(loaded.file, "tollgate.yaml");
    const sbom = exampleSbom();
    const check = (now: Date) =>
      runCheck({ kind: "dir", input: EXAMPLE_APP, path: EXAMPLE_APP }, { config: loaded.config, configFile: join(EXAMPLE_APP, "tollgate.yaml"), sbom, findings: findingsFor(sbom.components), now, noTriage: true, env: {} });
    const r = await check(new Date("2026-11-26T12:00:00Z"));
    assert.equal(r.outcome, "fail");
    assert.deepEqual(r.decisions.filter((d) => d.outcome === "fail").map((d) => d.finding?.id), ["GHSA-35jh-r3h4-6jhm"]);
    assert.deepEqual(r.decisions.filter((d) => d.suppressed).map((d) => d.rule).sort(), ["vex:not_affected", "waiver:GHSA-xvch-5gv4-984h"]);
    const later = await check(new Date("2027-01-01T00:00:00Z"));
    assert.ok(later.decisions.some((d) => d.finding?.id === "GHSA-xvch-5gv4-984h" && d.outcome === "fail"), "after its expiry the waiver stops applying");
  });
});

describe("tollgate check: three runs over the same tree with the triage store and the GitHub stand-in", () => {
  const gh = new GitHubStandin();
  before(() => gh.start("acme/app"));
  after(() => gh.stop());

  it("first seen, recurring, one issue on the third run; after the upgrade the issue is closed", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const app = join(dir, "app");
      await cp(EXAMPLE_APP, app, { recursive: true });
      await writeFile(join(dir, "tollgate.yaml"), "triage:\n  store: .tollgate/triage.db\n  recurring_after: 3\n  github:\n    labels: [security]\n");
      const env = { ...NO_GITHUB, GITHUB_TOKEN: "test-token", GITHUB_REPOSITORY: "acme/app", GITHUB_API_URL: gh.url };
      const run = () => runCli(["check", "app", "--db", ADVISORIES, "--format", "json"], { cwd: dir, env });
      type Out = { outcome: string; triage: { firstSeen: number; recurring: number; fixed: number; entries: { id: string; runCount: number; issueNumber?: number }[] }; issues: { kind: string; vulnerabilityId: string; issueNumber?: number }[] };
      const parse = (s: string) => JSON.parse(s) as Out;

      const r1 = parse((await run()).stdout);
      assert.equal(r1.outcome, "fail");
      assert.deepEqual([r1.triage.firstSeen, r1.triage.recurring, r1.issues.length], [3, 0, 0]);
      const r2 = parse((await run()).stdout);
      assert.deepEqual([r2.triage.firstSeen, r2.triage.recurring, r2.issues.length], [0, 3, 0]);
      const third = await run();
      const r3 = parse(third.stdout);
      assert.deepEqual(r3.issues.map((a) => [a.kind, a.vulnerabilityId]).sort(), [["open", "GHSA-29mw-wpgm-hmr9"], ["open", "GHSA-gxpj-cx7g-858c"], ["open", "GHSA-qrpm-p2h7-hrv2"]]);
      assert.equal(gh.issues.length, 3);
      assert.ok(r3.triage.entries.every((e) => e.runCount === 3 && e.issueNumber !== undefined));
      const dry = await runCli(["check", "app", "--db", ADVISORIES, "--dry-run", "--quiet"], { cwd: dir, env });
      assert.match(dry.stderr, /dry run: no GitHub issue actions/);
      assert.equal(gh.issues.length, 3, "opened once: later runs add nothing");

      // The dependency is upgraded: debug 2.6.8 → 2.6.9 (its LOW advisory is fixed there).
      const lockPath = join(app, "package-lock.json");
      const lock = JSON.parse(await readFile(lockPath, "utf8")) as { packages: Record<string, Record<string, unknown>> };
      lock.packages["node_modules/debug"] = { ...lock.packages["node_modules/debug"], version: "2.6.9", resolved: "https://registry.npmjs.org/debug/-/debug-2.6.9.tgz" };
      delete lock.packages["node_modules/debug"]!.integrity;
      (lock.packages[""]!.dependencies as Record<string, string>).debug = "2.6.9";
      await writeFile(lockPath, JSON.stringify(lock, null, 2));
      const r4 = parse((await run()).stdout);
      assert.deepEqual(r4.issues.map((a) => [a.kind, a.vulnerabilityId]), [["close", "GHSA-gxpj-cx7g-858c"]]);
      assert.equal(r4.triage.fixed, 1);
      const debugIssue = gh.issues.find((i) => i.title.startsWith("GHSA-gxpj-cx7g-858c"))!;
      assert.equal(debugIssue.state, "closed");
      assert.match(debugIssue.comments.at(-1)!, /no longer finds GHSA-gxpj-cx7g-858c/);
      assert.deepEqual(gh.issues.filter((i) => i.state === "open").length, 2);
      const list = await runCli(["triage", "list", "--status", "fixed"], { cwd: dir, env });
      assert.match(list.stdout, /fixed\s+LOW\s+GHSA-gxpj-cx7g-858c\s+pkg:npm\/debug@2\.6\.8\s+runs 4\s+last \S+\s+#\d+/);
    } finally {
      await cleanup();
    }
  });
});

describe("tollgate check runs the Dockerfile lint on a source tree that has Dockerfiles", () => {
  it("a lint error fails the gate even when no vulnerability does", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const app = join(dir, "app");
      await cp(EXAMPLE_APP, app, { recursive: true });
      await writeFile(join(app, "Dockerfile"), "FROM ubuntu:latest\nRUN apt-get update && apt-get install -y curl\n");
      await writeFile(join(dir, "tollgate.yaml"), "fail_on: none\ntriage:\n  github:\n    enabled: false\n");
      const r = await runCli(["check", "app", "--db", ADVISORIES], { cwd: dir, env: NO_GITHUB });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /^LINT {2}TG-DF-001 error app\/Dockerfile:1 /m);
      assert.match(r.stdout, /0 failing, .*; Dockerfile lint failed \(\d+ finding\(s\)\)$/m);
      const junit = await runCli(["check", "app", "--db", ADVISORIES, "--format", "junit"], { cwd: dir, env: NO_GITHUB });
      assert.match(junit.stdout, /<testcase name="TG-DF-001 app\/Dockerfile:1" classname="tollgate.lint">\s*<failure /);
      const sarif = await runCli(["check", "app", "--db", ADVISORIES, "--report", "sarif=out.sarif", "--quiet"], { cwd: dir, env: NO_GITHUB });
      assert.equal(sarif.code, 1, sarif.stderr);
      const log = JSON.parse(await readFile(join(dir, "out.sarif"), "utf8")) as { runs: { results: { ruleId: string; level: string; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[] }[] }[] };
      const user = log.runs[0]!.results.find((x) => x.ruleId === "TG-DF-001");
      assert.equal(user?.level, "error");
      assert.equal(user?.locations[0]!.physicalLocation.artifactLocation.uri, "app/Dockerfile");
      assert.equal(user?.locations[0]!.physicalLocation.region.startLine, 1);
      await writeFile(join(dir, "tollgate.yaml"), "fail_on: none\nlint:\n  ignore: [TG-DF-001]\ntriage:\n  github:\n    enabled: false\n");
      const ok = await runCli(["check", "app", "--db", ADVISORIES, "--format", "markdown"], { cwd: dir, env: NO_GITHUB });
      assert.equal(ok.code, 0, ok.stdout);
      assert.match(ok.stdout, /### Dockerfile lint \(pass\)/);
    } finally {
      await cleanup();
    }
  });
});
