/**
 * Every ecosystem tollgate knows, one descriptor each (src/ecosystem/descriptors/), and the lookups the
 * rest of the code asks them through. Adding an ecosystem is one descriptor file and one line here.
 */
import { UsageError } from "../errors.ts";
import { almaLinux } from "./descriptors/almalinux.ts";
import { alpine } from "./descriptors/alpine.ts";
import { azureLinux } from "./descriptors/azure-linux.ts";
import { bioconductor } from "./descriptors/bioconductor.ts";
import { chainguard } from "./descriptors/chainguard.ts";
import { cran } from "./descriptors/cran.ts";
import { cratesIo } from "./descriptors/crates-io.ts";
import { debian } from "./descriptors/debian.ts";
import { echo } from "./descriptors/echo.ts";
import { ghc } from "./descriptors/ghc.ts";
import { githubActions } from "./descriptors/github-actions.ts";
import { go } from "./descriptors/go.ts";
import { hackage } from "./descriptors/hackage.ts";
import { hex } from "./descriptors/hex.ts";
import { kubernetes } from "./descriptors/kubernetes.ts";
import { mageia } from "./descriptors/mageia.ts";
import { maven } from "./descriptors/maven.ts";
import { minimos } from "./descriptors/minimos.ts";
import { npm } from "./descriptors/npm.ts";
import { nuget } from "./descriptors/nuget.ts";
import { openEuler } from "./descriptors/openeuler.ts";
import { openSuse } from "./descriptors/opensuse.ts";
import { packagist } from "./descriptors/packagist.ts";
import { photonOs } from "./descriptors/photon-os.ts";
import { pub } from "./descriptors/pub.ts";
import { pypi } from "./descriptors/pypi.ts";
import { redHat } from "./descriptors/red-hat.ts";
import { rockyLinux } from "./descriptors/rocky-linux.ts";
import { rubygems } from "./descriptors/rubygems.ts";
import { suse } from "./descriptors/suse.ts";
import { swiftUrl } from "./descriptors/swift-url.ts";
import { ubuntu } from "./descriptors/ubuntu.ts";
import { wolfi } from "./descriptors/wolfi.ts";
import type { EcosystemDescriptor, VersionComparator } from "./types.ts";
import type { Sign } from "./version/numeric.ts";

/** Every ecosystem, in the order help texts list them. */
export const ECOSYSTEM_DESCRIPTORS = [
  npm,
  cratesIo,
  go,
  hex,
  swiftUrl,
  githubActions,
  kubernetes,
  pypi,
  maven,
  rubygems,
  nuget,
  packagist,
  pub,
  cran,
  bioconductor,
  hackage,
  ghc,
  debian,
  ubuntu,
  echo,
  alpine,
  wolfi,
  chainguard,
  minimos,
  redHat,
  almaLinux,
  rockyLinux,
  suse,
  openSuse,
  photonOs,
  mageia,
  openEuler,
  azureLinux,
] as const;

/** An OSV ecosystem name tollgate knows (`npm`, `Debian`, `Rocky Linux`). */
export type EcosystemName = (typeof ECOSYSTEM_DESCRIPTORS)[number]["name"];

/** The names of the ecosystems, in `ECOSYSTEM_DESCRIPTORS` order. */
export const ECOSYSTEM_NAMES: readonly EcosystemName[] = ECOSYSTEM_DESCRIPTORS.map((d) => d.name);

const BY_NAME: ReadonlyMap<string, EcosystemDescriptor> = new Map(ECOSYSTEM_DESCRIPTORS.map((d) => [d.name, d]));

/** The descriptor of an OSV ecosystem; a `:release` suffix is ignored (`Debian:12` is Debian's). */
export function ecosystemDescriptor(ecosystem: string): EcosystemDescriptor | undefined {
  const colon = ecosystem.indexOf(":");
  return BY_NAME.get(colon < 0 ? ecosystem : ecosystem.slice(0, colon));
}

/** True for the OSV ecosystem names tollgate knows (no release suffix). */
export function isEcosystemName(name: string): name is EcosystemName {
  return BY_NAME.has(name);
}

/** The version order of an OSV ecosystem (`Debian:12` uses Debian's); undefined when tollgate has none. */
export function versionComparator(ecosystem: string): VersionComparator | undefined {
  return ecosystemDescriptor(ecosystem)?.compare;
}

/** -1, 0 or 1 as `a` sorts before, equal to or after `b` in `ecosystem`'s version order. */
export function compareVersions(ecosystem: string, a: string, b: string): Sign {
  const cmp = versionComparator(ecosystem);
  if (!cmp) throw new UsageError(`no version order for ecosystem ${JSON.stringify(ecosystem)} (known: ${ECOSYSTEM_NAMES.join(", ")})`);
  return cmp(a, b);
}

/** A package name as OSV compares it in `ecosystem` (PEP 503 for PyPI; lower case for NuGet, Packagist, Hex; else as written). */
export function normalizePackageName(ecosystem: string, name: string): string {
  return ecosystemDescriptor(ecosystem)?.packageName?.(name) ?? name;
}

/** A component release with code names resolved (`bookworm` → `12` for Debian). */
function resolvedRelease(d: EcosystemDescriptor | undefined, release: string): string {
  return d?.distro?.codenames?.[release.toLowerCase()] ?? release;
}

/** Whether a record scoped to `recordRelease` (e.g. "12", "v3.20", "22.04:LTS") applies to the component's release. */
export function releaseMatches(ecosystem: string, recordRelease: string, componentRelease: string | undefined): boolean {
  if (recordRelease === "" || componentRelease === undefined || componentRelease === "") return true;
  const d = ecosystemDescriptor(ecosystem);
  const component = resolvedRelease(d, componentRelease);
  if (d?.releaseMatches) return d.releaseMatches(recordRelease, component);
  return recordRelease === component || recordRelease.startsWith(`${component}:`);
}

/** The scope key of a release-scoped ecosystem as `db update` downloads it (`Debian:12`, `Alpine:v3.20`); the name alone otherwise. */
export function releaseScopeKey(ecosystem: string, release: string | undefined): string {
  const d = ecosystemDescriptor(ecosystem);
  if (!release || !d?.releaseKey) return ecosystem;
  return d.releaseKey(resolvedRelease(d, release));
}

/** The OSV ecosystem of a Dependabot `package-ecosystem` (`pip` → PyPI, `gradle` → Maven); undefined when none. */
export function ecosystemOfDependabot(name: string): EcosystemName | undefined {
  return ECOSYSTEM_DESCRIPTORS.find((d) => (d as EcosystemDescriptor).dependabot?.includes(name))?.name;
}
