import { lineOf } from "../dockerfile.ts";
import { externalImage, flagValue, stageNames } from "./dockerfile-query.ts";
import type { LintRule, RuleHit } from "./types.ts";

/** Base images: pinned by digest, an explicit tag, from a trusted registry (FROM and COPY --from). */

function registryMatches(registry: string, patterns: readonly string[]): boolean {
  const candidates = registry === "docker.io" ? ["docker.io", "hub.docker.com", "index.docker.io"] : [registry];
  return patterns.some((p) =>
    candidates.some((c) => {
      if (p === "*") return true;
      if (p.startsWith("*")) return c.endsWith(p.slice(1));
      if (p.endsWith("*")) return c.startsWith(p.slice(0, -1));
      return c === p;
    }),
  );
}

function registryOf(image: string): string {
  const first = image.split("/")[0] ?? "";
  return image.includes("/") && (/[.:]/.test(first) || first === "localhost") ? first : "docker.io";
}

export const BASE_IMAGE_RULES: readonly LintRule[] = [
  {
    id: "TG-DF-002",
    severity: "warning",
    message: "base image is referenced by tag, not pinned by digest",
    fix: "pin it: `FROM image:tag@sha256:<digest>` (get the digest with `docker buildx imagetools inspect image:tag`)",
    refs: ["CIS-4.2"],
    check({ df }) {
      return df.stages.filter((s) => externalImage(df, s) && s.image.digest === undefined).map((s) => ({ line: s.line, message: `base image ${s.image.resolved} is not pinned by digest` }));
    },
  },
  {
    id: "TG-DF-003",
    severity: "warning",
    message: "base image uses the `latest` tag or no tag",
    fix: "name an explicit version tag (and pin the digest)",
    refs: ["DL3006", "DL3007", "DS-0001"],
    check({ df }) {
      return df.stages
        .filter((s) => externalImage(df, s) && s.image.digest === undefined && (s.image.tag === undefined || s.image.tag === "latest"))
        .map((s) => ({ line: s.line, message: `base image ${s.image.resolved} uses ${s.image.tag === undefined ? "no tag (latest)" : "the latest tag"}` }));
    },
  },
  {
    id: "TG-DF-037",
    severity: "error",
    message: "image from a registry that is not in lint.trusted_registries",
    fix: "use an image from a trusted registry, or add the registry to lint.trusted_registries in tollgate.yaml",
    refs: ["DL3026", "CIS-4.2"],
    check({ df, trustedRegistries }) {
      if (trustedRegistries.length === 0) return [];
      const hits: RuleHit[] = [];
      for (const s of df.stages) {
        if (externalImage(df, s) && !registryMatches(s.image.registry, trustedRegistries)) hits.push({ line: s.line, message: `FROM ${s.image.resolved}: registry ${s.image.registry} is not trusted` });
      }
      const names = stageNames(df);
      for (const i of df.stages.flatMap((s) => s.instructions)) {
        const from = flagValue(i, "from");
        if ((i.getKeyword() === "COPY" || i.getKeyword() === "ADD") && from && !names.has(from.toLowerCase()) && !from.includes("$")) {
          const reg = registryOf(from);
          if (!registryMatches(reg, trustedRegistries)) hits.push({ line: lineOf(i), message: `COPY --from=${from}: registry ${reg} is not trusted` });
        }
      }
      return hits;
    },
  },
];
