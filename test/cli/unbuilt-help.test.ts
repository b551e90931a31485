// The commands of parts of tollgate that are not built yet (signing, verification, attestations, the
// audit log) say so on the first line of their --help, are marked in the top-level command list and
// in the README's command table, and exit 2 when run.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT, runCli } from "../helpers.ts";

const UNBUILT: string[][] = [
  ["keys"],
  ["keys", "generate"],
  ["sign"],
  ["sign", "blob"],
  ["sign", "image"],
  ["sign", "model"],
  ["verify"],
  ["verify", "blob"],
  ["verify", "image"],
  ["verify", "model"],
  ["verify-bundle"],
  ["attest"],
  ["audit"],
  ["audit", "verify"],
];

test("--help of every unbuilt command says `not built yet` on its first line", async () => {
  const results = await Promise.all(UNBUILT.map((words) => runCli([...words, "--help"])));
  UNBUILT.forEach((words, i) => {
    const r = results[i]!;
    assert.equal(r.code, 0, `${words.join(" ")}: ${r.stderr}`);
    const first = r.stdout.split("\n")[0] ?? "";
    assert.match(first, new RegExp(`^tollgate ${words.join(" ")}: not built yet\\b`), `${words.join(" ")} --help starts with: ${first}`);
  });
});

test("built commands' --help does not say so", async () => {
  for (const words of [["check"], ["init"], ["lint", "dockerfile"]]) {
    const r = await runCli([...words, "--help"]);
    assert.equal(r.code, 0);
    assert.doesNotMatch(r.stdout, /not built yet/, words.join(" "));
  }
});

test("the top-level command list marks the unbuilt commands", async () => {
  const r = await runCli(["--help"]);
  for (const name of ["keys", "sign", "verify", "verify-bundle", "attest", "audit"]) {
    const line = r.stdout.split("\n").find((l) => new RegExp(`^  ${name}\\b`).test(l));
    assert.ok(line, `${name} is listed`);
    assert.match(line, /\(not built yet\)$/, line);
  }
});

test("running an unbuilt command exits 2 with one line saying so", async () => {
  const r = await runCli(["sign", "blob", "--key", "k", "x"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr.trim(), /^tollgate: tollgate sign blob is not built yet/);
});

test("the README's command table marks every unbuilt command", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const rows = readme.split("\n").filter((l) => /^\| `tollgate (?:keys|sign|verify|verify-bundle|attest|audit)\b/.test(l));
  assert.equal(rows.length, 6, rows.join("\n"));
  for (const row of rows) assert.match(row, /not built yet/, row);
});
