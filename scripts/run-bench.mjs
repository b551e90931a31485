// Runs the benchmarks: every bench/<name>/bench.ts (or only the names given), one after another,
// each printing its own figures and ratios against the peer tools. Builds dist/ first, since the
// benchmarks time the CLI as users run it.
import { spawnSync } from "node:child_process";
import { globSync } from "node:fs";

const names = process.argv.slice(2);
const files = globSync("bench/*/bench.ts")
  .sort()
  .filter((f) => names.length === 0 || names.some((n) => f === `bench/${n}/bench.ts`));
if (files.length === 0) {
  console.error(`run-bench: no benchmark found${names.length ? ` for ${names.join(", ")}` : ""} (bench/<name>/bench.ts)`);
  process.exit(1);
}
const build = spawnSync("npm", ["run", "build", "--silent"], { stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);
let failed = 0;
for (const f of files) {
  console.log(`\n### ${f}`);
  const r = spawnSync(process.execPath, [f], { stdio: "inherit" });
  if (r.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
