/**
 * poetry.lock extras: a package's `{ optional = true }` dependencies are turned on only by the extras
 * something asks for (`pkg = { extras = ["x"] }`, `"pkg[x] (>=1)"`), so what only an extra nobody
 * asked for reaches is not required; the project's own optional dependencies and extras are
 * optional, its groups other than main dev (as uv.lock's cataloger does). On excerpts of real
 * lockfiles (fixtures/README.md says where each came from), checked against an independent
 * reachability over (package, extra) written in Python with tomllib (fixtures/poetry-scopes-oracle.py),
 * which also runs on the whole real lockfiles in ../shared/testdata.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Component, Sbom } from "../../src/model/index.ts";
import { parsePoetryLock } from "../../src/catalogers/language/poetry-lock.ts";
import { buildSbom } from "../../src/sbom/index.ts";
import { SHARED_TESTDATA, sharedTestdataMissing } from "../helpers.ts";

const execFileP = promisify(execFile);
const FIXTURES = fileURLToPath(new URL("fixtures/", import.meta.url));

async function sbomOf(path: string): Promise<Sbom> {
  return buildSbom({ kind: "dir", input: path, path }, { deterministic: true });
}

/** "name@version scope", sorted. */
function scopes(components: readonly Component[]): string[] {
  return components.map((c) => `${c.name}@${c.version ?? ""} ${c.scope ?? "(none)"}`).sort();
}

function named(components: readonly Component[], name: string): Component {
  const c = components.find((x) => x.name === name);
  assert.ok(c, `${name} is a component`);
  return c;
}

/** The names a component depends on. */
function depsOf(components: readonly Component[], c: Component): string[] {
  const byRef = new Map(components.map((x) => [x.ref, x]));
  return c.dependencies.map((r) => byRef.get(r)?.name ?? "?").sort();
}

describe("poetry.lock: extras (fastapi-pagination's poetry.lock)", () => {
  const dir = join(FIXTURES, "python-poetry-extras");

  it("only the project's dependencies are required; its optional ones and the extras they turn on are optional, its groups dev", async () => {
    const sbom = await sbomOf(dir);
    assert.equal(sbom.problems.length, 0, JSON.stringify(sbom.problems));
    assert.equal(sbom.metadata.component?.purl, "pkg:pypi/fastapi-pagination@0.13.0a1");
    assert.deepEqual(scopes(sbom.components), [
      "annotated-types@0.7.0 required",
      "anyio@4.8.0 dev",
      "certifi@2025.1.31 dev",
      "dnspython@2.7.0 optional", // email-validator's dependency
      "email-validator@2.2.0 optional", // pydantic[email], asked for by piccolo only
      "exceptiongroup@1.2.2 dev",
      "h11@0.14.0 dev",
      "httpcore@1.0.7 dev",
      "httpx@0.28.1 dev",
      "idna@3.10 optional", // email-validator's (optional) and httpx's (dev)
      "inflection@0.5.1 optional",
      "piccolo@1.24.0 optional", // { optional = true }, the project's piccolo extra
      "pydantic-core@2.27.2 required",
      "pydantic@2.10.6 required",
      "sniffio@1.3.1 dev",
      "typing-extensions@4.12.2 required",
    ]);
  });

  it("an extra is an edge where something turns it on; the project depends on all it declares", async () => {
    const sbom = await sbomOf(dir);
    // piccolo asks for pydantic[email].
    assert.deepEqual(depsOf(sbom.components, named(sbom.components, "pydantic")), ["annotated-types", "email-validator", "pydantic-core", "typing-extensions"]);
    assert.deepEqual(depsOf(sbom.components, named(sbom.components, "piccolo")), ["inflection", "pydantic", "typing-extensions"]);
    const root = sbom.metadata.component as Component;
    assert.deepEqual(depsOf(sbom.components, root), ["httpx", "piccolo", "pydantic", "typing-extensions"]);
    assert.deepEqual(sbom.components.filter((c) => c.direct).map((c) => c.name).sort(), ["httpx", "piccolo", "pydantic", "typing-extensions"]);
  });
});

