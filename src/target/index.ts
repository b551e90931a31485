export { parseTarget, parseImageReference, TARGET_SCHEMES, type ImageReferenceParts } from "./parse.ts";

import type { Target } from "../model/index.ts";

/** A target as a user would type it again: `scheme:location`. */
export function describeTarget(t: Target): string {
  switch (t.kind) {
    case "registry":
      return `registry:${t.reference}`;
    case "oci-dir":
    case "oci-archive":
    case "docker-archive":
      return `${t.kind}:${t.path}${t.tag ? `:${t.tag}` : ""}`;
    default:
      return `${t.kind}:${t.path}`;
  }
}
