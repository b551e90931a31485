/**
 * npm lockfiles. Fixtures in fixtures/npm-v3 and fixtures/npm-v1 were written for these tests (by a
 * small script, integrity values are sha512/sha1 of "name-version" strings) and checked by hand and
 * with `npm ls --all --package-lock-only`, which accepts them. The large lockfiles come from
 * ../shared/testdata/lockfiles, with npm itself as the oracle.
 */
import assert from "node:assert/strict";
import { copyFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { jsonKeyLines } from "../../src/catalogers/common/text.ts";
import { parseNpmLock } from "../../src/catalogers/language/npm-lock.ts";
import { buildSbom } from "../../src/sbom/index.ts";
import { SHARED_TESTDATA, sharedTestdataMissing, tempDir } from "../helpers.ts";
import { npmLsPairs } from "./support.ts";
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";

const FIXTURES = fileURLToPath(new URL("fixtures/", import.meta.url));

function lock(dir: string): ReturnType<typeof parseNpmLock> {
  return parseNpmLock(readFileSync(join(FIXTURES, dir, "package-lock.json"), "utf8"), "package-lock.json");
}

describe("npm package-lock v3", () => {
  const { components, root } = lock("npm-v3");
  const byRef = new Map(components.map((c) => [c.ref, c]));
  const get = (ref: string) => {
    const c = byRef.get(ref);
    assert.ok(c, `${ref} missing; have ${[...byRef.keys()].join(", ")}`);
    return c;
  };

  it("lists every installed package once, with its exact version and purl", () => {
    assert.deepEqual(
      components.map((c) => `${c.name}@${c.version}`).sort(),
      ["@demo/util@0.1.0", "fsevents@2.3.3", "gitdep@2.0.0", "is-number@7.0.0", "left-pad@1.1.0", "left-pad@1.3.0", "react@18.2.0", "tape@5.0.0"],
    );
    assert.equal(get("pkg:npm/left-pad@1.3.0").ecosystem, "npm");
    assert.equal(get("pkg:npm/%40demo/util@0.1.0").type, "application");
  });

  it("sets dev, optional and peer scopes", () => {
    assert.equal(get("pkg:npm/left-pad@1.3.0").scope, "required");
    assert.equal(get("pkg:npm/tape@5.0.0").scope, "dev");
    assert.equal(get("pkg:npm/left-pad@1.1.0").scope, "dev");
    assert.equal(get("pkg:npm/fsevents@2.3.3").scope, "optional");
    assert.equal(get("pkg:npm/react@18.2.0").scope, "peer");
  });

  it("names an aliased package by its real name and keeps the alias", () => {
    const c = get("pkg:npm/is-number@7.0.0");
    assert.equal(c.properties?.["tollgate:npm:alias"], "my-alias");
  });

  it("marks a git dependency's source in the purl", () => {
    const c = components.find((x) => x.name === "gitdep");
    assert.ok(c?.purl?.startsWith("pkg:npm/gitdep@2.0.0?vcs_url=git%2Bssh%3A"), c?.purl);
  });

  it("turns integrity into hex hashes and keeps licenses and lines", () => {
    const c = get("pkg:npm/left-pad@1.3.0");
    assert.deepEqual(c.hashes, [{ alg: "SHA-512", content: createHashHex("left-pad-1.3.0") }]);
    assert.deepEqual(c.licenses, ["WTFPL"]);
    const text = readFileSync(join(FIXTURES, "npm-v3", "package-lock.json"), "utf8").split("\n");
    const line = c.locations[0]?.line ?? 0;
    assert.match(text[line - 1] ?? "", /"node_modules\/left-pad": \{/);
  });

  it("resolves edges the way Node does (nested copy first) and marks direct dependencies", () => {
    assert.deepEqual(get("pkg:npm/tape@5.0.0").dependencies, ["pkg:npm/left-pad@1.1.0"]);
    assert.deepEqual(get("pkg:npm/%40demo/util@0.1.0").dependencies, ["pkg:npm/left-pad@1.3.0", "pkg:npm/react@18.2.0"]);
    assert.ok(root);
    assert.equal(root.purl, "pkg:npm/demo@1.0.0");
    assert.deepEqual(
      root.dependencies.filter((d) => !d.includes("gitdep")),
      ["pkg:npm/%40demo/util@0.1.0", "pkg:npm/fsevents@2.3.3", "pkg:npm/is-number@7.0.0", "pkg:npm/left-pad@1.3.0", "pkg:npm/tape@5.0.0"],
    );
    assert.equal(get("pkg:npm/left-pad@1.3.0").direct, true);
    assert.equal(get("pkg:npm/left-pad@1.1.0").direct, undefined);
  });
});

function createHashHex(s: string): string {
  return createHash("sha512").update(s).digest("hex");
}

describe("npm package-lock v1", () => {
  const { components, root } = lock("npm-v1");
  it("flattens nested dependencies, resolves aliases and nested copies", () => {
    assert.deepEqual(components.map((c) => `${c.name}@${c.version}:${c.scope}`).sort(), ["a@1.0.0:required", "b@1.5.0:dev", "b@2.0.0:required", "c@1.0.0:dev"]);
    const c = components.find((x) => x.name === "c");
    assert.deepEqual(c?.dependencies, ["pkg:npm/b@1.5.0"]);
    const a = components.find((x) => x.name === "a");
    assert.deepEqual(a?.dependencies, ["pkg:npm/b@2.0.0"]);
    assert.equal(a?.hashes[0]?.alg, "SHA-1");
    assert.equal(a?.locations.length, 2, "a is installed twice (as a and as the alias d)");
    assert.equal(root?.name, "old");
  });
});

describe("npm lockfiles against npm ls (the oracle)", () => {
  const cases = [
    { name: "fixture v3", dir: join(FIXTURES, "npm-v3"), skip: false as string | false },
    { name: "fixture v1", dir: join(FIXTURES, "npm-v1"), skip: false as string | false },
    { name: "create-react-app (v2, 2,589 entries)", dir: join(SHARED_TESTDATA, "lockfiles", "npm-create-react-app"), skip: sharedTestdataMissing("lockfiles") },
    { name: "electron-react-boilerplate (v3)", dir: join(SHARED_TESTDATA, "lockfiles", "npm-electron-react-boilerplate"), skip: sharedTestdataMissing("lockfiles") },
  ];
  for (const c of cases) {
    it(`${c.name}: the same name@version pairs as npm ls --package-lock-only`, { skip: c.skip }, async () => {
      const { dir, cleanup } = await tempDir();
      try {
        await copyFile(join(c.dir, "package-lock.json"), join(dir, "package-lock.json"));
        await copyFile(join(c.dir, "package.json"), join(dir, "package.json"));
        const oracle = await npmLsPairs(dir);
        const sbom = await buildSbom({ kind: "dir", input: c.dir, path: c.dir });
        const ours = new Set<string>();
        for (const comp of sbom.components) {
          if (comp.version === undefined) continue; // a workspace folder without a version: npm ls lists it as missing
          ours.add(`${comp.name}@${comp.version}`);
          // npm ls names an aliased package by its alias.
          for (const alias of comp.properties?.["tollgate:npm:alias"]?.split(",") ?? []) ours.add(`${alias}@${comp.version}`);
        }
        const missing = [...oracle].filter((p) => !ours.has(p));
        assert.deepEqual(missing, [], "pairs npm ls lists that tollgate does not");
        const aliases = sbom.components.reduce((n, x) => n + (x.properties?.["tollgate:npm:alias"]?.split(",").length ?? 0), 0);
        const extra = [...ours].filter((p) => !oracle.has(p));
        assert.ok(extra.length <= aliases, `pairs tollgate lists that npm ls does not: ${extra.slice(0, 10).join(", ")}`);
        assert.ok(sbom.components.length >= oracle.size - aliases);
        assert.equal(sbom.problems.length, 0);
      } finally {
        await cleanup();
      }
    });
  }

  it("create-react-app: sample pairs, counts and dev scope", { skip: sharedTestdataMissing("lockfiles") }, async () => {
    const dir = join(SHARED_TESTDATA, "lockfiles", "npm-create-react-app");
    const sbom = await buildSbom({ kind: "dir", input: dir, path: dir });
    const pairs = new Set(sbom.components.map((x) => `${x.name}@${x.version}`));
    for (const p of ["react@16.14.0", "@babel/core@7.16.0", "webpack@5.64.4", "@docusaurus/react-loadable@5.5.2"]) assert.ok(pairs.has(p), p);
    // 2,114 unique name@version plus the workspace folder without a version (cra-docs).
    assert.equal(sbom.components.length, 2115);
    assert.equal(sbom.metadata.component?.name, "create-react-app");
    assert.equal(sbom.components.find((x) => x.name === "lerna")?.scope, "dev");
  });
});

describe("npm-shrinkwrap.json", () => {
  it("is read like package-lock.json (same format, published with the package)", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await copyFile(join(FIXTURES, "npm-v3", "package-lock.json"), join(dir, "npm-shrinkwrap.json"));
      const sbom = await buildSbom({ kind: "dir", input: dir, path: dir });
      assert.equal(sbom.components.length, lock("npm-v3").components.length);
      assert.equal(sbom.metadata.component?.purl, "pkg:npm/demo@1.0.0");
      assert.equal(sbom.components[0]?.locations[0]?.path, "npm-shrinkwrap.json");
    } finally {
      await cleanup();
    }
  });
});

