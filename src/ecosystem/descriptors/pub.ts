import { defineEcosystem } from "../types.ts";
import { comparePub } from "../version/semver.ts";

/** Dart and Flutter packages (pub.dev): SemVer with pub's pre-release order. */
export const pub = defineEcosystem({
  name: "Pub",
  compare: comparePub,
  purl: { type: "pub" },
});
