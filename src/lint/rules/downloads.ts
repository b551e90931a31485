import { lineOf } from "../dockerfile.ts";
import { commandName, type ShellCommand } from "../shell.ts";
import { allRuns, fileArgs, flagValue, ofKeyword, URL_SOURCE } from "./dockerfile-query.ts";
import type { LintRule, RuleHit } from "./types.ts";

/** Downloads during the build: ADD of a URL without a checksum, a downloaded script piped into a shell. */

const SHELL_NAMES = new Set(["sh", "bash", "dash", "ash", "zsh", "ksh", "python", "python3", "perl", "ruby", "node"]);

export const DOWNLOAD_RULES: readonly LintRule[] = [
  {
    id: "TG-DF-004",
    severity: "error",
    message: "ADD downloads a remote URL without a checksum",
    fix: "use `ADD --checksum=sha256:<hex> <url> <dest>`, or download in a RUN and verify the checksum",
    refs: ["DS-0005", "CIS-4.9"],
    check({ df }) {
      return df.stages.flatMap((s) =>
        ofKeyword(s.instructions, "ADD")
          .filter((i) => flagValue(i, "checksum") === undefined && fileArgs(i).slice(0, -1).some((a) => URL_SOURCE.test(a)))
          .map((i) => ({ line: lineOf(i) })),
      );
    },
  },
  {
    id: "TG-DF-006",
    severity: "error",
    message: "a downloaded script is piped into a shell (curl | sh)",
    fix: "download to a file, verify its checksum or signature, then run it",
    refs: ["CIS-4.11"],
    check({ df }) {
      const hits: RuleHit[] = [];
      for (const { run } of allRuns(df)) {
        let found = false;
        const cmds = run.commands;
        for (let i = 0; i < cmds.length && !found; i++) {
          const c = cmds[i] as ShellCommand;
          if (!["curl", "wget"].includes(commandName(c)) || !c.pipesTo) continue;
          for (let j = i + 1; j < cmds.length && (cmds[j] as ShellCommand).pipedFrom; j++) {
            const next = cmds[j] as ShellCommand;
            const name = commandName(next) === "sudo" ? (next.words[1] ?? "").replace(/^.*\//, "") : commandName(next);
            if (SHELL_NAMES.has(name) || /^python[0-9.]*$/.test(name)) found = true;
          }
        }
        if (!found && (/\b(?:ba|z|da|a)?sh\s+(?:-[a-z]*\s+)*["']?\$\((?:curl|wget)\b/.test(run.script) || /<\(\s*(?:curl|wget)\b/.test(run.script))) found = true;
        if (found) hits.push({ line: run.line });
      }
      return hits;
    },
  },
];
