import { commandName, hasFlag } from "../shell.ts";
import { allRuns, envDefined, hasCacheMount, runRule, shippedRuns } from "./dockerfile-query.ts";
import { normalised, packagesAfter, subcommand } from "./package-commands.ts";
import type { LintRule } from "./types.ts";

/** Language package managers (pip, npm/yarn/pnpm/bun, gem, go): pinned versions, lockfile installs, no cache left behind. */

export const LANGUAGE_PACKAGE_RULES: readonly LintRule[] = [
  {
    id: "TG-DF-021",
    severity: "warning",
    message: "pip install keeps its download cache in the image",
    fix: "add `--no-cache-dir`, set `ENV PIP_NO_CACHE_DIR=1`, or use a cache mount on /root/.cache/pip",
    refs: ["DL3042"],
    check({ df }) {
      return runRule(shippedRuns(df), (cmd, run, stage) => {
        const w = normalised(cmd);
        if (!/^pip[0-9.]*$/.test(w[0] ?? "") || subcommand(w) !== "install") return false;
        if (hasFlag(w, ["--no-cache-dir"])) return false;
        if (cmd.assignments.some((a) => a.startsWith("PIP_NO_CACHE_DIR="))) return false;
        if (envDefined(df, stage, "PIP_NO_CACHE_DIR")) return false;
        return !hasCacheMount(run, /\.cache(?:\/pip)?\/?$|\.cache\/pip/);
      });
    },
  },
  {
    id: "TG-DF-022",
    severity: "warning",
    message: "pip install of packages without pinned versions",
    fix: "pin versions (`pkg==1.2.3`) or install from a requirements file with `--require-hashes`",
    refs: ["DL3013", "CIS-4.11"],
    check({ df }) {
      const withValue = ["-r", "--requirement", "-c", "--constraint", "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "-t", "--target", "--prefix", "--root", "--platform", "--python-version", "--implementation", "--abi", "--trusted-host", "--src", "-e", "--editable", "--progress-bar", "--cache-dir", "--only-binary", "--no-binary", "--config-settings", "-C", "--log", "--proxy", "--timeout", "--retries"];
      return runRule(allRuns(df), (cmd) => {
        const w = normalised(cmd);
        if (!/^pip[0-9.]*$/.test(w[0] ?? "") || subcommand(w) !== "install") return false;
        const upgrade = hasFlag(w, ["--upgrade"], ["U"]);
        const pkgs = packagesAfter(w, ["install"], withValue).filter(
          (p) => !/[=<>~@]/.test(p) && !p.startsWith(".") && !p.startsWith("/") && !/\.(?:whl|tar\.gz|zip)$/.test(p) && !/^[a-z+]+:\/\//.test(p) && !(upgrade && ["pip", "setuptools", "wheel"].includes(p.toLowerCase())),
        );
        return pkgs.length > 0 ? `pip installs ${pkgs.slice(0, 3).join(", ")}${pkgs.length > 3 ? "…" : ""} without a pinned version` : false;
      });
    },
  },
  {
    id: "TG-DF-023",
    severity: "warning",
    message: "npm/yarn/pnpm adds packages without pinned versions",
    fix: "pin versions (`npm install pkg@1.2.3`), or list them in package.json and run `npm ci`",
    refs: ["DL3016", "CIS-4.11"],
    check({ df }) {
      return runRule(allRuns(df), (cmd) => {
        const name = commandName(cmd);
        let pkgs: string[] = [];
        if (name === "npm") pkgs = packagesAfter(cmd.words, ["install", "i", "add", "isntall"], ["--prefix", "--registry", "--cache", "-w", "--workspace"]);
        else if (name === "yarn" || name === "pnpm") pkgs = packagesAfter(cmd.words, ["add"], ["--registry", "--cwd"]);
        else if (name === "bun") pkgs = packagesAfter(cmd.words, ["add"], []);
        const unpinned = pkgs.filter((p) => {
          if (/^(?:\.|\/|~|file:|git[+:]|https?:|github:)/.test(p) || p.endsWith(".tgz")) return false;
          const at = p.lastIndexOf("@");
          return at <= 0 || p.slice(at + 1) === "" || p.slice(at + 1) === "latest";
        });
        return unpinned.length > 0 ? `${name} adds ${unpinned.slice(0, 3).join(", ")}${unpinned.length > 3 ? "…" : ""} without a pinned version` : false;
      });
    },
  },
  {
    id: "TG-DF-024",
    severity: "info",
    message: "`npm install` resolves versions at build time; `npm ci` installs exactly the lockfile",
    fix: "use `npm ci` (with package-lock.json in the build context)",
    refs: ["CIS-4.11"],
    check({ df }) {
      return runRule(allRuns(df), (cmd) => commandName(cmd) === "npm" && ["install", "i"].includes(subcommand(cmd.words, ["--prefix"]) ?? "") && packagesAfter(cmd.words, ["install", "i"], ["--prefix"]).length === 0);
    },
  },
  {
    id: "TG-DF-025",
    severity: "warning",
    message: "gem install without a pinned version",
    fix: "pin it: `gem install pkg -v 1.2.3` (or `pkg:1.2.3`)",
    refs: ["DL3028", "CIS-4.11"],
    check({ df }) {
      return runRule(allRuns(df), (cmd) => {
        if (commandName(cmd) !== "gem" || subcommand(cmd.words) !== "install") return false;
        if (hasFlag(cmd.words, ["--version"], ["v"])) return false;
        const pkgs = packagesAfter(cmd.words, ["install"], ["-s", "--source", "-i", "--install-dir", "-n", "--bindir"]).filter((p) => !p.includes(":") && !p.endsWith(".gem"));
        return pkgs.length > 0;
      });
    },
  },
  {
    id: "TG-DF-026",
    severity: "warning",
    message: "go install without a pinned version",
    fix: "pin it: `go install example.com/tool@v1.2.3`",
    refs: ["DL3062", "CIS-4.11"],
    check({ df }) {
      return runRule(allRuns(df), (cmd) => {
        if (commandName(cmd) !== "go" || subcommand(cmd.words) !== "install") return false;
        const pkgs = packagesAfter(cmd.words, ["install"], ["-ldflags", "-tags", "-o", "-gcflags", "-mod", "-C"]).filter((p) => !p.startsWith(".") && !p.startsWith("/"));
        return pkgs.some((p) => !p.includes("@") || p.endsWith("@latest"));
      });
    },
  },
];
