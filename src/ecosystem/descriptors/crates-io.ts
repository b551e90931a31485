import { defineEcosystem } from "../types.ts";
import { compareSemver } from "../version/semver.ts";

/** Rust crates (crates.io): SemVer. */
export const cratesIo = defineEcosystem({
  name: "crates.io",
  compare: compareSemver,
  purl: { type: "cargo" },
  dependabot: ["cargo"],
});
