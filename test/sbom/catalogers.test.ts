/**
 * The catalogers other than npm, each on a small fixture under fixtures/ written by hand for these
 * tests in the shape the tool writes (yarn classic/berry, pnpm 6/9, bun, requirements, Pipfile.lock,
 * pdm.lock, go.mod/go.sum, pom.xml, gradle.lockfile, composer.lock, Gemfile.lock,
 * packages.lock.json), and the expected values are read off the fixture.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { Component, Sbom } from "../../src/model/index.ts";
import { buildSbom } from "../../src/sbom/index.ts";
import { cp, mkdir, writeFile } from "node:fs/promises";
import { tempDir } from "../helpers.ts";

const FIXTURES = fileURLToPath(new URL("fixtures/", import.meta.url));

async function sbomOf(dir: string): Promise<Sbom> {
  const path = join(FIXTURES, dir);
  return buildSbom({ kind: "dir", input: path, path }, { deterministic: true });
}

function summary(c: Component): string {
  return `${c.purl ?? c.ref} ${c.scope ?? "-"}${c.direct ? " direct" : ""}${c.unresolved ? " unresolved" : ""}`;
}

function byRef(sbom: Sbom): Map<string, Component> {
  return new Map(sbom.components.map((c) => [c.ref, c]));
}

/** The fixture line a component's first location names. */
function lineText(dir: string, c: Component | undefined): string {
  const loc = c?.locations[0];
  assert.ok(loc?.line, "a location with a line");
  return readFileSync(join(FIXTURES, dir, loc.path), "utf8").split("\n")[loc.line - 1] ?? "";
}

describe("JavaScript lockfiles other than npm", () => {
  it("yarn classic: descriptors, aliases, scopes from package.json, integrity", async () => {
    const sbom = await sbomOf("yarn-classic");
    assert.deepEqual(sbom.components.map(summary).sort(), [
      "pkg:npm/%40scope/lib@1.2.0 required direct",
      "pkg:npm/ms@2.0.0 required direct",
      "pkg:npm/ms@2.1.3 required",
      "pkg:npm/tap@16.3.0 dev direct",
    ]);
    const refs = byRef(sbom);
    assert.deepEqual(refs.get("pkg:npm/tap@16.3.0")?.dependencies, ["pkg:npm/ms@2.1.3"]);
    assert.equal(refs.get("pkg:npm/ms@2.1.3")?.hashes[0]?.alg, "SHA-512");
    assert.match(lineText("yarn-classic", refs.get("pkg:npm/ms@2.1.3")), /^ms@\^2\.0\.0, ms@\^2\.1\.0:$/);
    assert.equal(sbom.metadata.component?.purl, "pkg:npm/yarn-demo@2.0.0");
  });

  it("yarn berry: resolutions, the workspace root, dev scope", async () => {
    const sbom = await sbomOf("yarn-berry");
    assert.deepEqual(sbom.components.map(summary).sort(), ["pkg:npm/left-pad@1.3.0 required direct", "pkg:npm/typescript@5.4.5 dev direct"]);
    assert.equal(sbom.metadata.component?.name, "berry-demo");
    assert.deepEqual(sbom.metadata.component?.dependencies, ["pkg:npm/left-pad@1.3.0", "pkg:npm/typescript@5.4.5"]);
  });

  it("pnpm v6: peer-suffixed keys, dev flags, edges", async () => {
    const sbom = await sbomOf("pnpm-v6");
    assert.deepEqual(sbom.components.map(summary).sort(), [
      "pkg:npm/js-tokens@4.0.0 required",
      "pkg:npm/loose-envify@1.4.0 required",
      "pkg:npm/react-dom@18.2.0 required direct",
      "pkg:npm/react@18.2.0 required",
      "pkg:npm/typescript@5.4.5 dev direct",
    ]);
    assert.deepEqual(byRef(sbom).get("pkg:npm/react-dom@18.2.0")?.dependencies, ["pkg:npm/react@18.2.0"]);
  });

  it("pnpm v9: importers as workspace components, link: and catalog: and npm: aliases", async () => {
    const sbom = await sbomOf("pnpm-v9");
    const refs = byRef(sbom);
    const app = refs.get("pnpm-importer:packages/app");
    assert.deepEqual(app?.dependencies, ["npm:local-b@file:vendor/local-b", "pkg:npm/local-a@1.0.1", "pkg:npm/react@18.2.0", "pkg:npm/string-width@4.2.3", "pnpm-importer:packages/ui"]);
    assert.equal(refs.get("pkg:npm/typescript@5.4.5")?.scope, "dev");
    // file: folders: the version comes from the folder's package.json (vendor/local-a has one), never
    // from the "file:…" key; without a package.json (local-b) there is no version and no versioned purl.
    const localA = refs.get("pkg:npm/local-a@1.0.1");
    assert.equal(localA?.properties?.["tollgate:pnpm:directory"], "vendor/local-a");
    assert.deepEqual(localA?.dependencies, ["pkg:npm/react@18.2.0"]);
    const localB = refs.get("npm:local-b@file:vendor/local-b");
    assert.equal(localB?.version, undefined);
    assert.equal(localB?.purl, "pkg:npm/local-b");
    assert.ok(!sbom.components.some((c) => c.purl?.includes("@file:")), "no purl carries a file: path as its version");
    // packages/ui has a package.json in the fixture; packages/app does not.
    assert.equal(refs.get("pnpm-importer:packages/ui")?.purl, "pkg:npm/%40demo/ui@0.2.0");
    assert.equal(refs.get("pnpm-importer:packages/app")?.name, "packages/app");
    assert.equal(refs.get("pkg:npm/loose-envify@1.4.0")?.scope, "required");
    assert.match(lineText("pnpm-v9", refs.get("pkg:npm/react@18.2.0")), /^ {2}react@18\.2\.0:$/);
  });

  it("bun.lock: trailing commas, workspaces, nested resolution, dev scope", async () => {
    const sbom = await sbomOf("bun");
    assert.deepEqual(sbom.components.map(summary).sort(), [
      "pkg:npm/%40bun-demo/util required direct",
      "pkg:npm/%40types/bun@1.1.6 dev direct",
      "pkg:npm/bun-types@1.1.17 dev",
      "pkg:npm/chalk@5.3.0 required direct",
      "pkg:npm/ms@2.1.3 required",
    ]);
    assert.equal(sbom.metadata.component?.name, "bun-demo");
  });
});

