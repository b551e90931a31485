import { defineEcosystem } from "../types.ts";
import { compareNpm } from "../version/semver.ts";

/** npm: SemVer 2.0 with npm's loose parsing; purl `pkg:npm/%40scope/name`. */
export const npm = defineEcosystem({
  name: "npm",
  compare: compareNpm,
  purl: { type: "npm" },
  dependabot: ["npm"],
});
