// `tollgate lint dockerfile` end to end: formats, SARIF schema validity, --fail-on, inline ignores,
// tollgate.yaml overrides, discovery, and the parser's limits. Dockerfiles here are small hand-written
// fixtures created in temporary directories.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import AjvDraft04Module from "ajv-draft-04";
import addFormatsModule from "ajv-formats";
import { findDockerfiles, lintDockerfileText, lintDockerfiles, lintReportSarif } from "../../src/lint/index.ts";
import { SHARED_TESTDATA, runCli, sharedTestdataMissing, tempDir } from "../helpers.ts";

const BAD = [
  "FROM node:22", // 1: TG-DF-001 (no USER), 002, 028
  "RUN apt-get update && apt-get install -y curl", // 2: 009, 010, 012
  "COPY . .", // 3
  "CMD [\"node\", \"server.js\"]",
  "",
].join("\n");

const PINNED = "FROM node:22@sha256:0000000000000000000000000000000000000000000000000000000000000000";

test("json output has the documented shape; exit 1 at the default threshold (error)", async () => {
  const { dir, cleanup } = await tempDir();
  try {
    await writeFile(join(dir, "Dockerfile"), BAD);
    const r = await runCli(["lint", "dockerfile", "Dockerfile", "--format", "json"], { cwd: dir });
    assert.equal(r.code, 1, r.stderr);
    const out = JSON.parse(r.stdout) as { findings: Record<string, unknown>[] };
    const f = out.findings.find((x) => x.ruleId === "TG-DF-001");
    assert.ok(f);
    assert.deepEqual(Object.keys(f).sort(), ["file", "fix", "line", "message", "refs", "ruleId", "severity"]);
    assert.equal(f.line, 1);
    assert.equal(f.file, "Dockerfile");
    assert.equal(f.severity, "error");
    assert.deepEqual(f.refs, ["DL3002", "DS-0002", "CIS-4.1"]);
    assert.ok(out.findings.some((x) => x.ruleId === "TG-DF-035" && x.line === 3), "COPY . . without .dockerignore");
  } finally {
    await cleanup();
  }
});

test("--fail-on: warnings pass at error, fail at warning; info fails only at info", async () => {
  const { dir, cleanup } = await tempDir();
  try {
    await writeFile(join(dir, ".dockerignore"), ".git\n");
    // Only warnings: TG-DF-002 (tag, no digest). Plus info TG-DF-028 (no HEALTHCHECK).
    await writeFile(join(dir, "Dockerfile"), "FROM node:22\nUSER 1000\nCMD [\"node\"]\n");
    assert.equal((await runCli(["lint", "dockerfile"], { cwd: dir })).code, 0);
    assert.equal((await runCli(["lint", "dockerfile", "--fail-on", "warning"], { cwd: dir })).code, 1);
    await writeFile(join(dir, "Dockerfile"), `${PINNED}\nUSER 1000\nCMD ["node"]\n`);
    assert.equal((await runCli(["lint", "dockerfile", "--fail-on", "warning"], { cwd: dir })).code, 0);
    assert.equal((await runCli(["lint", "dockerfile", "--fail-on", "info"], { cwd: dir })).code, 1);
    const bad = await runCli(["lint", "dockerfile", "--fail-on", "fatal"], { cwd: dir });
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
  } finally {
    await cleanup();
  }
});

test("table output lists location, severity, rule and message; no Dockerfile is a notice, not an error", async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const empty = await runCli(["lint", "dockerfile"], { cwd: dir });
    assert.equal(empty.code, 0);
    assert.match(empty.stderr, /no Dockerfile found/);
    await mkdir(join(dir, "svc"));
    await writeFile(join(dir, "svc", "api.Dockerfile"), BAD);
    const r = await runCli(["lint", "dockerfile"], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /svc\/api\.Dockerfile:1 +error +TG-DF-001 +the final stage has no USER/);
    assert.match(r.stdout, /findings \(\d+ error, \d+ warning, \d+ info\) in 1 Dockerfile/);
  } finally {
    await cleanup();
  }
});

