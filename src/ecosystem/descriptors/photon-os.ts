import { defineEcosystem } from "../types.ts";
import { compareRpm } from "../version/rpm.ts";

/** VMware Photon OS: rpm's version order. Every release scope applies (tollgate does not map them). */
export const photonOs = defineEcosystem({
  name: "Photon OS",
  compare: compareRpm,
  purl: { type: "rpm", namespaces: ["photon"] },
  distro: { ids: ["photon"], packageKind: "rpm" },
});
