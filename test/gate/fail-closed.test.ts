/**
 * The gate fails closed (issue 11, items 1–3): an input it could not read, a waiver whose date is not
 * a date, a database without records for the target's ecosystems. Each of these passed silently before.
 */
import assert from "node:assert/strict";
import { cp, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { appendAll, collect, type Cataloger, type FileEntry, type VirtualFs } from "../../src/collect/index.ts";
import { configSchema, isCalendarDate, parseConfig } from "../../src/config/index.ts";
import { runCheck } from "../../src/gate/check.ts";
import { evaluatePolicy, waiverExpiry } from "../../src/gate/policy.ts";
import { ecosystemCoverage, seenEcosystems } from "../../src/match/coverage.ts";
import type { Component, Sbom } from "../../src/model/index.ts";
import { openVulnDb } from "../../src/vulndb/index.ts";
import { runCli, tempDir } from "../helpers.ts";
import { ADVISORIES, EXAMPLE_APP, exampleSbom, findingsFor } from "./fixtures.ts";

const NO_GITHUB = { GITHUB_TOKEN: "", GITHUB_REPOSITORY: "", GITHUB_API_URL: "" };

/** A filesystem of named in-memory files. */
function memoryFs(files: Record<string, string>): VirtualFs {
  return {
    description: "memory",
    async *walk(): AsyncIterable<FileEntry> {
      for (const [path, text] of Object.entries(files)) yield { path, size: Buffer.byteLength(text) };
    },
    async readFile(path: string, maxBytes?: number): Promise<Buffer> {
      const b = Buffer.from(files[path] ?? "");
      if (maxBytes !== undefined && b.length > maxBytes) throw new Error(`${path}: larger than ${maxBytes} bytes`);
      return b;
    },
    async exists(path: string): Promise<boolean> {
      return path in files;
    },
  };
}

function debianComponent(name: string, version: string): Component {
  return {
    ref: `pkg:deb/debian/${name}@${version}?distro=debian-12`,
    name,
    version,
    purl: `pkg:deb/debian/${name}@${version}?distro=debian-12`,
    ecosystem: "Debian",
    ecosystemRelease: "12",
    type: "library",
    hashes: [],
    licenses: [],
    locations: [{ path: "var/lib/dpkg/status" }],
    dependencies: [],
  };
}

describe("item 1: inputs that could not be read fail the gate", () => {
  it("collect keeps every component of a file that yields 200,000 (a spread push overflowed the stack and dropped the file)", async () => {
    const many: Cataloger = {
      name: "many",
      fileRequired: (e) => e.path === "huge.lock",
      extract: async () => ({
        components: Array.from({ length: 200_000 }, (_, i) => ({ ref: `c${i}`, name: `c${i}`, version: "1.0.0", type: "library" as const, hashes: [], licenses: [], locations: [], dependencies: [] })),
      }),
    };
    const r = await collect(memoryFs({ "huge.lock": "x" }), [many]);
    assert.deepEqual(r.problems, []);
    assert.equal(r.components.length, 200_000);
    const to = [1];
    appendAll(to, Array.from({ length: 300_000 }, () => 2));
    assert.equal(to.length, 300_001);
  });

  it("a file over the size limit is a problem, and the policy turns every problem into a failing decision (unreadable: fail by default)", async () => {
    const dpkg: Cataloger = { name: "dpkg", fileRequired: (e) => e.path === "var/lib/dpkg/status", extract: async () => ({ components: [] }) };
    const r = await collect(memoryFs({ "var/lib/dpkg/status": "Package: bash\n".repeat(100) }), [dpkg], { maxFileBytes: 64 });
    assert.equal(r.problems.length, 1);
    assert.equal(r.problems[0]!.file, "var/lib/dpkg/status");
    const sbom: Sbom = { ...exampleSbom([]), problems: r.problems };
    const failing = evaluatePolicy([], sbom, configSchema.parse({}));
    assert.equal(failing.outcome, "fail");
    const d = failing.decisions.find((x) => x.problem);
    assert.equal(d?.outcome, "fail");
    assert.equal(d?.rule, "unreadable:fail");
    assert.match(d?.message ?? "", /^input not read: var\/lib\/dpkg\/status: /);
    const warned = evaluatePolicy([], sbom, configSchema.parse({ unreadable: "warn" }));
    assert.equal(warned.outcome, "pass");
    assert.equal(warned.decisions.find((x) => x.problem)?.rule, "unreadable:warn");
  });

  describe("end to end: a lockfile with one trailing comma", () => {
    let dir: string;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ dir, cleanup } = await tempDir());
      await cp(EXAMPLE_APP, join(dir, "app"), { recursive: true });
      const lock = join(dir, "app", "package-lock.json");
      // `"lockfileVersion": 3,` → `"lockfileVersion": 3,,`: one stray comma, the whole file unreadable.
      await writeFile(lock, (await readFile(lock, "utf8")).replace(/("lockfileVersion": 3,)/, "$1,"));
      await writeFile(join(dir, "app", "tollgate.yaml"), "triage:\n  github:\n    enabled: false\n");
    });
    after(() => cleanup());

    it("exits 1 (it exited 0 with nothing on stderr), names the file on stderr and in the JSON report", async () => {
      const r = await runCli(["check", "app", "--db", ADVISORIES, "--format", "json", "--report", "table=table.txt"], { cwd: dir, env: NO_GITHUB });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^tollgate: input not read: .*package-lock\.json:\d+:\d+: malformed JSON.*\(unreadable:fail\)$/m);
      const report = JSON.parse(r.stdout) as { outcome: string; policyDecisions: { outcome: string; rule: string; message?: string }[] };
      assert.equal(report.outcome, "fail");
      assert.ok(report.policyDecisions.some((d) => d.rule === "unreadable:fail" && d.outcome === "fail" && /package-lock\.json/.test(d.message ?? "")));
      assert.match(await readFile(join(dir, "table.txt"), "utf8"), /package-lock\.json:\d+:\d+: malformed JSON/);
    });

    it("with unreadable: warn it passes, and still says so on stderr; --quiet never hides a failing reason", async () => {
      await writeFile(join(dir, "app", "warn.yaml"), "unreadable: warn\ntriage:\n  github:\n    enabled: false\n");
      const warned = await runCli(["check", "app", "--db", ADVISORIES, "--config", "app/warn.yaml"], { cwd: dir, env: NO_GITHUB });
      assert.equal(warned.code, 0, warned.stderr);
      assert.match(warned.stderr, /input not read: .*package-lock\.json.*\(unreadable:warn\)/);
      const quiet = await runCli(["check", "app", "--db", ADVISORIES, "--quiet"], { cwd: dir, env: NO_GITHUB });
      assert.equal(quiet.code, 1);
      assert.match(quiet.stderr, /input not read: .*package-lock\.json/);
    });

    it("scan names the file too, and exits 1 under unreadable: fail (it printed an empty table and exited 0)", async () => {
      const r = await runCli(["scan", "app", "--db", ADVISORIES], { cwd: dir, env: NO_GITHUB });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^tollgate: input not read: .*package-lock\.json:\d+:\d+: malformed JSON.*failing \(unreadable: fail\)$/m);
    });
  });
});

