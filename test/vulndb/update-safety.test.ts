/**
 * `db update` next to other writers, after crashes and against stalling servers: a local stand-in of
 * OSV's bucket on 127.0.0.1 whose answers the tests hold back or stall on purpose.
 *
 * - a `db import` that commits while an update is applying its data is not lost;
 * - two updates of one database run one after the other (the lock file), a lock left by a dead
 *   process is taken over, and an import wrapped in `withDbLock` waits for the update;
 * - the database copies a killed update left behind are removed, a live process's are not;
 * - a server that never answers, or stalls the body, ends the update with one line naming the host
 *   and the timeout, and the database untouched.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readdir, readFile, utimes, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import { importOsvSources, openVulnDb } from "../../src/vulndb/index.ts";
import { dbLockPath, updateVulnDb, withDbLock } from "../../src/vulndb/update.ts";
import { ROOT, tempDir } from "../helpers.ts";
import { buildZip } from "./zip-writer.ts";

function rec(id: string, modified: string, name = "left-pad"): string {
  return JSON.stringify({
    id,
    modified,
    affected: [{ package: { ecosystem: "npm", name }, ranges: [{ type: "SEMVER", events: [{ introduced: "0" }, { fixed: "1.3.0" }] }] }],
  });
}

/** How the stand-in answers all.zip: at once, after `release()`, never, or headers then nothing. */
type Mode = "ok" | "hold" | "silent" | "stall-body";

let server: Server;
let base: string;
let zip: Buffer = Buffer.alloc(0);
let mode: Mode = "ok";
let zipRequests = 0;
const held: (() => void)[] = [];
const sockets = new Set<Socket>();

function serve(req: IncomingMessage, res: ServerResponse): void {
  const url = decodeURIComponent(req.url ?? "");
  if (url === "/npm/all.zip") {
    zipRequests++;
    const send = () => res.writeHead(200, { "content-length": zip.length, etag: `"${zip.length}"` }).end(zip);
    if (mode === "silent") return;
    if (mode === "stall-body") {
      res.writeHead(200, { "content-length": zip.length });
      res.write(zip.subarray(0, 100));
      return;
    }
    if (mode === "hold") held.push(send);
    else send();
    return;
  }
  res.writeHead(404).end();
}

function release(): void {
  for (const f of held.splice(0)) f();
}

function setZip(ids: string[]): void {
  zip = buildZip(ids.map((id) => ({ name: `${id}.json`, data: rec(id, "2024-06-01T00:00:00Z") })));
}

before(async () => {
  server = createServer(serve);
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

/** The PID of a process that existed and was killed with SIGKILL. */
async function deadPid(): Promise<number> {
  const child = spawn("sleep", ["30"], { stdio: "ignore" });
  await new Promise((r) => child.once("spawn", r));
  const pid = child.pid!;
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));
  return pid;
}

/** Imports one record file into the database from another process that takes no lock (an older tollgate, say). */
function importElsewhere(dbPath: string, file: string): void {
  const index = pathToFileURL(join(ROOT, "src", "vulndb", "index.ts")).href;
  const r = spawnSync(
    process.execPath,
    ["--input-type=module", "--no-warnings", "-e", `import { importOsvSources, openVulnDb } from ${JSON.stringify(index)}; const db = await openVulnDb(process.argv[1], { create: true }); await importOsvSources(db, [process.argv[2]]); db.close();`, dbPath, file],
    { encoding: "utf8" },
  );
  assert.equal(r.status, 0, r.stderr);
}

