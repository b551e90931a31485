/**
 * `check dir:` walks the tree once: the Dockerfiles its lint reads and the ranges its remediation
 * checks come from the SBOM's walk, and give what a walk or a lockfile read of their own gave.
 */
import assert from "node:assert/strict";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { checkDeclaredRanges } from "../../src/gate/remediation.ts";
import { findDockerfiles } from "../../src/lint/index.ts";
import type { Component, Sbom, UpgradeGroup } from "../../src/model/index.ts";
import { buildSbom, serializeCycloneDx, serializeSpdx } from "../../src/sbom/index.ts";
import { tempDir } from "../helpers.ts";

const LOCK = {
  name: "app",
  version: "1.0.0",
  lockfileVersion: 3,
  packages: {
    "": { name: "app", version: "1.0.0", dependencies: { lodash: "^4.17.20", tool: "1.0.0" }, devDependencies: { minimist: "1.2.5" } },
    "node_modules/lodash": { version: "4.17.20" },
    "node_modules/minimist": { version: "1.2.5", dev: true },
    "node_modules/tool": { version: "1.0.0", dependencies: { lodash: "~4.17.0", minimist: 1 }, peerDependencies: { debug: "2.x" } },
    "node_modules/debug": { version: "2.6.8" },
  },
};

function upgrades(): UpgradeGroup[] {
  const u = (name: string, from: string, to: string): UpgradeGroup => ({ package: `pkg:npm/${name}@${from}`, name, ecosystem: "npm", from, to, fixes: [] });
  return [u("lodash", "4.17.20", "4.17.21"), u("minimist", "1.2.5", "1.2.6"), u("debug", "2.6.8", "2.6.9"), u("tool", "1.0.0", "1.0.1")];
}

/** The SBOM's components as an SBOM built elsewhere has them: without the ranges the walk recorded. */
function withoutRanges(components: readonly Component[]): Component[] {
  return components.map(({ declaredRanges: _, ...c }) => c);
}

describe("check's stages take the SBOM's walk", () => {
  it("npm declared ranges: recorded by the lockfile cataloger, the same answer as a read of the lockfile", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await writeFile(join(dir, "package-lock.json"), JSON.stringify(LOCK, null, 2));
      const sbom = await buildSbom({ kind: "dir", input: dir, path: dir });
      const reread = upgrades();
      await checkDeclaredRanges(reread, withoutRanges(sbom.components), dir);
      assert.deepEqual(
        reread.map((u) => [u.name, u.withinDeclaredRange, u.declaredRanges]),
        [
          ["lodash", "yes", ["(project) → ^4.17.20", "tool → ~4.17.0"]],
          ["minimist", "no", ["(project) → 1.2.5", "tool → 1"]],
          ["debug", "yes", ["tool → 2.x"]],
          ["tool", "no", ["(project) → 1.0.0"]],
        ],
      );
      // The lockfile gone: the ranges the walk recorded still answer, and answer the same.
      await rm(join(dir, "package-lock.json"));
      const walked = upgrades();
      await checkDeclaredRanges(walked, sbom.components, dir);
      assert.deepEqual(walked, reread);
      assert.deepEqual(
        sbom.components.filter((c) => c.name === "debug").map((c) => c.declaredRanges),
        [[{ requester: "node_modules/tool", range: "2.x" }]],
      );
    } finally {
      await cleanup();
    }
  });

  it("npm declared ranges with the packages installed: the same answer as a read of the lockfile", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await writeFile(join(dir, "package-lock.json"), JSON.stringify(LOCK, null, 2));
      // The installed copy's component comes first in the walk and merges with the lockfile's.
      await mkdir(join(dir, "node_modules", "lodash"), { recursive: true });
      await writeFile(join(dir, "node_modules", "lodash", "package.json"), JSON.stringify({ name: "lodash", version: "4.17.20" }));
      const sbom = await buildSbom({ kind: "dir", input: dir, path: dir });
      const walked = upgrades();
      const reread = upgrades();
      await checkDeclaredRanges(walked, sbom.components, dir);
      await checkDeclaredRanges(reread, withoutRanges(sbom.components), dir);
      assert.deepEqual(walked, reread);
      assert.equal(walked[0]!.withinDeclaredRange, "yes");
    } finally {
      await cleanup();
    }
  });

  it("a lockfile without a packages table (v1) answers unknown, without ranges, both ways", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await writeFile(join(dir, "package-lock.json"), JSON.stringify({ name: "app", version: "1.0.0", lockfileVersion: 1, dependencies: { lodash: { version: "4.17.20" } } }));
      const sbom = await buildSbom({ kind: "dir", input: dir, path: dir });
      assert.equal(sbom.components.find((c) => c.name === "lodash")?.declaredRanges, null);
      const walked = upgrades().slice(0, 1);
      const reread = upgrades().slice(0, 1);
      await checkDeclaredRanges(walked, sbom.components, dir);
      await checkDeclaredRanges(reread, withoutRanges(sbom.components), dir);
      assert.deepEqual(walked, reread);
      assert.equal(walked[0]!.withinDeclaredRange, "unknown");
      assert.equal(walked[0]!.declaredRanges, undefined);
    } finally {
      await cleanup();
    }
  });

  it("Dockerfiles: the SBOM's walk lists those findDockerfiles finds, and its output does not show them", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      for (const folder of ["app", "b", "node_modules/x", ".git", "vendor"]) await mkdir(join(dir, folder), { recursive: true });
      for (const path of ["Dockerfile", "Dockerfile.dockerignore", "app/Containerfile", "app/api.Dockerfile", "b/Dockerfile.prod", "node_modules/x/Dockerfile", ".git/Dockerfile", "vendor/Dockerfile", "notes.txt"]) {
        await writeFile(join(dir, path), "FROM scratch\n");
      }
      await writeFile(join(dir, "package-lock.json"), JSON.stringify(LOCK));
      const target = { kind: "dir", input: dir, path: dir } as const;
      const sbom = await buildSbom(target, { deterministic: true });
      const listed = (sbom.buildFiles ?? []).map((f) => join(dir, f.path));
      assert.deepEqual(listed, await findDockerfiles(dir));
      assert.deepEqual(listed, ["Dockerfile", "app/Containerfile", "app/api.Dockerfile", "b/Dockerfile.prod"].map((p) => join(dir, p)));
      // In memory only: the serialized SBOMs are those of the same SBOM without the walk's extras.
      const bare: Sbom = { ...sbom, components: withoutRanges(sbom.components) };
      delete bare.buildFiles;
      assert.equal(serializeCycloneDx(sbom, { deterministic: true }), serializeCycloneDx(bare, { deterministic: true }));
      assert.equal(serializeSpdx(sbom, { deterministic: true }), serializeSpdx(bare, { deterministic: true }));
      // What `sbom.exclude` leaves out of the SBOM is left out of the lint too: one walk, one view of the tree.
      assert.deepEqual((await buildSbom(target, { exclude: ["app"] })).buildFiles?.map((f) => f.path), ["Dockerfile", "b/Dockerfile.prod"]);
      assert.equal((await buildSbom({ kind: "file", input: join(dir, "package-lock.json"), path: join(dir, "package-lock.json") })).buildFiles, undefined);
    } finally {
      await cleanup();
    }
  });
});
