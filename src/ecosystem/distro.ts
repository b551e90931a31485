/**
 * A Linux distribution's packages as the ecosystem descriptors place them: which OSV ecosystem and
 * release scope an os-release(5) ID and VERSION_ID mean, and the purl namespace written for them.
 */
import { ECOSYSTEM_DESCRIPTORS, type EcosystemName } from "./registry.ts";
import type { EcosystemDescriptor, OsPackageKind } from "./types.ts";

/** The os-release fields the placement reads. */
export interface OsReleaseId {
  /** `ID`, lower case. */
  id: string;
  versionId?: string;
}

export interface OsPackagePlacement {
  /** Absent when the distribution is not one tollgate knows (its packages are not matched: the gate says so). */
  ecosystem?: EcosystemName;
  /** The release scope (`12`, `v3.20`), when the ecosystem scopes records by release. */
  release?: string;
  /** The purl namespace of its packages (`debian`, `redhat`). */
  purlNamespace: string;
}

const DISTROS = (ECOSYSTEM_DESCRIPTORS as readonly EcosystemDescriptor[]).filter((d) => d.distro !== undefined);

/**
 * Where a package of format `kind` from distribution `distro` belongs. Without an os-release (or with
 * an unknown one), deb and apk packages fall back to Debian and Alpine, as the purl types do.
 */
export function placeOsPackage(distro: OsReleaseId | undefined, kind: OsPackageKind): OsPackagePlacement {
  const d = distro ? DISTROS.find((e) => e.distro?.packageKind === kind && e.distro.ids.includes(distro.id)) : undefined;
  if (d?.distro && distro) {
    const release = distro.versionId ? d.distro.release?.(distro.versionId) : undefined;
    return {
      ecosystem: d.name as EcosystemName,
      ...(release ? { release } : {}),
      purlNamespace: d.distro.purlNamespace ? d.distro.purlNamespace(distro.id) : distro.id,
    };
  }
  const fallback = DISTROS.find((e) => e.distro?.packageKind === kind && e.purl?.fallback);
  return {
    ...(fallback ? { ecosystem: fallback.name as EcosystemName } : {}),
    purlNamespace: distro?.id ?? fallback?.distro?.ids[0] ?? "unknown",
  };
}

/** Whether OSV names a distribution's packages by their source package: "name", "name-and-version", or undefined (by the binary package). */
export function sourcePackageMatching(ecosystem: string): "name" | "name-and-version" | undefined {
  return DISTROS.find((d) => d.name === ecosystem)?.distro?.bySource;
}

/** Whether two ecosystems are distributions with the same package format (a Debian-style package from Ubuntu). */
export function sameOsPackageKind(a: string, b: string): boolean {
  const kind = (name: string) => DISTROS.find((d) => d.name === name)?.distro?.packageKind;
  return kind(a) !== undefined && kind(a) === kind(b);
}
