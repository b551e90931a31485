// Runs the test suite with node:test: every test/**/*.test.ts file, through Node's type stripping.
// Fails when the glob finds no file, so that an empty suite can never pass silently. The runner's
// summary (tests, pass, fail, skipped) is the last thing printed.
import { spawnSync } from "node:child_process";
import { globSync } from "node:fs";

const patterns = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const flags = process.argv.slice(2).filter((a) => a.startsWith("--"));
const files = (patterns.length > 0 ? patterns : ["test/**/*.test.ts"]).flatMap((p) => globSync(p)).sort();
if (files.length === 0) {
  console.error(`run-tests: no test files match ${patterns.join(" ") || "test/**/*.test.ts"}`);
  process.exit(1);
}
const concurrency = process.env.TOLLGATE_TEST_CONCURRENCY ?? "2";
const result = spawnSync(
  process.execPath,
  ["--test", "--test-reporter=spec", `--test-concurrency=${concurrency}`, ...flags, ...files],
  { stdio: "inherit", env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } },
);
process.exit(result.status ?? 1);
