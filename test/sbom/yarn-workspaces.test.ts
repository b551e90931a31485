/**
 * Yarn classic (v1) workspaces: a v1 yarn.lock never lists the workspace packages, so the cataloger
 * finds them through the root package.json's `workspaces` globs, the way yarn 1 does (node-glob 7 over
 * `<pattern>/package.json`). The fixture fixtures/yarn-classic-workspaces was written by hand (its
 * README says where its lockfile entries come from); the pattern cases are built in temporary folders.
 */
import assert from "node:assert/strict";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { VirtualFs } from "../../src/collect/index.ts";
import type { Component, Sbom } from "../../src/model/index.ts";
import { readYarnClassicWorkspaces, yarnWorkspacePatterns } from "../../src/catalogers/language/yarn-lock.ts";
import { buildSbom, serializeCycloneDx, serializeSpdx } from "../../src/sbom/index.ts";
import { SHARED_TESTDATA, sharedTestdataMissing, tempDir } from "../helpers.ts";
import { layoutOf, tarOf } from "../image/layout-builder.ts";
import { cycloneDxErrors, spdxErrors } from "./support.ts";

const FIXTURE = fileURLToPath(new URL("fixtures/yarn-classic-workspaces/", import.meta.url));

async function sbomOf(path: string): Promise<Sbom> {
  return buildSbom({ kind: "dir", input: path, path }, { deterministic: true });
}

function byName(sbom: Sbom): Map<string, Component> {
  return new Map(sbom.components.map((c) => [c.name, c]));
}

async function tree(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, ".."), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

const pkg = (name: string, version = "1.0.0", extra: Record<string, unknown> = {}): string => JSON.stringify({ name, version, ...extra });

function workspaceFolders(sbom: Sbom): string[] {
  return sbom.components.flatMap((c) => c.properties?.["tollgate:yarn:workspace"] ?? []).sort();
}

describe("yarn classic workspaces (fixture)", () => {
  it("each workspace is an application component with its purl, folder, package.json and scope", async () => {
    const sbom = await sbomOf(FIXTURE);
    assert.deepEqual(sbom.problems, []);
    const c = byName(sbom);
    assert.deepEqual([...c.keys()].sort(), ["@demo/app", "@demo/util", "debug", "escape-string-regexp", "is-number", "ms"]);
    const app = c.get("@demo/app") as Component;
    const util = c.get("@demo/util") as Component;
    assert.equal(app.purl, "pkg:npm/%40demo/app@1.2.0");
    assert.equal(util.purl, "pkg:npm/%40demo/util@0.3.1");
    for (const [w, folder] of [[app, "packages/app"], [util, "packages/util"]] as const) {
      assert.equal(w.type, "application");
      assert.equal(w.scope, "required");
      assert.equal(w.direct, true);
      assert.equal(w.properties?.["tollgate:yarn:workspace"], folder);
      assert.deepEqual(w.locations, [{ path: `${folder}/package.json` }]);
    }
    // packages/docs matches the glob but has no package.json: no workspace.
    assert.deepEqual(workspaceFolders(sbom), ["packages/app", "packages/util"]);
    assert.equal(c.get("debug")?.purl, "pkg:npm/debug@4.4.3");
    assert.equal(c.get("debug")?.type, "library");
  });

  it("a file: target (the yarn.lock alone) finds the same workspaces", async () => {
    const lock = join(FIXTURE, "yarn.lock");
    const sbom = await buildSbom({ kind: "file", input: lock, path: lock }, { deterministic: true });
    assert.deepEqual(sbom.problems, []);
    assert.deepEqual(workspaceFolders(sbom), ["packages/app", "packages/util"]);
  });

  it("edges: root → workspaces, workspace → workspace by name, workspace → lockfile entry by name@range", async () => {
    const sbom = await sbomOf(FIXTURE);
    const c = byName(sbom);
    const ref = (n: string): string => (c.get(n) as Component).ref;
    assert.equal(sbom.metadata.component?.purl, "pkg:npm/yarn-ws-demo@1.0.0");
    assert.deepEqual(sbom.metadata.component?.dependencies, [ref("@demo/app"), ref("@demo/util"), ref("is-number")].sort());
    assert.deepEqual(c.get("@demo/app")?.dependencies, [ref("@demo/util"), ref("debug")].sort());
    assert.deepEqual(c.get("@demo/util")?.dependencies, [ref("escape-string-regexp"), ref("ms")].sort());
    assert.deepEqual(c.get("debug")?.dependencies, [ref("ms")]);
  });

  it("scopes: workspace runtime dependencies are required, their dev dependencies dev, the root's dev dev", async () => {
    const c = byName(await sbomOf(FIXTURE));
    assert.equal(c.get("debug")?.scope, "required");
    assert.equal(c.get("ms")?.scope, "required");
    assert.equal(c.get("escape-string-regexp")?.scope, "dev");
    assert.equal(c.get("is-number")?.scope, "dev");
    assert.equal(c.get("is-number")?.direct, true);
    assert.equal(c.get("ms")?.direct, undefined);
  });

  it("the SBOM validates: CycloneDX 1.6 and SPDX 2.3", { skip: sharedTestdataMissing("spdx") }, async () => {
    const sbom = await sbomOf(FIXTURE);
    const json = serializeCycloneDx(sbom, { deterministic: true });
    assert.equal(await cycloneDxErrors(json, "1.6"), null);
    const bom = JSON.parse(json) as { components: { name: string; type: string }[]; dependencies: { ref: string; dependsOn?: string[] }[] };
    assert.equal(bom.components.find((x) => x.name === "@demo/app")?.type, "application");
    assert.deepEqual(bom.dependencies.find((d) => d.ref === "pkg:npm/%40demo/app@1.2.0")?.dependsOn, ["pkg:npm/%40demo/util@0.3.1", "pkg:npm/debug@4.4.3"]);
    const spdx = JSON.parse(serializeSpdx(sbom, { deterministic: true })) as { packages: { name: string }[] };
    assert.equal(spdxErrors(spdx), null);
    assert.ok(spdx.packages.some((p) => p.name === "@demo/util"));
  });
});

