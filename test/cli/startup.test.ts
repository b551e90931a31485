/**
 * What declaring the commands loads. Every `cli.ts` only declares its commands and imports the modules
 * that do the work inside the action, so that start-up and `--help` stay cheap (docs/architecture.md).
 * The child process records every module resolved while the program is built (node:module's
 * registerHooks) and the test names those that must wait for an action.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { ROOT } from "../helpers.ts";

const script = `
import { registerHooks } from "node:module";
const seen = [];
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r; } });
const { buildProgram } = await import(${JSON.stringify(pathToFileURL(join(ROOT, "src", "cli", "program.ts")).href)});
buildProgram({ exitCode: 0, debug: false });
process.stdout.write(JSON.stringify(seen));
`;

test("building the program (start-up, --help) loads no ecosystem registry, image reader, SBOM library, database or YAML parser", async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  const loaded = (JSON.parse(stdout) as string[]).map((url) => url.replace(pathToFileURL(ROOT).href, ""));
  assert.ok(loaded.some((u) => u.endsWith("/src/vulndb/cli.ts")), "the hook saw the command modules");
  const forbidden = [/\/src\/ecosystem\/registry\.ts$/, /\/node_modules\/semver\//, /\/src\/image\/image-fs\.ts$/, /\/src\/oci\/registry\.ts$/, /@cyclonedx/, /node:sqlite/, /\/node_modules\/yaml\//, /\/node_modules\/zod\//, /dockerfile-ast/, /@octokit/];
  for (const pattern of forbidden) {
    assert.deepEqual(loaded.filter((u) => pattern.test(u)), [], `start-up loads ${pattern}`);
  }
});
