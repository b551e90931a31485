import { lineOf } from "../dockerfile.ts";
import { commandName } from "../shell.ts";
import { allRuns, runRule } from "./dockerfile-query.ts";
import type { LintRule, RuleHit } from "./types.ts";

/** Build hygiene: reproducible timestamps, pipefail, WORKDIR over `cd`, one download tool, no deprecated MAINTAINER. */

export const BUILD_HYGIENE_RULES: readonly LintRule[] = [
  {
    id: "TG-DF-038",
    severity: "info",
    message: "the build embeds the current time but does not use SOURCE_DATE_EPOCH",
    fix: "declare `ARG SOURCE_DATE_EPOCH` and derive timestamps from it, so rebuilds are reproducible",
    refs: [],
    check({ df }) {
      if (/SOURCE_DATE_EPOCH/.test(df.text)) return [];
      const hits = runRule(allRuns(df), (cmd) => commandName(cmd) === "date");
      for (const i of df.ast.getInstructions()) {
        if ((i.getKeyword() === "LABEL" || i.getKeyword() === "ENV" || i.getKeyword() === "ARG") && /BUILD_?DATE|BUILD_?TIME|image\.created/i.test(i.getRawArgumentsContent() ?? "")) hits.push({ line: lineOf(i) });
      }
      return hits;
    },
  },
  {
    id: "TG-DF-044",
    severity: "info",
    message: "MAINTAINER is deprecated",
    fix: "use `LABEL org.opencontainers.image.authors=\"…\"`",
    refs: ["DL4000", "DS-0022"],
    check({ df }) {
      return df.ast.getInstructions().filter((i) => i.getKeyword() === "MAINTAINER").map((i) => ({ line: lineOf(i) }));
    },
  },
  {
    id: "TG-DF-045",
    severity: "info",
    message: "`cd` in RUN; WORKDIR states the directory for every later instruction",
    fix: "use `WORKDIR /path`",
    refs: ["DL3003", "DS-0013"],
    check({ df }) {
      return runRule(allRuns(df), (cmd) => commandName(cmd) === "cd");
    },
  },
  {
    id: "TG-DF-046",
    severity: "info",
    message: "both wget and curl are used in one stage",
    fix: "use one download tool",
    refs: ["DL4001", "DS-0014"],
    check({ df }) {
      const hits: RuleHit[] = [];
      for (const s of df.stages) {
        const tools = new Map<string, number>();
        for (const r of s.runs) for (const c of r.commands) if ((commandName(c) === "curl" || commandName(c) === "wget") && !tools.has(commandName(c))) tools.set(commandName(c), r.line);
        if (tools.size === 2) hits.push({ line: Math.max(...tools.values()) });
      }
      return hits;
    },
  },
  {
    id: "TG-DF-048",
    severity: "warning",
    message: "RUN with a pipe but without `set -o pipefail`: a failing download is hidden",
    fix: "add `SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]` before it, or start the RUN with `set -o pipefail &&`",
    refs: ["DL4006"],
    check({ df }) {
      // run.shell is the SHELL in force (a stage built on another starts with its SHELL). Under
      // PowerShell, cmd or fish the POSIX reading of the script, and pipefail, do not apply.
      return allRuns(df)
        .filter(({ run }) => run.posixShell && !/pipefail/.test(run.shell.join(" ")) && !/pipefail/.test(run.script) && run.commands.some((c) => c.pipesTo))
        .map(({ run }) => ({ line: run.line }));
    },
  },
];
