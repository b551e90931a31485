import { defineEcosystem } from "../types.ts";
import { compareRpm } from "../version/rpm.ts";

/** Azure Linux (formerly CBL-Mariner): rpm's version order. Every release scope applies (tollgate does not map them); OSV names the source RPM. */
export const azureLinux = defineEcosystem({
  name: "Azure Linux",
  compare: compareRpm,
  purl: { type: "rpm", namespaces: ["azurelinux", "mariner"] },
  distro: { ids: ["azurelinux", "mariner"], packageKind: "rpm", bySource: "name" },
});