test("SARIF output validates against the SARIF 2.1.0 schema", { skip: sharedTestdataMissing("sarif") }, async () => {
  const schema = JSON.parse(readFileSync(join(SHARED_TESTDATA, "sarif", "sarif-schema-2.1.0.json"), "utf8")) as object;
  // CommonJS modules: the class and the plugin are their `default` exports.
  const AjvDraft04 = AjvDraft04Module.default;
  const ajv = new AjvDraft04({ allErrors: true, strict: false });
  (addFormatsModule as unknown as (a: unknown) => void)(ajv);
  const validate = ajv.compile(schema);
  const { dir, cleanup } = await tempDir();
  try {
    await writeFile(join(dir, "Dockerfile"), BAD);
    const r = await runCli(["lint", "dockerfile", "--format", "sarif"], { cwd: dir });
    assert.equal(r.code, 1);
    const log = JSON.parse(r.stdout) as { runs: { results: { ruleId: string; level: string; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[] }[] }[] };
    assert.ok(validate(log), JSON.stringify(validate.errors));
    const res = log.runs[0]?.results.find((x) => x.ruleId === "TG-DF-001");
    assert.equal(res?.level, "error");
    assert.equal(res?.locations[0]?.physicalLocation.artifactLocation.uri, "Dockerfile");
    assert.equal(res?.locations[0]?.physicalLocation.region.startLine, 1);
    // GitHub ranks security rules by security-severity: each rule's score follows its level.
    const rules = (log.runs[0] as unknown as { tool: { driver: { rules: { id: string; defaultConfiguration: { level: string }; properties: Record<string, unknown> }[] } } }).tool.driver.rules;
    const scoreOf: Record<string, string> = { error: "8.0", warning: "5.5", note: "2.0" };
    assert.ok(rules.length > 1);
    for (const rule of rules) assert.equal(rule.properties["security-severity"], scoreOf[rule.defaultConfiguration.level], rule.id);
    assert.equal(rules.find((x) => x.id === "TG-DF-001")?.properties["security-severity"], "8.0");
    // An empty result set is valid too, and so is an absolute path outside the base.
    assert.ok(validate(JSON.parse(lintReportSarif([]))));
    assert.ok(validate(JSON.parse(lintReportSarif(lintDockerfileText(BAD, "/elsewhere/My Dockerfile"), dir))));
  } finally {
    await cleanup();
  }
});

test("inline ignores apply to the next line only; global ignores to the file", () => {
  const text = ["# tollgate ignore=TG-DF-002,TG-DF-028", "FROM node:22", "# tollgate ignore=TG-DF-009 # reason: tiny image", "RUN apt-get install -y curl", "RUN apt-get install -y wget", "USER 1"].join("\n");
  const ids = lintDockerfileText(text, "Dockerfile").map((f) => `${f.ruleId}@${f.line}`);
  assert.ok(!ids.includes("TG-DF-002@2") && !ids.includes("TG-DF-028@2"), ids.join(" "));
  assert.ok(!ids.includes("TG-DF-009@4"));
  assert.ok(ids.includes("TG-DF-009@5"), "the ignore does not reach two lines down");
  const global = lintDockerfileText(`# tollgate global ignore=TG-DF-009\n${text}`, "Dockerfile").map((f) => f.ruleId);
  assert.ok(!global.includes("TG-DF-009"));
  // hadolint's pragmas, by DL id, are honoured through the rules' refs.
  const hado = ["FROM node:22", "# hadolint ignore=DL3015, DL3009", "RUN apt-get install -y curl", "USER 1"].join("\n");
  const h = lintDockerfileText(hado, "Dockerfile").map((f) => f.ruleId);
  assert.ok(!h.includes("TG-DF-009") && !h.includes("TG-DF-010") && h.includes("TG-DF-012"), h.join(" "));
});

