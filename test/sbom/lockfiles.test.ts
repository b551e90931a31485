/**
 * The large real lockfiles in ../shared/testdata/lockfiles, checked against counts obtained
 * independently: Python's tomllib for the TOML locks (poetry, uv, Cargo), and plain line counting
 * for go.mod, yarn.lock and pnpm-lock.yaml (each says how below). The npm ones are in npm.test.ts,
 * with npm itself as the oracle.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import type { Sbom } from "../../src/model/index.ts";
import { buildSbom } from "../../src/sbom/index.ts";
import { SHARED_TESTDATA, sharedTestdataMissing } from "../helpers.ts";

const execFileP = promisify(execFile);
const LOCKS = join(SHARED_TESTDATA, "lockfiles");
const skip = sharedTestdataMissing("lockfiles");

async function sbomOf(dir: string): Promise<Sbom> {
  const path = join(LOCKS, dir);
  return buildSbom({ kind: "dir", input: path, path }, { deterministic: true });
}

/** name@version of every [[package]] of a TOML lockfile, read by python3's tomllib. */
async function tomllibPairs(file: string): Promise<string[]> {
  const script = "import sys, tomllib, json\nd = tomllib.load(open(sys.argv[1], 'rb'))\nprint(json.dumps([p['name'] + '@' + p.get('version', '') for p in d['package']]))";
  const { stdout } = await execFileP("python3", ["-c", script, file], { maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as string[];
}

function pairs(sbom: Sbom, includeRoot = false): Set<string> {
  const list = includeRoot && sbom.metadata.component ? [sbom.metadata.component, ...sbom.components] : sbom.components;
  return new Set(list.map((c) => `${c.name}@${c.version ?? ""}`));
}

describe("TOML lockfiles against Python's tomllib", { skip }, () => {
  for (const [dir, file, includeRoot] of [
    ["poetry-saleor", "poetry.lock", false],
    ["poetry-poetry", "poetry.lock", false],
    ["uv-saleor", "uv.lock", true],
    ["cargo-ruff", "Cargo.lock", false],
  ] as const) {
    it(`${dir}/${file}: every package, exact name@version`, async () => {
      const oracle = await tomllibPairs(join(LOCKS, dir, file));
      const sbom = await sbomOf(dir);
      assert.equal(sbom.problems.length, 0, JSON.stringify(sbom.problems));
      const ours = pairs(sbom, includeRoot);
      assert.deepEqual(oracle.filter((p) => !ours.has(p)), []);
      assert.equal(ours.size, new Set(oracle).size);
      for (const c of sbom.components) assert.ok(c.purl, `${c.ref} has a purl`);
    });
  }

  it("poetry-saleor: dev groups become dev scope, hashes come from files", async () => {
    const sbom = await sbomOf("poetry-saleor");
    const byName = new Map(sbom.components.map((c) => [c.name, c]));
    // groups = ["dev"] only in the lock, so dev scope.
    const text = readFileSync(join(LOCKS, "poetry-saleor", "poetry.lock"), "utf8");
    const devOnly = [...text.matchAll(/name = "([^"]+)"\nversion = "[^"]+"\n(?:[^\n[]*\n)*?groups = \["dev"\]/g)].map((m) => m[1] as string);
    assert.ok(devOnly.length > 10);
    for (const n of devOnly) assert.equal(byName.get(n)?.scope, "dev", n);
    assert.equal(byName.get("adyen")?.hashes[0]?.content, "f44007fd542d7634bee69f29572442bf9102043141a7d5822ac98539ac5e4d5b");
  });
});

describe("other large lockfiles", { skip }, () => {
  it("go-grype: every require of go.mod (counted line by line), direct ones not // indirect", async () => {
    const text = readFileSync(join(LOCKS, "go-grype", "go.mod"), "utf8");
    // Independent count: lines inside require blocks plus single-line requires.
    let inBlock = false;
    let requires = 0;
    let indirect = 0;
    for (const line of text.split("\n")) {
      if (/^require \($/.test(line)) inBlock = true;
      else if (inBlock && line.trim() === ")") inBlock = false;
      else if ((inBlock && line.trim() && !line.trim().startsWith("//")) || /^require \S/.test(line)) {
        requires++;
        if (line.includes("// indirect")) indirect++;
      }
    }
    const sbom = await sbomOf("go-grype");
    assert.equal(sbom.components.length, requires);
    assert.equal(sbom.components.filter((c) => c.direct).length, requires - indirect);
    assert.ok(pairs(sbom).has("github.com/CycloneDX/cyclonedx-go@v0.11.0"));
  });

  it("yarn-theia-ide: one component per resolved name@version of the 2,171 entries", async () => {
    const text = readFileSync(join(LOCKS, "yarn-theia-ide", "yarn.lock"), "utf8");
    // Independent count: a stanza header is a line at column 0 ending with ":"; its `version "x"` line follows.
    const stanzas = text.split("\n\n").filter((s) => /^\S.*:$/m.test(s) && /\n {2}version "/.test(s));
    assert.equal(stanzas.length, 2171);
    const resolved = new Set(
      stanzas.map((s) => {
        const header = (/^(\S.*):$/m.exec(s)?.[1] ?? "").split(", ")[0]?.replace(/^"|"$/g, "") ?? "";
        const range = header.slice(header.indexOf("@", 1) + 1);
        const name = range.startsWith("npm:") ? range.slice(4, range.lastIndexOf("@")) : header.slice(0, header.indexOf("@", 1));
        return `${name}@${/\n {2}version "([^"]+)"/.exec(s)?.[1] ?? ""}`;
      }),
    );
    const sbom = await sbomOf("yarn-theia-ide");
    assert.deepEqual([...resolved].filter((p) => !pairs(sbom).has(p)), []);
    assert.equal(sbom.components.length, resolved.size);
  });

  it("pnpm-vite: the 1,405 packages plus one component per importer", async () => {
    const text = readFileSync(join(LOCKS, "pnpm-vite", "pnpm-lock.yaml"), "utf8");
    const packagesSection = text.slice(text.indexOf("\npackages:\n"), text.indexOf("\nsnapshots:\n"));
    const packages = packagesSection.split("\n").filter((l) => /^ {2}\S.*:$/.test(l)).length;
    const importersSection = text.slice(text.indexOf("\nimporters:\n"), text.indexOf("\npackages:\n"));
    const importers = importersSection.split("\n").filter((l) => /^ {2}\S/.test(l)).length;
    assert.equal(packages, 1405);
    const sbom = await sbomOf("pnpm-vite");
    assert.equal(sbom.components.filter((c) => c.purl).length, packages);
    assert.equal(sbom.components.filter((c) => c.properties?.["tollgate:pnpm:importer"]).length, importers - 1);
    assert.ok(pairs(sbom).has("@babel/core@7.29.7"));
    assert.equal(sbom.components.find((c) => c.name === "@eslint/js")?.scope, "dev");
  });
});
