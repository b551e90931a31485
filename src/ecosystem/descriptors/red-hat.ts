import { defineEcosystem } from "../types.ts";
import { compareRpm } from "../version/rpm.ts";
import { rpmMajorRelease, rpmReleaseMatches } from "./rpm-release.ts";

/** Red Hat Enterprise Linux (and CentOS): rpm's version order; OSV scopes records by product stream (`Red Hat:enterprise_linux:9::appstream`). */
export const redHat = defineEcosystem({
  name: "Red Hat",
  compare: compareRpm,
  purl: { type: "rpm", namespaces: ["redhat", "rhel", "centos"] },
  distro: { ids: ["rhel", "centos"], packageKind: "rpm", release: rpmMajorRelease, purlNamespace: (id) => (id === "rhel" ? "redhat" : id) },
  releaseMatches: rpmReleaseMatches,
});
