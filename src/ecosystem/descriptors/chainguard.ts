import { defineEcosystem } from "../types.ts";
import { compareAlpine } from "../version/alpine.ts";

/** Chainguard OS packages: apk's version order. */
export const chainguard = defineEcosystem({
  name: "Chainguard",
  compare: compareAlpine,
});