describe("Python", () => {
  it("requirements: pins and hashes, includes followed, unpinned reported as unresolved", async () => {
    const sbom = await sbomOf("python-req");
    assert.deepEqual(sbom.components.map(summary).sort(), [
      "pkg:pypi/django@4.2.7 required direct",
      "pkg:pypi/flask required direct unresolved",
      "pkg:pypi/numpy required direct unresolved",
      "pkg:pypi/pytest@7.4.3 dev direct",
      "pkg:pypi/requests@2.31.0 required direct",
    ]);
    const requests = sbom.components.find((c) => c.name === "requests");
    assert.deepEqual(requests?.hashes, [{ alg: "SHA-256", content: "58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f" }]);
    const flask = sbom.components.find((c) => c.name === "flask");
    assert.equal(flask?.version, undefined, "never guessed");
    assert.equal(flask?.properties?.["tollgate:python:requirement"], ">=2.0");
    assert.equal(sbom.problems.length, 0);
    // The unresolved and direct ones hang off the root.
    assert.ok(sbom.metadata.component?.dependencies.includes(flask?.ref ?? ""));
  });

  it("poetry.lock: groups, file hashes, edges, direct dependencies from pyproject.toml", async () => {
    const sbom = await sbomOf("python-poetry");
    assert.deepEqual(sbom.components.map(summary).sort(), ["pkg:pypi/pytest@7.4.3 dev direct", "pkg:pypi/requests@2.31.0 required direct", "pkg:pypi/urllib3@2.1.0 required"]);
    const requests = byRef(sbom).get("pkg:pypi/requests@2.31.0");
    assert.deepEqual(requests?.dependencies, ["pkg:pypi/urllib3@2.1.0"]);
    assert.equal(requests?.hashes[0]?.content, "58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f");
    assert.equal(sbom.metadata.component?.purl, "pkg:pypi/poetry-demo@0.3.0");
  });

  it("uv.lock: the editable project is the root, dev groups, sdist hashes", async () => {
    const sbom = await sbomOf("python-uv");
    assert.deepEqual(sbom.components.map(summary).sort(), ["pkg:pypi/idna@3.6 required direct", "pkg:pypi/ruff@0.1.9 dev direct"]);
    assert.equal(sbom.metadata.component?.purl, "pkg:pypi/uv-demo@1.0.0");
    assert.equal(byRef(sbom).get("pkg:pypi/idna@3.6")?.hashes[0]?.alg, "SHA-256");
  });

  it("Pipfile.lock: default and develop", async () => {
    const sbom = await sbomOf("python-pipenv");
    assert.deepEqual(sbom.components.map(summary).sort(), ["pkg:pypi/black@23.11.0 dev", "pkg:pypi/certifi@2023.11.17 required"]);
  });

  it("pdm.lock: groups and edges", async () => {
    const sbom = await sbomOf("python-pdm");
    assert.deepEqual(sbom.components.map(summary).sort(), ["pkg:pypi/click@8.1.7 required", "pkg:pypi/colorama@0.4.6 required", "pkg:pypi/iniconfig@2.0.0 dev", "pkg:pypi/pytest@7.4.3 dev"]);
    assert.deepEqual(byRef(sbom).get("pkg:pypi/click@8.1.7")?.dependencies, ["pkg:pypi/colorama@0.4.6"]);
    assert.match(lineText("python-pdm", byRef(sbom).get("pkg:pypi/click@8.1.7")), /^\[\[package\]\]$/);
  });
});

