/**
 * The OSV ecosystems tollgate has a version order for, by OSV name. Kept apart from the comparators
 * (version/index.ts) so that the CLI's help text does not load them; index.ts's comparator table is
 * typed by this list, so the two cannot drift.
 */
export const VERSION_ECOSYSTEMS = [
  "npm",
  "crates.io",
  "Go",
  "Hex",
  "SwiftURL",
  "GitHub Actions",
  "Kubernetes",
  "PyPI",
  "Maven",
  "RubyGems",
  "NuGet",
  "Packagist",
  "Pub",
  "CRAN",
  "Bioconductor",
  "Hackage",
  "GHC",
  "Debian",
  "Ubuntu",
  "Echo",
  "Alpine",
  "Wolfi",
  "Chainguard",
  "MinimOS",
  "Red Hat",
  "AlmaLinux",
  "Rocky Linux",
  "SUSE",
  "openSUSE",
  "Photon OS",
  "Mageia",
  "openEuler",
  "Azure Linux",
] as const;

export type VersionEcosystem = (typeof VERSION_ECOSYSTEMS)[number];
