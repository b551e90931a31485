// tollgate's own Dockerfile (repository root) is held to tollgate's lint: no finding at warning or
// above, with its .dockerignore in place.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { lintDockerfiles } from "../../src/lint/index.ts";
import { ROOT } from "../helpers.ts";

test("tollgate's own Dockerfile passes tollgate lint dockerfile at warning", async () => {
  assert.ok(existsSync(join(ROOT, ".dockerignore")), ".dockerignore beside the Dockerfile");
  const { findings, files } = await lintDockerfiles(join(ROOT, "Dockerfile"));
  assert.equal(files.length, 1);
  assert.deepEqual(findings.filter((f) => f.severity !== "info"), []);
});
