import { defineEcosystem } from "../types.ts";
import { compareSemver } from "../version/semver.ts";

/** Swift packages, named by repository URL: SemVer. */
export const swiftUrl = defineEcosystem({
  name: "SwiftURL",
  compare: compareSemver,
});
