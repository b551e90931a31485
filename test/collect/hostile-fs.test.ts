/**
 * DirectoryFs against hostile trees (issue 11): a named pipe where a companion file belongs (a
 * requirements `-r` include) is refused at once instead of blocking the read forever, and a tree
 * whose paths are longer than a path can be is refused with a clear error. The FIFO cases run in a
 * child process with a time limit (test/bounded-run.ts), so a regression fails instead of hanging.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { DirectoryFs } from "../../src/collect/index.ts";
import { LimitExceededError } from "../../src/errors.ts";
import { runBounded, src } from "../bounded-run.ts";
import { tempDir } from "../helpers.ts";

const run = promisify(execFile);

describe("DirectoryFs: hostile trees", () => {
  it("readFile of a FIFO fails with an InputError at once; a -r include that is a FIFO is a problem", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await writeFile(join(dir, "requirements.txt"), "-r extra.txt\nrequests==2.31.0\n");
      await run("mkfifo", [join(dir, "extra.txt")]);
      const r = await runBounded(
        `import { DirectoryFs } from ${JSON.stringify(src("src/collect/index.ts"))};
         import { InputError } from ${JSON.stringify(src("src/errors.ts"))};
         import { buildSbom } from ${JSON.stringify(src("src/sbom/index.ts"))};
         const dir = ${JSON.stringify(dir)};
         try { await new DirectoryFs(dir).readFile("extra.txt", 1024); console.log("read"); }
         catch (e) { console.log(e instanceof InputError ? "InputError: " + e.message : "other: " + e.message); }
         const sbom = await buildSbom({ kind: "dir", input: dir, path: dir }, { deterministic: true });
         console.log(JSON.stringify({ components: sbom.components.map((c) => c.name), problems: sbom.problems }));`,
        { timeoutMs: 20_000 },
      );
      assert.equal(r.timedOut, false, "a read of a FIFO hung");
      assert.equal(r.code, 0, r.stderr.slice(0, 2000));
      const [first = "", second = "{}"] = r.stdout.trim().split("\n");
      assert.match(first, /^InputError: .*extra\.txt: not a regular file/);
      const sbom = JSON.parse(second) as { components: string[]; problems: { message: string }[] };
      assert.deepEqual(sbom.components, ["requests"]);
      assert.match(sbom.problems[0]?.message ?? "", /include extra\.txt: .*not a regular file/);
    } finally {
      await cleanup();
    }
  });

  it("a path longer than 4096 characters stops the walk with a LimitExceededError", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      // Made one level at a time (relative to the last), since the whole path is longer than PATH_MAX.
      const part = "d".repeat(200);
      const cwd = process.cwd();
      try {
        process.chdir(dir);
        for (let i = 0; i < 22; i++) {
          mkdirSync(part);
          process.chdir(part);
        }
        writeFileSync("f", "x");
      } finally {
        process.chdir(cwd);
      }
      await mkdir(join(dir, "a"));
      await writeFile(join(dir, "a", "requirements.txt"), "requests==2.31.0\n");
      const fs = new DirectoryFs(dir);
      await assert.rejects(
        (async () => {
          for await (const e of fs.walk()) void e;
        })(),
        (e: unknown) => e instanceof LimitExceededError && /longer than 4096 characters/.test(e.message) && e.message.length < 1000,
      );
    } finally {
      // rm -rf walks a tree deeper than PATH_MAX; fs.rm may not.
      await run("rm", ["-rf", dir]).catch(() => undefined);
      await cleanup();
    }
  });

  it("a tollgate.yaml, a Go module cache file, a Dockerfile, a VEX document and the lockfile remediation reads, as FIFOs, are refused at once (they hung)", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await run("mkfifo", [join(dir, "tollgate.yaml")]);
      const modDir = join(dir, "gocache", "cache", "download", "example.com", "m", "@v");
      await mkdir(modDir, { recursive: true });
      await run("mkfifo", [join(modDir, "v1.0.0.mod")]);
      await run("mkfifo", [join(dir, "Dockerfile")]);
      await run("mkfifo", [join(dir, "fifo.vex.json")]);
      await run("mkfifo", [join(dir, "package-lock.json")]);
      const r = await runBounded(
        `import { loadConfig } from ${JSON.stringify(src("src/config/index.ts"))};
         import { lintDockerfiles } from ${JSON.stringify(src("src/lint/index.ts"))};
         import { readCachedGoMod } from ${JSON.stringify(src("src/catalogers/language/go-mod.ts"))};
         try { await loadConfig(undefined, ${JSON.stringify(dir)}); console.log("loaded"); } catch (e) { console.log(e.message); }
         console.log(String(await readCachedGoMod(${JSON.stringify(join(dir, "gocache"))}, "example.com/m", "v1.0.0")));
         try { await lintDockerfiles(${JSON.stringify(join(dir, "Dockerfile"))}); console.log("linted"); } catch (e) { console.log(e.message.split("/").pop()); }
         const { loadVexFiles } = await import(${JSON.stringify(src("src/gate/vex.ts"))});
         try { await loadVexFiles([${JSON.stringify(join(dir, "fifo.vex.json"))}]); console.log("read"); } catch (e) { console.log(e.message.split("/").pop()); }
         const { checkDeclaredRanges } = await import(${JSON.stringify(src("src/gate/remediation.ts"))});
         const upgrades = [{ ecosystem: "npm", package: "pkg:npm/lodash@4.17.20", name: "lodash", from: "4.17.20", to: "4.17.21", fixes: [] }];
         await checkDeclaredRanges(upgrades, [{ ref: "r", name: "lodash", version: "4.17.20", purl: "pkg:npm/lodash@4.17.20", ecosystem: "npm", type: "library", hashes: [], licenses: [], locations: [{ path: "package-lock.json" }], dependencies: [] }], ${JSON.stringify(dir)});
         console.log(String(upgrades[0].withinDeclaredRange));`,
        { timeoutMs: 20_000 },
      );
      assert.equal(r.timedOut, false, "a read of a FIFO hung");
      assert.equal(r.code, 0, r.stderr.slice(0, 2000));
      assert.deepEqual(r.stdout.trim().split("\n"), ["tollgate.yaml: not a regular file", "undefined", "Dockerfile: not a regular file", "fifo.vex.json: not a regular file", "unknown"]);
    } finally {
      await cleanup();
    }
  });
});
