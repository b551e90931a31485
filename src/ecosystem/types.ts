/**
 * What tollgate knows about one package ecosystem, in one descriptor: its OSV name, its version order,
 * its Package URL type, the Linux distribution it is (os-release IDs, release scopes), and the
 * Dependabot names of its manifests. Every ecosystem-specific decision of the SBOM, match, coverage and
 * init code reads it from here (src/ecosystem/index.ts).
 */
import type { Sign } from "./version/numeric.ts";

export type VersionComparator = (a: string, b: string) => Sign;

/** The package database format of a distribution's packages (and its purl type). */
export type OsPackageKind = "deb" | "apk" | "rpm";

/** A Linux distribution whose installed-package database tollgate reads. */
export interface DistroTraits {
  /** os-release(5) `ID` values (lower case) of the distribution. */
  readonly ids: readonly string[];
  readonly packageKind: OsPackageKind;
  /**
   * The release scope OSV writes after the colon (`Debian:12`, `Alpine:v3.20`), from os-release's
   * VERSION_ID. Absent: the packages are matched against every scope of the ecosystem (none that
   * tollgate can tell apart), which may over-report but never misses a record.
   */
  readonly release?: (versionId: string) => string | undefined;
  /** Release code names (os-release VERSION_CODENAME, purl `distro=` qualifiers) → the release. */
  readonly codenames?: Readonly<Record<string, string>>;
  /** The purl namespace written for an os-release ID (default: the ID itself). */
  readonly purlNamespace?: (id: string) => string;
  /**
   * Whether OSV names the distribution's packages by their source package: the source name, or the
   * source name and version (a binary package's own version can differ: binNMUs, epochs).
   */
  readonly bySource?: "name" | "name-and-version";
}

export interface PurlTraits {
  /** The purl-spec type (`npm`, `pypi`, `deb`). */
  readonly type: string;
  /**
   * For types that several ecosystems share (deb, apk, rpm): the purl namespaces that mean this one
   * (lower case). Absent: every namespace of the type.
   */
  readonly namespaces?: readonly string[];
  /** The ecosystem of the type's namespaces that no other descriptor claims (deb → Debian). */
  readonly fallback?: boolean;
  /**
   * How OSV names the package, from the purl's namespace and name. Default: `namespace/name` (npm
   * `@scope/name`, Go module paths, Packagist `vendor/name`); distributions: the name alone.
   */
  readonly osvName?: (namespace: string | undefined, name: string) => string;
}

export interface EcosystemDescriptor<N extends string = string> {
  /** The OSV ecosystem name, without a `:release` suffix (https://ossf.github.io/osv-schema/#affectedpackage-field). */
  readonly name: N;
  /** The ecosystem's version order, as OSV and the ecosystem's own tools define it. */
  readonly compare: VersionComparator;
  readonly purl?: PurlTraits;
  readonly distro?: DistroTraits;
  /**
   * Whether a record scoped to `recordRelease` applies to a component of `componentRelease` (both
   * non-empty, code names resolved). Default: the same release, or a sub-scope of it (`22.04:LTS`).
   */
  readonly releaseMatches?: (recordRelease: string, componentRelease: string) => boolean;
  /**
   * The scope `db update` downloads and coverage reports for a component release (`Debian:12`).
   * Default: the ecosystem name alone (its records are not split by release, or tollgate cannot tell).
   */
  readonly releaseKey?: (release: string) => string;
  /**
   * How OSV compares its package names, when not as written: PyPI's PEP 503 normalisation, NuGet's,
   * Packagist's and Hex's case-insensitive names. Applied to records and components alike.
   */
  readonly packageName?: (name: string) => string;
  /** Dependabot `package-ecosystem` names of the manifests that hold its packages. */
  readonly dependabot?: readonly string[];
}

/** A descriptor with its name kept as a literal type, so that the registry can type ecosystem names. */
export function defineEcosystem<const N extends string>(descriptor: EcosystemDescriptor<N>): EcosystemDescriptor<N> {
  return descriptor;
}
