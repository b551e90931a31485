/**
 * The ecosystem registry: one descriptor per OSV ecosystem (src/ecosystem/descriptors/) with its version
 * order (src/ecosystem/version/), purl type, distribution traits and Dependabot names, and the lookups
 * over them. See registry.ts for how to add one.
 */
export {
  ECOSYSTEM_DESCRIPTORS,
  ECOSYSTEM_NAMES,
  ecosystemDescriptor,
  isEcosystemName,
  versionComparator,
  compareVersions,
  normalizePackageName,
  releaseMatches,
  releaseScopeKey,
  ecosystemOfDependabot,
  type EcosystemName,
} from "./registry.ts";
export { ecosystemOfPurl, packageUrl, type PurlEcosystem } from "./purl.ts";
export { placeOsPackage, sourcePackageMatching, sameOsPackageKind, type OsPackagePlacement, type OsReleaseId } from "./distro.ts";
export { defineEcosystem, type EcosystemDescriptor, type DistroTraits, type PurlTraits, type OsPackageKind, type VersionComparator } from "./types.ts";
export type { Sign } from "./version/numeric.ts";
export { compareSemver } from "./version/semver.ts";
