/**
 * `sbom:` targets are read as regular files only (src/io/files.ts): a named pipe given as
 * `sbom:/path/fifo` used to block the run forever on open; it is refused at once with
 * `…: not a regular file` (exit 2), as a directory is. The CLI's parseTarget already refused a path
 * that was not a regular file when it was checked, but the library (readSbomFile, buildSbom) did
 * not, and the CLI's check comes before the open. The FIFO cases run in child processes with a
 * time limit (test/bounded-run.ts), so a regression fails instead of hanging the suite.
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdir, open, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { LimitExceededError } from "../../src/errors.ts";
import { MAX_SBOM_BYTES, readSbomFile } from "../../src/sbom/read.ts";
import { runBounded, src } from "../bounded-run.ts";
import { ROOT, tempDir } from "../helpers.ts";

const run = promisify(execFile);

/** The CLI from the sources, killed at timeoutMs (a run blocked on a FIFO never ends by itself). */
function runCliBounded(args: readonly string[], timeoutMs: number): Promise<{ code: number | null; stderr: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, "bin", "tollgate.cjs"), ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: "1", TOLLGATE_USE_SRC: "1" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, timedOut });
    });
  });
}

const MINIMAL_CDX = JSON.stringify({ bomFormat: "CycloneDX", specVersion: "1.6", components: [{ type: "library", name: "left-pad", version: "1.3.0", purl: "pkg:npm/left-pad@1.3.0" }] });

describe("sbom: targets that are not regular files", () => {
  it("readSbomFile (and buildSbom) of a FIFO fails at once with an InputError `…: not a regular file`", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const fifo = join(dir, "bom.json");
      await run("mkfifo", [fifo]);
      const r = await runBounded(
        `import { readSbomFile } from ${JSON.stringify(src("src/sbom/read.ts"))};
         import { buildSbom } from ${JSON.stringify(src("src/sbom/index.ts"))};
         import { InputError } from ${JSON.stringify(src("src/errors.ts"))};
         const path = ${JSON.stringify(fifo)};
         const show = (e) => console.log((e instanceof InputError ? "InputError " + e.exitCode + ": " : "other: ") + e.message);
         try { await readSbomFile({ kind: "sbom", input: "sbom:" + path, path }); console.log("read"); } catch (e) { show(e); }
         try { await buildSbom({ kind: "sbom", input: "sbom:" + path, path }); console.log("built"); } catch (e) { show(e); }`,
        { timeoutMs: 20_000 },
      );
      assert.equal(r.timedOut, false, "reading an sbom: FIFO hung");
      assert.equal(r.code, 0, r.stderr.slice(0, 2000));
      assert.deepEqual(r.stdout.trim().split("\n"), [`InputError 2: ${fifo}: not a regular file`, `InputError 2: ${fifo}: not a regular file`]);
    } finally {
      await cleanup();
    }
  });

  it("`tollgate sbom sbom:FIFO` exits 2 with `…: not a regular file` at once", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const fifo = join(dir, "bom.json");
      await run("mkfifo", [fifo]);
      const r = await runCliBounded(["sbom", `sbom:${fifo}`], 20_000);
      assert.equal(r.timedOut, false, "tollgate sbom sbom:FIFO hung");
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`^tollgate: ${fifo.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: not a regular file\\n$`));
    } finally {
      await cleanup();
    }
  });

  it("a directory is not a regular file either; a missing file is `no such file`", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const sub = join(dir, "bom.json");
      await mkdir(sub);
      await assert.rejects(readSbomFile({ kind: "sbom", input: `sbom:${sub}`, path: sub }), { name: "InputError", message: `${sub}: not a regular file` });
      const missing = join(dir, "missing.json");
      await assert.rejects(readSbomFile({ kind: "sbom", input: `sbom:${missing}`, path: missing }), { name: "InputError", message: `${missing}: no such file` });
    } finally {
      await cleanup();
    }
  });

  it("a regular file is read as before; one over the size limit is refused before reading", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const path = join(dir, "bom.json");
      await writeFile(path, MINIMAL_CDX);
      const sbom = await readSbomFile({ kind: "sbom", input: `sbom:${path}`, path });
      assert.deepEqual(sbom.components.map((c) => c.purl), ["pkg:npm/left-pad@1.3.0"]);
      const big = join(dir, "big.json");
      const h = await open(big, "w");
      await h.truncate(MAX_SBOM_BYTES + 1); // sparse: nothing is written
      await h.close();
      await assert.rejects(readSbomFile({ kind: "sbom", input: `sbom:${big}`, path: big }), (e: unknown) => e instanceof LimitExceededError && e.message === `${big}: ${MAX_SBOM_BYTES + 1} bytes is over the limit of ${MAX_SBOM_BYTES}`);
    } finally {
      await cleanup();
    }
  });
});
