/**
 * `db update` against a stand-in for OSV's export bucket: a local HTTP server on 127.0.0.1 serving a
 * generated all.zip and modified_id.csv (OSV's public bucket cannot be reached from tests). Covers a
 * fresh download, an incremental update, resuming an interrupted download, an export that has not
 * changed, an update that keeps failing, which must leave the old database byte-for-byte intact, and
 * a full download that no longer has a record, which removes it.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { openVulnDb } from "../../src/vulndb/index.ts";
import { parseModifiedCsv, updateVulnDb } from "../../src/vulndb/update.ts";
import { runCli, tempDir } from "../helpers.ts";
import { buildZip } from "./zip-writer.ts";

function rec(id: string, modified: string, name = "left-pad"): string {
  return JSON.stringify({
    id,
    modified,
    affected: [{ package: { ecosystem: "npm", name }, ranges: [{ type: "SEMVER", events: [{ introduced: "0" }, { fixed: "1.3.0" }] }] }],
  });
}

interface Bucket {
  zip: Buffer;
  csv: string;
  records: Record<string, string>;
  /** How to answer all.zip requests: "ok", "cut-once" (first request cut half-way) or "cut-always". */
  mode: "ok" | "cut-once" | "cut-always";
  requests: { url: string; range?: string; ifNoneMatch?: string }[];
}

const bucket: Bucket = { zip: Buffer.alloc(0), csv: "", records: {}, mode: "ok", requests: [] };
let server: Server;
let base: string;
let zipRequests = 0;