describe("npm package lines", () => {
  /** The `packages` key each location points at must be the first line jsonKeyLines finds for that key. */
  function checkLines(text: string): number {
    const keyLines = jsonKeyLines(text, 2);
    const rows = text.split("\n");
    let checked = 0;
    for (const c of parseNpmLock(text, "package-lock.json").components) {
      for (const l of c.locations) {
        assert.ok(l.line !== undefined, `${c.ref} has no line`);
        const key = /^\s*("(?:[^"\\]|\\.)*")\s*:/.exec(rows[l.line - 1] ?? "")?.[1];
        assert.ok(key !== undefined, `${c.ref}: line ${l.line} holds no key`);
        assert.equal(keyLines.get(`packages\u0000${JSON.parse(key) as string}`), l.line, `${c.ref}: line ${l.line}`);
        checked++;
      }
    }
    return checked;
  }

  it("points each package at its key line in the large lockfiles", { skip: sharedTestdataMissing("lockfiles") }, () => {
    for (const dir of ["npm-create-react-app", "npm-electron-react-boilerplate"]) {
      const text = readFileSync(join(SHARED_TESTDATA, "lockfiles", dir, "package-lock.json"), "utf8");
      assert.ok(checkLines(text) > 1000, dir);
    }
  });

  it("finds the lines when key order differs from JSON.parse's order (an integer-like workspace folder)", () => {
    // Hand-written: JSON.parse lists the key "1" first although the file has it last, so the
    // in-order key search gives up and the line walk answers.
    const text = [
      "{",
      '  "name": "demo",',
      '  "lockfileVersion": 3,',
      '  "packages": {',
      '    "": {',
      '      "name": "demo",',
      '      "workspaces": ["1"]',
      "    },",
      '    "node_modules/w": {',
      '      "resolved": "1",',
      '      "link": true',
      "    },",
      '    "node_modules/left-pad": {',
      '      "version": "1.3.0"',
      "    },",
      '    "1": {',
      '      "name": "w",',
      '      "version": "0.1.0"',
      "    }",
      "  }",
      "}",
      "",
    ].join("\n");
    const comps = parseNpmLock(text, "package-lock.json").components;
    assert.deepEqual(comps.map((c) => `${c.name}:${c.locations[0]?.line}`).sort(), ["left-pad:13", "w:16"]);
    assert.equal(checkLines(text), 2);
  });
});
