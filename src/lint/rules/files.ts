import type { Copy } from "dockerfile-ast";
import { lineOf } from "../dockerfile.ts";
import { commandName, operands } from "../shell.ts";
import { allRuns, fileArgs, flagValue, ofKeyword, runRule, URL_SOURCE } from "./dockerfile-query.ts";
import type { LintRule } from "./types.ts";

/** Files and directories: COPY rather than ADD, what is copied, WORKDIR, permissions. */

const ARCHIVE = /\.(?:tar|tar\.(?:gz|bz2|xz|zst|lz|lzma)|tgz|tbz2?|txz|tzst)$/i;

function isWorldWritableMode(mode: string): boolean {
  if (/^[0-7]{3,4}$/.test(mode)) return [2, 3, 6, 7].includes(Number(mode[mode.length - 1]));
  // Symbolic: a+w, o+w, ugo+rwx, o=rwx, +w is umask-dependent and left alone.
  return mode.split(",").some((clause) => /^[ugoa]*[ao][ugoa]*[+=][rwxXst]*w/.test(clause));
}

export const FILE_RULES: readonly LintRule[] = [
  {
    id: "TG-DF-005",
    severity: "warning",
    message: "ADD of local files where COPY serves",
    fix: "use COPY; keep ADD only to extract a local tar archive",
    refs: ["DL3020", "DS-0005", "CIS-4.9"],
    check({ df }) {
      return df.stages.flatMap((s) =>
        ofKeyword(s.instructions, "ADD")
          .filter((i) => {
            const sources = fileArgs(i).slice(0, -1);
            return sources.length > 0 && sources.some((a) => !URL_SOURCE.test(a) && !ARCHIVE.test(a) && !a.includes("$"));
          })
          .map((i) => ({ line: lineOf(i) })),
      );
    },
  },
  {
    id: "TG-DF-031",
    severity: "error",
    message: "WORKDIR is a relative path",
    fix: "use an absolute path, e.g. `WORKDIR /app`",
    refs: ["DL3000", "DS-0009"],
    check({ df }) {
      return df.stages.flatMap((s) =>
        ofKeyword(s.instructions, "WORKDIR")
          .filter((i) => {
            const p = (i.getArgumentsContent() ?? "").trim().replace(/^["']|["']$/g, "");
            return p !== "" && !p.startsWith("/") && !p.startsWith("$") && !/^[A-Za-z]:[\\/]/.test(p);
          })
          .map((i) => ({ line: lineOf(i) })),
      );
    },
  },
  {
    id: "TG-DF-032",
    severity: "error",
    message: "WORKDIR is a system directory",
    fix: "use an application directory such as /app",
    refs: ["DS-0030"],
    check({ df }) {
      return df.stages.flatMap((s) =>
        ofKeyword(s.instructions, "WORKDIR")
          .filter((i) => /^\/(?:proc|boot|dev|initrd|lost\+found|sys)(?:\/|$)/.test((i.getArgumentsContent() ?? "").trim()))
          .map((i) => ({ line: lineOf(i) })),
      );
    },
  },
  {
    id: "TG-DF-035",
    severity: "warning",
    message: "the whole build context is copied but there is no .dockerignore",
    fix: "add a .dockerignore (exclude .git, .env, keys, node_modules), or copy only what the image needs",
    refs: ["CIS-4.10"],
    check({ df }) {
      if (df.hasDockerignore !== false) return [];
      return df.stages.flatMap((s) =>
        s.instructions
          .filter((i) => (i.getKeyword() === "COPY" || i.getKeyword() === "ADD") && flagValue(i, "from") === undefined)
          .filter((i) => fileArgs(i).slice(0, -1).some((a) => a === "." || a === "./" || a === "*" || a === "./*"))
          .map((i) => ({ line: lineOf(i) })),
      );
    },
  },
  {
    id: "TG-DF-036",
    severity: "error",
    message: "files are made world-writable (chmod 777 / o+w)",
    fix: "give ownership to the runtime user (`COPY --chown=10001:10001`) and use modes such as 755/644",
    refs: [],
    check({ df }) {
      const hits = runRule(allRuns(df), (cmd) => commandName(cmd) === "chmod" && operands(cmd.words.slice(1)).slice(0, 1).some(isWorldWritableMode));
      for (const i of df.stages.flatMap((s) => s.instructions)) {
        if ((i.getKeyword() === "COPY" || i.getKeyword() === "ADD") && isWorldWritableMode(flagValue(i, "chmod") ?? "")) hits.push({ line: lineOf(i), message: `${i.getKeyword()} --chmod makes files world-writable` });
      }
      return hits;
    },
  },
  {
    id: "TG-DF-043",
    severity: "error",
    message: "COPY/ADD with several sources needs a destination ending in /",
    fix: "end the destination with `/`",
    refs: ["DL3021", "DS-0011"],
    check({ df }) {
      return df.stages.flatMap((s) =>
        s.instructions
          .filter((i) => i.getKeyword() === "COPY" || i.getKeyword() === "ADD")
          .filter((i) => {
            const args = fileArgs(i);
            const dest = args[args.length - 1] ?? "";
            return args.length > 2 && !dest.endsWith("/") && !dest.includes("$") && (i as Copy).getHeredocs().length === 0;
          })
          .map((i) => ({ line: lineOf(i) })),
      );
    },
  },
];
