import { defineEcosystem } from "../types.ts";
import { compareRpm } from "../version/rpm.ts";

/**
 * openSUSE: rpm's version order; OSV names the source RPM. OSV scopes records by product marketing name
 * (os-release PRETTY_NAME, by the ecosystem's definition); tollgate does not map it yet, so every scope of
 * the ecosystem applies (may over-report, never misses a record).
 */
export const openSuse = defineEcosystem({
  name: "openSUSE",
  compare: compareRpm,
  purl: { type: "rpm", namespaces: ["opensuse", "opensuse-leap", "opensuse-tumbleweed"] },
  distro: { ids: ["opensuse", "opensuse-leap", "opensuse-tumbleweed"], packageKind: "rpm", bySource: "name" },
});
