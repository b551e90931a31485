import { defineEcosystem } from "../types.ts";
import { compareDebian } from "../version/debian.ts";

const major = (release: string): string => release.split(".")[0] as string;

/** Debian: dpkg's version order; OSV scopes records by major release (`Debian:12`) and names source packages. */
export const debian = defineEcosystem({
  name: "Debian",
  compare: compareDebian,
  purl: { type: "deb", namespaces: ["debian"], fallback: true },
  distro: {
    ids: ["debian"],
    packageKind: "deb",
    release: major,
    codenames: { jessie: "8", stretch: "9", buster: "10", bullseye: "11", bookworm: "12", trixie: "13", forky: "14" },
    bySource: "name-and-version",
  },
  releaseMatches: (record, component) => major(record) === major(component),
  releaseKey: (release) => `Debian:${major(release)}`,
});
