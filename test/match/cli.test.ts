/**
 * `tollgate scan`, `tollgate explain` and `tollgate db import|status` end to end through the CLI, on a
 * small hand-written npm lockfile (lodash 4.17.20, minimist 1.2.5, debug 4.3.4) and advisories written
 * from their public GitHub advisories (see test/match/match.test.ts for the sources).
 */
import assert from "node:assert/strict";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, test } from "node:test";
import { runCli, tempDir } from "../helpers.ts";

const LOCK = {
  name: "app",
  version: "1.0.0",
  lockfileVersion: 3,
  requires: true,
  packages: {
    "": { name: "app", version: "1.0.0", dependencies: { lodash: "4.17.20", minimist: "1.2.5", debug: "4.3.4" } },
    "node_modules/lodash": { version: "4.17.20", resolved: "https://registry.npmjs.org/lodash/-/lodash-4.17.20.tgz" },
    "node_modules/minimist": { version: "1.2.5", resolved: "https://registry.npmjs.org/minimist/-/minimist-1.2.5.tgz" },
    "node_modules/debug": { version: "4.3.4", resolved: "https://registry.npmjs.org/debug/-/debug-4.3.4.tgz" },
  },
};

const RECORDS = {
  "GHSA-35jh-r3h4-6jhm.json": {
    id: "GHSA-35jh-r3h4-6jhm",
    modified: "2024-01-01T00:00:00Z",
    aliases: ["CVE-2021-23337"],
    summary: "Command Injection in lodash",
    severity: [{ type: "CVSS_V3", score: "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H" }],
    affected: [{ package: { ecosystem: "npm", name: "lodash" }, ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "4.17.21" }] }] }],
  },
  "GHSA-xvch-5gv4-984h.json": {
    id: "GHSA-xvch-5gv4-984h",
    modified: "2024-01-01T00:00:00Z",
    aliases: ["CVE-2021-44906"],
    summary: "Prototype Pollution in minimist",
    severity: [{ type: "CVSS_V3", score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" }],
    affected: [{ package: { ecosystem: "npm", name: "minimist" }, ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "1.0.0" }, { fixed: "1.2.6" }] }] }],
  },
};

let dir: string;
let cleanup: () => Promise<void>;
let env: NodeJS.ProcessEnv;

before(async () => {
  ({ dir, cleanup } = await tempDir());
  await mkdir(join(dir, "app"));
  await writeFile(join(dir, "app", "package-lock.json"), JSON.stringify(LOCK, null, 2));
  await writeFile(join(dir, "app", "package.json"), JSON.stringify({ name: "app", version: "1.0.0", dependencies: LOCK.packages[""].dependencies }));
  await mkdir(join(dir, "advisories"));
  for (const [f, r] of Object.entries(RECORDS)) await writeFile(join(dir, "advisories", f), JSON.stringify(r));
  env = { TOLLGATE_CACHE_DIR: join(dir, "cache"), TOLLGATE_DB: join(dir, "nodb.db") };
});
after(() => cleanup());