describe("db update and other writers", { timeout: 60_000 }, () => {
  test("a db import that commits while the update is being applied is kept", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      mode = "ok";
      setZip(["GHSA-aaaa-aaaa-aaaa"]);
      const dbPath = join(dir, "vulns.db");
      const env = { TOLLGATE_CACHE_DIR: join(dir, "cache") };
      await updateVulnDb({ dbPath, ecosystems: ["npm"], baseUrl: base, env, incremental: false });
      setZip(["GHSA-aaaa-aaaa-aaaa", "GHSA-bbbb-bbbb-bbbb"]);
      const other = join(dir, "GHSA-dddd-dddd-dddd.json");
      await writeFile(other, rec("GHSA-dddd-dddd-dddd", "2024-05-01T00:00:00Z", "is-odd"));
      let imported = false;
      const messages: string[] = [];
      const result = await updateVulnDb({
        dbPath,
        ecosystems: ["npm"],
        baseUrl: base,
        env,
        incremental: false,
        progress: (m) => {
          messages.push(m);
          // the update has copied the database and is importing into its copy: another writer commits now
          if (m === "npm: importing" && !imported) {
            imported = true;
            importElsewhere(dbPath, other);
          }
        },
      });
      assert.ok(imported);
      assert.equal(result.ecosystems[0]!.mode, "full");
      assert.ok(messages.some((m) => /changed during the update/.test(m)), messages.join("\n"));
      const db = await openVulnDb(dbPath);
      try {
        assert.ok(db.get("GHSA-dddd-dddd-dddd"), "the import that committed meanwhile is kept");
        assert.ok(db.get("GHSA-bbbb-bbbb-bbbb"), "and the update is applied");
        assert.ok(db.sources().some((s) => s.name.endsWith("GHSA-dddd-dddd-dddd.json")));
      } finally {
        db.close();
      }
      assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith(".")), [], "no copy or lock left");
    } finally {
      await cleanup();
    }
  });

  test("two updates of one database run one after the other; an import under withDbLock waits for them", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      setZip(["GHSA-aaaa-aaaa-aaaa"]);
      mode = "hold";
      zipRequests = 0;
      const dbPath = join(dir, "vulns.db");
      const waits: string[] = [];
      const first = updateVulnDb({ dbPath, ecosystems: ["npm"], baseUrl: base, env: { TOLLGATE_CACHE_DIR: join(dir, "c1") }, incremental: false });
      while (zipRequests < 1) await new Promise((r) => setTimeout(r, 20));
      const second = updateVulnDb({ dbPath, ecosystems: ["npm"], baseUrl: base, env: { TOLLGATE_CACHE_DIR: join(dir, "c2") }, incremental: false, progress: (m) => waits.push(m) });
      const other = join(dir, "GHSA-dddd-dddd-dddd.json");
      await writeFile(other, rec("GHSA-dddd-dddd-dddd", "2024-05-01T00:00:00Z", "is-odd"));
      const order: string[] = [];
      const importing = withDbLock(dbPath, async () => {
        order.push("import");
        const db = await openVulnDb(dbPath, { create: true });
        try {
          await importOsvSources(db, [other]);
        } finally {
          db.close();
        }
      });
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(zipRequests, 1, "the second update waits for the lock before downloading");
      assert.ok(waits.some((m) => m.startsWith(`waiting for ${dbLockPath(dbPath)} (held by process ${process.pid}`)), waits.join("\n"));
      assert.equal(order.length, 0, "the import waits too");
      mode = "ok";
      release();
      await first.then(() => order.push("first"));
      await Promise.all([second.then(() => order.push("second")), importing]);
      assert.equal(order[0], "first");
      assert.equal(zipRequests, 2);
      const db = await openVulnDb(dbPath);
      try {
        assert.ok(db.get("GHSA-aaaa-aaaa-aaaa") && db.get("GHSA-dddd-dddd-dddd"), "nothing lost");
      } finally {
        db.close();
      }
    } finally {
      mode = "ok";
      release();
      await cleanup();
    }
  });

  test("a lock left by a killed process is taken over; a killed update's copies are removed, a live process's are kept", async () => {
    const { dir, cleanup } = await tempDir();
    const live = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      mode = "ok";
      setZip(["GHSA-aaaa-aaaa-aaaa"]);
      const dbPath = join(dir, "vulns.db");
      const env = { TOLLGATE_CACHE_DIR: join(dir, "cache") };
      await updateVulnDb({ dbPath, ecosystems: ["npm"], baseUrl: base, env, incremental: false });
      const dead = await deadPid();
      await writeFile(dbLockPath(dbPath), JSON.stringify({ pid: dead, host: (await import("node:os")).hostname(), at: "2026-01-01T00:00:00Z", nonce: "0123456789abcdef" }));
      const leftovers = [`.vulns.db.update-${dead}-0a1b2c3d`, `.vulns.db.update-${dead}-0a1b2c3d-journal`];
      const kept = [`.vulns.db.update-${live.pid}-4e5f6a7b`, ".vulns.db.update-notapid-4e5f6a7b", ".other.db.update-1-4e5f6a7b"];
      for (const n of [...leftovers, ...kept]) await writeFile(join(dir, n), "x");
      const start = Date.now();
      await updateVulnDb({ dbPath, ecosystems: ["npm"], baseUrl: base, env, incremental: false });
      assert.ok(Date.now() - start < 10_000, "no wait for a dead holder");
      const names = await readdir(dir);
      for (const n of leftovers) assert.ok(!names.includes(n), `${n} removed`);
      for (const n of kept) assert.ok(names.includes(n), `${n} kept`);
      assert.ok(!names.includes("vulns.db.lock"), "the lock is released");
      // a live PID's copy untouched for over an hour: a reused PID, removed
      const old = new Date(Date.now() - 2 * 3600_000);
      await utimes(join(dir, kept[0]!), old, old);
      await updateVulnDb({ dbPath, ecosystems: ["npm"], baseUrl: base, env, incremental: false });
      assert.ok(!(await readdir(dir)).includes(kept[0]!));
    } finally {
      live.kill("SIGKILL");
      await cleanup();
    }
  });
});

