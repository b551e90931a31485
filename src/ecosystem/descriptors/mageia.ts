import { defineEcosystem } from "../types.ts";
import { compareRpm } from "../version/rpm.ts";

/** Mageia: rpm's version order. Every release scope applies (tollgate does not map them); OSV names the source RPM. */
export const mageia = defineEcosystem({
  name: "Mageia",
  compare: compareRpm,
  purl: { type: "rpm", namespaces: ["mageia"] },
  distro: { ids: ["mageia"], packageKind: "rpm", bySource: "name" },
});
