import { defineEcosystem } from "../types.ts";
import { compareDebian } from "../version/debian.ts";

/** Echo, a Debian-based distribution: dpkg's version order. */
export const echo = defineEcosystem({
  name: "Echo",
  compare: compareDebian,
});