describe("item 2: waiver dates", () => {
  it("only real calendar dates are dates", () => {
    for (const ok of ["2026-12-31", "2028-02-29", "2026-01-01T00:00:00Z", "2026-06-30T23:59:59.5+02:00"]) assert.ok(isCalendarDate(ok), ok);
    for (const bad of ["2026-13-45", "1999-99-99", "2026-02-29", "2026-04-31", "2026-00-10", "2026-12-00", "2026-12-31T24:00:00Z", "2026-12-31T10:61Z", "next week"]) assert.ok(!isCalendarDate(bad), bad);
  });

  it("tollgate.yaml with an impossible date is refused at file:line (it was accepted and never expired)", () => {
    assert.throws(() => parseConfig("waivers:\n  - id: GHSA-x\n    reason: r\n    expires: 2026-13-45\n", "tollgate.yaml"), /^InputError: tollgate\.yaml:4:14: waivers\[0\]\.expires: not a calendar date/);
    assert.throws(() => parseConfig("waivers:\n  - id: GHSA-x\n    reason: r\n    expires: 1999-99-99\n", "t.yaml"), /t\.yaml:4:14: waivers\[0\]\.expires: not a calendar date/);
  });

  it("an invalid expiry that reaches the policy (a library caller) counts as expired", () => {
    assert.ok(waiverExpiry("1999-99-99").getTime() < Date.parse("1970-01-01"));
    const sbom = exampleSbom();
    const findings = findingsFor(sbom.components);
    const critical = findings.find((f) => f.id === "GHSA-xvch-5gv4-984h")!;
    const config = { ...configSchema.parse({}), waivers: [{ id: critical.id, reason: "typo'd date", expires: "2026-13-45" }] };
    const r = evaluatePolicy(findings, sbom, config, { now: new Date("2026-01-01T00:00:00Z") });
    const d = r.decisions.find((x) => x.finding?.id === critical.id);
    assert.equal(d?.outcome, "fail", "the waiver does not apply");
    assert.equal(r.waivers[0]?.status, "expired");
  });
});

