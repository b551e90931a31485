import { defineEcosystem } from "../types.ts";
import { compareRpm } from "../version/rpm.ts";
import { rpmMajorRelease, rpmReleaseMatches } from "./rpm-release.ts";

/** AlmaLinux: rpm's version order; OSV scopes records by major release (`AlmaLinux:9`); OSV names the source RPM. */
export const almaLinux = defineEcosystem({
  name: "AlmaLinux",
  compare: compareRpm,
  purl: { type: "rpm", namespaces: ["almalinux"] },
  distro: { ids: ["almalinux"], packageKind: "rpm", release: rpmMajorRelease, bySource: "name" },
  releaseMatches: rpmReleaseMatches,
});