describe("Go, JVM, PHP, Ruby, .NET", () => {
  it("go.mod: requires, indirect, replace by module and by directory, pseudo-versions, go.sum", async () => {
    const sbom = await sbomOf("go");
    assert.deepEqual(sbom.components.map(summary).sort(), [
      "pkg:golang/example.com/local required direct",
      "pkg:golang/github.com/google/uuid@v1.6.0 required direct",
      "pkg:golang/github.com/new/lib@v1.2.3 required direct",
      "pkg:golang/github.com/pkg/errors@v0.0.0-20230101120000-abcdefabcdef required",
      "pkg:golang/golang.org/x/text@v0.14.0 required",
      "pkg:golang/gopkg.in/yaml.v3@v3.0.1 required direct",
    ]);
    const refs = byRef(sbom);
    assert.equal(refs.get("pkg:golang/github.com/new/lib@v1.2.3")?.properties?.["tollgate:go:replaced"], "github.com/old/lib@v1.0.0");
    assert.equal(refs.get("pkg:golang/github.com/google/uuid@v1.6.0")?.properties?.["tollgate:go:h1"], "h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=");
    assert.equal(refs.get("pkg:golang/github.com/pkg/errors@v0.0.0-20230101120000-abcdefabcdef")?.properties?.["tollgate:go:pseudo-version"], "true");
    assert.equal(sbom.metadata.component?.purl, "pkg:golang/example.com/app");
  });

  it("Cargo.lock: the package from Cargo.toml is the root, versioned edges, git sources, checksums", async () => {
    const sbom = await sbomOf("cargo");
    assert.equal(sbom.metadata.component?.purl, "pkg:cargo/cargo-demo@0.1.0");
    assert.deepEqual(sbom.metadata.component?.dependencies, ["pkg:cargo/rand@0.8.5", "pkg:cargo/serde@1.0.193?vcs_url=https%3A%2F%2Fgithub.com%2Fserde-rs%2Fserde%3Ftag%3Dv1.0.193%230123456789abcdef0123456789abcdef01234567"]);
    assert.equal(byRef(sbom).get("pkg:cargo/rand@0.7.3")?.direct, undefined);
    assert.equal(byRef(sbom).get("pkg:cargo/rand@0.8.5")?.hashes[0]?.content, "34af8d1a0e25924bc5b7c43c079c942339d8f0a8b57c39049bef581b46327404");
  });

  it("pom.xml: property interpolation, dependencyManagement, scopes, unresolvable versions", async () => {
    const sbom = await sbomOf("maven");
    assert.deepEqual(sbom.components.map(summary).sort(), [
      "pkg:maven/com.example/common@2.0.0 required direct",
      "pkg:maven/com.example/ranged required direct unresolved",
      "pkg:maven/com.example/unknown required direct unresolved",
      "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.15.3 required direct",
      "pkg:maven/org.junit.jupiter/junit-jupiter@5.10.1 dev direct",
      "pkg:maven/org.slf4j/slf4j-api@2.0.9 required direct",
    ]);
    const refs = byRef(sbom);
    assert.match(lineText("maven", refs.get("pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.15.3")), /<dependency>/);
    assert.equal(sbom.metadata.component?.purl, "pkg:maven/com.example/app@2.0.0");
  });

  it("gradle.lockfile: configurations give the scope", async () => {
    const sbom = await sbomOf("gradle");
    assert.deepEqual(sbom.components.map(summary).sort(), ["pkg:maven/com.google.guava/guava@32.1.3-jre required", "pkg:maven/junit/junit@4.13.2 dev"]);
  });

  it("composer.lock: packages and packages-dev, shasum, licenses, edges", async () => {
    const sbom = await sbomOf("composer");
    assert.deepEqual(sbom.components.map(summary).sort(), ["pkg:composer/monolog/monolog@3.5.0 required direct", "pkg:composer/phpunit/phpunit@10.5.3 dev direct", "pkg:composer/psr/log@3.0.0 required"]);
    const log = byRef(sbom).get("pkg:composer/psr/log@3.0.0");
    assert.deepEqual(log?.hashes, [{ alg: "SHA-1", content: "fe5ea303b0887d5caefd3d431c3e61ad47037001" }]);
    assert.deepEqual(log?.licenses, ["MIT"]);
    assert.match(lineText("composer", log), /"name": "psr\/log"/);
  });

  it("Gemfile.lock: GEM and GIT specs, platforms, DEPENDENCIES as direct", async () => {
    const sbom = await sbomOf("ruby");
    assert.deepEqual(sbom.components.map(summary).sort(), [
      "pkg:gem/actionpack@7.1.2 required direct",
      "pkg:gem/nokogiri@1.15.5?platform=x86_64-linux required direct",
      "pkg:gem/private_gem@0.1.0 required direct",
      "pkg:gem/racc@1.7.3 required",
      "pkg:gem/rack-test@2.1.0 required",
      "pkg:gem/rack@3.0.8 required",
    ]);
  });

  it("packages.lock.json: direct and transitive, contentHash as SHA-512, project references", async () => {
    const sbom = await sbomOf("nuget");
    const json = byRef(sbom).get("pkg:nuget/Newtonsoft.Json@13.0.3");
    assert.equal(json?.direct, true);
    assert.deepEqual(json?.dependencies, ["pkg:nuget/System.Runtime@4.3.0"]);
    assert.equal(json?.hashes[0]?.alg, "SHA-512");
    assert.equal(json?.hashes[0]?.content.length, 128);
    assert.equal(byRef(sbom).get("nuget-project:mylib")?.type, "application");
  });
});

