import { defineEcosystem } from "../types.ts";
import { compareAlpine } from "../version/alpine.ts";

/** Wolfi (and Chainguard images built on it): apk's version order; one rolling release, so no release scope. */
export const wolfi = defineEcosystem({
  name: "Wolfi",
  compare: compareAlpine,
  purl: { type: "apk", namespaces: ["wolfi", "chainguard"] },
  distro: { ids: ["wolfi"], packageKind: "apk" },
});
