/**
 * Which of a target's ecosystems the vulnerability database has records for. A database of npm
 * records says nothing about a Debian image's packages: matching them finds nothing, and that
 * nothing must never read as "no vulnerabilities". The gate turns the missing ones into decisions
 * (`db.no_data`, `db.partial_data`); `scan` names them.
 */
import type { TollgateConfig } from "../config/index.ts";
import type { Component, Decision, Sbom } from "../model/index.ts";
import { staleDatabaseReason, type VulnDb } from "../vulndb/index.ts";
import { ecosystemOfPurl, releaseMatches, releaseScopeKey } from "../ecosystem/index.ts";
import { packageKeyOf } from "./index.ts";

/** One ecosystem (with the release scope OS packages are matched in) that a target's components are matched in. */
export interface SeenEcosystem {
  /** As OSV names it with its release: `npm`, `Debian:12`, `Alpine:v3.20`. */
  key: string;
  ecosystem: string;
  release?: string;
  /** How many components are matched in it. */
  components: number;
}

export interface EcosystemCoverage {
  seen: SeenEcosystem[];
  /** Seen ecosystems the database has no record for. */
  missing: SeenEcosystem[];
}

/** The ecosystems a target's matchable components (those with an ecosystem and an exact version) are looked up in. */
export function seenEcosystems(components: readonly Component[]): SeenEcosystem[] {
  const seen = new Map<string, SeenEcosystem>();
  for (const c of components) {
    const k = packageKeyOf(c);
    if (typeof k === "string") continue;
    const key = releaseScopeKey(k.ecosystem, k.release);
    const entry = seen.get(key);
    if (entry) entry.components++;
    else seen.set(key, { key, ecosystem: k.ecosystem, ...(k.release !== undefined && key !== k.ecosystem ? { release: k.release } : {}), components: 1 });
  }
  return [...seen.values()].sort((a, b) => a.key.localeCompare(b.key));
}

/** Which of the target's ecosystems the database has records for (any release scope that applies counts). */
export function ecosystemCoverage(components: readonly Component[], db: Pick<VulnDb, "releasesOf">): EcosystemCoverage {
  const seen = seenEcosystems(components);
  const releases = new Map<string, string[]>();
  const missing = seen.filter((s) => {
    let scopes = releases.get(s.ecosystem);
    if (!scopes) releases.set(s.ecosystem, (scopes = db.releasesOf(s.ecosystem)));
    return !scopes.some((r) => releaseMatches(s.ecosystem, r, s.release));
  });
  return { seen, missing };
}

/** OS packages (deb, apk, rpm purls) of a distribution no ecosystem descriptor claims, by `type/namespace` (`rpm/fedora`). */
export interface UnplacedOsPackages {
  distribution: string;
  components: number;
}

/**
 * The OS packages that cannot be matched because their distribution has no OSV ecosystem in tollgate
 * (an rpm from Fedora or Amazon Linux): they are never looked up, so the gate must say so.
 */
export function unplacedOsPackages(components: readonly Component[]): UnplacedOsPackages[] {
  const byDistribution = new Map<string, number>();
  for (const c of components) {
    const type = c.purl ? /^pkg:(deb|apk|rpm)\//.exec(c.purl)?.[1] : undefined;
    if (!type || packageKeyOf(c) !== "no-ecosystem") continue;
    const distribution = `${type}/${ecosystemOfPurl(c.purl as string)?.namespace ?? "unknown"}`;
    byDistribution.set(distribution, (byDistribution.get(distribution) ?? 0) + 1);
  }
  return [...byDistribution].map(([distribution, n]) => ({ distribution, components: n })).sort((a, b) => a.distribution.localeCompare(b.distribution));
}

/** `npm (12 components), Debian:12 (130 components)`. */
export function describeEcosystems(list: readonly SeenEcosystem[]): string {
  return list.map((s) => `${s.key} (${s.components} component${s.components === 1 ? "" : "s"})`).join(", ");
}

/**
 * What the database itself says about this run: too old for `db.max_age` (`db.fail_when_stale`), or
 * without records for the target's ecosystems, all of them (`db.no_data`) or some (`db.partial_data`);
 * OS packages of a distribution without an OSV ecosystem count the same way (no data for them, whatever
 * the database holds). A database that cannot know about a target's packages must never let the gate pass silently.
 */
export function databaseDecisions(sbom: Sbom, db: VulnDb, config: Pick<TollgateConfig, "db">, now: Date): Decision[] {
  const out: Decision[] = [];
  const stale = staleDatabaseReason(db, config, now);
  if (stale !== undefined) out.push({ outcome: config.db.fail_when_stale ? "fail" : "warn", rule: "db:stale", message: stale });
  const { seen, missing } = ecosystemCoverage(sbom.components, db);
  if (missing.length > 0) {
    const all = missing.length === seen.length;
    const outcome = all ? config.db.no_data : config.db.partial_data;
    const names = [...new Set(missing.map((m) => m.ecosystem))];
    out.push({
      outcome,
      rule: all ? `db:no-data:${outcome}` : `db:partial-data:${outcome}`,
      message:
        `the vulnerability database ${db.path} has no records for ${describeEcosystems(missing)}` +
        `${all ? ", none of the target's ecosystems" : ""}: their vulnerabilities are unknown; run \`tollgate db update --ecosystem ${names.join(" ")}\``,
    });
  }
  const unplaced = unplacedOsPackages(sbom.components);
  if (unplaced.length > 0) {
    // Nothing else of the target is matched: as good as a database without data.
    const all = seen.length === 0;
    const outcome = all ? config.db.no_data : config.db.partial_data;
    out.push({
      outcome,
      rule: all ? `db:no-data:${outcome}` : `db:partial-data:${outcome}`,
      message:
        `no OSV ecosystem for the OS packages of ${unplaced.map((u) => `${u.distribution} (${u.components} component${u.components === 1 ? "" : "s"})`).join(", ")}` +
        `${all ? ", none of the target's packages" : ""}: they are not matched and their vulnerabilities are unknown`,
    });
  }
  return out;
}

