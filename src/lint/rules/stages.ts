import { finalStage, lineOf } from "../dockerfile.ts";
import { externalImage, flagValue, ofKeyword, shippedRuns, shippedStages } from "./dockerfile-query.ts";
import { installedPackages } from "./package-commands.ts";
import type { LintRule, RuleHit } from "./types.ts";

/** Build stages: no build toolchain in the final stage, unique stage names, COPY --from an earlier stage. */

const TOOLCHAIN_PACKAGES = new Set([
  "gcc", "g++", "gcc-c++", "clang", "make", "cmake", "build-essential", "build-base", "autoconf", "automake", "libtool",
  "pkg-config", "pkgconf", "musl-dev", "libc6-dev", "libc-dev", "golang", "golang-go", "rustc", "cargo", "python3-dev", "python-dev",
  "openjdk-17-jdk", "openjdk-21-jdk", "default-jdk", "maven", "gradle", "nodejs-dev",
]);
const TOOLCHAIN_IMAGES = /(?:^|\/)(?:golang|rust|maven|gradle|gcc|buildpack-deps|sdk|openjdk)$/;

export const STAGE_RULES: readonly LintRule[] = [
  {
    id: "TG-DF-030",
    severity: "warning",
    message: "build toolchain in the final stage of a multi-stage build",
    fix: "compile in a builder stage and COPY --from it only the artifacts into a minimal final stage",
    refs: ["CIS-4.3"],
    check({ df }) {
      if (df.stages.length < 2) return [];
      const stage = finalStage(df);
      if (!stage) return [];
      const hits: RuleHit[] = [];
      const base = shippedStages(df).map((s) => s).pop();
      if (base && externalImage(df, base)) {
        const repo = base.image.repository.toLowerCase();
        const tag = (base.image.tag ?? "").toLowerCase();
        if (TOOLCHAIN_IMAGES.test(repo) || /(?:^|-)(?:dev|devel|sdk|jdk)(?:-|$)/.test(tag)) hits.push({ line: base.line, message: `the final stage builds on ${base.image.resolved}, a build toolchain image` });
      }
      for (const { run } of shippedRuns(df)) {
        const tools = run.commands.flatMap((c) => installedPackages(c)).filter((p) => TOOLCHAIN_PACKAGES.has(p.split(/[=<>]/)[0] as string));
        if (tools.length > 0) hits.push({ line: run.line, message: `the final stage installs build tools (${tools.slice(0, 3).join(", ")})` });
      }
      return hits;
    },
  },
  {
    id: "TG-DF-039",
    severity: "error",
    message: "COPY --from refers to its own stage",
    fix: "refer to an earlier stage or an image",
    refs: ["DL3023", "DS-0006"],
    check({ df }) {
      return df.stages.flatMap((s) =>
        ofKeyword(s.instructions, "COPY")
          .filter((i) => {
            const from = flagValue(i, "from")?.toLowerCase();
            return from !== undefined && (from === s.name || from === String(s.index));
          })
          .map((i) => ({ line: lineOf(i) })),
      );
    },
  },
  {
    id: "TG-DF-040",
    severity: "error",
    message: "two stages have the same name",
    fix: "give every stage a unique `AS` name",
    refs: ["DL3024", "DS-0012"],
    check({ df }) {
      const seen = new Set<string>();
      const hits: RuleHit[] = [];
      for (const s of df.stages) {
        if (s.name === undefined) continue;
        if (seen.has(s.name)) hits.push({ line: s.line, message: `stage name ${s.name} is used twice` });
        seen.add(s.name);
      }
      return hits;
    },
  },
];
