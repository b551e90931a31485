import { defineEcosystem } from "../types.ts";
import { compareRpm } from "../version/rpm.ts";

/** openSUSE: rpm's version order. OSV scopes records by product (`openSUSE:Leap 15.5`, `openSUSE:Tumbleweed`): every scope applies. */
export const openSuse = defineEcosystem({
  name: "openSUSE",
  compare: compareRpm,
  purl: { type: "rpm", namespaces: ["opensuse", "opensuse-leap", "opensuse-tumbleweed"] },
  distro: { ids: ["opensuse", "opensuse-leap", "opensuse-tumbleweed"], packageKind: "rpm" },
});
