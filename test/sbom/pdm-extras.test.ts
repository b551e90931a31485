/**
 * pdm.lock extras and groups: a package's extra (`[[package]]` entries with `extras = [...]`) is an
 * edge only where something turns it on, and scopes come from what pdm wrote in each entry's
 * `groups` (the groups whose resolution installs it): "default" is required, the project's
 * optional-dependencies groups optional, the other groups dev. So what only an extra of a dev group
 * reaches (textual's markdown-it-py[linkify,plugins], ray[serve]'s uvicorn[standard]) is not
 * required though markdown-it-py and uvicorn are. Locks without `groups` get their scopes by
 * reachability over (package, extra) from the pyproject. On an excerpt of BentoML's real pdm.lock
 * (fixtures/README.md), checked against an independent tomllib reading in Python
 * (fixtures/pdm-scopes-oracle.py).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Component, Sbom } from "../../src/model/index.ts";
import { parseTomlText } from "../../src/catalogers/common/text.ts";
import { parsePdmLock } from "../../src/catalogers/language/pdm-lock.ts";
import { buildSbom } from "../../src/sbom/index.ts";

const execFileP = promisify(execFile);
const FIXTURES = fileURLToPath(new URL("fixtures/", import.meta.url));
const BENTOML = join(FIXTURES, "python-pdm-bentoml");

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

describe("pdm.lock: extras and groups (BentoML's pdm.lock)", () => {
  it("what only a dev group's extras reach is dev, the project's optional-dependencies optional", async () => {
    const sbom = await sbomOf(BENTOML);
    assert.equal(sbom.problems.length, 0, JSON.stringify(sbom.problems));
    assert.deepEqual(scopes(sbom.components), [
      "anyio@4.4.0 required",
      "click@8.1.7 required",
      "colorama@0.4.6 required",
      "coverage@7.2.6 dev",
      "exceptiongroup@1.2.2 required",
      "h11@0.14.0 required",
      "httptools@0.6.4 dev", // uvicorn[standard], asked for by ray[serve] of the docs group only
      "idna@3.8 required",
      "linkify-it-py@2.0.3 dev", // markdown-it-py[linkify,plugins], asked for by textual (docs) only
      "markdown-it-py@3.0.0 required",
      "mdit-py-plugins@0.4.1 dev",
      "mdurl@0.1.2 required",
      "memray@1.13.4 dev",
      "pillow@11.0.0 optional", // io-image, through the project's own bentoml[io-image] in io and all
      "pygments@2.18.0 required",
      "python-dotenv@1.1.0 dev",
      "pyyaml@6.0.2 required",
      "ray@2.40.0 dev",
      "rich@13.9.4 required",
      "sniffio@1.3.1 required",
      "textual@0.78.0 dev",
      "tomli@2.2.1 required",
      "typing-extensions@4.12.2 required",
      "uc-micro-py@1.0.3 dev",
      "uvicorn@0.34.0 required",
      "uvloop@0.20.0 dev",
      "watchfiles@1.0.3 required",
      "websockets@13.0.1 dev",
    ]);
  });

  it("an extra the lock holds is an edge of its package; the project depends on what it declares", async () => {
    const sbom = await sbomOf(BENTOML);
    const { components } = sbom;
    assert.deepEqual(depsOf(components, named(components, "markdown-it-py")), ["linkify-it-py", "mdit-py-plugins", "mdurl"]);
    assert.deepEqual(depsOf(components, named(components, "uvicorn")), ["click", "colorama", "h11", "httptools", "python-dotenv", "pyyaml", "typing-extensions", "uvloop", "watchfiles", "websockets"]);
    assert.deepEqual(depsOf(components, named(components, "coverage")), ["tomli"]);
    const root = sbom.metadata.component as Component;
    assert.equal(root.purl, "pkg:pypi/bentoml");
    assert.deepEqual(depsOf(components, root), ["click", "coverage", "pillow", "pyyaml", "ray", "rich", "tomli", "uvicorn", "watchfiles"]);
    assert.deepEqual(components.filter((c) => c.direct).map((c) => c.name).sort(), ["click", "coverage", "pillow", "pyyaml", "ray", "rich", "tomli", "uvicorn", "watchfiles"]);
  });

  it("without groups (older locks), the same scopes by reachability over (package, extra) from the pyproject", async () => {
    const text = (await readFile(join(BENTOML, "pdm.lock"), "utf8")).replace(/^groups = .*\n/gm, "");
    const pyproject = await parseTomlText(await readFile(join(BENTOML, "pyproject.toml"), "utf8"), "pyproject.toml");
    const { components } = await parsePdmLock(text, "pdm.lock", pyproject);
    const withGroups = await sbomOf(BENTOML);
    assert.deepEqual(scopes(components), scopes(withGroups.components));
  });
});

describe("pdm.lock: hand-written cases", () => {
  // app-lib's cli extra (rich) is asked for by nobody; its proxy extra (socks) by plugin, which only
  // the project's optional dependencies install; pytest comes from [tool.pdm.dev-dependencies].
  const lock = `
[metadata]
groups = ["default", "plugins", "test"]
strategy = ["cross_platform"]
lock_version = "4.2"

[[package]]
name = "app-lib"
version = "1.0"
dependencies = ["idna"]

[[package]]
name = "app-lib"
version = "1.0"
extras = ["cli"]
dependencies = ["app-lib==1.0", "rich>=10"]

[[package]]
name = "App_Lib"
version = "1.0"
extras = ["proxy"]
dependencies = ["app-lib==1.0", "socks>=1"]

[[package]]
name = "idna"
version = "3.6"

[[package]]
name = "rich"
version = "13.0"

[[package]]
name = "socks"
version = "1"

[[package]]
name = "plugin"
version = "0.1"
dependencies = ["app.lib[Proxy]>=1"]

[[package]]
name = "pytest"
version = "8.0"
dependencies = ["iniconfig"]

[[package]]
name = "iniconfig"
version = "2.0"
`;
  const pyproject = {
    project: { name: "demo", version: "1", dependencies: ["App_Lib>=1"], "optional-dependencies": { plugins: ["plugin"], all: ["demo[plugins]"] } },
    tool: { pdm: { "dev-dependencies": { test: ["pytest>=8", "-e file:///${PROJECT_ROOT}/sub#egg=sub"] } } },
  };

  it("no groups: an extra nobody asks for is no edge and makes nothing required", async () => {
    const { components, root } = await parsePdmLock(lock, "pdm.lock", pyproject);
    assert.deepEqual(scopes(components), ["app-lib@1.0 required", "idna@3.6 required", "iniconfig@2.0 dev", "plugin@0.1 optional", "pytest@8.0 dev", "rich@13.0 (none)", "socks@1 optional"]);
    assert.deepEqual(depsOf(components, named(components, "app-lib")), ["idna", "socks"]);
    assert.deepEqual(depsOf(components, root as Component), ["app-lib", "plugin", "pytest"]);
    assert.equal(root?.purl, "pkg:pypi/demo@1");
  });

  it("no groups and no pyproject: every package required, every extra an edge (nothing says otherwise)", async () => {
    const { components, root } = await parsePdmLock(lock, "pdm.lock");
    assert.ok(components.every((c) => c.scope === "required" && c.direct === undefined));
    assert.deepEqual(depsOf(components, named(components, "app-lib")), ["idna", "rich", "socks"]);
    assert.deepEqual(root?.dependencies, []);
  });

  it("groups win over the graph: a package only dev groups install is dev though a default package lists it", async () => {
    // virtualenv's `importlib-metadata; python_version < "3.8"` in pdm's own lock (requires_python >= 3.10).
    const text = `
[metadata]
groups = ["default", "keyring"]
strategy = ["inherit_metadata"]
lock_version = "4.5.1"

[[package]]
name = "virtualenv"
version = "21.2.0"
groups = ["default"]
dependencies = ["importlib-metadata>=6.6; python_version < \\"3.8\\""]

[[package]]
name = "importlib-metadata"
version = "9.0.0"
groups = ["keyring"]
`;
    const noPyproject = await parsePdmLock(text, "pdm.lock");
    assert.deepEqual(scopes(noPyproject.components), ["importlib-metadata@9.0.0 dev", "virtualenv@21.2.0 required"]);
    const withPyproject = await parsePdmLock(text, "pdm.lock", { project: { name: "pdm", dependencies: ["virtualenv"], "optional-dependencies": { Keyring: ["keyring"] } } });
    assert.deepEqual(scopes(withPyproject.components), ["importlib-metadata@9.0.0 optional", "virtualenv@21.2.0 required"]);
  });
});

describe("pdm.lock scopes against an independent tomllib reading", () => {
  const oracle = async (dir: string, ...args: string[]): Promise<Record<string, string>> => {
    const { stdout } = await execFileP("python3", [join(FIXTURES, "pdm-scopes-oracle.py"), dir, ...args], { maxBuffer: 64 * 1024 * 1024 });
    return JSON.parse(stdout) as Record<string, string>;
  };
  const ours = async (dir: string): Promise<Record<string, string>> => {
    const sbom = await sbomOf(dir);
    assert.equal(sbom.problems.length, 0, JSON.stringify(sbom.problems));
    const out: Record<string, string> = {};
    for (const c of sbom.components) out[`${c.name}@${c.version ?? ""}`] = c.scope ?? "(none)";
    return out;
  };

  for (const name of ["python-pdm-bentoml", "python-pdm"]) {
    it(`fixtures/${name}`, async () => assert.deepEqual(await ours(join(FIXTURES, name)), await oracle(join(FIXTURES, name))));
  }

  it("fixtures/python-pdm-bentoml without groups (reachability), and the oracle's two readings agree there", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tollgate-pdm-"));
    try {
      await cp(join(BENTOML, "pyproject.toml"), join(dir, "pyproject.toml"));
      await writeFile(join(dir, "pdm.lock"), (await readFile(join(BENTOML, "pdm.lock"), "utf8")).replace(/^groups = .*\n/gm, ""));
      const expected = await oracle(dir);
      assert.deepEqual(await ours(dir), expected);
      assert.deepEqual(expected, await oracle(BENTOML, "--reach"));
      assert.deepEqual(expected, await oracle(BENTOML));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
