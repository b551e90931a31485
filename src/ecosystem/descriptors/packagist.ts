import { defineEcosystem } from "../types.ts";
import { comparePackagist } from "../version/packagist.ts";

/** PHP packages (Packagist): Composer's version order; OSV names them `vendor/name`. */
export const packagist = defineEcosystem({
  name: "Packagist",
  compare: comparePackagist,
  purl: { type: "composer" },
  packageName: (name) => name.toLowerCase(),
  // The suffix names a repository, not a release.
  releaseMatches: () => true,
  dependabot: ["composer"],
});
