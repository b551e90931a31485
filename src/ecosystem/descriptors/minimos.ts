import { defineEcosystem } from "../types.ts";
import { compareAlpine } from "../version/alpine.ts";

/** MinimOS packages: apk's version order. */
export const minimos = defineEcosystem({
  name: "MinimOS",
  compare: compareAlpine,
});
