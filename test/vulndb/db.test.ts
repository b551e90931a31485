/**
 * The database: importing the real OSV records of ../shared/testdata/osv, rejecting the invalid one,
 * idempotent upserts by id and modified, withdrawn records, schema versioning, and the security limits
 * of the readers (zip entries, sizes, symlinks).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, test } from "node:test";
import { InputError, LimitExceededError, UnsafeInputError } from "../../src/errors.ts";
import { importOsvSources, openVulnDb, parseOsvRecord, SCHEMA_VERSION, VulnStore } from "../../src/vulndb/index.ts";
import { MIGRATIONS } from "../../src/vulndb/store.ts";
import { compareVersions, versionComparator } from "../../src/ecosystem/index.ts";
import { SHARED_TESTDATA, sharedTestdataMissing, tempDir } from "../helpers.ts";
import { buildZip } from "./zip-writer.ts";

const OSV = join(SHARED_TESTDATA, "osv");
const execFileAsync = promisify(execFile);
const skip = sharedTestdataMissing("osv");

function record(id: string, modified: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    schema_version: "1.6.0",
    id,
    modified,
    affected: [{ package: { ecosystem: "npm", name: "left-pad" }, ranges: [{ type: "SEMVER", events: [{ introduced: "0" }, { fixed: "1.3.0" }] }] }],
    ...extra,
  });
}

describe("OSV records from ../shared/testdata/osv", { skip }, () => {
  test("every valid real record imports; nointroduced-… is rejected naming the file and field", async () => {
    const dir = join(OSV, "osv-linter-testdata");
    const files = (await readdir(dir)).filter((f) => f.endsWith(".json")).sort();
    assert.equal(files.length, 12);
    const store = new VulnStore(":memory:", { inMemory: true });
    try {
      const valid = files.filter((f) => !f.startsWith("nointroduced-"));
      const stats = await importOsvSources(store, valid.map((f) => join(dir, f)));
      assert.equal(stats.read, 11);
      // nondistinct-CVE-2018-5407 has the same id and modified as CVE-2018-5407: an idempotent upsert
      assert.equal(stats.inserted + stats.unchanged, 11);
      assert.ok(store.get("GHSA-9v2f-6vcg-3hgv"));
      assert.ok(store.get("CVE-2024-39236"), "found by alias");
      await assert.rejects(importOsvSources(store, [join(dir, "nointroduced-CVE-2023-41045.json")]), (e: unknown) => {
        assert.ok(e instanceof InputError);
        assert.match(e.message, /nointroduced-CVE-2023-41045\.json: affected\[0\]\.ranges\[0\]\.events: no "introduced" event/);
        return true;
      });
      // the failed import rolled back: nothing of it landed
      assert.equal(store.status().records, stats.inserted);
    } finally {
      store.close();
    }
  });

  test("GHSA→OSV conversion outputs import, withdrawn ones are kept but flagged", async () => {
    const dir = join(OSV, "ghsa-convert-testdata");
    const files = (await readdir(dir)).filter((f) => f.endsWith(".osv.json")).map((f) => join(dir, f));
    assert.equal(files.length, 11);
    const store = new VulnStore(":memory:", { inMemory: true });
    try {
      const stats = await importOsvSources(store, files);
      assert.equal(stats.read, 11);
      assert.ok(stats.withdrawn >= 1);
      assert.equal(store.status().withdrawn, stats.withdrawn);
    } finally {
      store.close();
    }
  });

  test("self-consistency: every explicitly listed version is affected under the record's ranges", async () => {
    const dirs = [join(OSV, "osv-linter-testdata"), join(OSV, "ghsa-convert-testdata")];
    let checked = 0;
    const { evaluateRange } = await import("../../src/match/index.ts");
    const { compareSemver } = await import("../../src/ecosystem/index.ts");
    for (const dir of dirs) {
      for (const f of (await readdir(dir)).filter((x) => x.endsWith(".json") && !x.startsWith("nointroduced-"))) {
        const text = await readFile(join(dir, f), "utf8");
        if (!text.includes('"schema_version"') && !text.includes('"modified"')) continue;
        let rec;
        try {
          rec = parseOsvRecord(text, f);
        } catch {
          continue; // GHSA-format inputs of the conversion pairs
        }
        for (const a of rec.affected ?? []) {
          if (!a.package || !a.versions?.length || !a.ranges?.some((r) => r.type !== "GIT")) continue;
          const cmp = versionComparator(a.package.ecosystem);
          if (!cmp) continue;
          for (const v of a.versions) {
            const hit = a.ranges.filter((r) => r.type !== "GIT").some((r) => evaluateRange(r, v, r.type === "SEMVER" ? compareSemver : cmp, a.package!.ecosystem, rec.id));
            assert.ok(hit, `${f}: listed version ${v} is outside its ranges`);
            checked++;
          }
        }
      }
    }
    assert.ok(checked > 10, `checked ${checked} listed versions`);
  });
});

describe("import semantics", () => {
  test("idempotent; a newer modified replaces, an older one is ignored; withdrawn kept but flagged", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const dbPath = join(dir, "v.db");
      const store = await openVulnDb(dbPath, { create: true });
      const f1 = join(dir, "a.json");
      await writeFile(f1, record("GHSA-aaaa-aaaa-aaaa", "2024-01-01T00:00:00Z"));
      let s = await importOsvSources(store, [f1]);
      assert.deepEqual([s.inserted, s.updated, s.unchanged], [1, 0, 0]);
      s = await importOsvSources(store, [f1]);
      assert.deepEqual([s.inserted, s.updated, s.unchanged], [0, 0, 1]);
      await writeFile(f1, record("GHSA-aaaa-aaaa-aaaa", "2023-01-01T00:00:00Z", { summary: "older" }));
      s = await importOsvSources(store, [f1]);
      assert.equal(s.unchanged, 1);
      assert.equal(store.get("GHSA-aaaa-aaaa-aaaa")?.summary, undefined);
      await writeFile(f1, record("GHSA-aaaa-aaaa-aaaa", "2025-01-01T00:00:00Z", { withdrawn: "2025-01-01T00:00:00Z", summary: "newer" }));
      s = await importOsvSources(store, [f1]);
      assert.deepEqual([s.updated, s.withdrawn], [1, 1]);
      assert.equal(store.get("GHSA-aaaa-aaaa-aaaa")?.summary, "newer");
      assert.deepEqual(store.candidates("npm", "left-pad"), [], "withdrawn records are never candidates");
      assert.equal(store.status().records, 1);
      assert.equal(store.sources().length, 1);
      store.close();
      // reopened from disk: same content, schema version recorded
      const again = await openVulnDb(dbPath);
      assert.equal(again.status().schemaVersion, SCHEMA_VERSION);
      assert.equal(again.status().withdrawn, 1);
      again.close();
    } finally {
      await cleanup();
    }
  });

  test("an array of records in one .json file, and --skip-invalid semantics", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const f = join(dir, "many.json");
      await writeFile(f, `[${record("GHSA-aaaa-aaaa-aaa1", "2024-01-01T00:00:00Z")},{"id":"bad id","modified":"x"}]`);
      const store = new VulnStore(":memory:", { inMemory: true });
      await assert.rejects(importOsvSources(store, [f]), /many\.json\[1\]: id: expected an OSV id/);
      const s = await importOsvSources(store, [f], { skipInvalid: true });
      assert.deepEqual([s.inserted, s.rejected], [1, 1]);
      assert.match(s.problems[0]!, /many\.json\[1\]/);
      store.close();
    } finally {
      await cleanup();
    }
  });

  test("openVulnDb on a directory, an all.zip and a .json loads them in memory", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await mkdir(join(dir, "recs", "sub"), { recursive: true });
      await writeFile(join(dir, "recs", "sub", "a.json"), record("GHSA-aaaa-aaaa-aaa1", "2024-01-01T00:00:00Z"));
      await writeFile(join(dir, "recs", "notes.txt"), "not a record");
      const zip = join(dir, "all.zip");
      await writeFile(zip, buildZip([{ name: "GHSA-aaaa-aaaa-aaa2.json", data: record("GHSA-aaaa-aaaa-aaa2", "2024-01-01T00:00:00Z") }, { name: "README", data: "x" }]));
      for (const [p, id] of [[join(dir, "recs"), "GHSA-aaaa-aaaa-aaa1"], [zip, "GHSA-aaaa-aaaa-aaa2"], [join(dir, "recs", "sub", "a.json"), "GHSA-aaaa-aaaa-aaa1"]] as const) {
        const db = await openVulnDb(p);
        assert.equal(db.inMemory, true);
        assert.equal(db.status().records, 1);
        assert.ok(db.get(id));
        db.close();
      }
      await assert.rejects(openVulnDb(join(dir, "nope.db")), /nope\.db: no vulnerability database here: run `tollgate db update`/);
    } finally {
      await cleanup();
    }
  });

  test("schema migrations: a version-1 database is migrated on open and keeps its records", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const old = join(dir, "v1.db");
      const raw = new DatabaseSync(old);
      raw.exec(MIGRATIONS[0]!);
      raw.exec("PRAGMA user_version = 1");
      raw.prepare("INSERT INTO records (id, modified, modified_ms, withdrawn, aliases, source, json) VALUES (?, ?, ?, NULL, '[]', NULL, ?)").run(
        "GHSA-aaaa-aaaa-aaaa",
        "2024-01-01T00:00:00Z",
        Date.parse("2024-01-01T00:00:00Z"),
        record("GHSA-aaaa-aaaa-aaaa", "2024-01-01T00:00:00Z"),
      );
      raw.prepare("INSERT INTO affected (eco, release, name, rid) VALUES ('npm', '', 'left-pad', 1)").run();
      raw.close();
      const db = await openVulnDb(old);
      assert.equal(db.status().schemaVersion, SCHEMA_VERSION);
      assert.equal(db.candidates("npm", "left-pad").length, 1);
      db.close();
    } finally {
      await cleanup();
    }
  });

  test("schema versioning: a newer schema is refused; a foreign SQLite file is refused", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const newer = join(dir, "newer.db");
      const raw = new DatabaseSync(newer);
      raw.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
      raw.exec("CREATE TABLE x (y)");
      raw.close();
      await assert.rejects(openVulnDb(newer), new RegExp(`database schema ${SCHEMA_VERSION + 1} is newer than this tollgate supports \\(${SCHEMA_VERSION}\\)`));
      const foreign = join(dir, "foreign.db");
      const f = new DatabaseSync(foreign);
      f.exec("CREATE TABLE x (y)");
      f.close();
      await assert.rejects(openVulnDb(foreign), /not a tollgate vulnerability database/);
    } finally {
      await cleanup();
    }
  });
});

describe("zip archives written by Info-ZIP (Debian's zip)", () => {
  test("a plain archive and a zip64 one (zip -fz) import alike", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const ids = ["GHSA-aaaa-aaaa-aaa1", "GHSA-aaaa-aaaa-aaa2", "GHSA-aaaa-aaaa-aaa3"];
      for (const id of ids) await writeFile(join(dir, `${id}.json`), record(id, "2024-01-01T00:00:00Z"));
      const files = ids.map((id) => `${id}.json`);
      await execFileAsync("zip", ["-q", "plain.zip", ...files], { cwd: dir });
      await execFileAsync("zip", ["-q", "-fz", "zip64.zip", ...files], { cwd: dir });
      for (const z of ["plain.zip", "zip64.zip"]) {
        const db = await openVulnDb(join(dir, z));
        assert.equal(db.status().records, 3, z);
        assert.equal(db.candidates("npm", "left-pad").length, 3, z);
        db.close();
      }
    } finally {
      await cleanup();
    }
  });
});

describe("reader limits (security regressions)", () => {
  test("a zip entry declaring more than the per-record limit is refused before it is inflated", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const zip = join(dir, "bomb.zip");
      // 4 MiB of zeros deflates to a few KiB: a small bomb.
      await writeFile(zip, buildZip([{ name: "GHSA-big.json", data: Buffer.alloc(4 * 1024 * 1024) }]));
      const store = new VulnStore(":memory:", { inMemory: true });
      await assert.rejects(importOsvSources(store, [zip], { limits: { maxRecordBytes: 1024 * 1024, maxRecords: 10, maxTotalBytes: 1e9 } }), LimitExceededError);
      store.close();
    } finally {
      await cleanup();
    }
  });

  test("an entry whose real size exceeds its declared size is refused (lying header)", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const zip = join(dir, "liar.zip");
      await writeFile(zip, buildZip([{ name: "GHSA-x.json", data: Buffer.alloc(1024 * 1024, 0x20), declaredSize: 100 }]));
      const store = new VulnStore(":memory:", { inMemory: true });
      await assert.rejects(importOsvSources(store, [zip]), (e: unknown) => e instanceof InputError || e instanceof LimitExceededError);
      store.close();
    } finally {
      await cleanup();
    }
  });

  test("too many entries, encrypted entries and a corrupt zip are refused", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const many = join(dir, "many.zip");
      await writeFile(many, buildZip(Array.from({ length: 5 }, (_, i) => ({ name: `GHSA-${i}.json`, data: "{}" }))));
      const store = new VulnStore(":memory:", { inMemory: true });
      await assert.rejects(importOsvSources(store, [many], { limits: { maxRecordBytes: 1e6, maxRecords: 3, maxTotalBytes: 1e9 } }), /5 entries, more than the limit of 3/);
      const enc = join(dir, "enc.zip");
      await writeFile(enc, buildZip([{ name: "GHSA-e.json", data: "{}", encryptedFlag: true, store: true }]));
      await assert.rejects(importOsvSources(store, [enc]), (e: unknown) => e instanceof UnsafeInputError || (e instanceof InputError && /enc\.zip/.test(e.message)));
      const corrupt = join(dir, "corrupt.zip");
      const good = buildZip([{ name: "GHSA-c.json", data: record("GHSA-cccc-cccc-cccc", "2024-01-01T00:00:00Z") }]);
      good[46] = good[46]! ^ 0xff; // inside the deflated data (30-byte header + 11-byte name)
      await writeFile(corrupt, good);
      await assert.rejects(importOsvSources(store, [corrupt]), InputError);
      store.close();
    } finally {
      await cleanup();
    }
  });

  test("symbolic links in a records directory are not followed", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const outside = join(dir, "outside");
      await mkdir(outside);
      await writeFile(join(outside, "secret.json"), record("GHSA-ssss-ssss-ssss", "2024-01-01T00:00:00Z"));
      await mkdir(join(dir, "recs"));
      await writeFile(join(dir, "recs", "a.json"), record("GHSA-aaaa-aaaa-aaa1", "2024-01-01T00:00:00Z"));
      await symlink(join(outside, "secret.json"), join(dir, "recs", "link.json"));
      await symlink(outside, join(dir, "recs", "linkdir"));
      const db = await openVulnDb(join(dir, "recs"));
      assert.equal(db.status().records, 1);
      assert.equal(db.get("GHSA-ssss-ssss-ssss"), undefined);
      db.close();
    } finally {
      await cleanup();
    }
  });

  test("malformed records are rejected with the field named", () => {
    assert.throws(() => parseOsvRecord("{", "x.json"), /x\.json: not valid JSON/);
    assert.throws(() => parseOsvRecord("[]", "x.json"), /must be a JSON object/);
    assert.throws(() => parseOsvRecord(JSON.stringify({ id: "A-1", modified: "yesterday" }), "x.json"), /x\.json: modified: expected an RFC 3339 timestamp/);
    assert.throws(() => parseOsvRecord(JSON.stringify({ id: "A-1", modified: "2024-01-01T00:00:00Z", affected: [{ ranges: [{ type: "SEMVER", events: [{ introduced: "0", fixed: "1" }] }] }] }), "x.json"), /events\[0\]: expected exactly one of/);
    assert.throws(() => parseOsvRecord(JSON.stringify({ id: "A-1", modified: "2024-01-01T00:00:00Z", affected: [{ ranges: [{ type: "GIT", events: [{ introduced: "0" }] }] }] }), "x.json"), /a GIT range needs a repo/);
    assert.throws(() => parseOsvRecord(JSON.stringify({ id: "../../etc", modified: "2024-01-01T00:00:00Z" }), "x.json"), /id: expected an OSV id/);
    assert.equal(compareVersions("npm", "1.0.0", "1.0.0"), 0);
  });
});
