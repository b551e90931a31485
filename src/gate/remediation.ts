import { readRegularFile } from "../io/files.ts";
import { isAbsolute, join } from "node:path";
import semver from "semver";
import type { Component, Decision, Finding } from "../model/index.ts";
import { compareVersions } from "../vulndb/version/index.ts";

/**
 * Remediation: for each failing finding the nearest fixed version, and grouped upgrades ("upgrade X
 * from a to b fixes N findings"). For npm, whether the upgrade is reachable within the semver ranges
 * that the project (package.json, as recorded in package-lock.json) and the packages depending on it
 * declare, so that a lockfile refresh alone fixes it.
 */

export interface FindingFix {
  findingId: string;
  package: string;
  version?: string;
  /** The nearest fixed version, or undefined when none is known. */
  nearestFix?: string;
}

export interface UpgradeGroup {
  /** The component's purl (or name). */
  package: string;
  name: string;
  ecosystem?: string;
  from?: string;
  /** The lowest version that fixes every failing finding of the package. */
  to: string;
  /** Ids of the findings this upgrade fixes (failing or not). */
  fixes: string[];
  /** npm: "yes" when `to` satisfies every declared range that pulls the package in; "no" when one excludes it. */
  withinDeclaredRange?: "yes" | "no" | "unknown";
  /** The declared ranges checked, as `requester → range`. */
  declaredRanges?: string[];
}

export interface Remediation {
  fixes: FindingFix[];
  upgrades: UpgradeGroup[];
  /** Failing findings with no known fix. */
  unfixable: FindingFix[];
}

function cmp(ecosystem: string | undefined, a: string, b: string): number {
  try {
    return compareVersions(ecosystem ?? "npm", a, b);
  } catch {
    const sa = semver.coerce(a);
    const sb = semver.coerce(b);
    return sa && sb ? semver.compare(sa, sb) : a.localeCompare(b);
  }
}

function componentKey(c: Component): string {
  return c.purl ?? `${c.ecosystem ?? "generic"}/${c.name}@${c.version ?? ""}`;
}

/** The nearest fix of each failing finding and the upgrades grouped by package. */
export function planRemediation(decisions: readonly Decision[], allFindings: readonly Finding[]): Remediation {
  const failing = decisions.filter((d) => d.outcome === "fail" && d.finding).map((d) => d.finding!);
  const fixes: FindingFix[] = [];
  const unfixable: FindingFix[] = [];
  const groups = new Map<string, { c: Component; to: string }>();
  for (const f of failing) {
    const nearest = [...f.fixedVersions].sort((a, b) => cmp(f.component.ecosystem, a, b))[0];
    const fix: FindingFix = { findingId: f.id, package: f.component.purl ?? f.component.name, version: f.component.version, nearestFix: nearest };
    if (!nearest) {
      unfixable.push(fix);
      continue;
    }
    fixes.push(fix);
    const key = componentKey(f.component);
    const g = groups.get(key);
    if (!g) groups.set(key, { c: f.component, to: nearest });
    else if (cmp(f.component.ecosystem, nearest, g.to) > 0) g.to = nearest;
  }
  const upgrades: UpgradeGroup[] = [];
  for (const [key, { c, to }] of groups) {
    // Every finding on this component that `to` fixes: one of its fixed versions is at or below `to`.
    const fixed = allFindings.filter(
      (f) => componentKey(f.component) === key && f.fixedVersions.some((v) => cmp(c.ecosystem, v, to) <= 0),
    );
    upgrades.push({ package: c.purl ?? c.name, name: c.name, ecosystem: c.ecosystem, from: c.version, to, fixes: [...new Set(fixed.map((f) => f.id))] });
  }
  upgrades.sort((a, b) => b.fixes.length - a.fixes.length || a.name.localeCompare(b.name));
  return { fixes, upgrades, unfixable };
}

/** A package-lock.json larger than this is not read for ranges (the answer is then "unknown"). */
const MAX_LOCK_BYTES = 64 * 1024 * 1024;

type LockPackages = Record<string, { dependencies?: Record<string, string>; devDependencies?: Record<string, string>; optionalDependencies?: Record<string, string>; peerDependencies?: Record<string, string> }>;

async function readLockPackages(path: string, cache: Map<string, LockPackages | undefined>): Promise<LockPackages | undefined> {
  if (cache.has(path)) return cache.get(path);
  let result: LockPackages | undefined;
  try {
    // A regular file only, opened without blocking (a FIFO must not hang the gate); too large: unknown.
    const lock = JSON.parse((await readRegularFile(path, MAX_LOCK_BYTES)).toString("utf8")) as { packages?: unknown };
    if (lock && typeof lock.packages === "object" && lock.packages !== null) result = lock.packages as LockPackages;
  } catch {
    result = undefined;
  }
  cache.set(path, result);
  return result;
}

/**
 * For npm upgrades: checks `to` against the ranges declared for the package by whatever requires it
 * in the package-lock.json it was found in (v2/v3 lockfiles record package.json's ranges under "").
 * `root` resolves the lockfile paths of the SBOM's locations.
 */
export async function checkDeclaredRanges(upgrades: UpgradeGroup[], components: readonly Component[], root: string): Promise<void> {
  const cache = new Map<string, LockPackages | undefined>();
  for (const u of upgrades) {
    if (u.ecosystem !== "npm") continue;
    delete u.declaredRanges;
    const c = components.find((x) => (x.purl ?? x.name) === u.package);
    const lockLoc = c?.locations.find((l) => l.path.endsWith("package-lock.json") || l.path.endsWith("npm-shrinkwrap.json"));
    if (!c || !lockLoc) {
      u.withinDeclaredRange = "unknown";
      continue;
    }
    const packages = await readLockPackages(isAbsolute(lockLoc.path) ? lockLoc.path : join(root, lockLoc.path), cache);
    if (!packages) {
      u.withinDeclaredRange = "unknown";
      continue;
    }
    const ranges: string[] = [];
    let ok = true;
    let any = false;
    for (const [path, entry] of Object.entries(packages)) {
      for (const deps of [entry.dependencies, entry.optionalDependencies, entry.peerDependencies, path === "" ? entry.devDependencies : undefined]) {
        const range = deps?.[u.name];
        if (range === undefined) continue;
        any = true;
        ranges.push(`${path === "" ? "(project)" : path.replace(/^.*node_modules\//, "")} → ${range}`);
        const valid = semver.validRange(range, { loose: true });
        if (valid === null || !semver.satisfies(u.to, valid, { loose: true })) ok = false;
      }
    }
    u.declaredRanges = ranges;
    u.withinDeclaredRange = any ? (ok ? "yes" : "no") : "unknown";
  }
}
