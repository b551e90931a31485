import { defineEcosystem } from "../types.ts";
import { compareRubygems } from "../version/rubygems.ts";

/** Ruby gems: Gem::Version order. */
export const rubygems = defineEcosystem({
  name: "RubyGems",
  compare: compareRubygems,
  purl: { type: "gem" },
  dependabot: ["bundler"],
});
