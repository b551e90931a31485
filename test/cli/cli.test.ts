import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ROOT, runCli, tempDir } from "../helpers.ts";

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };

/** The command groups the foundation issue fixes, by their exact names. */
const COMMANDS = ["sbom", "scan", "check", "db", "version", "lint", "keys", "sign", "verify", "verify-bundle", "attest", "init", "triage", "audit", "trust-root"];

describe("tollgate CLI surface", () => {
  it("--help lists every command group and the exit codes", async () => {
    const r = await runCli(["--help"]);
    assert.equal(r.code, 0);
    for (const c of COMMANDS) assert.match(r.stdout, new RegExp(`^  ${c}\\b`, "m"), `--help lists ${c}`);
    assert.match(r.stdout, /Exit codes:\n {2}0 {2}pass\n {2}1 .*\n {2}2 {2}usage or input error/);
  });

  it("each subcommand has help with examples", async () => {
    for (const args of [
      ["db", "update"],
      ["db", "import"],
      ["db", "status"],
      ["version", "compare"],
      ["lint", "dockerfile"],
      ["keys", "generate"],
      ["sign", "blob"],
      ["sign", "image"],
      ["sign", "model"],
      ["verify", "blob"],
      ["verify", "image"],
      ["verify", "model"],
      ["audit", "verify"],
      ["triage", "list"],
      ["sbom"],
      ["scan"],
      ["check"],
      ["verify-bundle"],
      ["attest"],
      ["init"],
    ]) {
      const r = await runCli([...args, "--help"]);
      assert.equal(r.code, 0, `${args.join(" ")} --help exits 0`);
      assert.match(r.stdout, /Examples:\n {2}\$ tollgate /, `${args.join(" ")} --help has examples`);
    }
  });

  it("--version prints the package version", async () => {
    const r = await runCli(["--version"]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), pkg.version);
  });

  it("an unknown command prints one line on stderr and exits 2", async () => {
    const r = await runCli(["frobnicate"]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /^tollgate: unknown command 'frobnicate'/);
  });

  it("an unknown flag prints one line and exits 2", async () => {
    const r = await runCli(["check", "--frobnicate"]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /unknown option '--frobnicate'/);
  });

  it("a missing target path prints one line naming it and exits 2, no stack", async () => {
    const r = await runCli(["sbom", "/no/such/path"]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, "tollgate: /no/such/path: no such file or directory\n");
  });

  it("--debug adds the stack trace", async () => {
    const r = await runCli(["sbom", "/no/such/path", "--debug"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^tollgate: \/no\/such\/path: no such file or directory\n/);
    assert.match(r.stderr, /\n\s+at /, "stack frames follow");
  });

  it("an invalid tollgate.yaml gives one line with file, line and field", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const { writeFile } = await import("node:fs/promises");
      await writeFile(join(dir, "tollgate.yaml"), "fail_on: high\nwaivers:\n  - id: GHSA-xxxx\n    reason: ok\n    expires: soon\n");
      const r = await runCli(["check", "."], { cwd: dir });
      assert.equal(r.code, 2);
      assert.equal(r.stderr, "tollgate: tollgate.yaml:5:14: waivers[0].expires: expected a date such as 2026-12-31\n");
    } finally {
      await cleanup();
    }
  });

  it("a command group without a subcommand is a usage error (exit 2)", async () => {
    const r = await runCli(["db"]);
    assert.equal(r.code, 2);
  });

  it("the bin refuses an unsupported Node.js with one line and exit 2", (t) => {
    // The machines ship Node 20 as /usr/bin/node; tollgate itself runs on 22/24.
    const old = spawnSync("/usr/bin/node", ["--version"], { encoding: "utf8" });
    const major = Number(/^v(\d+)/.exec(old.stdout ?? "")?.[1]);
    if (old.status !== 0 || !(major < 22)) {
      t.skip("SKIPPED: no Node.js older than 22 at /usr/bin/node on this machine");
      return;
    }
    const r = spawnSync("/usr/bin/node", [join(ROOT, "bin", "tollgate.cjs"), "--help"], { encoding: "utf8" });
    assert.equal(r.status, 2);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr.trim().split("\n").length, 1);
    assert.match(r.stderr, /Node\.js \^22\.22\.2 or >=24\.15\.0 is required, this is v\d+/);
  });
});
