import { defineEcosystem } from "../types.ts";
import { compareAlpine } from "../version/alpine.ts";

/** `3.20` of `v3.20` or `3.20.3`. */
const majorMinor = (release: string): string => release.replace(/^v/, "").split(".").slice(0, 2).join(".");

/** Alpine Linux: apk's version order; OSV scopes records by branch (`Alpine:v3.20`) and names origin (source) packages. */
export const alpine = defineEcosystem({
  name: "Alpine",
  compare: compareAlpine,
  purl: { type: "apk", namespaces: ["alpine"], fallback: true },
  distro: { ids: ["alpine"], packageKind: "apk", release: (versionId) => `v${majorMinor(versionId)}`, bySource: "name" },
  releaseMatches: (record, component) => majorMinor(record) === majorMinor(component),
  releaseKey: (release) => `Alpine:v${majorMinor(release)}`,
});
