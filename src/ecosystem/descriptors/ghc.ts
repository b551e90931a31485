import { defineEcosystem } from "../types.ts";
import { compareHackage } from "../version/semver.ts";

/** The Glasgow Haskell Compiler: numeric order. */
export const ghc = defineEcosystem({
  name: "GHC",
  compare: compareHackage,
});
