/**
 * `tollgate sbom` as a user runs it: formats, --output, --exclude, --strict, sbom: and file:
 * targets, tollgate.yaml, and one-line errors for malformed lockfiles. Trees are built in temporary
 * directories from the hand-written fixtures (fixtures/).
 */
import assert from "node:assert/strict";
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { runCli, tempDir } from "../helpers.ts";
import { cycloneDxErrors } from "./support.ts";

const FIXTURES = fileURLToPath(new URL("fixtures/", import.meta.url));

/** A monorepo: npm at the top, yarn and go below, a broken lockfile, a node_modules to skip. */
async function monorepo(dir: string): Promise<void> {
  await cp(join(FIXTURES, "npm-v3"), dir, { recursive: true });
  await cp(join(FIXTURES, "yarn-classic"), join(dir, "web"), { recursive: true });
  await cp(join(FIXTURES, "go"), join(dir, "svc"), { recursive: true });
  await mkdir(join(dir, "broken"), { recursive: true });
  await writeFile(join(dir, "broken", "package-lock.json"), '{\n  "lockfileVersion": 3,\n  "packages": {\n    "": {\n      "name": "x",\n');
  await mkdir(join(dir, "node_modules", "dep"), { recursive: true });
  await writeFile(join(dir, "node_modules", "dep", "yarn.lock"), "hidden@^1:\n  version \"1.0.0\"\n");
}

describe("tollgate sbom", () => {
  it("catalogs a monorepo, names the malformed lockfile in one line, and still reports the others", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await monorepo(dir);
      const r = await runCli(["sbom", dir, "--deterministic"]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0] ?? "", /^tollgate: \S*\/broken\/package-lock\.json:\d+:\d+: unexpected end of JSON \(truncated\?\)$/);
      const bom = JSON.parse(r.stdout) as { components: { purl?: string }[] };
      const purls = bom.components.map((c) => c.purl);
      assert.ok(purls.includes("pkg:npm/left-pad@1.3.0"));
      assert.ok(purls.includes("pkg:npm/tap@16.3.0"), "web/yarn.lock");
      assert.ok(purls.includes("pkg:golang/github.com/google/uuid@v1.6.0"), "svc/go.mod");
      assert.ok(!purls.includes("pkg:npm/hidden@1.0.0"), "node_modules is skipped");
      assert.equal(await cycloneDxErrors(r.stdout), null);
    } finally {
      await cleanup();
    }
  });

  it("a malformed (not truncated) lockfile: the line and column of the bad token, and what was expected", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      // V8's JSON.parse gives no position for an unexpected token; the line must still be exact.
      const text = '{\n  "name": "x",\n  "lockfileVersion": 3,\n  "packages": {\n    "": { "version": },\n    "node_modules/a": { "version": "1.0.0" }\n  }\n}\n';
      await writeFile(join(dir, "package-lock.json"), text);
      const r = await runCli(["sbom", dir]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr.trim(), /^tollgate: \S*\/package-lock\.json:5:22: malformed JSON \(value expected\)$/);
    } finally {
      await cleanup();
    }
  });

  it("--strict: the same output, exit 2", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await monorepo(dir);
      const out = join(dir, "out", "sbom.json");
      const r = await runCli(["sbom", dir, "--strict", "--output", out]);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, "");
      assert.ok(JSON.parse(await readFile(out, "utf8")).components.length > 5);
    } finally {
      await cleanup();
    }
  });

  it("--exclude leaves out matching files; --format spdx-json; --spec-version 1.7", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await monorepo(dir);
      const r = await runCli(["sbom", dir, "--exclude", "broken/**", "svc", "--format", "spdx-json", "--deterministic"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, "");
      const doc = JSON.parse(r.stdout) as { spdxVersion: string; packages: { name: string }[] };
      assert.equal(doc.spdxVersion, "SPDX-2.3");
      assert.ok(!doc.packages.some((p) => p.name.includes("google/uuid")));
      const r17 = await runCli(["sbom", join(dir, "web"), "--spec-version", "1.7"]);
      assert.equal(JSON.parse(r17.stdout).specVersion, "1.7");
      assert.equal(await cycloneDxErrors(r17.stdout, "1.7"), null);
    } finally {
      await cleanup();
    }
  });

  it("same input, same bytes (SOURCE_DATE_EPOCH)", async () => {
    const a = await runCli(["sbom", join(FIXTURES, "pnpm-v9")], { env: { SOURCE_DATE_EPOCH: "1700000000" } });
    const b = await runCli(["sbom", join(FIXTURES, "pnpm-v9")], { env: { SOURCE_DATE_EPOCH: "1700000000" } });
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
    assert.match(a.stdout, /"timestamp": "2023-11-14T22:13:20/);
  });

  it("file: targets, sbom: targets (conversion), and a file no cataloger reads", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const one = await runCli(["sbom", `file:${join(FIXTURES, "ruby", "Gemfile.lock")}`, "--output", join(dir, "ruby.cdx.json")]);
      assert.equal(one.code, 0, one.stderr);
      const back = await runCli(["sbom", join(dir, "ruby.cdx.json"), "--format", "spdx-json"]);
      assert.equal(back.code, 0, back.stderr);
      const doc = JSON.parse(back.stdout) as { packages: { name: string; versionInfo?: string }[] };
      assert.ok(doc.packages.some((p) => p.name === "rack" && p.versionInfo === "3.0.8"));
      await writeFile(join(dir, "notes.txt"), "hello\n");
      const none = await runCli(["sbom", join(dir, "notes.txt"), "--strict"]);
      assert.equal(none.code, 2);
      assert.match(none.stderr, /notes\.txt: no cataloger reads this kind of file/);
    } finally {
      await cleanup();
    }
  });

  it("reads sbom.format, sbom.exclude and sbom.spec_version from tollgate.yaml; rejects an unknown format", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await monorepo(dir);
      await writeFile(join(dir, "tollgate.yaml"), "sbom:\n  format: spdx-json\n  exclude: ['broken/**']\n  spec_version: '1.5'\n");
      const r = await runCli(["sbom", dir], { cwd: dir });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, "");
      assert.equal(JSON.parse(r.stdout).spdxVersion, "SPDX-2.3");
      const cdx15 = await runCli(["sbom", dir, "--format", "cyclonedx-json"], { cwd: dir });
      assert.equal(JSON.parse(cdx15.stdout).specVersion, "1.5");
      const bad = await runCli(["sbom", dir, "--format", "xml"], { cwd: dir });
      assert.equal(bad.code, 2);
      assert.equal(bad.stderr.trim().split("\n").length, 1);
    } finally {
      await cleanup();
    }
  });
});