describe("yarn classic workspace patterns, as yarn 1 expands them", () => {
  it("reads both shapes of `workspaces`", () => {
    assert.deepEqual(yarnWorkspacePatterns({ workspaces: ["a/*", 3, "b"] }), ["a/*", "b"]);
    assert.deepEqual(yarnWorkspacePatterns({ workspaces: { packages: ["a/*"], nohoist: ["**/x"] } }), ["a/*"]);
    assert.deepEqual(yarnWorkspacePatterns({ workspaces: "a/*" }), []);
    assert.deepEqual(yarnWorkspacePatterns(undefined), []);
  });

  it("`**`, extglob, plain paths, dot folders, node_modules, a leading '!' entry, a subfolder project", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const root = join(dir, "repo", "web");
      await tree(root, {
        "yarn.lock": "# yarn lockfile v1\n\n\nleft-pad@^1.3.0:\n  version \"1.3.0\"\n",
        "package.json": JSON.stringify({ name: "web", private: true, workspaces: { packages: ["apps/**", "libs/!(legacy)", "./tools/cli/", "!apps/skip", "libs/{a,b}"], nohoist: ["**"] } }),
        "apps/package.json": pkg("apps-itself"),
        "apps/web/package.json": pkg("web-app", "2.0.0", { dependencies: { "left-pad": "^1.3.0", "lib-a": "*" } }),
        "apps/web/test/fixture/package.json": pkg("nested-fixture"),
        "apps/skip/package.json": pkg("skip"),
        "apps/.cache/x/package.json": pkg("dot-hidden"),
        "apps/node_modules/dep/package.json": pkg("installed-dep"),
        "libs/a/package.json": pkg("lib-a"),
        "libs/legacy/package.json": pkg("legacy"),
        "libs/noversion/package.json": JSON.stringify({ name: "no-version" }),
        "tools/cli/package.json": pkg("cli"),
        "tools/other/package.json": pkg("not-named"),
      });
      const sbom = await sbomOf(join(dir, "repo"));
      assert.deepEqual(sbom.problems, []);
      // `apps/**` names apps itself and every folder below (yarn 1 does the same), except dot folders
      // and node_modules; "!apps/skip" excludes nothing in yarn 1 (node-glob 7 has negation off).
      assert.deepEqual(workspaceFolders(sbom), ["apps", "apps/skip", "apps/web", "apps/web/test/fixture", "libs/a", "tools/cli"]);
      const c = byName(sbom);
      assert.deepEqual(c.get("web-app")?.locations, [{ path: "web/apps/web/package.json" }]);
      assert.deepEqual(c.get("web-app")?.dependencies, [c.get("left-pad")?.ref, c.get("lib-a")?.ref].sort());
      assert.equal(c.get("left-pad")?.scope, "required");
    } finally {
      await cleanup();
    }
  });

  it("a malformed or unreadable workspace package.json is one problem for that file; the rest is reported", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await tree(dir, {
        "yarn.lock": "# yarn lockfile v1\n\n\nms@^2.1.3:\n  version \"2.1.3\"\n",
        "package.json": JSON.stringify({ name: "r", private: true, workspaces: ["packages/*", "../elsewhere/*", "/abs/*"] }),
        "packages/good/package.json": pkg("good", "1.0.0", { dependencies: { ms: "^2.1.3" } }),
        "packages/bad/package.json": '{\n  "name": "bad",\n  "version": \n}\n',
        "packages/array/package.json": "[]",
        "packages/zdupe/package.json": pkg("good", "9.9.9"),
      });
      const sbom = await sbomOf(dir);
      assert.deepEqual(workspaceFolders(sbom), ["packages/good"]);
      assert.equal(byName(sbom).get("ms")?.scope, "required");
      const problems = sbom.problems.map((p) => `${p.file ?? ""}|${p.line ?? ""}|${p.message}`);
      assert.equal(problems.length, 5, problems.join("\n"));
      // The JSON error names the file and a line (where common.ts's parseJsonText places it).
      assert.ok(problems.some((p) => /^packages\/bad\/package\.json\|\d+\|packages\/bad\/package\.json:\d+:\d+: /.test(p)), problems.join("\n"));
      assert.ok(problems.some((p) => p.startsWith("packages/array/package.json||") && p.includes("not a JSON object")));
      assert.ok(problems.some((p) => p.startsWith("packages/zdupe/package.json||") && p.includes('"good" is already used by packages/good')));
      assert.equal(problems.filter((p) => p.includes("points outside the project")).length, 2);
      for (const p of sbom.problems) assert.ok(!p.message.includes("\n"), "one line");
    } finally {
      await cleanup();
    }
  });

  it("symlinks never lead the globs out of the tree or into a loop (security regression)", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const root = join(dir, "repo");
      await tree(root, {
        "yarn.lock": "# yarn lockfile v1\n\n",
        "package.json": JSON.stringify({ name: "r", private: true, workspaces: ["linked", "linked/*", "packages/**"] }),
        "packages/a/package.json": pkg("a"),
      });
      await tree(dir, { "outside/package.json": pkg("outside-secret"), "outside/x/package.json": pkg("outside-x") });
      await symlink(join(dir, "outside"), join(root, "packages", "out"));
      await symlink(join(dir, "outside"), join(root, "linked"));
      await symlink(root, join(root, "packages", "loop"));
      const sbom = await sbomOf(root);
      assert.deepEqual(workspaceFolders(sbom), ["packages/a"]);
      assert.ok(!sbom.components.some((c) => c.name.startsWith("outside")));
      // "linked" and "linked/*" name folders outside the root through a symlink: refused, one line
      // each, and the patterns after them are still expanded.
      assert.equal(sbom.problems.length, 2, JSON.stringify(sbom.problems));
      for (const p of sbom.problems) assert.match(p.message, /^package\.json: workspace pattern "linked(\/\*)?": .*resolves outside/);
    } finally {
      await cleanup();
    }
  });

  it("at most 10,000 workspace folders are read; more is one problem", async () => {
    // An in-memory filesystem standing in for a tree of 10,001 workspace folders (cheaper than disk).
    const n = 10_001;
    const names = Array.from({ length: n }, (_, i) => `p${String(i).padStart(5, "0")}`);
    let reads = 0;
    const fs: VirtualFs = {
      description: "memory",
      async *walk() {},
      readFile: async (p) => {
        reads++;
        return Buffer.from(pkg(p.split("/")[1] as string));
      },
      exists: async () => true,
      listDirectory: async (p) => (p === "packages" ? names : p.startsWith("packages/") ? ["package.json"] : []),
    };
    const out = await readYarnClassicWorkspaces(fs, "yarn.lock", { workspaces: ["packages/*"] });
    assert.equal(out.workspaces.length, 10_000);
    assert.equal(reads, 10_000);
    assert.equal(out.problems.length, 1);
    assert.match(out.problems[0]?.message ?? "", /more than 10000 workspace folders/);
  });

  it("`**` over an endless tree stops at the listing limit (one problem), keeping at most 10,000 workspaces", async () => {
    // An in-memory filesystem whose every folder holds ten folders and a package.json: no end to `**`.
    let listings = 0;
    const fs: VirtualFs = {
      description: "memory",
      async *walk() {},
      readFile: async (p) => Buffer.from(pkg(p.replaceAll("/", "-"))),
      exists: async () => true,
      listDirectory: async () => {
        listings++;
        return ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "package.json"];
      },
    };
    const out = await readYarnClassicWorkspaces(fs, "yarn.lock", { workspaces: ["a/**", "b/*"] });
    assert.equal(listings, 100_000);
    // The listing limit stops the expansion ("b/*" is not expanded); what was found before it is
    // kept, capped at 10,000 workspaces.
    assert.deepEqual(
      out.problems.map((p) => p.message),
      ['package.json: workspace pattern "a/**": workspace patterns list more than 100000 folders', "package.json: more than 10000 workspace folders; the first 10000 are read"],
    );
    assert.equal(out.workspaces.length, 10_000);
    assert.ok(!out.workspaces.some((w) => w.folder.startsWith("b/")));
  });

  it("a filesystem without listDirectory finds no workspaces and reports nothing", async () => {
    const fs: VirtualFs = { description: "memory", async *walk() {}, readFile: async () => Buffer.from("{}"), exists: async () => true };
    assert.deepEqual(await readYarnClassicWorkspaces(fs, "yarn.lock", { workspaces: ["packages/*"] }), { workspaces: [], problems: [] });
  });
});