describe("scan and explain", () => {
  test("scan --format json writes the versioned findings document", async () => {
    const r = await runCli(["scan", join(dir, "app"), "--db", join(dir, "advisories"), "--format", "json"], { env, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { schemaVersion: string; findings: { id: string; aliases: string[]; package: Record<string, string>; severity: Record<string, unknown>; fixedVersions: string[]; matchedBy: { comparison: string }[] }[] };
    assert.equal(doc.schemaVersion, "1.0");
    assert.deepEqual(doc.findings.map((f) => f.id), ["GHSA-xvch-5gv4-984h", "GHSA-35jh-r3h4-6jhm"]);
    const lodash = doc.findings[1]!;
    assert.deepEqual(lodash.aliases, ["GHSA-35jh-r3h4-6jhm", "CVE-2021-23337"]);
    assert.deepEqual(lodash.package, { name: "lodash", version: "4.17.20", purl: "pkg:npm/lodash@4.17.20", ecosystem: "npm" });
    assert.deepEqual(lodash.severity, { level: "HIGH", score: 7.2, vector: "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", source: "cvss:3.1" });
    assert.deepEqual(lodash.fixedVersions, ["4.17.21"]);
    assert.equal(lodash.matchedBy[0]!.comparison, "4.17.20 >= 0 and 4.17.20 < 4.17.21 (npm order)");
  });

  test("scan prints a table; --output writes it to a file", async () => {
    const r = await runCli(["scan", join(dir, "app", "package-lock.json"), "--db", join(dir, "advisories")], { env, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^SEVERITY\s+ID\s+PACKAGE\s+VERSION\s+FIXED IN\s+SUMMARY\n/);
    assert.match(r.stdout, /CRITICAL 9\.8\s+GHSA-xvch-5gv4-984h\s+minimist\s+1\.2\.5\s+1\.2\.6/);
    const out = join(dir, "findings.txt");
    const o = await runCli(["scan", join(dir, "app", "package-lock.json"), "--db", join(dir, "advisories"), "--output", out], { env, cwd: dir });
    assert.equal(o.code, 0, o.stderr);
    assert.equal(o.stdout, "");
    assert.equal(await readFile(out, "utf8"), r.stdout);
  });

  test("explain by an alias shows the record, range and comparison; an id that does not apply exits 1", async () => {
    const r = await runCli(["explain", "CVE-2021-23337", join(dir, "app"), "--db", join(dir, "advisories")], { env, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /GHSA-35jh-r3h4-6jhm: Command Injection in lodash/);
    assert.match(r.stdout, /ECOSYSTEM range \{"introduced":"0"\} \{"fixed":"4\.17\.21"\}/);
    assert.match(r.stdout, /4\.17\.20 >= 0 and 4\.17\.20 < 4\.17\.21 \(npm order\)/);
    const none = await runCli(["explain", "GHSA-0000-0000-0000", join(dir, "app"), "--db", join(dir, "advisories")], { env, cwd: dir });
    assert.equal(none.code, 1);
    assert.match(none.stdout, /GHSA-0000-0000-0000 is not in the database/);
  });

  test("scan --explain explains every finding", async () => {
    const r = await runCli(["scan", join(dir, "app"), "--db", join(dir, "advisories"), "--explain"], { env, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((r.stdout.match(/matched by:/g) ?? []).length, 2);
  });

  test("a missing database is one line naming the path, exit 2", async () => {
    const r = await runCli(["scan", join(dir, "app")], { env, cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^tollgate: .*nodb\.db: no vulnerability database here: run `tollgate db update`/);
    assert.equal(r.stderr.trim().split("\n").length, 1);
  });

  test("scan, scan --explain and explain show a hostile package name, summary and file name escaped: no raw ESC or BEL on stdout or stderr", async () => {
    const ESC = "\u001b";
    const BEL = "\u0007";
    // Lowercase: npm names are lowercased in the purl that matching uses.
    const name = `evil${ESC}]8;;http://evil${BEL}x${ESC}]8;;${BEL}${ESC}[1;31m\u202e`;
    const summary = `pwned${ESC}[2J\n[click](http://evil) <img src=x onerror=alert(1)> ${BEL}`;
    const root = join(dir, "hostile");
    await mkdir(join(root, "app", `sub${ESC}[2J`), { recursive: true });
    await mkdir(join(root, "advisories"), { recursive: true });
    const lock = { name: "app", version: "1.0.0", lockfileVersion: 3, packages: { "": { name: "app", version: "1.0.0", dependencies: { [name]: "1.0.0" } }, [`node_modules/${name}`]: { version: "1.0.0" } } };
    await writeFile(join(root, "app", "package-lock.json"), JSON.stringify(lock, null, 2));
    // A lockfile that does not parse, in a folder whose name is hostile: "input not read" on stderr.
    await writeFile(join(root, "app", `sub${ESC}[2J`, "package-lock.json"), "{ not json");
    const record = { id: "GHSA-evil-evil-evil", modified: "2024-01-01T00:00:00Z", summary, affected: [{ package: { ecosystem: "npm", name }, ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: `1.0.1${ESC}[2J` }] }] }] };
    await writeFile(join(root, "advisories", "GHSA-evil-evil-evil.json"), JSON.stringify(record));
    const safe = (text: string, what: string) => {
      assert.ok(!text.includes(ESC) && !text.includes(BEL) && !text.includes("\u202e"), `${what}: ${JSON.stringify(text)}`);
    };
    const db = ["--db", join(root, "advisories")];
    const scan = await runCli(["scan", join(root, "app"), ...db], { env, cwd: root });
    assert.match(scan.stdout, /GHSA-evil-evil-evil\s+evil\\u001b\]8;;http:\/\/evil\\u0007x/, scan.stderr);
    assert.match(scan.stderr, /input not read: .*sub\\u001b\[2J/);
    safe(scan.stdout, "scan stdout");
    safe(scan.stderr, "scan stderr");
    const explained = await runCli(["scan", join(root, "app"), ...db, "--explain"], { env, cwd: root });
    assert.match(explained.stdout, /pwned\\u001b\[2J\\u000a\[click\]/);
    safe(explained.stdout, "scan --explain");
    const one = await runCli(["explain", "GHSA-evil-evil-evil", join(root, "app"), ...db], { env, cwd: root });
    assert.match(one.stdout, /matched by:/);
    safe(one.stdout, "explain");
    safe(one.stderr, "explain stderr");
  });
});

describe("db import, status and staleness", () => {
  test("import a directory into a database file, idempotently; status by ecosystem; a stale database fails scan by default, warns with fail_when_stale: false", async () => {
    const dbPath = join(dir, "vulns.db");
    let r = await runCli(["db", "import", join(dir, "advisories"), "--db", dbPath], { env, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /imported 2 record\(s\) into .*: 2 new, 0 updated, 0 unchanged/);
    r = await runCli(["db", "import", join(dir, "advisories"), "--db", dbPath], { env, cwd: dir });
    assert.match(r.stdout, /0 new, 0 updated, 2 unchanged/);
    r = await runCli(["db", "status", "--db", dbPath, "--format", "json"], { env, cwd: dir });
    const s = JSON.parse(r.stdout) as { records: number; ecosystems: { ecosystem: string; records: number }[]; schemaVersion: number };
    assert.equal(s.records, 2);
    assert.ok(s.schemaVersion >= 1);
    assert.deepEqual(s.ecosystems, [{ ecosystem: "npm", records: 2 }]);
    r = await runCli(["db", "status", "--db", dbPath], { env, cwd: dir });
    assert.match(r.stdout, /records:\s+2/);

    // Age the database: updated 30 days ago.
    const raw = new DatabaseSync(dbPath);
    raw.prepare("UPDATE meta SET value = ? WHERE key = 'updated_at'").run(new Date(Date.now() - 30 * 86400_000).toISOString());
    raw.close();
    r = await runCli(["scan", join(dir, "app"), "--db", dbPath], { env, cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /more than db\.max_age \(7d\) ago; run `tollgate db update`; failing \(db\.fail_when_stale\)/);
    await writeFile(join(dir, "tollgate.yaml"), "db:\n  fail_when_stale: false\n");
    r = await runCli(["scan", join(dir, "app"), "--db", dbPath], { env, cwd: dir });
    assert.equal(r.code, 0);
    assert.match(r.stderr, /more than db\.max_age \(7d\) ago; run `tollgate db update`$/m);
    await rm(join(dir, "tollgate.yaml"));
  });

  test("importing an invalid record fails with the file and field, and imports nothing", async () => {
    const bad = join(dir, "bad.json");
    await writeFile(bad, JSON.stringify({ id: "GHSA-bad", modified: "2024-01-01T00:00:00Z", affected: [{ package: { ecosystem: "npm", name: "x" }, ranges: [{ type: "SEMVER", events: [{ fixed: "1.0.0" }] }] }] }));
    const dbPath = join(dir, "bad.db");
    const r = await runCli(["db", "import", join(dir, "advisories"), bad, "--db", dbPath], { env, cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad\.json: affected\[0\]\.ranges\[0\]\.events: no "introduced" event/);
    const st = await runCli(["db", "status", "--db", dbPath, "--format", "json"], { env, cwd: dir });
    assert.equal((JSON.parse(st.stdout) as { records: number }).records, 0);
    const skipped = await runCli(["db", "import", join(dir, "advisories"), bad, "--db", dbPath, "--skip-invalid"], { env, cwd: dir });
    assert.equal(skipped.code, 0);
    assert.match(skipped.stdout, /2 new.*1 invalid skipped/);
    assert.match(skipped.stderr, /skipped an invalid record: .*bad\.json/);
  });
});
