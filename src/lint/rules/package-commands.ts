import { commandName, operands, type ShellCommand } from "../shell.ts";

/** Package-manager commands in RUN scripts: which manager, which subcommand, which packages. */

/** The command with `python -m pip` normalised to `pip`. */
export function normalised(cmd: ShellCommand): string[] {
  const w = cmd.words;
  if (/^python[0-9.]*$/.test(commandName(cmd)) && w[1] === "-m" && w[2] !== undefined) return w.slice(2);
  const name = commandName(cmd);
  return [name, ...w.slice(1)];
}

/** A command's subcommand (`apt-get install`, `pip install`): its first operand, skipping options (some of which take a value). */
export function subcommand(words: readonly string[], optionsWithValue: readonly string[] = []): string | undefined {
  return operands(words.slice(1), optionsWithValue)[0];
}

const APT_OPTS_WITH_VALUE = ["-o", "-c", "-t", "--option", "--config-file", "--target-release"];

/** Whether the command is `apt-get`/`apt` with one of these subcommands. */
export function isApt(cmd: ShellCommand, subs: readonly string[]): boolean {
  const name = commandName(cmd);
  if (name !== "apt-get" && name !== "apt") return false;
  const sub = subcommand(cmd.words, APT_OPTS_WITH_VALUE);
  return sub !== undefined && subs.includes(sub);
}

/** Whether the command is one of these package managers with one of these subcommands. */
export function pmSub(cmd: ShellCommand, names: readonly string[], subs: readonly string[], optionsWithValue: readonly string[] = []): boolean {
  if (!names.includes(commandName(cmd))) return false;
  const sub = subcommand(cmd.words, optionsWithValue);
  return sub !== undefined && subs.includes(sub);
}

/** The operands after the first of the subcommands `sub`, without empty ones and those holding a variable. */
export function packagesAfter(words: readonly string[], sub: readonly string[], optionsWithValue: readonly string[]): string[] {
  const ops = operands(words.slice(1), optionsWithValue);
  const i = ops.findIndex((o) => sub.includes(o));
  return i === -1 ? [] : ops.slice(i + 1).filter((p) => !p.includes("$") && p !== "");
}

/** The packages an apt, apk, yum/dnf/microdnf/tdnf or zypper install names. */
export function installedPackages(cmd: ShellCommand): string[] {
  if (isApt(cmd, ["install"])) return packagesAfter(cmd.words, ["install"], APT_OPTS_WITH_VALUE);
  if (pmSub(cmd, ["apk"], ["add"], ["-X", "--repository", "-t", "--virtual", "-p", "--root"])) return packagesAfter(cmd.words, ["add"], ["-X", "--repository", "-t", "--virtual", "-p", "--root"]);
  if (pmSub(cmd, ["yum", "dnf", "microdnf", "tdnf"], ["install"])) return packagesAfter(cmd.words, ["install"], ["--setopt", "--repo", "--enablerepo", "--disablerepo"]);
  if (pmSub(cmd, ["zypper"], ["install", "in"])) return packagesAfter(cmd.words, ["install", "in"], []);
  return [];
}
