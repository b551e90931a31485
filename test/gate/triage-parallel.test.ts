/**
 * Parallel first runs against a fresh triage store: CI jobs of a matrix sharing one cached store all
 * start at once. Every run must be recorded (switching a new file to WAL takes a lock the other
 * openers must wait for, not fail on).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, it } from "node:test";
import { SqliteTriageStore } from "../../src/gate/triage.ts";
import { ROOT, tempDir } from "../helpers.ts";

const PROCESSES = 10;

/** One process: opens the store and records one run of its own target with one finding. */
function child(store: string, n: number): Promise<{ code: number; stderr: string }> {
  const triage = pathToFileURL(join(ROOT, "src", "gate", "triage.ts")).href;
  const fixtures = pathToFileURL(join(ROOT, "test", "gate", "fixtures.ts")).href;
  const script = `
    import { openTriageStore } from ${JSON.stringify(triage)};
    import { exampleComponents, findingsFor } from ${JSON.stringify(fixtures)};
    const finding = findingsFor(exampleComponents()).find((f) => f.severity.level === "MEDIUM");
    const store = await openTriageStore(process.argv[1]);
    try {
      await store.recordRun("dir:job-" + process.argv[2], [{ finding }], new Date());
    } finally {
      await store.close();
    }
  `;
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--input-type=module", "--no-warnings", "-e", script, store, String(n)], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    p.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    p.on("error", reject);
    p.on("close", (code) => resolve({ code: code ?? -1, stderr }));
  });
}

describe("triage store: parallel first runs", () => {
  it(`${PROCESSES} processes recording into a fresh store at once: every run is there`, async () => {
    const { dir, cleanup } = await tempDir();
    try {
      for (let round = 0; round < 3; round++) {
        const store = join(dir, `round-${round}`, "triage.db");
        const results = await Promise.all(Array.from({ length: PROCESSES }, (_, i) => child(store, i)));
        for (const r of results) assert.equal(r.code, 0, r.stderr);
        const s = await SqliteTriageStore.open(store);
        try {
          const targets = new Set((await s.list()).map((e) => e.target));
          assert.equal(targets.size, PROCESSES, `round ${round}: runs recorded: ${[...targets].sort().join(", ")}`);
        } finally {
          await s.close();
        }
      }
    } finally {
      await cleanup();
    }
  });
});
