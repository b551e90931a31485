/**
 * The Go module graph from the module cache (src/catalogers/language/go-mod.ts).
 *
 * The oracle is the Go toolchain itself: the test writes five tiny modules into a directory laid out
 * per the GOPROXY protocol (https://go.dev/ref/mod#goproxy-protocol: `@v/list`, `.info`, `.mod`,
 * `.zip`), lets `go mod download` fill a module cache from it offline (GOPROXY=file://, GOSUMDB=off),
 * and compares tollgate's edges with what `go mod graph` prints for the same main module. The modules:
 *
 *   main  -> a v1.0.0, local (directory replacement ./local), e v1.0.0 (replaced by f v1.0.0)
 *   a     -> b v1.0.0, Upper/c v1.0.0         (an upper-case path: the cache escapes it as !upper)
 *   b     -> Upper/c v1.1.0, d v0.1.0          (so MVS selects c v1.1.0, not a's v1.0.0)
 *   c 1.1 -> d v0.1.0;  local -> d;  f -> d
 *
 * Then hand-built caches (no Go needed) for the escaping rule and the security cases: module paths
 * with `..`, symlinks and replacements that point out of the cache or the tree, oversized `.mod`s.
 */
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import type { Component, Sbom } from "../../src/model/index.ts";
import { goModCacheDir, readCachedGoMod } from "../../src/catalogers/language/go-mod.ts";
import { buildSbom } from "../../src/sbom/index.ts";
import { runCli, SHARED_TESTDATA, sharedTestdataMissing, tempDir } from "../helpers.ts";

const execFileP = promisify(execFile);

/** Why the toolchain tests cannot run here, or false. Under CI=true a missing tool fails instead. */
function toolsMissing(): string | false {
  const missing = ["go", "zip"].filter((tool) => spawnSync(tool, [tool === "go" ? "version" : "-v"], { stdio: "ignore" }).status !== 0);
  if (missing.length === 0) return false;
  return `SKIPPED: ${missing.join(" and ")} not installed (Debian: golang-go, zip; see .ci/apt-packages.txt)`;
}
const missingTools = toolsMissing();
const inCi = process.env.CI === "true";

async function writeFiles(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [path, data] of Object.entries(files)) {
    await mkdir(join(root, path, ".."), { recursive: true });
    await writeFile(join(root, path), data);
  }
}

async function sbomOf(dir: string, options: { goModCache?: string | false; env?: NodeJS.ProcessEnv } = {}): Promise<Sbom> {
  return buildSbom({ kind: "dir", input: dir, path: dir }, { deterministic: true, env: {}, ...options });
}

/**
 * The modules the main go.mod requires: the SBOM's components less the application roots (the walk
 * also finds local/go.mod, the directory replacement, and reports that module as its own root).
 */
function required(sbom: Sbom): Component[] {
  return sbom.components.filter((c) => c.type !== "application");
}

function byName(sbom: Sbom): Map<string, Component> {
  return new Map(sbom.components.map((c) => [c.name, c]));
}

/** The modules of the proxy: path, version, go.mod text. */
const MODULES: [string, string, string][] = [
  ["example.com/d", "v0.1.0", "module example.com/d\n\ngo 1.17\n"],
  ["example.com/Upper/c", "v1.0.0", "module example.com/Upper/c\n\ngo 1.17\n"],
  ["example.com/Upper/c", "v1.1.0", "module example.com/Upper/c\n\ngo 1.17\n\nrequire example.com/d v0.1.0\n"],
  ["example.com/b", "v1.0.0", "module example.com/b\n\ngo 1.17\n\nrequire (\n\texample.com/Upper/c v1.1.0\n\texample.com/d v0.1.0\n)\n"],
  ["example.com/a", "v1.0.0", "module example.com/a\n\ngo 1.17\n\nrequire (\n\texample.com/b v1.0.0\n\texample.com/Upper/c v1.0.0\n)\n"],
  ["example.com/f", "v1.0.0", "module example.com/f\n\ngo 1.17\n\nrequire example.com/d v0.1.0 // indirect\n"],
];

const MAIN_GO_MOD = `module example.com/main

go 1.19

require (
	example.com/a v1.0.0
	example.com/e v1.0.0
	example.com/local v0.0.0-00010101000000-000000000000
)

require (
	example.com/Upper/c v1.1.0 // indirect
	example.com/b v1.0.0 // indirect
	example.com/d v0.1.0 // indirect
)

replace example.com/local => ./local

replace example.com/e v1.0.0 => example.com/f v1.0.0
`;

