export { parseTarget, parseImageReference, TARGET_SCHEMES, type ImageReferenceParts } from "./parse.ts";

import type { Target } from "../model/index.ts";

/** A target as a user would type it again: `scheme:location`. */
export function describeTarget(t: Target): string {
  if (t.kind === "registry") return `registry:${t.reference}`;
  return "tag" in t && t.tag ? `${t.kind}:${t.path}:${t.tag}` : `${t.kind}:${t.path}`;
}