describe("yarn classic workspaces in a container image", () => {
  it("are found through the squashed view's listing", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const layer = await tarOf([
        { name: "srv/yarn.lock", content: "# yarn lockfile v1\n\n\nms@^2.1.3:\n  version \"2.1.3\"\n" },
        { name: "srv/package.json", content: JSON.stringify({ name: "srv", private: true, workspaces: ["pkgs/*"] }) },
        { name: "srv/pkgs/one/package.json", content: pkg("one", "1.0.0", { dependencies: { ms: "^2.1.3", two: "^1.0.0" } }) },
        { name: "srv/pkgs/two/package.json", content: pkg("two") },
        { name: "srv/pkgs/gone/package.json", content: pkg("gone") },
      ]);
      // A later layer deletes one workspace folder: it is no longer there.
      const upper = await tarOf([{ name: "srv/pkgs/.wh.gone", content: "" }]);
      const layout = join(dir, "layout");
      await layoutOf(layout, [
        { tar: layer, compression: "gzip" },
        { tar: upper, compression: "gzip" },
      ]);
      const sbom = await buildSbom({ kind: "oci-dir", input: layout, path: layout, tag: "t" }, { deterministic: true });
      assert.deepEqual(workspaceFolders(sbom), ["pkgs/one", "pkgs/two"]);
      const c = byName(sbom);
      assert.deepEqual(c.get("one")?.dependencies, [c.get("ms")?.ref, c.get("two")?.ref].sort());
      assert.deepEqual(c.get("one")?.locations.map((l) => l.path), ["srv/pkgs/one/package.json"]);
    } finally {
      await cleanup();
    }
  });
});

describe("theia-ide (root package.json only, workspace folders absent)", { skip: sharedTestdataMissing("lockfiles") }, () => {
  it("still works and reports no problem", async () => {
    const path = join(SHARED_TESTDATA, "lockfiles", "yarn-theia-ide");
    const sbom = await sbomOf(path);
    assert.deepEqual(sbom.problems, []);
    assert.deepEqual(workspaceFolders(sbom), []);
    assert.ok(sbom.components.length > 2000);
  });
});
