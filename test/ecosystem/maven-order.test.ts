/**
 * Maven version order against Maven's own ComparableVersion, on generated mixed-qualifier versions:
 * the committed cases (test/vulndb/fixtures/maven-comparable-version-{3.8.6,3.8.7}.txt, 2,500 pairs
 * each, verdicts of Maven 3.8.6 and of Debian's Maven 3.8.7; scripts/maven-versions.ts made them), and,
 * when `java` and maven-artifact are installed (Debian's maven package), a freshly generated sample
 * compared live.
 *
 * tollgate's order is ComparableVersion 3.8.6's, the one OSV's own fixtures were generated with, with
 * two documented divergences (src/ecosystem/version/maven.ts): Maven 3.8.7+'s MNG-7644 change is not
 * applied by default (`{ mng7644: true }` applies it), and a release alias alone between two hyphens
 * disappears with its hyphen (`1-ga-1 = 1-1`, as OSV's fixtures expect; `{ exact: true }` keeps
 * ComparableVersion's nesting).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { compareVersions } from "../../src/ecosystem/index.ts";
import { compareMavenWith, type MavenOrderOptions } from "../../src/ecosystem/version/maven.ts";
import { comparableVersionVerdicts, findMavenArtifactJar, generatePairs, javaAvailable } from "../../scripts/maven-versions.ts";
import { ROOT } from "../helpers.ts";

const OP: Record<string, -1 | 0 | 1> = { "<": -1, "=": 0, ">": 1 };
const SYMBOL = ["<", "=", ">"] as const;

function cases(mavenVersion: string): [string, string, string][] {
  const text = readFileSync(join(ROOT, "test", "vulndb", "fixtures", `maven-comparable-version-${mavenVersion}.txt`), "utf8");
  return text
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => {
      const [a, op, b] = l.split(" ");
      assert.ok(a !== undefined && b !== undefined && OP[op!] !== undefined, `malformed line ${l}`);
      return [a, op!, b];
    });
}

/** The lines `compare` orders differently from the verdicts, in either direction. */
function disagreements(lines: [string, string, string][], compare: (a: string, b: string) => number): string[] {
  const bad: string[] = [];
  for (const [a, op, b] of lines) {
    const fwd = compare(a, b);
    const rev = compare(b, a);
    if (fwd !== OP[op] || rev !== -OP[op]!) bad.push(`${a} ${op} ${b}: got ${SYMBOL[fwd + 1]}, reversed ${SYMBOL[rev + 1]}`);
  }
  return bad;
}

const with_ = (options: MavenOrderOptions) => (a: string, b: string) => compareMavenWith(a, b, options);
/** A release alias (ga, final, release) alone between two hyphens: divergence 2. */
const RELEASE_BETWEEN_HYPHENS = /-(ga|final|release)-/i;

describe("Maven order: committed ComparableVersion verdicts", () => {
  const v386 = cases("3.8.6");
  const v387 = cases("3.8.7");

  test("the committed files hold the same 2,500 generated pairs", () => {
    assert.equal(v386.length, 2500);
    assert.deepEqual(
      v386.map(([a, , b]) => `${a} ${b}`),
      v387.map(([a, , b]) => `${a} ${b}`),
    );
    // The two Mavens disagree on a few percent of them: that is MNG-7644.
    assert.ok(v386.filter(([, op], i) => op !== v387[i]![1]).length > 50);
  });

  test("Maven 3.8.6: tollgate agrees on every pair but the documented `-ga-` divergence", () => {
    const bad = disagreements(v386, (a, b) => compareVersions("Maven", a, b));
    assert.ok(bad.length <= 5, bad.join("\n"));
    for (const line of bad) assert.match(line.split(":")[0]!, RELEASE_BETWEEN_HYPHENS, line);
  });

  test("Maven 3.8.6: { exact: true } agrees on every pair", () => {
    assert.deepEqual(disagreements(v386, with_({ exact: true })), []);
  });

  test("Maven 3.8.7: { exact: true, mng7644: true } agrees on every pair", () => {
    assert.deepEqual(disagreements(v387, with_({ exact: true, mng7644: true })), []);
  });

  test("Maven 3.8.7: { mng7644: true } agrees on every pair but the documented `-ga-` divergence", () => {
    const bad = disagreements(v387, with_({ mng7644: true }));
    assert.ok(bad.length <= 5, bad.join("\n"));
    for (const line of bad) assert.match(line.split(":")[0]!, RELEASE_BETWEEN_HYPHENS, line);
  });
});

