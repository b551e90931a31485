import { defineEcosystem } from "../types.ts";
import { compareSemver } from "../version/semver.ts";

/** GitHub Actions, named `owner/repo`: SemVer tags. */
export const githubActions = defineEcosystem({
  name: "GitHub Actions",
  compare: compareSemver,
});
