/**
 * Version order against ../shared/testdata/version-compare (osv-scalibr's comparison files, generated
 * upstream by each ecosystem's native tool): every line, in both directions. Plus the node-semver
 * comparison/equality fixtures for npm and pypa/packaging's sorted-version list for PyPI.
 * No line is marked unsupported: legacy (non-PEP 440) PyPI versions are ordered as OSV orders them.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { compareVersions } from "../../src/ecosystem/index.ts";
import { checkComparisonLines } from "../../src/ecosystem/version/check-lines.ts";
import { runCli, SHARED_TESTDATA, sharedTestdataMissing } from "../helpers.ts";

const DIR = join(SHARED_TESTDATA, "version-compare");
const skip = sharedTestdataMissing("version-compare");

/** File prefix → the OSV ecosystems it covers (osv-scalibr semantic/compare_test.go). */
const FILES: Record<string, string[]> = {
  semver: ["npm", "crates.io", "Go", "Hex"],
  pypi: ["PyPI"],
  maven: ["Maven"],
  debian: ["Debian"],
  alpine: ["Alpine"],
  redhat: ["Red Hat"],
  rubygems: ["RubyGems"],
  nuget: ["NuGet"],
  packagist: ["Packagist"],
  cran: ["CRAN"],
  pub: ["Pub"],
  hackage: ["Hackage"],
};
const OP: Record<string, number> = { "<": -1, "=": 0, ">": 1 };

function caseLines(file: string): string[] {
  return readFileSync(join(DIR, file), "utf8")
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("# ") && !l.startsWith("// "));
}

describe("version order: ../shared/testdata/version-compare", { skip }, () => {
  const files = skip ? [] : readdirSync(DIR).filter((f) => f.endsWith(".txt")).sort();
  test("every comparison file is mapped to an ecosystem", { skip }, () => {
    assert.ok(files.length >= 19, `found ${files.length} files`);
    for (const f of files) assert.ok(FILES[f.replace(/-versions.*$/, "")], `${f} has no ecosystem`);
  });
  for (const f of files) {
    for (const eco of FILES[f.replace(/-versions.*$/, "")] ?? []) {
      test(`${f} as ${eco}: every line agrees in both directions`, () => {
        const lines = caseLines(f);
        assert.ok(lines.length > 0);
        const bad: string[] = [];
        for (const line of lines) {
          const [a, op, b] = line.split(" ");
          assert.ok(a !== undefined && b !== undefined && OP[op!] !== undefined, `malformed line ${line}`);
          const want = OP[op!]!;
          const fwd = compareVersions(eco, a, b);
          const rev = compareVersions(eco, b, a);
          if (fwd !== want || rev !== -want) bad.push(`${line}: got ${fwd}, reversed ${rev}`);
        }
        assert.deepEqual(bad.slice(0, 20), [], `${bad.length} of ${lines.length} lines disagree`);
      });
    }
  }

  test("npm: node-semver's comparisons.json (v1 > v2) and equality.json", () => {
    const cmp = JSON.parse(readFileSync(join(DIR, "npm-node-semver", "comparisons.json"), "utf8")) as [string, string, unknown?][];
    for (const [a, b] of cmp) {
      assert.equal(compareVersions("npm", a, b), 1, `${a} > ${b}`);
      assert.equal(compareVersions("npm", b, a), -1, `${b} < ${a}`);
    }
    const eq = JSON.parse(readFileSync(join(DIR, "npm-node-semver", "equality.json"), "utf8")) as [string, string, unknown?][];
    for (const [a, b] of eq) assert.equal(compareVersions("npm", a, b), 0, `${a} = ${b}`);
  });

  test("PyPI: pypa/packaging's VERSIONS_sorted is strictly ascending for every pair", () => {
    const data = JSON.parse(readFileSync(join(DIR, "pypa-packaging", "pep440-test-version.json"), "utf8")) as { VERSIONS_sorted: string[] };
    const v = data.VERSIONS_sorted;
    assert.ok(v.length > 50);
    for (let i = 0; i < v.length; i++) {
      for (let j = i + 1; j < v.length; j++) {
        assert.equal(compareVersions("PyPI", v[i]!, v[j]!), -1, `${v[i]} < ${v[j]}`);
        assert.equal(compareVersions("PyPI", v[j]!, v[i]!), 1, `${v[j]} > ${v[i]}`);
      }
    }
  });

  test("PyPI: normalized forms compare equal to their inputs", () => {
    const data = JSON.parse(readFileSync(join(DIR, "pypa-packaging", "pep440-test-version.json"), "utf8")) as { test_normalized_versions: [string, string][] };
    for (const [input, normalized] of data.test_normalized_versions) assert.equal(compareVersions("PyPI", input, normalized), 0, `${input} = ${normalized}`);
  });

  test("CLI: version compare --stdin checks a whole file in one process (Debian, 14k lines)", async () => {
    const input = readFileSync(join(DIR, "debian-versions-generated.txt"), "utf8");
    const r = await runCli(["version", "compare", "--ecosystem", "Debian", "--stdin"], { input });
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, "");
    assert.equal(r.code, 0);
  });
});

