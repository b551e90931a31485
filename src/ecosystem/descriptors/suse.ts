import { defineEcosystem } from "../types.ts";
import { compareRpm } from "../version/rpm.ts";

/** SUSE Linux Enterprise: rpm's version order. OSV scopes records by product (`SUSE:Linux Enterprise Server 15 SP5`), which os-release does not name the same way: every scope applies. */
export const suse = defineEcosystem({
  name: "SUSE",
  compare: compareRpm,
  purl: { type: "rpm", namespaces: ["sles", "sles_sap", "sled", "sle-micro"] },
  distro: { ids: ["sles", "sles_sap", "sled", "sle-micro"], packageKind: "rpm" },
});
