// Maven version order cases checked against Maven's own ComparableVersion (maven-artifact).
//
//   node scripts/maven-versions.ts [--count N] [--seed S] [--classpath JAR|DIR --maven-version V] [--out FILE]
//
// generates N pairs of mixed-qualifier versions (numbers of each size, the known qualifiers and their
// aliases, unknown words, empty parts, ".", "-" and digit/letter transitions), asks ComparableVersion
// for each verdict (`java -cp CLASSPATH org.apache.maven.artifact.versioning.ComparableVersion a b …`,
// the class's own main) and writes `A op B` lines. The classpath defaults to Debian's maven package
// (maven-artifact 3.8.7). test/vulndb/maven-order.test.ts imports the generator and the oracle for its
// live comparison. The committed cases, test/vulndb/fixtures/maven-comparable-version-*.txt, were made
// with --count 2500 --seed 20240611:
//   3.8.7: Debian 12's maven 3.8.7-1 (the default classpath);
//   3.8.6: ComparableVersion.java of apache/maven's tag maven-3.8.6 (maven-artifact/src/main/java/org/
//          apache/maven/artifact/versioning/), compiled alone with `javac -d DIR` (JDK 17), --classpath DIR.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Where Debian's maven package puts maven-artifact: the Maven repository layout names the version. */
const MAVEN_REPO = "/usr/share/maven-repo/org/apache/maven/maven-artifact";
const MAVEN_LIB = "/usr/share/maven/lib";

export interface MavenArtifactJar {
  path: string;
  /** maven-artifact's version, when the path tells it. */
  version: string | undefined;
}

/** The maven-artifact jar: $TOLLGATE_MAVEN_ARTIFACT_JAR, else Debian's maven package's, else undefined. */
export function findMavenArtifactJar(): MavenArtifactJar | undefined {
  const fromEnv = process.env.TOLLGATE_MAVEN_ARTIFACT_JAR;
  if (fromEnv) return existsSync(fromEnv) ? { path: fromEnv, version: undefined } : undefined;
  if (existsSync(MAVEN_REPO)) {
    for (const version of readdirSync(MAVEN_REPO).filter((v) => /^\d/.test(v) && v !== "3.x")) {
      const path = join(MAVEN_REPO, version, `maven-artifact-${version}.jar`);
      if (existsSync(path)) return { path, version };
    }
  }
  if (existsSync(MAVEN_LIB)) {
    const jar = readdirSync(MAVEN_LIB).find((f) => /^maven-artifact.*\.jar$/.test(f));
    if (jar) return { path: join(MAVEN_LIB, jar), version: undefined };
  }
  return undefined;
}

/** True when a `java` runs. */
export function javaAvailable(): boolean {
  const r = spawnSync("java", ["-version"], { stdio: "ignore" });
  return r.status === 0;
}

/** A small seeded PRNG (mulberry32), so a seed reproduces its cases. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NUMBERS = ["0", "1", "2", "3", "5", "10", "00", "01", "007", "0000000000", "123456789", "1234567890", "12345678901234567890", "99999999999999999999"];
const WORDS = [
  "alpha", "beta", "milestone", "rc", "cr", "snapshot", "ga", "final", "release", "sp",
  "a", "b", "m", "c", "RC", "Alpha", "SNAPSHOT", "GA", "Final", "SP", "M", "B",
  "foo", "dev", "pre", "x", "abc", "zeta", "jre", "android", "redhat", "preview", "milestones", "spx",
];

/** One version: a number, then 0–5 parts joined by ".", "-" or nothing (a digit/letter transition). */
export function randomVersion(rand: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  let v = rand() < 0.9 ? pick(NUMBERS.slice(0, 9)) : pick([...WORDS, ""]);
  const parts = Math.floor(rand() * 6);
  for (let i = 0; i < parts; i++) {
    const r = rand();
    const sep = r < 0.45 ? "." : r < 0.85 ? "-" : "";
    const token = rand() < 0.45 ? pick(NUMBERS) : rand() < 0.93 ? pick(WORDS) : "";
    v += sep + token;
  }
  return v === "" ? "1" : v;
}

