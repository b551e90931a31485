import { defineEcosystem } from "../types.ts";
import { compareHackage } from "../version/semver.ts";

/** Haskell packages (Hackage): the PVP's numeric order. */
export const hackage = defineEcosystem({
  name: "Hackage",
  compare: compareHackage,
  purl: { type: "hackage" },
});