/** "A" -> "!a", the GOPROXY and module cache escaping. */
const escape = (s: string): string => s.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);

describe("go.mod graph against `go mod graph`", { skip: inCi ? false : missingTools }, () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  let mainDir = "";
  let cache = "";
  let oracle: string[] = [];

  before(async () => {
    if (missingTools) throw new Error(`CI=true: ${missingTools}`);
    work = await tempDir("tollgate-go-graph-");
    const proxy = join(work.dir, "proxy");
    for (const [path, version, mod] of MODULES) {
      const at = join(proxy, ...escape(path).split("/"), "@v");
      await writeFiles(at, { [`${version}.info`]: JSON.stringify({ Version: version, Time: "2020-01-01T00:00:00Z" }), [`${version}.mod`]: mod });
      const listed = MODULES.filter(([p]) => p === path).map(([, v]) => v);
      await writeFile(join(at, "list"), `${listed.join("\n")}\n`);
      // The module zip: every file under "<path>@<version>/".
      const src = join(work.dir, "zipsrc", `${path}@${version}`);
      await writeFiles(src, { "go.mod": mod, "x.go": "package x\n" });
      await execFileP("zip", ["-qrX", join(at, `${version}.zip`), `${path}@${version}`], { cwd: join(work.dir, "zipsrc") });
    }
    mainDir = join(work.dir, "main");
    cache = join(work.dir, "gomodcache");
    await writeFiles(mainDir, { "go.mod": MAIN_GO_MOD, "local/go.mod": "module example.com/local\n\ngo 1.17\n\nrequire example.com/d v0.1.0\n" });
    const env = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: join(work.dir, "home"),
      GOCACHE: join(work.dir, "gocache"),
      GOPATH: join(work.dir, "gopath"),
      GOMODCACHE: cache,
      GOPROXY: `file://${proxy}`,
      GOSUMDB: "off",
      GOFLAGS: "-mod=mod",
      GOTOOLCHAIN: "local",
      GO111MODULE: "on",
    };
    const download = await execFileP("go", ["mod", "download", "-json"], { cwd: mainDir, env });
    assert.match(download.stdout, /"GoMod": /);
    const graph = await execFileP("go", ["mod", "graph"], { cwd: mainDir, env });
    // Newer toolchains add "go@1.x" and "toolchain@…" nodes: not modules.
    oracle = graph.stdout.split("\n").filter((l) => l.trim() && !/(^|\s)(go|toolchain)@/.test(l));
  });

  after(async () => {
    await work?.cleanup();
  });

  it("edges between modules equal go mod graph's, moved to the versions the main go.mod selects", async () => {
    const sbom = await sbomOf(mainDir, { env: { GOMODCACHE: cache } });
    assert.deepEqual(sbom.problems, []);
    const root = sbom.metadata.component as Component;
    assert.equal(root.properties?.["tollgate:go:graph"], "module-cache");
    // Our components keyed as go mod graph names them: the required path@version (a replaced
    // module by what it replaces, which tollgate:go:replaced records).
    const key = new Map(required(sbom).map((c) => [c.ref, c.properties?.["tollgate:go:replaced"] ?? `${c.name}@${c.version}`]));
    const selected = new Map([...key.values()].map((k) => [k.slice(0, k.lastIndexOf("@")), k]));
    const ours = required(sbom).flatMap((c) => c.dependencies.map((d) => `${key.get(c.ref)} ${key.get(d)}`)).sort();
    // go mod graph prints each module's requirements at the version that module asks for (a ->
    // Upper/c@v1.0.0) and also lists the unselected versions' own requirements. tollgate promises
    // edges between the components of the SBOM, which are the selected versions: so the oracle's
    // edges are kept when their source is selected, and their target moved to the selected version.
    const expected = oracle
      .map((l) => l.split(" ") as [string, string])
      .filter(([from]) => from !== "example.com/main" && [...selected.values()].includes(from))
      .map(([from, to]) => `${from} ${selected.get(to.slice(0, to.lastIndexOf("@")))}`)
      .sort();
    assert.deepEqual(ours, [...new Set(expected)]);
    // The oracle really has the MVS case this relies on.
    assert.ok(oracle.includes("example.com/a@v1.0.0 example.com/Upper/c@v1.0.0"));
    assert.ok(ours.includes("example.com/a@v1.0.0 example.com/Upper/c@v1.1.0"));
    assert.ok(ours.includes("example.com/local@v0.0.0-00010101000000-000000000000 example.com/d@v0.1.0"), "the directory replacement's go.mod, read from the tree");
    assert.ok(ours.includes("example.com/e@v1.0.0 example.com/d@v0.1.0"), "the replaced module's edges come from its replacement's go.mod");
  });

  it("the main module: every go mod graph target is a component; it depends on the direct ones", async () => {
    const sbom = await sbomOf(mainDir, { env: { GOMODCACHE: cache } });
    const key = new Map(required(sbom).map((c) => [c.ref, c.properties?.["tollgate:go:replaced"] ?? `${c.name}@${c.version}`]));
    const mainEdges = oracle.filter((l) => l.startsWith("example.com/main ")).map((l) => l.split(" ")[1] as string);
    // go mod graph lists main -> every require (// indirect too); tollgate keeps the direct ones on
    // the root and reaches the indirect ones through the graph.
    assert.deepEqual([...key.values()].sort(), [...mainEdges].sort());
    const direct = MAIN_GO_MOD.split("\n").filter((l) => /^\texample\.com\/\S+ v/.test(l) && !l.includes("// indirect")).map((l) => l.trim().replace(" ", "@"));
    // (The metadata component also depends on local/go.mod's own root, which is not a require.)
    const nestedRoot = sbom.components.find((c) => c.type === "application")?.ref;
    assert.deepEqual((sbom.metadata.component?.dependencies ?? []).filter((d) => d !== nestedRoot).map((d) => key.get(d)).sort(), direct.sort());
  });

  it("TOLLGATE_GO_MOD_CACHE and the goModCache option pick the cache; false and no cache keep go.mod's flat graph", async () => {
    const viaEnv = await sbomOf(mainDir, { env: { TOLLGATE_GO_MOD_CACHE: cache, GOMODCACHE: join(work.dir, "nowhere") } });
    assert.equal(viaEnv.metadata.component?.properties?.["tollgate:go:graph"], "module-cache");
    const viaOption = await sbomOf(mainDir, { goModCache: cache });
    assert.equal(viaOption.metadata.component?.properties?.["tollgate:go:graph"], "module-cache");
    for (const off of [await sbomOf(mainDir, { goModCache: false, env: { GOMODCACHE: cache } }), await sbomOf(mainDir, { env: { GOMODCACHE: join(work.dir, "nowhere") } })]) {
      assert.equal(off.metadata.component?.properties?.["tollgate:go:graph"], "requires-only");
      assert.equal(off.metadata.component?.dependencies.filter((d) => required(off).some((c) => c.ref === d)).length, 6);
      assert.ok(required(off).every((c) => c.dependencies.length === 0));
    }
  });
});