test("tollgate.yaml: lint.ignore, lint.severity (incl. off), trusted_registries and fail_on", async () => {
  const { dir, cleanup } = await tempDir();
  try {
    await writeFile(join(dir, ".dockerignore"), ".git\n");
    await writeFile(join(dir, "Dockerfile"), "FROM quay.io/org/app:1\nRUN apt-get install -y curl\n");
    const base = await runCli(["lint", "dockerfile", "--format", "json"], { cwd: dir });
    const ids = (JSON.parse(base.stdout) as { findings: { ruleId: string; severity: string }[] }).findings.map((f) => f.ruleId);
    assert.ok(ids.includes("TG-DF-001") && ids.includes("TG-DF-009") && !ids.includes("TG-DF-037"));
    await writeFile(
      join(dir, "tollgate.yaml"),
      "lint:\n  fail_on: warning\n  ignore: [TG-DF-001]\n  severity:\n    TG-DF-009: off\n    TG-DF-012: error\n  trusted_registries: [ghcr.io]\n",
    );
    const r = await runCli(["lint", "dockerfile", "--format", "json"], { cwd: dir });
    assert.equal(r.code, 1, r.stderr);
    const f = (JSON.parse(r.stdout) as { findings: { ruleId: string; severity: string }[] }).findings;
    assert.ok(!f.some((x) => x.ruleId === "TG-DF-001" || x.ruleId === "TG-DF-009"));
    assert.equal(f.find((x) => x.ruleId === "TG-DF-012")?.severity, "error");
    assert.ok(f.some((x) => x.ruleId === "TG-DF-037"));
    await writeFile(join(dir, "tollgate.yaml"), "lint:\n  severity:\n    TG-DF-999: off\n");
    const typo = await runCli(["lint", "dockerfile"], { cwd: dir });
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /^tollgate: tollgate\.yaml: lint\.severity\.TG-DF-999: unknown rule/);
  } finally {
    await cleanup();
  }
});

test("library: lintDockerfiles takes a directory or paths and the whole config", async () => {
  const { dir, cleanup } = await tempDir();
  try {
    await mkdir(join(dir, "a", "node_modules", "x"), { recursive: true });
    await writeFile(join(dir, "a", "Containerfile"), BAD);
    await writeFile(join(dir, "a", "Dockerfile.prod"), BAD);
    await writeFile(join(dir, "a", "node_modules", "x", "Dockerfile"), BAD);
    await writeFile(join(dir, "a", "Dockerfile.dockerignore"), "x\n");
    const r = await lintDockerfiles(dir);
    assert.deepEqual(r.files.map((f) => f.slice(dir.length + 1)).sort(), ["a/Containerfile", "a/Dockerfile.prod"]);
    const one = await lintDockerfiles([join(dir, "a", "Containerfile")], { fail_on: "error", ignore: ["TG-DF-001"], severity: {}, trusted_registries: [] });
    assert.ok(one.findings.length > 0 && !one.findings.some((f) => f.ruleId === "TG-DF-001"));
    await assert.rejects(lintDockerfiles(join(dir, "missing")), /no such file/);
  } finally {
    await cleanup();
  }
});

test("security: size limit, NUL bytes, symlinks not followed, secrets never echoed", async () => {
  const { dir, cleanup } = await tempDir();
  try {
    await writeFile(join(dir, "Dockerfile"), `FROM a:1\n${"RUN true\n".repeat(200_000)}`);
    await assert.rejects(lintDockerfiles(join(dir, "Dockerfile")), (e: Error) => e.name === "LimitExceededError");
    await writeFile(join(dir, "Dockerfile"), "FROM a:1\0\n");
    await assert.rejects(lintDockerfiles(join(dir, "Dockerfile")), /NUL/);
    const outside = await tempDir();
    await writeFile(join(outside.dir, "Dockerfile"), BAD);
    await writeFile(join(dir, "Dockerfile"), `${PINNED}\nUSER 1\n`);
    await symlink(outside.dir, join(dir, "linked"));
    await symlink(join(outside.dir, "Dockerfile"), join(dir, "other.Dockerfile"));
    const r = await findDockerfiles(dir);
    assert.deepEqual(r, [join(dir, "Dockerfile")]);
    await outside.cleanup();
    const token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789AB";
    const secretText = `${PINNED}\nENV GH_TOKEN=${token}\nRUN echo "//registry.npmjs.org/:_authToken=${token}" > .npmrc\nUSER 1\n`;
    const f = lintDockerfileText(secretText, "Dockerfile");
    assert.ok(f.some((x) => x.ruleId === "TG-DF-007") && f.some((x) => x.ruleId === "TG-DF-008") && f.some((x) => x.ruleId === "TG-DF-049"));
    assert.ok(!JSON.stringify(f).includes(token), "a finding repeats the secret");
  } finally {
    await cleanup();
  }
});