function serve(req: IncomingMessage, res: ServerResponse): void {
  const url = decodeURIComponent(req.url ?? "");
  bucket.requests.push({ url, ...(req.headers.range ? { range: req.headers.range } : {}), ...(req.headers["if-none-match"] ? { ifNoneMatch: String(req.headers["if-none-match"]) } : {}) });
  const etag = `"${createHash("sha256").update(bucket.zip).digest("hex").slice(0, 16)}"`;
  if (url === "/npm/all.zip") {
    zipRequests++;
    if (req.headers["if-none-match"] === etag) {
      res.writeHead(304).end();
      return;
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    const cut = bucket.mode === "cut-always" || (bucket.mode === "cut-once" && zipRequests === 1);
    if (range && req.headers["if-range"] === etag && !cut) {
      const start = Number(range[1]);
      const body = bucket.zip.subarray(start);
      res.writeHead(206, { "content-length": body.length, etag, "content-range": `bytes ${start}-${bucket.zip.length - 1}/${bucket.zip.length}` });
      res.end(body);
      return;
    }
    res.writeHead(200, { "content-length": bucket.zip.length, etag, "last-modified": "Tue, 01 Oct 2024 00:00:00 GMT" });
    if (cut) {
      // half the body, then a clean close of the connection (FIN): the client sees a short body
      res.write(bucket.zip.subarray(0, Math.floor(bucket.zip.length / 2)), () => res.socket?.end());
      return;
    }
    res.end(bucket.zip);
    return;
  }
  if (url === "/npm/modified_id.csv") {
    res.writeHead(200, { "content-type": "text/csv" }).end(bucket.csv);
    return;
  }
  const m = /^\/npm\/(.+)\.json$/.exec(url);
  if (m && bucket.records[m[1]!]) {
    res.writeHead(200).end(bucket.records[m[1]!]);
    return;
  }
  res.writeHead(404).end();
}

function reset(mode: Bucket["mode"], ids: [string, string][]): void {
  // a larger zip (padding records) so that a half-way cut lands inside the data
  const entries = ids.map(([id, modified]) => ({ name: `${id}.json`, data: rec(id, modified) }));
  for (let i = 0; i < 200; i++) entries.push({ name: `GHSA-pad${i}.json`, data: rec(`GHSA-pad${i}`, "2024-01-01T00:00:00Z", `pad-${i}`) });
  bucket.zip = buildZip(entries);
  bucket.csv = ids.map(([id, modified]) => `${modified},${id}`).join("\n") + "\n";
  bucket.mode = mode;
  bucket.requests = [];
  zipRequests = 0;
}

before(async () => {
  server = createServer(serve);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

describe("db update from a local stand-in of OSV's bucket", () => {
  test("fresh download via the CLI, then an incremental update from modified_id.csv", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      reset("ok", [["GHSA-aaaa-aaaa-aaaa", "2024-06-01T00:00:00Z"]]);
      const dbPath = join(dir, "vulns.db");
      const env = { TOLLGATE_CACHE_DIR: join(dir, "cache") };
      const r = await runCli(["db", "update", "--db", dbPath, "--ecosystem", "npm", "--base-url", base], { env });
      assert.equal(r.stderr, "");
      assert.equal(r.code, 0);
      assert.match(r.stdout, /npm: full, 201 new, 0 updated/);
      const st = await runCli(["db", "status", "--db", dbPath, "--format", "json"], { env });
      const status = JSON.parse(st.stdout) as { records: number; sources: { name: string; cursor: string; kind: string }[] };
      assert.equal(status.records, 201);
      assert.equal(status.sources[0]!.name, "npm");
      assert.equal(status.sources[0]!.cursor, "2024-06-01T00:00:00Z");

      // A new record appears upstream: only it is fetched (no all.zip request).
      bucket.records["GHSA-bbbb-bbbb-bbbb"] = rec("GHSA-bbbb-bbbb-bbbb", "2024-07-01T00:00:00Z", "right-pad");
      bucket.csv = `2024-07-01T00:00:00Z,GHSA-bbbb-bbbb-bbbb\n${bucket.csv}`;
      bucket.requests = [];
      const result = await updateVulnDb({ dbPath, baseUrl: base, env });
      assert.equal(result.ecosystems[0]!.mode, "incremental", "the database's own ecosystems are updated without --ecosystem");
      assert.equal(result.ecosystems[0]!.stats!.inserted, 1);
      assert.ok(!bucket.requests.some((q) => q.url.endsWith("all.zip")));
      const db = await openVulnDb(dbPath);
      assert.equal(db.candidates("npm", "right-pad").length, 1);
      assert.equal(db.sources()[0]!.cursor, "2024-07-01T00:00:00Z");
      db.close();
    } finally {
      await cleanup();
    }
  });

  test("an interrupted download resumes with a Range request", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      reset("cut-once", [["GHSA-aaaa-aaaa-aaaa", "2024-06-01T00:00:00Z"]]);
      const dbPath = join(dir, "vulns.db");
      const result = await updateVulnDb({ dbPath, ecosystems: ["npm"], baseUrl: base, env: { TOLLGATE_CACHE_DIR: join(dir, "cache") }, retryDelayMs: 10 });
      assert.equal(result.ecosystems[0]!.mode, "full");
      assert.equal(result.ecosystems[0]!.stats!.inserted, 201);
      const zipReqs = bucket.requests.filter((q) => q.url === "/npm/all.zip");
      assert.equal(zipReqs.length, 2);
      assert.match(zipReqs[1]!.range ?? "", /^bytes=\d+-$/, "the second request resumes");
    } finally {
      await cleanup();
    }
  });

  test("an unchanged export (same ETag) is not downloaded again", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      reset("ok", [["GHSA-aaaa-aaaa-aaaa", "2024-06-01T00:00:00Z"]]);
      const dbPath = join(dir, "vulns.db");
      const env = { TOLLGATE_CACHE_DIR: join(dir, "cache") };
      await updateVulnDb({ dbPath, ecosystems: ["npm"], baseUrl: base, env, incremental: false });
      const again = await updateVulnDb({ dbPath, ecosystems: ["npm"], baseUrl: base, env, incremental: false });
      assert.equal(again.ecosystems[0]!.mode, "unchanged");
      assert.ok(bucket.requests.at(-1)!.ifNoneMatch);
    } finally {
      await cleanup();
    }
  });

  test("a download that keeps failing leaves the old database intact (CLI, exit 2)", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      reset("ok", [["GHSA-aaaa-aaaa-aaaa", "2024-06-01T00:00:00Z"]]);
      const dbPath = join(dir, "vulns.db");
      const env = { TOLLGATE_CACHE_DIR: join(dir, "cache") };
      await updateVulnDb({ dbPath, ecosystems: ["npm"], baseUrl: base, env, incremental: false });
      const before = await readFile(dbPath);
      reset("cut-always", [["GHSA-cccc-cccc-cccc", "2024-08-01T00:00:00Z"]]);
      const r = await runCli(["db", "update", "--db", dbPath, "--ecosystem", "npm", "--base-url", base, "--no-incremental"], { env });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /download failed after 4 attempts: .*all\.zip: download interrupted/);
      assert.equal(r.stderr.trim().split("\n").length, 1, "one line on stderr");
      assert.ok((await readFile(dbPath)).equals(before), "the database file is unchanged");
      const db = await openVulnDb(dbPath);
      assert.equal(db.status().records, 201);
      assert.ok(db.get("GHSA-aaaa-aaaa-aaaa"));
      db.close();
    } finally {
      await cleanup();
    }
  });

  test("a full download removes the ecosystem's records upstream removed, and keeps `db import`ed ones", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const A = "GHSA-aaaa-aaaa-aaaa";
      const B = "GHSA-bbbb-bbbb-bbbb";
      reset("ok", [
        [A, "2024-06-01T00:00:00Z"],
        [B, "2024-06-02T00:00:00Z"],
      ]);
      const dbPath = join(dir, "vulns.db");
      const env = { TOLLGATE_CACHE_DIR: join(dir, "cache") };
      const first = await updateVulnDb({ dbPath, ecosystems: ["npm"], baseUrl: base, env, incremental: false });
      assert.equal(first.ecosystems[0]!.stats!.inserted, 202);
      assert.equal(first.ecosystems[0]!.stats!.removed, 0);
      // A record from another source, imported with `db import` (same ecosystem, absent from the export).
      const other = join(dir, "GHSA-dddd-dddd-dddd.json");
      await writeFile(other, rec("GHSA-dddd-dddd-dddd", "2024-05-01T00:00:00Z", "is-odd"));
      const imp = await runCli(["db", "import", "--db", dbPath, other], { env });
      assert.equal(imp.code, 0, imp.stderr);

      // Upstream drops B: the next full download deletes it (record and index rows), nothing else.
      reset("ok", [[A, "2024-06-01T00:00:00Z"]]);
      const r = await runCli(["db", "update", "--db", dbPath, "--ecosystem", "npm", "--base-url", base, "--no-incremental"], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /npm: full, 0 new, 0 updated, 201 unchanged, 1 removed/);
      let db = await openVulnDb(dbPath);
      assert.equal(db.get(B), undefined, "B is gone");
      assert.ok(db.get(A), "A is kept");
      assert.equal(db.candidates("npm", "left-pad").length, 1, "only A's index row is left for left-pad");
      assert.ok(db.get("GHSA-dddd-dddd-dddd"), "the `db import`ed record survives");
      assert.equal(db.candidates("npm", "is-odd").length, 1);
      assert.equal(db.status().records, 202);
      db.close();

      // An entry upstream that is invalid now still counts as present: its stored copy is kept.
      bucket.zip = buildZip([
        { name: `${A}.json`, data: rec(A, "2024-06-01T00:00:00Z") },
        { name: "GHSA-pad0.json", data: JSON.stringify({ id: "GHSA-pad0" }) },
      ]);
      const third = await updateVulnDb({ dbPath, ecosystems: ["npm"], baseUrl: base, env, incremental: false });
      assert.equal(third.ecosystems[0]!.stats!.rejected, 1);
      assert.equal(third.ecosystems[0]!.stats!.removed, 199, "the 199 other padding records are removed");
      db = await openVulnDb(dbPath);
      assert.ok(db.get("GHSA-pad0"), "the record whose upstream copy is invalid is kept");
      assert.equal(db.get("GHSA-pad1"), undefined);
      assert.deepEqual(
        db.status().ecosystems,
        [{ ecosystem: "npm", records: 3 }],
        "A, GHSA-pad0 and the imported record",
      );
      db.close();
    } finally {
      await cleanup();
    }
  });

  test("without --ecosystem, an empty database and no scans is a usage error", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const r = await runCli(["db", "update", "--db", join(dir, "v.db"), "--base-url", base], { env: { TOLLGATE_CACHE_DIR: join(dir, "cache") } });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /no ecosystems to update: pass --ecosystem/);
    } finally {
      await cleanup();
    }
  });

  test("modified_id.csv parsing skips junk lines", () => {
    assert.deepEqual(parseModifiedCsv("2024-01-01T00:00:00Z,GHSA-a\nnot a line\n2024-01-02T00:00:00Z,npm/GHSA-b\n,x\n"), [
      { modified: "2024-01-01T00:00:00Z", id: "GHSA-a" },
      { modified: "2024-01-02T00:00:00Z", id: "GHSA-b" },
    ]);
  });
});
