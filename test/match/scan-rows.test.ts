/**
 * `scan`'s table: one row per vulnerability, package and version. A package installed twice, from the
 * registry and from git, made two rows that read the same (issue 11); the JSON keeps both findings.
 */
import assert from "node:assert/strict";
import { copyFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ADVISORIES } from "../gate/fixtures.ts";
import { runCli, tempDir } from "../helpers.ts";

const LOCK = {
  name: "dup",
  version: "1.0.0",
  lockfileVersion: 3,
  requires: true,
  packages: {
    "": { name: "dup", version: "1.0.0", dependencies: { lodash: "^4.17.20", wrapper: "^1.0.0" } },
    "node_modules/lodash": { version: "4.17.20", resolved: "https://registry.npmjs.org/lodash/-/lodash-4.17.20.tgz" },
    "node_modules/wrapper": { version: "1.0.0", resolved: "https://registry.npmjs.org/wrapper/-/wrapper-1.0.0.tgz", dependencies: { lodash: "github:lodash/lodash#4.17.20" } },
    "node_modules/wrapper/node_modules/lodash": { version: "4.17.20", resolved: "git+ssh://git@github.com/lodash/lodash.git#f299b52f39486275a9e6483b60a410e06520c538" },
  },
};

describe("scan table rows", () => {
  it("the same package from the registry and from git is one row per vulnerability, saying how many copies", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await writeFile(join(dir, "package-lock.json"), JSON.stringify(LOCK, null, 2));
      await copyFile(join(ADVISORIES, "GHSA-35jh-r3h4-6jhm.json"), join(dir, "GHSA-35jh-r3h4-6jhm.json"));
      const table = await runCli(["scan", join(dir, "package-lock.json"), "--db", join(dir, "GHSA-35jh-r3h4-6jhm.json")], { cwd: dir });
      assert.equal(table.code, 0, table.stderr);
      const rows = table.stdout.split("\n").filter((l) => l.includes("GHSA-35jh-r3h4-6jhm"));
      assert.equal(rows.length, 1, table.stdout);
      assert.match(rows[0] ?? "", /lodash \(2 copies\)\s+4\.17\.20\s+4\.17\.21/);
      const json = await runCli(["scan", join(dir, "package-lock.json"), "--db", join(dir, "GHSA-35jh-r3h4-6jhm.json"), "--format", "json"], { cwd: dir });
      assert.equal((JSON.parse(json.stdout) as { findings: unknown[] }).findings.length, 2, "both components keep their finding");
    } finally {
      await cleanup();
    }
  });
});
