/**
 * `timeouts:` in tollgate.yaml reaches the registry client of `sbom`/`scan`/`check`, and `db import`
 * waits for the lock `db update` holds (issue 11, items 4 and 13: the settings existed but the
 * commands did not pass them on).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { acquireLockFile } from "../../src/io/atomic-write.ts";
import { openVulnDb } from "../../src/vulndb/index.ts";
import { ADVISORIES } from "../gate/fixtures.ts";
import { ROOT, runCli, tempDir } from "../helpers.ts";

describe("timeouts from tollgate.yaml", () => {
  let server: Server;
  let port = 0;
  const sockets: Socket[] = [];
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ dir, cleanup } = await tempDir());
    // Accepts, reads the request, never answers.
    server = createServer((s) => {
      sockets.push(s);
      s.on("data", () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as { port: number }).port;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
    await cleanup();
  });

  it("a registry that never answers fails with the response timeout the config sets (not the 30 s default)", async () => {
    await writeFile(join(dir, "tollgate.yaml"), "timeouts:\n  connect: 2s\n  response: 1s\n  idle: 1s\n");
    const r = await runCli(["sbom", `registry:127.0.0.1:${port}/app:1`], { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^tollgate: .*127\\.0\\.0\\.1:${port}: response timeout: no response headers within 1 s$`, "m"));
  });
});

describe("db import and the database lock", () => {
  it("waits while an update holds the lock, then imports", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const db = join(dir, "vulns.db");
      const lock = await acquireLockFile(`${db}.lock`);
      const child = spawn(process.execPath, [join(ROOT, "bin", "tollgate.cjs"), "db", "import", ADVISORIES, "--db", db], { env: { ...process.env, TOLLGATE_USE_SRC: "1" }, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
      const exited = new Promise<number | null>((r) => child.on("close", r));
      // Long enough for the import to have finished had it not waited (it takes well under this).
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal(existsSync(db), false, "the import waited for the lock before opening the database");
      await lock.release();
      assert.equal(await exited, 0);
      assert.match(stdout, /imported 5 record\(s\)/);
      const store = await openVulnDb(db);
      try {
        assert.equal(store.status().records, 5);
      } finally {
        store.close();
      }
    } finally {
      await cleanup();
    }
  });
});
