// The commands of parts of tollgate that are not built yet say so on the first line of their --help,
// are marked in their parent's command list and in the README's command table, and exit 2 when run.
// Which commands those are is read from the CLI itself (every command whose summary ends "(not built
// yet)"), so building a command means removing its mark, never editing a list here; the test fails
// when a marked command's help, exit code or README row disagree, and when a built command's help
// says "not built yet".
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, test } from "node:test";
import { ROOT, runCli } from "../helpers.ts";

/** `  name [args]   summary` entries of a `--help` page's command list (commander wraps long summaries). */
function commandLines(help: string): { name: string; summary: string }[] {
  const at = help.indexOf("\nCommands:\n");
  if (at < 0) return [];
  const out: { name: string; summary: string }[] = [];
  for (const line of help.slice(at + "\nCommands:\n".length).split("\n")) {
    if (line.trim() === "") break;
    const m = /^ {2}([a-z][\w-]*)(?:\|[\w-]+)?(?: [^ ].*?)?(?:\s{2,}(.*))?$/.exec(line);
    if (m) out.push({ name: m[1]!, summary: m[2] ?? "" });
    else if (/^ {3,}\S/.test(line) && out.length > 0) out[out.length - 1]!.summary += ` ${line.trim()}`;
  }
  return out.filter((c) => c.name !== "help");
}

interface CommandInfo {
  words: string[];
  marked: boolean;
}

let commands: CommandInfo[] = [];

before(async () => {
  // Two levels: tollgate <command> [<subcommand>].
  const top = commandLines((await runCli(["--help"])).stdout);
  assert.ok(top.length >= 10, "the top-level help lists the commands");
  commands = top.map((c) => ({ words: [c.name], marked: /\(not built yet\)$/.test(c.summary) }));
  for (const c of top) {
    const subs = commandLines((await runCli([c.name, "--help"])).stdout);
    for (const s of subs) commands.push({ words: [c.name, s.name], marked: /\(not built yet\)$/.test(s.summary) });
  }
});

test("--help of every marked command says `not built yet` on its first line; built ones never say so", async () => {
  const results = await Promise.all(commands.map((c) => runCli([...c.words, "--help"])));
  commands.forEach((c, i) => {
    const r = results[i]!;
    assert.equal(r.code, 0, `${c.words.join(" ")}: ${r.stderr}`);
    const first = r.stdout.split("\n")[0] ?? "";
    if (c.marked) assert.match(first, new RegExp(`^tollgate ${c.words.join(" ")}: not built yet\\b`), `${c.words.join(" ")} --help starts with: ${first}`);
    // A group whose subcommands are partly built may list marked subcommands; its own first line is plain.
    else assert.doesNotMatch(first, /not built yet/, `${c.words.join(" ")} is built but its --help says it is not`);
  });
});

test("a group is marked only when every subcommand is", () => {
  for (const group of commands.filter((c) => c.words.length === 1)) {
    const subs = commands.filter((c) => c.words.length === 2 && c.words[0] === group.words[0]);
    if (subs.length === 0) continue;
    assert.equal(group.marked, subs.every((s) => s.marked), `${group.words[0]}: marked ${group.marked}, subcommands ${subs.map((s) => `${s.words[1]}=${s.marked}`).join(" ")}`);
  }
});

test("running a marked leaf command exits 2 with one line saying so", async () => {
  const leaves = commands.filter((c) => c.marked && !commands.some((o) => o.words.length === 2 && o.words[0] === c.words[0] && c.words.length === 1));
  for (const c of leaves) {
    const r = await runCli([...c.words, "x"]);
    assert.equal(r.code, 2, `${c.words.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr.trim(), new RegExp(`^tollgate: (?:tollgate ${c.words.join(" ")} is not built yet|.*)`), c.words.join(" "));
    assert.equal(r.stderr.trim().split("\n").length, 1, `${c.words.join(" ")}: one line`);
  }
});

test("the README's command table marks a command not built exactly when the CLI does", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  for (const group of commands.filter((c) => c.words.length === 1)) {
    const rows = readme.split("\n").filter((l) => new RegExp(`^\\| \`tollgate ${group.words[0]}\\b`).test(l));
    const subs = commands.filter((c) => c.words.length === 2 && c.words[0] === group.words[0]);
    const anyMarked = group.marked || subs.some((s) => s.marked);
    for (const row of rows) {
      if (group.marked) assert.match(row, /not built yet/, row);
      if (!anyMarked) assert.doesNotMatch(row, /not built yet/, row);
    }
  }
});
