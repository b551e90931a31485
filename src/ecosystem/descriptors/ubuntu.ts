import { defineEcosystem } from "../types.ts";
import { compareDebian } from "../version/debian.ts";

/** `22.04` of `Pro:22.04:LTS` or `22.04:LTS`. */
const core = (release: string): string => release.replace(/^Pro:/, "").replace(/:LTS$/, "");

/** Ubuntu: dpkg's version order; OSV scopes records by release (`Ubuntu:22.04:LTS`, `Ubuntu:Pro:18.04:LTS`) and names source packages. */
export const ubuntu = defineEcosystem({
  name: "Ubuntu",
  compare: compareDebian,
  purl: { type: "deb", namespaces: ["ubuntu"] },
  distro: {
    ids: ["ubuntu"],
    packageKind: "deb",
    release: (versionId) => versionId,
    codenames: { bionic: "18.04", focal: "20.04", jammy: "22.04", noble: "24.04" },
    bySource: "name-and-version",
  },
  releaseMatches: (record, component) => core(record) === core(component),
});