describe("item 3: a database without records for the target's ecosystems", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let dbPath: string;
  before(async () => {
    ({ dir, cleanup } = await tempDir());
    dbPath = join(dir, "npm-only.db");
    const imp = await runCli(["db", "import", ADVISORIES, "--db", dbPath], { cwd: dir, env: NO_GITHUB });
    assert.equal(imp.code, 0, imp.stderr);
  });
  after(() => cleanup());

  it("names the ecosystems with no data (release-scoped for OS packages)", async () => {
    const db = await openVulnDb(dbPath);
    try {
      const components = [...exampleSbom().components, debianComponent("bash", "5.2.15-2+b2"), debianComponent("libc6", "2.36-9")];
      assert.deepEqual(
        seenEcosystems(components).map((s) => [s.key, s.components]),
        [
          ["Debian:12", 2],
          ["npm", exampleSbom().components.length],
        ],
      );
      assert.deepEqual(ecosystemCoverage(components, db).missing.map((m) => m.key), ["Debian:12"]);
    } finally {
      db.close();
    }
  });

  const check = (components: Component[], db: Record<string, unknown> = {}) =>
    runCheck(
      { kind: "dir", input: "x", path: EXAMPLE_APP },
      { config: configSchema.parse({ fail_on: "none", unresolved: "ignore", db }), db: dbPath, sbom: exampleSbom(components), noTriage: true, env: { XDG_CACHE_HOME: dir } },
    );

  it("a Debian image against a database of npm records fails (it passed silently); db.no_data: warn makes it a warning", async () => {
    const image = [debianComponent("bash", "5.2.15-2+b2")];
    const failed = await check(image);
    assert.equal(failed.outcome, "fail");
    const d = failed.decisions.find((x) => x.rule.startsWith("db:no-data"));
    assert.equal(d?.rule, "db:no-data:fail");
    assert.match(d?.message ?? "", /has no records for Debian:12 \(1 component\), none of the target's ecosystems.*tollgate db update --ecosystem Debian/);
    const warned = await check(image, { no_data: "warn" });
    assert.equal(warned.outcome, "pass");
    assert.equal(warned.decisions.find((x) => x.rule.startsWith("db:no-data"))?.outcome, "warn");
  });

  it("some ecosystems without data is a warning by default (db.partial_data), a failure on request; full coverage says nothing", async () => {
    const mixed = [...exampleSbom().components, debianComponent("bash", "5.2.15-2+b2")];
    const warned = await check(mixed);
    assert.equal(warned.outcome, "pass");
    assert.equal(warned.decisions.find((x) => x.rule.startsWith("db:partial-data"))?.outcome, "warn");
    assert.equal((await check(mixed, { partial_data: "fail" })).outcome, "fail");
    const covered = await check(exampleSbom().components);
    assert.ok(!covered.decisions.some((x) => x.rule.startsWith("db:")), JSON.stringify(covered.decisions.filter((x) => x.rule.startsWith("db:"))));
  });

  it("OS packages of a distribution without an OSV ecosystem (Fedora) are never matched: no data for them, said and failing as db.no_data says", async () => {
    const fedora = (name: string, version: string): Component => ({
      ...debianComponent(name, version),
      ref: `pkg:rpm/fedora/${name}@${version}?distro=fedora-40`,
      purl: `pkg:rpm/fedora/${name}@${version}?distro=fedora-40`,
    });
    const image = [fedora("bash", "5.2.26-3.fc40"), fedora("glibc", "2.39-5.fc40")].map(({ ecosystem: _e, ecosystemRelease: _r, ...c }) => c);
    const failed = await check(image);
    assert.equal(failed.outcome, "fail");
    const d = failed.decisions.find((x) => x.rule.startsWith("db:no-data"));
    assert.equal(d?.rule, "db:no-data:fail");
    assert.match(d?.message ?? "", /no OSV ecosystem for the OS packages of rpm\/fedora \(2 components\), none of the target's packages/);
    // Beside packages the database covers, a warning by default (db.partial_data), a failure on request.
    const mixed = [...exampleSbom().components, ...image];
    const warned = await check(mixed);
    assert.equal(warned.decisions.find((x) => x.rule.startsWith("db:partial-data"))?.outcome, "warn");
    assert.equal((await check(mixed, { partial_data: "fail" })).outcome, "fail");
  });

  it("a database older than db.max_age fails by default now (db.fail_when_stale: true)", async () => {
    const later = new Date(Date.now() + 30 * 86400_000);
    const r = await runCheck(
      { kind: "dir", input: "x", path: EXAMPLE_APP },
      { config: configSchema.parse({ fail_on: "none", unresolved: "ignore" }), db: dbPath, sbom: exampleSbom(), now: later, noTriage: true, env: { XDG_CACHE_HOME: dir } },
    );
    assert.equal(r.outcome, "fail");
    assert.equal(r.decisions.find((d) => d.rule === "db:stale")?.outcome, "fail");
  });

  it("scan names the missing ecosystem and exits 1 under the default policy", async () => {
    const sbomFile = join(dir, "debian.cdx.json");
    await writeFile(
      sbomFile,
      JSON.stringify({
        bomFormat: "CycloneDX",
        specVersion: "1.6",
        version: 1,
        components: [{ type: "library", "bom-ref": "b", name: "bash", version: "5.2.15-2+b2", purl: "pkg:deb/debian/bash@5.2.15-2%2Bb2?distro=debian-12" }],
      }),
    );
    const r = await runCli(["scan", `sbom:${sbomFile}`, "--db", dbPath], { cwd: dir, env: { ...NO_GITHUB, XDG_CACHE_HOME: dir } });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /has no records for Debian:12 \(1 component\).*failing \(db\.no_data\)/);
  });
});