describe("poetry.lock: PEP 621 requirements with extras (python-poetry/poetry's poetry.lock)", () => {
  it("cachecontrol[filecache] and pbs-installer[download,install] turn on their extras' dependencies as required", async () => {
    const sbom = await sbomOf(join(FIXTURES, "python-poetry-pep621"));
    assert.equal(sbom.metadata.component?.purl, "pkg:pypi/poetry@2.5.0.dev0");
    assert.deepEqual(
      scopes(sbom.components).filter((s) => !s.endsWith(" required")),
      ["pre-commit@4.6.0 dev"],
    );
    assert.equal(sbom.components.length, 15);
    assert.deepEqual(depsOf(sbom.components, named(sbom.components, "pbs-installer")), ["httpx", "zstandard"]);
    assert.deepEqual(depsOf(sbom.components, named(sbom.components, "cachecontrol")), ["filelock", "msgpack", "requests"]);
    assert.deepEqual(depsOf(sbom.components, sbom.metadata.component as Component), ["cachecontrol", "pbs-installer", "pre-commit", "requests"]);
  });
});

describe("poetry.lock: extras, hand-written cases", () => {
  // app-lib's cli extra (rich) is asked for by nobody; its proxy extra (socks, one entry per Python
  // version, named only by the markers) by plugin, which only the project's extra installs.
  const lock = `
[[package]]
name = "app-lib"
version = "1.0"
groups = ["main"]
files = []

[package.dependencies]
rich = {version = ">=10", optional = true, markers = "extra == \\"cli\\""}
socks = [
    {version = "1", optional = true, markers = "extra == \\"proxy\\" and python_version < \\"3.12\\""},
    {version = "1", optional = true, markers = "python_version >= \\"3.12\\" and extra == 'proxy'"},
]

[package.extras]
cli = ["rich (>=10)"]

[[package]]
name = "rich"
version = "13.0"
groups = ["dev"]
files = []

[[package]]
name = "socks"
version = "1"
groups = ["main"]
files = []

[[package]]
name = "plugin"
version = "0.1"
groups = ["main"]
files = []

[package.dependencies]
app-lib = {version = "*", extras = ["proxy"]}

[metadata]
lock-version = "2.1"
`;

  it("an optional dependency whose extra nobody asks for is no edge, and the group that locked it keeps it", async () => {
    const pyproject = {
      tool: {
        poetry: {
          name: "demo",
          version: "1",
          dependencies: { python: "^3.10", "app-lib": "^1", plugin: { version: "*", optional: true } },
          group: { dev: { dependencies: { rich: "^13" } } },
          extras: { plugins: ["plugin"] },
        },
      },
    };
    const { components, root } = await parsePoetryLock(lock, "poetry.lock", pyproject);
    assert.deepEqual(scopes(components), ["app-lib@1.0 required", "plugin@0.1 optional", "rich@13.0 dev", "socks@1 optional"]);
    assert.deepEqual(depsOf(components, named(components, "app-lib")), ["socks"]);
    assert.deepEqual(depsOf(components, root as Component), ["app-lib", "plugin", "rich"]);
  });

  it("PEP 621: optional-dependencies with extras; extras and names compared normalized", async () => {
    const pyproject = { project: { name: "demo", version: "1", dependencies: ["App_Lib (>=1)"], "optional-dependencies": { proxy: ["app.lib[Proxy] ; python_version >= '3.10'"] } } };
    const { components } = await parsePoetryLock(lock, "poetry.lock", pyproject);
    // plugin: nothing declared reaches it, and its lock groups say main: no scope is guessed.
    assert.deepEqual(scopes(components), ["app-lib@1.0 required", "plugin@0.1 (none)", "rich@13.0 dev", "socks@1 optional"]);
  });
});

describe("poetry.lock scopes against an independent tomllib reachability", () => {
  const oracle = async (dir: string): Promise<Record<string, string>> => {
    const { stdout } = await execFileP("python3", [join(FIXTURES, "poetry-scopes-oracle.py"), dir], { maxBuffer: 64 * 1024 * 1024 });
    return JSON.parse(stdout) as Record<string, string>;
  };
  const check = async (dir: string): Promise<void> => {
    const expected = await oracle(dir);
    const sbom = await sbomOf(dir);
    assert.equal(sbom.problems.length, 0, JSON.stringify(sbom.problems));
    const ours: Record<string, string> = {};
    for (const c of sbom.components) ours[`${c.name}@${c.version ?? ""}`] = c.scope ?? "(none)";
    assert.deepEqual(ours, expected);
  };

  for (const name of ["python-poetry-extras", "python-poetry-pep621", "python-poetry"]) {
    it(`fixtures/${name}`, () => check(join(FIXTURES, name)));
  }
  for (const name of ["poetry-poetry", "poetry-saleor"]) {
    it(`shared lockfiles/${name}`, { skip: sharedTestdataMissing(join("lockfiles", name)) }, () => check(join(SHARED_TESTDATA, "lockfiles", name)));
  }
});
