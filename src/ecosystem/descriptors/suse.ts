import { defineEcosystem } from "../types.ts";
import { compareRpm } from "../version/rpm.ts";

/**
 * SUSE Linux Enterprise: rpm's version order; OSV names the source RPM. OSV scopes records by product marketing name
 * (os-release PRETTY_NAME, by the ecosystem's definition); tollgate does not map it yet, so every scope of
 * the ecosystem applies (may over-report, never misses a record).
 */
export const suse = defineEcosystem({
  name: "SUSE",
  compare: compareRpm,
  purl: { type: "rpm", namespaces: ["sles", "sles_sap", "sled", "sle-micro"] },
  distro: { ids: ["sles", "sles_sap", "sled", "sle-micro"], packageKind: "rpm", bySource: "name" },
});