describe("Maven order: named cases", () => {
  // [a, 3.8.6's verdict, b, 3.8.7's verdict]
  const named: [string, string, string, string][] = [
    ["4.SNAPSHOT.milestone", ">", "4.alpha", "<"],
    ["5-b2", ">", "5.milestone", "<"],
    ["1.milestone", "<", "1.sp-milestone", ">"],
    ["10.foo", "<", "10.foo-5", ">"],
    ["1.2.48.sec10", "<", "1.2.48_noneautotype", ">"],
    ["1.5.9.RC1", "<", "1.5.9-RC0", ">"],
    // The same in both: zeros of each number kind (0000000000 is a long 0, above an int 0), nulls in
    // the middle, leading zeros, aliases, unknown words, Unicode digits.
    ["10.GA.Final", "<", "10.GA.1234567890", "<"],
    ["0.GA.007", ">", "0.GA", ">"],
    ["1.0000000000.1", ">", "1.0.1", ">"],
    ["1.0000000000000000000.1", ">", "1.0000000000.1", ">"],
    ["1.999999999", ">", "1.0000000001", ">"],
    ["0", "=", "release", "="],
    ["1.0.cr1", ">", "1-rc-1", "="],
    ["1a1", "=", "1-alpha-1", "="],
    ["1-foo", ">", "1-sp", ">"],
    ["1-foo", "<", "1-fop", "<"],
    ["1.٣", "=", "1.3", "="],
  ];
  for (const [a, op386, b, op387] of named) {
    test(`${a} ${op386} ${b} (Maven 3.8.6), ${op387} with mng7644 (3.8.7+)`, () => {
      assert.equal(SYMBOL[compareVersions("Maven", a, b) + 1], op386);
      assert.equal(SYMBOL[compareVersions("Maven", b, a) + 1], SYMBOL[2 - SYMBOL.indexOf(op386 as "<")]);
      assert.equal(SYMBOL[compareMavenWith(a, b, { mng7644: true }) + 1], op387);
    });
  }

  test("divergence 2: a release alias alone between hyphens vanishes (OSV's `1-1 = 1-ga-1`); exact keeps it", () => {
    assert.equal(compareVersions("Maven", "1-1", "1-ga-1"), 0);
    assert.equal(compareVersions("Maven", "1-1", "1-final-1"), 0);
    assert.equal(compareMavenWith("1-1", "1-ga-1", { exact: true }), 1);
    // Not for other nulls, nor for an alias glued to a number: ComparableVersion's order there.
    assert.equal(compareVersions("Maven", "1-1", "1--1"), 1);
    assert.equal(compareVersions("Maven", "007-Final007", "007-1"), -1);
  });
});

const jar = findMavenArtifactJar();
const liveSkip = !jar
  ? "SKIPPED: maven-artifact is absent (apt-get install maven, or TOLLGATE_MAVEN_ARTIFACT_JAR)"
  : !javaAvailable()
    ? "SKIPPED: java is absent"
    : jar.version !== undefined && !/^3\.(8\.([7-9]|\d\d)|9\.)/.test(jar.version)
      ? `SKIPPED: maven-artifact ${jar.version} is not a 3.8.7–3.9.x ComparableVersion`
      : false;

describe("Maven order: live comparison with the installed ComparableVersion", { skip: liveSkip }, () => {
  test("a fresh sample of 2,000 generated pairs agrees with { exact, mng7644 }, and tollgate differs only as documented", () => {
    const seed = Date.now() % 2 ** 31;
    const pairs = generatePairs(2000, seed);
    const verdicts = comparableVersionVerdicts(jar!.path, pairs);
    const lines = pairs.map(([a, b], i): [string, string, string] => [a, verdicts[i]!, b]);
    const context = `seed ${seed}, ${jar!.path} (node scripts/maven-versions.ts --count 2000 --seed ${seed})`;
    assert.deepEqual(disagreements(lines, with_({ exact: true, mng7644: true })), [], context);
    // The default order differs from 3.8.7+ only where MNG-7644 or divergence 2 applies.
    const unexplained = lines.filter(([a, , b]) => {
      if (disagreements([[a, SYMBOL[compareMavenWith(a, b, { exact: true, mng7644: true }) + 1]!, b]], (x, y) => compareVersions("Maven", x, y)).length === 0) return false;
      const mng7644 = compareMavenWith(a, b, { exact: true }) !== compareMavenWith(a, b, { exact: true, mng7644: true });
      return !mng7644 && !RELEASE_BETWEEN_HYPHENS.test(`${a} ${b}`);
    });
    assert.deepEqual(unexplained, [], context);
  });
});
