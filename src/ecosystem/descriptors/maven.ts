import { defineEcosystem } from "../types.ts";
import { compareMaven } from "../version/maven.ts";

/** Java packages (Maven Central and other repositories): Maven's ComparableVersion order; OSV names them `group:artifact`. */
export const maven = defineEcosystem({
  name: "Maven",
  compare: compareMaven,
  purl: { type: "maven", osvName: (namespace, name) => (namespace === undefined ? name : `${namespace}:${name}`) },
  // The suffix (`Maven:https://repo.example`) names a repository, not a release.
  releaseMatches: () => true,
  dependabot: ["maven", "gradle"],
});
