import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { defaultConfig, loadConfig, parseConfig } from "../../src/config/index.ts";
import { InputError } from "../../src/errors.ts";
import { tempDir } from "../helpers.ts";

describe("tollgate.yaml", () => {
  it("has a documented default policy with no file", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const loaded = await loadConfig(undefined, dir);
      assert.equal(loaded.file, undefined);
      assert.equal(loaded.config.fail_on, "high");
      assert.equal(loaded.config.warn_on, "medium");
      assert.equal(loaded.config.only_fixed, false);
      assert.equal(loaded.config.unresolved, "warn");
      assert.equal(loaded.config.triage.recurring_after, 3);
      assert.deepEqual(loaded.config, defaultConfig());
    } finally {
      await cleanup();
    }
  });

  it("reads ./tollgate.yaml and fills in defaults", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await writeFile(
        join(dir, "tollgate.yaml"),
        "fail_on: critical\nwaivers:\n  - id: [CVE-2021-23337, GHSA-35jh-r3h4-6jhm]\n    package: pkg:npm/lodash\n    reason: not reachable\n    owner: sec@example.com\n    expires: 2026-12-31\n",
      );
      const { config, file } = await loadConfig(undefined, dir);
      assert.equal(file, "tollgate.yaml");
      assert.equal(config.fail_on, "critical");
      assert.equal(config.warn_on, "medium");
      assert.deepEqual(config.waivers[0]?.id, ["CVE-2021-23337", "GHSA-35jh-r3h4-6jhm"]);
      assert.equal(config.waivers[0]?.expires, "2026-12-31");
    } finally {
      await cleanup();
    }
  });

  it("names file, line and field of an invalid value", () => {
    assert.throws(
      () => parseConfig("fail_on: hihg\n", "t.yaml"),
      (e: unknown) => e instanceof InputError && e.message.startsWith("t.yaml:1:10: fail_on: ") && e.code === "CONFIG",
    );
    assert.throws(() => parseConfig("triage:\n  recurring_after: 0\n", "t.yaml"), /^InputError: t\.yaml:2:20: triage\.recurring_after: /);
  });

  it("names the line of an unknown key and of a missing required field", () => {
    assert.throws(() => parseConfig("fail_on: high\nfial_on: low\n", "t.yaml"), /t\.yaml:2:1: fial_on: unknown key/);
    assert.throws(() => parseConfig("waivers:\n  - id: X\n    expires: 2027-01-01\n", "t.yaml"), /t\.yaml:2:5: waivers\[0\]\.reason: /);
  });

  it("reports YAML syntax errors with their position", () => {
    assert.throws(() => parseConfig("fail_on: [high\n", "t.yaml"), /^InputError: t\.yaml:\d+:\d+: /);
    assert.throws(() => parseConfig("a: 1\na: 2\n", "t.yaml"), /t\.yaml:2:1: Map keys must be unique/);
  });

  it("an explicit --config that does not exist is an error", async () => {
    await assert.rejects(loadConfig("/no/such/tollgate.yaml"), /\/no\/such\/tollgate\.yaml: no such file/);
  });
});
