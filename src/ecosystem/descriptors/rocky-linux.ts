import { defineEcosystem } from "../types.ts";
import { compareRpm } from "../version/rpm.ts";
import { rpmMajorRelease, rpmReleaseMatches } from "./rpm-release.ts";

/** Rocky Linux: rpm's version order; OSV scopes records by major release (`Rocky Linux:9`); OSV names the source RPM. */
export const rockyLinux = defineEcosystem({
  name: "Rocky Linux",
  compare: compareRpm,
  purl: { type: "rpm", namespaces: ["rocky"] },
  distro: { ids: ["rocky"], packageKind: "rpm", release: rpmMajorRelease, bySource: "name" },
  releaseMatches: rpmReleaseMatches,
});
