/**
 * Test inputs built from real data, not hand-written answers: the components of
 * examples/vulnerable-app/package-lock.json and the OSV records of examples/advisories (written from
 * the GitHub advisories cited in each record's `references`). `findingsFor` evaluates the records'
 * SEMVER ranges with node-semver, so that the gate's tests do not depend on the matcher being built.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import semver from "semver";
import type { Component, Finding, Sbom, Severity } from "../../src/model/index.ts";
import { ROOT } from "../helpers.ts";

export const EXAMPLE_APP = join(ROOT, "examples", "vulnerable-app");
export const ADVISORIES = join(ROOT, "examples", "advisories");

interface OsvLike {
  id: string;
  aliases?: string[];
  summary?: string;
  modified: string;
  severity?: { type: string; score: string }[];
  affected: { package: { ecosystem: string; name: string }; ranges: { type: string; events: Record<string, string>[] }[] }[];
  database_specific?: { severity?: string };
}

export function readAdvisories(): OsvLike[] {
  return readdirSync(ADVISORIES)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(ADVISORIES, f), "utf8")) as OsvLike);
}

/** The lockfile line of a `"node_modules/NAME": {` key (what the npm cataloger records). */
function lineOf(text: string, key: string): number | undefined {
  const i = text.split("\n").findIndex((l) => l.includes(`"${key}": {`));
  return i < 0 ? undefined : i + 1;
}

/** The components of the example app's package-lock.json (v3), as the SBOM stage would list them. */
export function exampleComponents(): Component[] {
  const text = readFileSync(join(EXAMPLE_APP, "package-lock.json"), "utf8");
  const lock = JSON.parse(text) as { packages: Record<string, { version?: string; dev?: boolean }> };
  const root = lock.packages[""] as unknown as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
  const direct = new Set([...Object.keys(root.dependencies), ...Object.keys(root.devDependencies)]);
  const out: Component[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === "") continue;
    const name = path.replace(/^.*node_modules\//, "");
    out.push({
      ref: `pkg:npm/${name}@${entry.version}`,
      name,
      version: entry.version,
      purl: `pkg:npm/${name}@${entry.version}`,
      ecosystem: "npm",
      type: "library",
      hashes: [],
      licenses: ["MIT"],
      scope: entry.dev ? "dev" : "required",
      direct: direct.has(name),
      locations: [{ path: "package-lock.json", line: lineOf(text, path) }],
      dependencies: [],
    });
  }
  return out;
}

export function exampleSbom(components = exampleComponents()): Sbom {
  return {
    metadata: {
      timestamp: "2026-11-26T00:00:00.000Z",
      tool: { name: "tollgate", version: "test" },
      target: { kind: "dir", input: EXAMPLE_APP, path: EXAMPLE_APP },
      component: { ref: "pkg:npm/vulnerable-app@1.0.0", name: "vulnerable-app", version: "1.0.0", purl: "pkg:npm/vulnerable-app@1.0.0", type: "application", hashes: [], licenses: [], locations: [], dependencies: [] },
    },
    components,
    problems: [],
  };
}

const LEVEL: Record<string, Severity> = { CRITICAL: "CRITICAL", HIGH: "HIGH", MODERATE: "MEDIUM", MEDIUM: "MEDIUM", LOW: "LOW" };

/** Findings for the components, from the records' SEMVER ranges (introduced ≤ v < fixed). */
export function findingsFor(components: readonly Component[], records: readonly OsvLike[] = readAdvisories()): Finding[] {
  const out: Finding[] = [];
  for (const c of components) {
    for (const r of records) {
      for (const a of r.affected) {
        if (a.package.ecosystem !== "npm" || a.package.name !== c.name || !c.version) continue;
        const fixed: string[] = [];
        let hit: Record<string, string>[] | undefined;
        for (const range of a.ranges) {
          const intro = range.events.find((e) => e.introduced !== undefined)?.introduced ?? "0";
          const fix = range.events.find((e) => e.fixed !== undefined)?.fixed;
          if (fix && semver.gt(fix, c.version)) fixed.push(fix);
          const lower = intro === "0" ? true : semver.gte(c.version, intro);
          if (lower && (!fix || semver.lt(c.version, fix))) hit = range.events;
        }
        if (!hit) continue;
        out.push({
          id: r.id,
          aliases: [r.id, ...(r.aliases ?? [])],
          component: c,
          severity: { level: LEVEL[r.database_specific?.severity ?? ""] ?? "UNKNOWN", vector: r.severity?.[0]?.score, source: "ghsa:database_specific" },
          fixedVersions: fixed.sort(semver.compare),
          matchedBy: [{ advisoryId: r.id, kind: "range", rangeType: "SEMVER", events: hit, comparison: `${c.version} in ${JSON.stringify(hit)} (test: node-semver)` }],
          summary: r.summary,
        });
      }
    }
  }
  return out;
}

/** The example app with some packages moved to other versions (e.g. an upgrade). */
export function withVersions(versions: Record<string, string>): Component[] {
  return exampleComponents().map((c) => (versions[c.name] ? { ...c, version: versions[c.name], purl: `pkg:npm/${c.name}@${versions[c.name]}`, ref: `pkg:npm/${c.name}@${versions[c.name]}` } : c));
}
