/**
 * Version order per OSV ecosystem (https://ossf.github.io/osv-schema/#affectedpackage-field), as OSV
 * and the ecosystems' own tools define it. `compareVersions("PyPI", "1.0rc1", "1.0")` is -1.
 */
import { UsageError } from "../../errors.ts";
import { compareAlpine } from "./alpine.ts";
import { compareDebian } from "./debian.ts";
import { compareMaven } from "./maven.ts";
import type { Sign } from "./numeric.ts";
import { comparePackagist } from "./packagist.ts";
import { comparePypi } from "./pypi.ts";
import { compareRpm } from "./rpm.ts";
import { compareRubygems } from "./rubygems.ts";
import { VERSION_ECOSYSTEMS, type VersionEcosystem } from "./ecosystems.ts";
import { compareCran, compareHackage, compareNpm, compareNuget, comparePub, compareSemver } from "./semver.ts";

export type { Sign } from "./numeric.ts";
export type VersionComparator = (a: string, b: string) => Sign;

const COMPARATORS: Record<VersionEcosystem, VersionComparator> = {
  npm: compareNpm,
  "crates.io": compareSemver,
  Go: compareSemver,
  Hex: compareSemver,
  SwiftURL: compareSemver,
  "GitHub Actions": compareSemver,
  Kubernetes: compareSemver,
  PyPI: comparePypi,
  Maven: compareMaven,
  RubyGems: compareRubygems,
  NuGet: compareNuget,
  Packagist: comparePackagist,
  Pub: comparePub,
  CRAN: compareCran,
  Bioconductor: compareCran,
  Hackage: compareHackage,
  GHC: compareHackage,
  Debian: compareDebian,
  Ubuntu: compareDebian,
  Echo: compareDebian,
  Alpine: compareAlpine,
  Wolfi: compareAlpine,
  Chainguard: compareAlpine,
  MinimOS: compareAlpine,
  "Red Hat": compareRpm,
  AlmaLinux: compareRpm,
  "Rocky Linux": compareRpm,
  SUSE: compareRpm,
  openSUSE: compareRpm,
  "Photon OS": compareRpm,
  Mageia: compareRpm,
  openEuler: compareRpm,
  "Azure Linux": compareRpm,
};

export { VERSION_ECOSYSTEMS, type VersionEcosystem } from "./ecosystems.ts";

/** The version order of an OSV ecosystem (`Debian:12` uses Debian's); undefined when tollgate has none. */
export function versionComparator(ecosystem: string): VersionComparator | undefined {
  const colon = ecosystem.indexOf(":");
  const name = colon < 0 ? ecosystem : ecosystem.slice(0, colon);
  return Object.hasOwn(COMPARATORS, name) ? COMPARATORS[name as VersionEcosystem] : undefined;
}

/** -1, 0 or 1 as `a` sorts before, equal to or after `b` in `ecosystem`'s version order. */
export function compareVersions(ecosystem: string, a: string, b: string): Sign {
  const cmp = versionComparator(ecosystem);
  if (!cmp) throw new UsageError(`no version order for ecosystem ${JSON.stringify(ecosystem)} (known: ${VERSION_ECOSYSTEMS.join(", ")})`);
  return cmp(a, b);
}

export { compareSemver } from "./semver.ts";
