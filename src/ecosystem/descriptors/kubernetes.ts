import { defineEcosystem } from "../types.ts";
import { compareSemver } from "../version/semver.ts";

/** Kubernetes components: SemVer. */
export const kubernetes = defineEcosystem({
  name: "Kubernetes",
  compare: compareSemver,
});
