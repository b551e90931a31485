import type { LintSeverity } from "./rules.ts";

/** The rules of `tollgate lint image` (`TG-IMG-###`): what only a built image shows. */
export interface ImageRuleInfo {
  id: string;
  severity: LintSeverity;
  message: string;
  fix: string;
  refs: readonly string[];
}

export const IMAGE_RULES: readonly ImageRuleInfo[] = [
  { id: "TG-IMG-001", severity: "error", message: "the image runs as root: config User is empty, root or 0", fix: "set a numeric non-root USER in the Dockerfile's final stage", refs: ["DS-0002", "CIS-DI-0001", "CIS-4.1"] },
  { id: "TG-IMG-002", severity: "warning", message: "setuid/setgid file", fix: "remove the bit: `find / -xdev -perm /6000 -type f -exec chmod a-s {} +` in the final stage", refs: ["CIS-DI-0008", "CIS-4.8"] },
  { id: "TG-IMG-003", severity: "warning", message: "world-writable file", fix: "chmod o-w, and give files to the runtime user with `COPY --chown` instead", refs: [] },
  { id: "TG-IMG-004", severity: "error", message: "file that holds credentials or a private key", fix: "remove it and rotate the credential; pass build secrets with a BuildKit secret mount", refs: ["CIS-DI-0010", "CIS-4.10"] },
  { id: "TG-IMG-005", severity: "info", message: "the image has no HEALTHCHECK", fix: "add a HEALTHCHECK (or `HEALTHCHECK NONE` to state there is none)", refs: ["DS-0026", "CIS-DI-0006", "CIS-4.6"] },
  { id: "TG-IMG-006", severity: "error", message: "a secret in the image config's environment", fix: "do not bake secrets into ENV; inject them at run time from a secret store", refs: ["DS-0031", "CIS-DI-0010", "CIS-4.10"] },
];

export const IMAGE_RULES_BY_ID: ReadonlyMap<string, ImageRuleInfo> = new Map(IMAGE_RULES.map((r) => [r.id, r]));