describe("version compare CLI", () => {
  test("prints -1, 0 or 1", async () => {
    assert.equal((await runCli(["version", "compare", "--ecosystem", "PyPI", "1.0rc1", "1.0"])).stdout, "-1\n");
    assert.equal((await runCli(["version", "compare", "--ecosystem", "Debian", "1:1.0-1", "2.0-1"])).stdout, "1\n");
    assert.equal((await runCli(["version", "compare", "--ecosystem", "Maven", "1.0", "1.0.0.ga"])).stdout, "0\n");
  });

  test("an unknown ecosystem is a usage error that lists the known ones (the help text does not load them)", async () => {
    const r = await runCli(["version", "compare", "--ecosystem", "Fedora", "1", "2"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no version order for ecosystem "Fedora" \(known: npm, crates\.io, .*Rocky Linux.*\)/);
  });

  test("--stdin prints the lines it disagrees with and exits 1", async () => {
    const r = await runCli(["version", "compare", "--ecosystem", "npm", "--stdin"], { input: "1.0.0 < 1.0.1\n# comment\n1.0.0 > 2.0.0\n1.2.3 = v1.2.3\n" });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "1.0.0 > 2.0.0 (computed 1.0.0 < 2.0.0)\n");
  });

  test("--stdin with a malformed line is an input error naming the line", async () => {
    const r = await runCli(["version", "compare", "--ecosystem", "npm", "--stdin"], { input: "1.0.0 < 1.0.1\n1.0.0 <= 2\n" });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /<stdin>:2: expected `A op B`/);
  });

  test("an unknown ecosystem is a usage error", async () => {
    const r = await runCli(["version", "compare", "--ecosystem", "Nope", "1", "2"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no version order for ecosystem "Nope"/);
    assert.throws(() => checkComparisonLines("Nope", "1 < 2"), /no version order/);
  });

  test("Go pseudo-versions and +incompatible order by SemVer", () => {
    assert.equal(compareVersions("Go", "v0.0.0-20191109021931-daa7c04131f5", "v0.0.0-20200101000000-aaaaaaaaaaaa"), -1);
    assert.equal(compareVersions("Go", "v0.0.0-20191109021931-daa7c04131f5", "v0.1.0"), -1);
    assert.equal(compareVersions("Go", "v2.0.0+incompatible", "2.0.0"), 0);
    assert.equal(compareVersions("Go", "v1.2.4-0.20200101000000-abcdef012345", "v1.2.3"), 1);
    assert.equal(compareVersions("Go", "v1.2.4-0.20200101000000-abcdef012345", "v1.2.4"), -1);
  });
});
