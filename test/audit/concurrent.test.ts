// Several processes recording signing events into one audit log at the same time: every event lands
// exactly once, whole, and the chain is intact (the lock serialises the read-last-entry-then-append).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { it } from "node:test";
import { verifyAuditLog, type AuditEntry } from "../../src/audit/log.ts";
import { ROOT, runCli, tempDir } from "../helpers.ts";

const WRITERS = 6;
const EVENTS_EACH = 15;

function writer(logPath: string, id: number): Promise<{ code: number; stderr: string }> {
  const script = `
    const { recordSigningEvent } = await import(${JSON.stringify(join(ROOT, "src", "audit", "index.ts"))});
    for (let i = 0; i < ${EVENTS_EACH}; i++) {
      await recordSigningEvent(
        { operation: "sign blob", artifact: "w${id}-" + i, artifactDigest: "sha256:" + "${id}".repeat(64), backend: "file", result: "success", signer: { writer: "${id}" } },
        { env: { TOLLGATE_AUDIT_LOG: ${JSON.stringify(logPath)} }, config: {} },
      );
    }`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stderr }));
  });
}

it(`${WRITERS} processes appending ${EVENTS_EACH} events each at once: all land, the chain is intact`, async () => {
  const { dir, cleanup } = await tempDir("tollgate-audit-");
  try {
    const logPath = join(dir, "audit.log");
    const results = await Promise.all(Array.from({ length: WRITERS }, (_, id) => writer(logPath, id + 1)));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const seen: AuditEntry[] = [];
    const v = await verifyAuditLog(logPath, { onEntry: (e) => seen.push(e) });
    assert.equal(v.intact, true, v.problem?.message);
    assert.equal(v.entries, WRITERS * EVENTS_EACH);
    const names = new Set(seen.map((e) => e.artifact));
    assert.equal(names.size, WRITERS * EVENTS_EACH, "every event exactly once");
    for (let id = 1; id <= WRITERS; id++) {
      // each writer's own events are in its order
      const mine = seen.filter((e) => e.signer?.writer === String(id)).map((e) => e.artifact);
      assert.deepEqual(mine, Array.from({ length: EVENTS_EACH }, (_, i) => `w${id}-${i}`));
    }
    const text = await readFile(logPath, "utf8");
    assert.equal(text.split("\n").length, WRITERS * EVENTS_EACH + 1);
    // the lock file is gone
    assert.deepEqual(await readdir(dir), ["audit.log"]);
    const cli = await runCli(["audit", "verify", logPath]);
    assert.equal(cli.code, 0);
    assert.match(cli.stdout, new RegExp(`intact, ${WRITERS * EVENTS_EACH} entries`));
  } finally {
    await cleanup();
  }
});