describe("installed metadata", () => {
  it("node_modules package.json and dist-info METADATA add licenses and installed-only packages; lockfile discovery still skips them", async () => {
    // Built here (node_modules would be ignored by git in fixtures/): the npm-v3 fixture plus an install of it.
    const { dir, cleanup } = await tempDir();
    try {
      await cp(join(FIXTURES, "npm-v3"), dir, { recursive: true });
      const put = async (path: string, data: string) => {
        await mkdir(join(dir, path, ".."), { recursive: true });
        await writeFile(join(dir, path), data);
      };
      await put("node_modules/left-pad/package.json", JSON.stringify({ name: "left-pad", version: "1.3.0", license: "WTFPL" }));
      await put("node_modules/@types/extra/package.json", JSON.stringify({ name: "@types/extra", version: "9.9.9", license: "MIT" }));
      await put("node_modules/tape/node_modules/left-pad/package.json", JSON.stringify({ name: "left-pad", version: "1.1.0" }));
      await put("node_modules/tape/lib/package.json", JSON.stringify({ name: "not-a-package", version: "0.0.0" }));
      await put("node_modules/sub/yarn.lock", 'hidden@^1:\n  version "1.0.0"\n');
      await put(".venv/lib/python3.12/site-packages/Flask-3.0.0.dist-info/METADATA", "Metadata-Version: 2.3\nName: Flask\nVersion: 3.0.0\nLicense-Expression: BSD-3-Clause\n\nLong description.\n");
      const sbom = await buildSbom({ kind: "dir", input: dir, path: dir }, { deterministic: true });
      const refs = byRef(sbom);
      const leftPad = refs.get("pkg:npm/left-pad@1.3.0");
      assert.deepEqual(leftPad?.locations.map((l) => l.path).sort(), ["node_modules/left-pad/package.json", "package-lock.json"]);
      assert.equal(leftPad?.scope, "required", "the lockfile's scope survives the merge");
      assert.equal(refs.get("pkg:npm/%40types/extra@9.9.9")?.licenses[0], "MIT");
      assert.ok(refs.has("pkg:npm/left-pad@1.1.0"));
      assert.ok(!sbom.components.some((c) => c.name === "not-a-package" || c.name === "hidden"));
      const flask = refs.get("pkg:pypi/flask@3.0.0");
      assert.deepEqual(flask?.licenses, ["BSD-3-Clause"]);
      assert.equal(flask?.foundBy, "python-installed");
    } finally {
      await cleanup();
    }
  });
});