describe("go.mod graph from a hand-built module cache", () => {
  /** A scanned tree and a cache beside it, both in one temp dir. */
  async function withCache(tree: Record<string, string | Buffer>, cacheFiles: Record<string, string | Buffer>, fn: (sbom: Sbom, dirs: { dir: string; cache: string }) => Promise<void>, extra?: (dirs: { dir: string; cache: string }) => Promise<void>): Promise<void> {
    const { dir: base, cleanup } = await tempDir("tollgate-go-cache-");
    try {
      const dirs = { dir: join(base, "tree"), cache: join(base, "cache") };
      await writeFiles(dirs.dir, tree);
      await mkdir(join(dirs.cache, "cache", "download"), { recursive: true });
      await writeFiles(join(dirs.cache, "cache", "download"), cacheFiles);
      await extra?.(dirs);
      await fn(await sbomOf(dirs.dir, { env: { GOMODCACHE: dirs.cache } }), dirs);
    } finally {
      await cleanup();
    }
  }

  it("reads an upper-case module path from its !-escaped directory", async () => {
    await withCache(
      { "go.mod": "module m\n\ngo 1.21\n\nrequire github.com/BurntSushi/toml v1.3.2\n\nrequire golang.org/x/Y v0.1.0 // indirect\n" },
      { "github.com/!burnt!sushi/toml/@v/v1.3.2.mod": "module github.com/BurntSushi/toml\n\nrequire golang.org/x/Y v0.0.1\n", "golang.org/x/!y/@v/v0.1.0.mod": "module golang.org/x/Y\n" },
      async (sbom) => {
        assert.deepEqual(byName(sbom).get("github.com/BurntSushi/toml")?.dependencies, ["pkg:golang/golang.org/x/Y@v0.1.0"]);
        assert.deepEqual(sbom.metadata.component?.dependencies, ["pkg:golang/github.com/BurntSushi/toml@v1.3.2"]);
        assert.equal(sbom.metadata.component?.properties?.["tollgate:go:graph"], "module-cache");
      },
    );
  });

  it("tollgate.yaml sbom.go.mod_cache names the cache for the CLI", async () => {
    await withCache(
      { "go.mod": "module m\n\ngo 1.21\n\nrequire example.com/a v1.0.0\n\nrequire example.com/b v1.0.0 // indirect\n" },
      { "example.com/a/@v/v1.0.0.mod": "module example.com/a\n\nrequire example.com/b v0.9.0\n" },
      async (_sbom, { dir, cache }) => {
        const env = { GOMODCACHE: join(dir, "nowhere"), TOLLGATE_GO_MOD_CACHE: "", SOURCE_DATE_EPOCH: "0" };
        const deps = async (config: string) => {
          await writeFile(join(dir, "..", "tollgate.yaml"), config);
          const r = await runCli(["sbom", `dir:${dir}`, "--config", join(dir, "..", "tollgate.yaml")], { env });
          assert.equal(r.code, 0, r.stderr);
          const doc = JSON.parse(r.stdout) as { dependencies: { ref: string; dependsOn?: string[] }[] };
          return doc.dependencies.find((d) => d.ref === "pkg:golang/example.com/a@v1.0.0")?.dependsOn ?? [];
        };
        assert.deepEqual(await deps(`sbom:\n  go:\n    mod_cache: ${JSON.stringify(cache)}\n`), ["pkg:golang/example.com/b@v1.0.0"]);
        assert.deepEqual(await deps("sbom:\n  exclude: []\n"), []);
      },
    );
  });

  it("a missing .mod means no edges for that module, and its indirect requires stay on the root", async () => {
    await withCache(
      { "go.mod": "module m\n\ngo 1.21\n\nrequire example.com/a v1.0.0\n\nrequire example.com/b v1.0.0 // indirect\n" },
      {},
      async (sbom) => {
        assert.equal(sbom.metadata.component?.properties?.["tollgate:go:graph"], "module-cache-partial");
        assert.deepEqual(sbom.metadata.component?.dependencies, ["pkg:golang/example.com/a@v1.0.0", "pkg:golang/example.com/b@v1.0.0"]);
      },
    );
  });

  it("security: a module path or version with .. never reads outside the cache", async () => {
    // A naive join of "../../../secret" would reach <base>/secret/@v/v1.0.0.mod, planted here.
    await withCache(
      { "go.mod": "module m\n\ngo 1.21\n\nrequire (\n\texample.com/../../../secret v1.0.0\n\texample.com/b v1.0.0 // indirect\n\texample.com/c v1.0.0/../../../../secret/@v/v1.0.0\n)\n" },
      { "example.com/b/@v/v1.0.0.mod": "module example.com/b\n" },
      async (sbom, { cache }) => {
        for (const c of sbom.components) assert.deepEqual(c.dependencies, [], c.ref);
        assert.equal(sbom.metadata.component?.properties?.["tollgate:go:graph"], "module-cache-partial");
        assert.equal(await readCachedGoMod(cache, "example.com/../../../secret", "v1.0.0"), undefined);
        assert.equal(await readCachedGoMod(cache, "/etc/passwd", "v1.0.0"), undefined);
        assert.equal(await readCachedGoMod(cache, "example.com/b", "../../../../secret/@v/v1.0.0"), undefined);
        // The reader itself works on a good path, so the undefineds above are refusals.
        assert.equal(await readCachedGoMod(cache, "example.com/b", "v1.0.0"), "module example.com/b\n");
      },
      async ({ cache }) => {
        await writeFiles(join(cache, ".."), { "secret/@v/v1.0.0.mod": "module secret\n\nrequire example.com/b v1.0.0\n" });
      },
    );
  });

  it("security: a .mod that is a symlink out of the cache, or over 1 MiB, is not read", async () => {
    await withCache(
      { "go.mod": "module m\n\ngo 1.21\n\nrequire (\n\texample.com/a v1.0.0\n\texample.com/big v1.0.0\n\texample.com/b v1.0.0 // indirect\n)\n" },
      { "example.com/big/@v/v1.0.0.mod": `module example.com/big\n\nrequire example.com/b v1.0.0\n// ${"x".repeat(1024 * 1024)}\n` },
      async (sbom) => {
        for (const c of sbom.components) assert.deepEqual(c.dependencies, [], c.ref);
      },
      async ({ cache }) => {
        await writeFiles(join(cache, ".."), { "outside.mod": "module example.com/a\n\nrequire example.com/b v1.0.0\n" });
        await mkdir(join(cache, "cache", "download", "example.com", "a", "@v"), { recursive: true });
        await symlink(join(cache, "..", "outside.mod"), join(cache, "cache", "download", "example.com", "a", "@v", "v1.0.0.mod"));
      },
    );
  });

  it("security: an absolute directory replacement, or one climbing out of the tree, is not read", async () => {
    await withCache(
      {
        "svc/go.mod": "module m\n\ngo 1.21\n\nrequire (\n\texample.com/abs v0.0.0\n\texample.com/up v0.0.0\n\texample.com/in v0.0.0\n\texample.com/b v1.0.0 // indirect\n)\n\nreplace example.com/up => ../../outside\n\nreplace example.com/in => ../lib\n",
        "lib/go.mod": "module example.com/in\n\nrequire example.com/b v1.0.0\n",
      },
      { "example.com/b/@v/v1.0.0.mod": "module example.com/b\n" },
      async (sbom) => {
        const names = byName(sbom);
        assert.deepEqual(names.get("example.com/abs")?.dependencies, []);
        assert.deepEqual(names.get("example.com/up")?.dependencies, []);
        // Inside the tree (svc/../lib): read, so the climb-out refusal above is not a general failure.
        assert.deepEqual(names.get("example.com/in")?.dependencies, ["pkg:golang/example.com/b@v1.0.0"]);
      },
      async ({ dir }) => {
        await writeFiles(join(dir, ".."), { "outside/go.mod": "module example.com/up\n\nrequire example.com/b v1.0.0\n", "abs/go.mod": "module example.com/abs\n\nrequire example.com/b v1.0.0\n" });
        const goMod = join(dir, "svc", "go.mod");
        const { readFile } = await import("node:fs/promises");
        await writeFile(goMod, `${await readFile(goMod, "utf8")}\nreplace example.com/abs => ${join(dir, "..", "abs")}\n`);
      },
    );
  });
});

