import { readRegularFile } from "../io/files.ts";
import { isAbsolute, join } from "node:path";
import semver from "semver";
import { declaredRangesByName } from "../catalogers/language/npm-lock.ts";
import type { Component, DeclaredRange, Decision, Finding, FindingFix, Remediation, UpgradeGroup } from "../model/index.ts";
import { compareVersions } from "../ecosystem/index.ts";

/**
 * Remediation: for each failing finding the nearest fixed version, and grouped upgrades ("upgrade X
 * from a to b fixes N findings"). For npm, whether the upgrade is reachable within the semver ranges
 * that the project (package.json, as recorded in package-lock.json) and the packages depending on it
 * declare, so that a lockfile refresh alone fixes it.
 */

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

type RangesByName = Map<string, DeclaredRange[]>;

/**
 * The ranges a package-lock.json on disk declares for `name` (`declaredRangesByName`); null when it
 * cannot be read or has no `packages` table.
 */
async function rangesInLockfile(path: string, name: string, cache: Map<string, RangesByName | undefined>): Promise<readonly DeclaredRange[] | null> {
  if (!cache.has(path)) {
    let byName: RangesByName | undefined;
    try {
      // A regular file only, opened without blocking (a FIFO must not hang the gate); too large: unknown.
      const lock = JSON.parse((await readRegularFile(path, MAX_LOCK_BYTES)).toString("utf8")) as { packages?: unknown };
      if (lock && typeof lock.packages === "object" && lock.packages !== null) byName = declaredRangesByName(lock.packages);
    } catch {
      byName = undefined;
    }
    cache.set(path, byName);
  }
  const byName = cache.get(path);
  return byName ? (byName.get(name) ?? []) : null;
}

/** True when `version` satisfies a declared range (a malformed or invalid range admits nothing). */
function admits(declared: DeclaredRange, version: string): boolean {
  if (declared.malformed) return false;
  const valid = semver.validRange(declared.range, { loose: true });
  return valid !== null && semver.satisfies(version, valid, { loose: true });
}

/**
 * For npm upgrades: checks `to` against the ranges declared for the package by whatever requires it
 * in the package-lock.json it was found in (v2/v3 lockfiles record package.json's ranges under ""):
 * the ranges the SBOM's walk recorded on the component (`Component.declaredRanges`), else (an SBOM
 * built elsewhere) those of the lockfile read again, its path resolved against `root`.
 */
export async function checkDeclaredRanges(upgrades: UpgradeGroup[], components: readonly Component[], root: string): Promise<void> {
  const cache = new Map<string, RangesByName | undefined>();
  for (const u of upgrades) {
    if (u.ecosystem !== "npm") continue;
    delete u.declaredRanges;
    const c = components.find((x) => (x.purl ?? x.name) === u.package);
    const lockLoc = c?.locations.find((l) => l.path.endsWith("package-lock.json") || l.path.endsWith("npm-shrinkwrap.json"));
    if (!c || !lockLoc) {
      u.withinDeclaredRange = "unknown";
      continue;
    }
    const declared = c.declaredRanges !== undefined ? c.declaredRanges : await rangesInLockfile(isAbsolute(lockLoc.path) ? lockLoc.path : join(root, lockLoc.path), u.name, cache);
    if (!declared) {
      u.withinDeclaredRange = "unknown";
      continue;
    }
    u.declaredRanges = declared.map((d) => `${d.requester === "" ? "(project)" : d.requester.replace(/^.*node_modules\//, "")} → ${d.range}`);
    u.withinDeclaredRange = declared.length === 0 ? "unknown" : declared.every((d) => admits(d, u.to)) ? "yes" : "no";
  }
}
