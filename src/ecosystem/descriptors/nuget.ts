import { defineEcosystem } from "../types.ts";
import { compareNuget } from "../version/semver.ts";

/** .NET packages (NuGet): NuGet's SemVer 2.0 with a fourth component. */
export const nuget = defineEcosystem({
  name: "NuGet",
  compare: compareNuget,
  purl: { type: "nuget" },
  packageName: (name) => name.toLowerCase(),
  dependabot: ["nuget"],
});
