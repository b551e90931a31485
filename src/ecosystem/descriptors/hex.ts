import { defineEcosystem } from "../types.ts";
import { compareSemver } from "../version/semver.ts";

/** Erlang and Elixir packages (hex.pm): SemVer. */
export const hex = defineEcosystem({
  name: "Hex",
  compare: compareSemver,
  purl: { type: "hex" },
  packageName: (name) => name.toLowerCase(),
});
