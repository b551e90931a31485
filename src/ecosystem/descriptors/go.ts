import { defineEcosystem } from "../types.ts";
import { compareSemver } from "../version/semver.ts";

/** Go modules: SemVer with `v` prefixes, pseudo-versions and `+incompatible`; purl namespace + name is the module path. */
export const go = defineEcosystem({
  name: "Go",
  compare: compareSemver,
  purl: { type: "golang" },
  dependabot: ["gomod"],
});