describe("db update timeouts (a stand-in that stalls)", { timeout: 60_000 }, () => {
  const tiny = { connectMs: 300, responseMs: 300, idleMs: 300, minBytesPerSecond: 1 << 20 };

  test("a server that accepts and never answers: one line naming the host and the response timeout; the database untouched", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      mode = "ok";
      setZip(["GHSA-aaaa-aaaa-aaaa"]);
      const dbPath = join(dir, "vulns.db");
      const env = { TOLLGATE_CACHE_DIR: join(dir, "cache") };
      await updateVulnDb({ dbPath, ecosystems: ["npm"], baseUrl: base, env, incremental: false });
      const before = await readFile(dbPath);
      mode = "silent";
      zipRequests = 0;
      const start = Date.now();
      await assert.rejects(updateVulnDb({ dbPath, ecosystems: ["npm"], baseUrl: base, env, incremental: false, timeouts: tiny, retryDelayMs: 10 }), (e: Error) => {
        assert.equal(e.message, `${new URL(base).host}: response timeout: no response headers within 300 ms`);
        return true;
      });
      assert.ok(Date.now() - start < 5000, `${Date.now() - start} ms`);
      assert.equal(zipRequests, 1, "not retried");
      assert.ok((await readFile(dbPath)).equals(before));
    } finally {
      mode = "ok";
      await cleanup();
    }
  });

  test("headers, then the body stalls: the idle timeout ends each attempt (resumed), then one line", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      setZip(["GHSA-aaaa-aaaa-aaaa"]);
      mode = "stall-body";
      zipRequests = 0;
      const dbPath = join(dir, "vulns.db");
      const start = Date.now();
      await assert.rejects(
        updateVulnDb({ dbPath, ecosystems: ["npm"], baseUrl: base, env: { TOLLGATE_CACHE_DIR: join(dir, "cache") }, incremental: false, timeouts: tiny, attempts: 2, retryDelayMs: 10 }),
        /^NetworkError: download failed after 2 attempts: http:\/\/127\.0\.0\.1:\d+\/npm\/all\.zip: download interrupted after \d+ bytes \(127\.0\.0\.1:\d+: idle timeout: no data for 300 ms\)$/,
      );
      assert.ok(Date.now() - start < 5000);
      assert.equal(zipRequests, 2);
    } finally {
      mode = "ok";
      await cleanup();
    }
  });
});