/** A version near `v`: one part changed, added or removed, so pairs often share a prefix. */
function nearVersion(v: string, rand: () => number): string {
  const parts = v.split(/([-.])/);
  const r = rand();
  const other = randomVersion(rand).split(/([-.])/);
  if (r < 0.35 && parts.length > 1) parts[parts.length - 1] = other[other.length - 1]!;
  else if (r < 0.7) parts.push(rand() < 0.5 ? "." : "-", other[other.length - 1]!);
  else if (parts.length > 2) parts.splice(parts.length - 2, 2);
  else return randomVersion(rand);
  const out = parts.join("");
  return out === "" ? "1" : out;
}

/** `count` pairs: half unrelated versions, half a version and a neighbour. */
export function generatePairs(count: number, seed: number): [string, string][] {
  const rand = prng(seed);
  const pairs: [string, string][] = [];
  const seen = new Set<string>();
  while (pairs.length < count) {
    const a = randomVersion(rand);
    const b = rand() < 0.5 ? randomVersion(rand) : nearVersion(a, rand);
    const key = `${a} ${b}`;
    if (seen.has(key)) continue;
    seen.add(key);
    pairs.push([a, b]);
  }
  return pairs;
}

/**
 * ComparableVersion's verdicts for `pairs`, as "<", "=" or ">" (a op b). Runs the class's main, which
 * prints `   prev op next` for each consecutive pair of its arguments; every other line is a pair's.
 */
export function comparableVersionVerdicts(classpath: string, pairs: readonly [string, string][]): string[] {
  const out: string[] = [];
  const CHUNK = 500;
  for (let i = 0; i < pairs.length; i += CHUNK) {
    const chunk = pairs.slice(i, i + CHUNK);
    const stdout = execFileSync("java", ["-cp", classpath, "org.apache.maven.artifact.versioning.ComparableVersion", ...chunk.flat()], {
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    const verdicts = stdout
      .split("\n")
      .filter((l) => l.startsWith("   "))
      .map((l) => l.trim().split(" "));
    chunk.forEach(([a, b], j) => {
      const line = verdicts[2 * j];
      if (!line || line.length !== 3 || line[0] !== a || line[2] !== b) throw new Error(`unexpected ComparableVersion output for ${a} ${b}: ${line?.join(" ")}`);
      out.push(line[1] === "==" ? "=" : line[1]!);
    });
  }
  return out;
}

function main(): void {
  const args = process.argv.slice(2);
  const opt = (name: string, fallback: string): string => {
    const i = args.indexOf(name);
    return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
  };
  const count = Number(opt("--count", "3000"));
  const seed = Number(opt("--seed", "20240611"));
  const classpath = opt("--classpath", "");
  const jar = classpath ? { path: classpath, version: opt("--maven-version", "") || undefined } : findMavenArtifactJar();
  if (!jar || !javaAvailable()) {
    console.error("maven-versions: needs java and maven-artifact (apt-get install maven, or TOLLGATE_MAVEN_ARTIFACT_JAR)");
    process.exit(2);
  }
  const pairs = generatePairs(count, seed);
  const verdicts = comparableVersionVerdicts(jar.path, pairs);
  const header = [
    `# Maven version order: ${count} generated mixed-qualifier pairs (seed ${seed}, scripts/maven-versions.ts),`,
    `# each verdict from org.apache.maven.artifact.versioning.ComparableVersion of Maven ${jar.version ?? "(version unknown)"}.`,
    `# (scripts/maven-versions.ts says where each Maven's ComparableVersion came from.) Format: A op B, op one of <, =, >.`,
  ];
  const text = [...header, ...pairs.map(([a, b], i) => `${a} ${verdicts[i]} ${b}`)].join("\n") + "\n";
  const outFile = opt("--out", "");
  if (outFile) writeFileSync(outFile, text);
  else process.stdout.write(text);
}

if (import.meta.main) main();