describe("where the module cache is", () => {
  it("TOLLGATE_GO_MOD_CACHE, then tollgate.yaml, then GOMODCACHE, the first GOPATH entry, ~/go/pkg/mod", () => {
    const env = { HOME: "/h", GOPATH: ":/gp1:/gp2", GOMODCACHE: "/gmc", TOLLGATE_GO_MOD_CACHE: "~/t" };
    assert.equal(goModCacheDir(env, "/cfg"), "/h/t");
    assert.equal(goModCacheDir({ ...env, TOLLGATE_GO_MOD_CACHE: "" }, "~/cfg"), "/h/cfg");
    assert.equal(goModCacheDir({ ...env, TOLLGATE_GO_MOD_CACHE: "" }), "/gmc");
    assert.equal(goModCacheDir({ HOME: "/h", GOPATH: ":/gp1:/gp2" }), "/gp1/pkg/mod");
    assert.equal(goModCacheDir({ HOME: "/h" }), "/h/go/pkg/mod");
  });
});

describe("go-grype's go.mod with no module cache", { skip: sharedTestdataMissing("lockfiles/go-grype") }, () => {
  it("the same components with a missing cache, an empty cache and none at all", async () => {
    const { dir, cleanup } = await tempDir("tollgate-go-empty-");
    try {
      const path = join(SHARED_TESTDATA, "lockfiles", "go-grype");
      const none = await sbomOf(path, { goModCache: false });
      const empty = await sbomOf(path, { env: { GOMODCACHE: dir } });
      const missing = await sbomOf(path, { env: { GOMODCACHE: join(dir, "nowhere") } });
      const pairs = (s: Sbom) => s.components.map((c) => c.ref).sort();
      assert.ok(none.components.length > 100);
      assert.deepEqual(pairs(empty), pairs(none));
      assert.deepEqual(pairs(missing), pairs(none));
      // No .mod anywhere: every require stays on the root, as go.mod alone says.
      assert.deepEqual(empty.metadata.component?.dependencies, none.metadata.component?.dependencies);
      assert.equal(none.metadata.component?.dependencies.length, none.components.length);
    } finally {
      await cleanup();
    }
  });
});
