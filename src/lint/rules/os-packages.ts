import { commandName, hasFlag } from "../shell.ts";
import { allRuns, hasCacheMount, runRule, shippedRuns } from "./dockerfile-query.ts";
import { installedPackages, isApt, pmSub } from "./package-commands.ts";
import type { LintRule } from "./types.ts";

/** OS package managers (apt, apk, yum, dnf, zypper): non-interactive, minimal, pinned, cleaned up in the same RUN. */

export const OS_PACKAGE_RULES: readonly LintRule[] = [
  {
    id: "TG-DF-009",
    severity: "warning",
    message: "apt-get install without --no-install-recommends",
    fix: "add `--no-install-recommends` so only the packages named are installed",
    refs: ["DL3015", "DS-0029", "CIS-4.3"],
    check({ df }) {
      return runRule(allRuns(df), (cmd) => isApt(cmd, ["install"]) && !hasFlag(cmd.words, ["--no-install-recommends"]) && !cmd.words.some((w) => /Install-Recommends=(?:false|0|no)/i.test(w)));
    },
  },
  {
    id: "TG-DF-010",
    severity: "warning",
    message: "apt-get install leaves the package lists in the image",
    fix: "end the same RUN with `rm -rf /var/lib/apt/lists/*` (or `apt-get dist-clean`, apt 3.0 and later), or use a cache mount on /var/lib/apt",
    refs: ["DL3009"],
    check({ df }) {
      return shippedRuns(df)
        .filter(({ run }) => run.commands.some((c) => isApt(c, ["install"])) && !run.script.includes("/var/lib/apt/lists") && !run.commands.some((c) => isApt(c, ["distclean", "dist-clean"])) && !hasCacheMount(run, /^\/var\/(?:lib|cache)\/apt/))
        .map(({ run }) => ({ line: run.line }));
    },
  },
  {
    id: "TG-DF-011",
    severity: "warning",
    message: "apt-get without -y waits for input",
    fix: "add `-y` (or `--yes`)",
    refs: ["DL3014", "DS-0021"],
    check({ df }) {
      return runRule(allRuns(df), (cmd) => isApt(cmd, ["install", "upgrade", "dist-upgrade", "full-upgrade"]) && !hasFlag(cmd.words, ["--yes", "--assume-yes", "--force-yes"], ["y"]) && !cmd.words.includes("-qq") && !cmd.words.includes("-q=2"));
    },
  },
  {
    id: "TG-DF-012",
    severity: "info",
    message: "OS packages installed without pinned versions",
    fix: "pin versions (`apt-get install pkg=1.2-3`, `apk add pkg=1.2-r0`, `dnf install pkg-1.2`) or rely on a digest-pinned base and scan the image",
    refs: ["DL3008", "DL3018", "DL3033", "DL3037", "DL3041", "CIS-4.11"],
    check({ df }) {
      return runRule(allRuns(df), (cmd) => {
        const pkgs = installedPackages(cmd).filter((p) => !p.startsWith("/") && !p.startsWith(".") && !p.endsWith(".deb") && !p.endsWith(".rpm") && !p.endsWith(".apk"));
        const apt = isApt(cmd, ["install"]) || commandName(cmd) === "apk" || commandName(cmd) === "zypper";
        const unpinned = pkgs.filter((p) => (apt ? !/[=<>~]/.test(p) : !/-\d/.test(p)));
        return unpinned.length > 0 ? `${commandName(cmd)} installs ${unpinned.slice(0, 3).join(", ")}${unpinned.length > 3 ? "…" : ""} without a pinned version` : false;
      });
    },
  },
  {
    id: "TG-DF-013",
    severity: "warning",
    message: "package index update in a RUN of its own (a stale cached layer is reused later)",
    fix: "update and install in the same RUN: `apt-get update && apt-get install -y …`",
    refs: ["DS-0017", "CIS-4.7"],
    check({ df }) {
      return allRuns(df)
        .filter(({ run }) => {
          const upd = run.commands.some((c) => isApt(c, ["update"]) || pmSub(c, ["apk"], ["update"]));
          const inst = run.commands.some((c) => isApt(c, ["install", "upgrade", "dist-upgrade", "full-upgrade"]) || pmSub(c, ["apk"], ["add", "upgrade"]));
          return upd && !inst;
        })
        .map(({ run }) => ({ line: run.line }));
    },
  },
  {
    id: "TG-DF-014",
    severity: "warning",
    message: "dist-upgrade in an image build",
    fix: "use a newer base image instead of upgrading the distribution inside the build",
    refs: ["DL3035", "DS-0024"],
    check({ df }) {
      return runRule(allRuns(df), (cmd) => isApt(cmd, ["dist-upgrade", "full-upgrade"]) || pmSub(cmd, ["zypper"], ["dist-upgrade", "dup"]));
    },
  },
  {
    id: "TG-DF-015",
    severity: "info",
    message: "`apt` is meant for terminals; scripts should use apt-get",
    fix: "use apt-get (or apt-cache)",
    refs: ["DL3027"],
    check({ df }) {
      return runRule(allRuns(df), (cmd) => commandName(cmd) === "apt" && isApt(cmd, ["install", "update", "upgrade", "remove", "purge", "dist-upgrade", "full-upgrade", "autoremove"]));
    },
  },
  {
    id: "TG-DF-016",
    severity: "warning",
    message: "apk add without --no-cache leaves the package index in the image",
    fix: "use `apk add --no-cache …`",
    refs: ["DL3019", "DS-0025"],
    check({ df }) {
      return runRule(shippedRuns(df), (cmd, run) => pmSub(cmd, ["apk"], ["add"], ["-X", "--repository", "-t", "--virtual"]) && !hasFlag(cmd.words, ["--no-cache"]) && !run.script.includes("/var/cache/apk") && !hasCacheMount(run, /\/var\/cache\/apk/));
    },
  },
  {
    id: "TG-DF-017",
    severity: "warning",
    message: "yum install without `yum clean all` in the same RUN",
    fix: "end the RUN with `&& yum clean all`",
    refs: ["DL3032", "DS-0015"],
    check({ df }) {
      return shippedRuns(df)
        .filter(({ run }) => run.commands.some((c) => pmSub(c, ["yum"], ["install", "update", "upgrade", "groupinstall"])) && !run.commands.some((c) => pmSub(c, ["yum"], ["clean"])) && !run.script.includes("/var/cache/yum") && !hasCacheMount(run, /\/var\/cache\/yum/))
        .map(({ run }) => ({ line: run.line }));
    },
  },
  {
    id: "TG-DF-018",
    severity: "warning",
    message: "dnf/microdnf install without `dnf clean all` in the same RUN",
    fix: "end the RUN with `&& dnf clean all` (or `microdnf clean all`)",
    refs: ["DL3040", "DS-0019", "DS-0027"],
    check({ df }) {
      return shippedRuns(df)
        .filter(({ run }) => run.commands.some((c) => pmSub(c, ["dnf", "microdnf", "tdnf"], ["install", "update", "upgrade", "reinstall"])) && !run.commands.some((c) => pmSub(c, ["dnf", "microdnf", "tdnf"], ["clean"])) && !run.script.includes("/var/cache/dnf") && !hasCacheMount(run, /\/var\/cache\/(?:dnf|yum)/))
        .map(({ run }) => ({ line: run.line }));
    },
  },
  {
    id: "TG-DF-019",
    severity: "warning",
    message: "zypper install without `zypper clean` in the same RUN",
    fix: "end the RUN with `&& zypper clean`",
    refs: ["DL3036", "DS-0020"],
    check({ df }) {
      return shippedRuns(df)
        .filter(({ run }) => run.commands.some((c) => pmSub(c, ["zypper"], ["install", "in", "update", "up", "patch", "dist-upgrade", "dup"])) && !run.commands.some((c) => pmSub(c, ["zypper"], ["clean", "cc"])) && !hasCacheMount(run, /\/var\/cache\/zypp/))
        .map(({ run }) => ({ line: run.line }));
    },
  },
  {
    id: "TG-DF-020",
    severity: "warning",
    message: "yum/dnf/zypper without the non-interactive switch waits for input",
    fix: "add `-y` (yum, dnf) or `-n` (zypper)",
    refs: ["DL3030", "DL3038", "DL3034"],
    check({ df }) {
      return runRule(allRuns(df), (cmd) => {
        if (pmSub(cmd, ["yum", "dnf"], ["install", "groupinstall", "localinstall", "update", "upgrade", "remove"])) return !hasFlag(cmd.words, ["--assumeyes"], ["y"]);
        if (pmSub(cmd, ["zypper"], ["install", "in", "remove", "rm", "update", "up", "patch", "source-install", "si"])) return !hasFlag(cmd.words, ["--non-interactive", "--no-confirm"], ["n", "y"]);
        return false;
      });
    },
  },
];