test("parser robustness: heredocs, exec form, continuation lines, comments, escape directive, garbage", () => {
  const heredoc = `${PINNED}\nRUN <<EOF\napt-get update\napt-get install -y --no-install-recommends curl\nEOF\nUSER 1\n`;
  const ids = lintDockerfileText(heredoc, "Dockerfile").map((f) => f.ruleId);
  assert.ok(!ids.includes("TG-DF-013") && !ids.includes("TG-DF-009"), ids.join(" "));
  assert.ok(ids.includes("TG-DF-010"));
  // A heredoc fed to python is not shell.
  const py = `${PINNED}\nRUN python3 <<EOF\nimport os\nos.system("sudo ls")\nEOF\nUSER 1\n`;
  assert.ok(!lintDockerfileText(py, "Dockerfile").some((f) => f.ruleId === "TG-DF-027"));
  const exec = `${PINNED}\nRUN ["/bin/sh", "-c", "curl -fsSL https://x | sh"]\nUSER 1\n`;
  assert.ok(lintDockerfileText(exec, "Dockerfile").some((f) => f.ruleId === "TG-DF-006"));
  const cont = `${PINNED}\nRUN apt-get update \\\n  # a comment line inside\n  && apt-get install \\\n     curl\nUSER 1\n`;
  const c = lintDockerfileText(cont, "Dockerfile");
  assert.equal(c.find((f) => f.ruleId === "TG-DF-011")?.line, 2);
  const esc = `# escape=\`\n${PINNED}\nRUN apt-get install \`\n  curl\nUSER 1\n`;
  assert.ok(lintDockerfileText(esc, "Dockerfile").some((f) => f.ruleId === "TG-DF-011"));
  const nested = `${PINNED}\nRUN bash -c "set -e; sh -c 'sudo true'"\nUSER 1\n`;
  assert.ok(lintDockerfileText(nested, "Dockerfile").some((f) => f.ruleId === "TG-DF-027"));
  // ONBUILD RUN triggers are shell too.
  const onbuild = `${PINNED}\nONBUILD RUN sudo make install\nUSER 1\n`;
  assert.equal(lintDockerfileText(onbuild, "Dockerfile").find((f) => f.ruleId === "TG-DF-027")?.line, 2);
  // Garbage never throws.
  for (const g of ["", "\0\0", "FROM", "RUN x", "FROM ${A:-}\nUSER", "FROM a:1\nRUN '\"unterminated", "\\\n".repeat(1000), "((((((((((".repeat(1000)]) {
    assert.doesNotThrow(() => lintDockerfileText(g, "Dockerfile"));
  }
  // ARG-resolved base images are judged by their default.
  const arg = "ARG BASE=node:22\nFROM ${BASE}\nUSER 1\n";
  assert.ok(lintDockerfileText(arg, "Dockerfile").some((f) => f.ruleId === "TG-DF-002" && f.message.includes("node:22")));
  const noDefault = "ARG BASE\nFROM ${BASE}\nUSER 1\n";
  assert.ok(!lintDockerfileText(noDefault, "Dockerfile").some((f) => f.ruleId === "TG-DF-002" || f.ruleId === "TG-DF-003"));
});

test("lint rules lists every Dockerfile and image rule with its refs", async () => {
  const r = await runCli(["lint", "rules", "--format", "json"]);
  assert.equal(r.code, 0, r.stderr);
  const rules = (JSON.parse(r.stdout) as { rules: { id: string; severity: string; refs: string[] }[] }).rules;
  const ids = rules.map((x) => x.id);
  assert.equal(new Set(ids).size, ids.length);
  assert.ok(ids.filter((i) => i.startsWith("TG-DF-")).length >= 40);
  assert.ok(ids.includes("TG-IMG-001"));
  assert.deepEqual(rules.find((x) => x.id === "TG-DF-001")?.refs, ["DL3002", "DS-0002", "CIS-4.1"]);
  const table = await runCli(["lint", "rules"]);
  assert.match(table.stdout, /^TG-DF-001 +error +the final stage runs as root/m);
});
