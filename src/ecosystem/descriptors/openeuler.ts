import { defineEcosystem } from "../types.ts";
import { compareRpm } from "../version/rpm.ts";

/** openEuler: rpm's version order. OSV scopes records by release and service pack (`openEuler:22.03-LTS-SP2`): every scope applies; OSV names the source RPM. */
export const openEuler = defineEcosystem({
  name: "openEuler",
  compare: compareRpm,
  purl: { type: "rpm", namespaces: ["openeuler"] },
  distro: { ids: ["openeuler"], packageKind: "rpm", bySource: "name" },
});
