// `tollgate init` in a temporary repository holding npm and Python lockfiles and a Dockerfile: the
// files it writes parse as YAML, Dependabot's ecosystems match those detected, the workflow's steps
// call tollgate commands (and options) that exist in the CLI's command tree, tollgate.yaml validates,
// and the generated Dockerfiles pass `tollgate lint dockerfile` with nothing at warning or above.
import assert from "node:assert/strict";
import { copyFile, mkdir, readFile, readdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import type { Command } from "commander";
import { parseDocument } from "yaml";
import { buildProgram } from "../../src/cli/program.ts";
import { defaultConfig, parseConfig } from "../../src/config/index.ts";
import { detectEcosystems, DOCKERFILE_TEMPLATES, initRepository } from "../../src/init/index.ts";
import { lintDockerfileText } from "../../src/lint/index.ts";
import { parseShell } from "../../src/lint/shell.ts";
import { ROOT, runCli, tempDir } from "../helpers.ts";

/** A hand-written poetry.lock (format of Poetry 1.8) and requirements.txt; tollgate's own package-lock.json. */
const POETRY_LOCK = `[[package]]
name = "flask"
version = "3.0.3"
description = "A simple framework for building complex web applications."
optional = false
python-versions = ">=3.8"

[metadata]
lock-version = "2.0"
python-versions = "^3.12"
content-hash = "0000000000000000000000000000000000000000000000000000000000000000"
`;

async function makeRepo(dir: string): Promise<void> {
  await copyFile(join(ROOT, "package-lock.json"), join(dir, "package-lock.json"));
  // tollgate's own package.json under another name: a repository that is not tollgate.
  const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as Record<string, unknown>;
  pkg.name = "example-service";
  delete pkg.bin;
  await writeFile(join(dir, "package.json"), JSON.stringify(pkg, null, 2));
  await mkdir(join(dir, "ml"));
  await writeFile(join(dir, "ml", "poetry.lock"), POETRY_LOCK);
  await writeFile(join(dir, "ml", "requirements.txt"), "flask==3.0.3\n");
  await writeFile(join(dir, "Dockerfile"), "FROM node:22\nCOPY . .\nCMD node server.js\n");
  // Dependencies installed in the tree and test fixtures are not the project's manifests.
  await mkdir(join(dir, "node_modules", "left-pad"), { recursive: true });
  await writeFile(join(dir, "node_modules", "left-pad", "package.json"), "{}");
  await mkdir(join(dir, "test", "fixtures", "go"), { recursive: true });
  await writeFile(join(dir, "test", "fixtures", "go", "go.mod"), "module x\n");
}

function parseYaml(text: string, file: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  assert.deepEqual(doc.errors.map((e) => e.message), [], `${file} does not parse`);
  return doc.toJS();
}

/** The tollgate invocations in a shell script, as word lists (without the `tollgate` word). */
function tollgateCalls(script: string): string[][] {
  return parseShell(script)
    .filter((c) => c.words[0] === "tollgate")
    .map((c) => c.words.slice(1));
}

/** Resolves a tollgate command line against the real command tree; returns the problems. */
function checkAgainstCli(args: readonly string[]): string[] {
  const program = buildProgram({ exitCode: 0, debug: false });
  let cmd: Command = program;
  let i = 0;
  while (i < args.length && cmd.commands.some((c) => c.name() === args[i])) {
    cmd = cmd.commands.find((c) => c.name() === args[i]) as Command;
    i++;
  }
  const problems: string[] = [];
  if (cmd === program) return [`no command: ${args.join(" ")}`];
  // A command with subcommands runs its own action when the next word names none (`attest IMAGE` beside `attest provenance`).
  const hasAction = (cmd as unknown as { _actionHandler?: unknown })._actionHandler != null;
  if (cmd.commands.length > 0 && !hasAction) problems.push(`${cmd.name()} needs a subcommand`);
  const known = new Set<string>();
  for (const c of [cmd, program]) for (const o of c.options) for (const f of [o.long, o.short]) if (f) known.add(f);
  for (const a of args.slice(i)) {
    if (!a.startsWith("-")) continue;
    const flag = a.split("=", 1)[0] as string;
    if (!known.has(flag)) problems.push(`${cmd.name()}: unknown option ${flag}`);
  }
  return problems;
}

test("detectEcosystems finds npm, pip and docker with their directories, skipping node_modules and fixtures", async () => {
  const { dir, cleanup } = await tempDir();
  try {
    await makeRepo(dir);
    const found = await detectEcosystems(dir);
    assert.deepEqual(
      found.map((e) => [e.ecosystem, e.directories]),
      [
        ["npm", ["/"]],
        ["pip", ["/ml"]],
        ["docker", ["/"]],
      ],
    );
  } finally {
    await cleanup();
  }
});

test("init writes parseable files matching the detected ecosystems; workflow calls existing tollgate commands", async () => {
  const { dir, cleanup } = await tempDir();
  try {
    await makeRepo(dir);
    const r = await runCli(["init"], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /created +\.github\/workflows\/tollgate\.yml/);
    assert.match(r.stdout, /created +\.github\/dependabot\.yml/);
    assert.match(r.stdout, /created +tollgate\.yaml/);

    const dependabot = parseYaml(await readFile(join(dir, ".github", "dependabot.yml"), "utf8"), "dependabot.yml") as {
      version: number;
      updates: { "package-ecosystem": string; directory?: string; directories?: string[]; groups: Record<string, unknown>; schedule: { interval: string } }[];
    };
    assert.equal(dependabot.version, 2);
    assert.deepEqual(
      dependabot.updates.map((u) => [u["package-ecosystem"], u.directory ?? u.directories]),
      [
        ["npm", "/"],
        ["pip", "/ml"],
        ["docker", "/"],
        ["github-actions", "/"],
      ],
    );
    for (const u of dependabot.updates) {
      assert.ok(Object.keys(u.groups).length > 0, "grouped updates");
      assert.equal(u.schedule.interval, "weekly");
    }

    const wfText = await readFile(join(dir, ".github", "workflows", "tollgate.yml"), "utf8");
    const wf = parseYaml(wfText, "tollgate.yml") as {
      permissions: Record<string, string>;
      on: Record<string, unknown>;
      jobs: Record<string, { permissions: Record<string, string>; steps: { uses?: string; run?: string }[]; needs?: string | string[] }>;
    };
    assert.deepEqual(wf.permissions, {}, "workflow default: no permissions");
    assert.ok("pull_request" in wf.on && "push" in wf.on);
    assert.deepEqual(Object.keys(wf.jobs), ["gate", "codeql", "image", "reproducible", "verify", "deploy"]);
    const calls: string[][] = [];
    for (const [name, job] of Object.entries(wf.jobs)) {
      assert.ok(job.permissions && typeof job.permissions === "object", `${name} has its own permissions`);
      for (const [scope, level] of Object.entries(job.permissions)) {
        assert.ok(["read", "write", "none"].includes(level), `${name}.${scope}`);
        if (level === "write") assert.ok(["security-events", "packages", "id-token"].includes(scope), `${name} writes ${scope}`);
      }
      for (const step of job.steps) {
        if (step.uses) assert.match(step.uses, /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/, `${name}: ${step.uses} is not pinned by SHA`);
        if (step.run) calls.push(...tollgateCalls(step.run));
      }
    }
    assert.equal(wf.jobs.image?.permissions["id-token"], "write");
    // id-token only where signing happens.
    assert.deepEqual(
      Object.entries(wf.jobs)
        .filter(([, job]) => job.permissions["id-token"] !== undefined)
        .map(([name]) => name),
      ["image"],
    );
    // CodeQL for the detected languages (npm, pip) and the workflows, through init + analyze pinned like the others.
    const codeql = wf.jobs.codeql as unknown as { strategy: { matrix: { include: { language: string; "build-mode": string }[] } }; steps: { uses?: string }[]; permissions: Record<string, string> };
    assert.deepEqual(
      codeql.strategy.matrix.include.map((m) => `${m.language}/${m["build-mode"]}`),
      ["actions/none", "javascript-typescript/none", "python/none"],
    );
    assert.deepEqual(
      codeql.steps.flatMap((st) => (st.uses ? [st.uses.split("@")[0]] : [])),
      ["actions/checkout", "github/codeql-action/init", "github/codeql-action/analyze"],
    );
    assert.equal(codeql.permissions["security-events"], "write");
    // The reproducible-build job builds twice with SOURCE_DATE_EPOCH and compares the two with repro diff.
    const repro = wf.jobs.reproducible!;
    assert.ok(repro.steps.some((st) => st.run?.includes("SOURCE_DATE_EPOCH=")));
    assert.equal(repro.steps.filter((st) => st.uses?.startsWith("docker/build-push-action@")).length, 2);
    assert.ok(repro.steps.some((st) => st.run === "tollgate repro diff oci-archive:build-1.tar oci-archive:build-2.tar"));
    assert.deepEqual(wf.jobs.deploy?.needs, ["image", "verify"], "deploy only after verify");
    // Every pinned action carries its version as a comment.
    for (const line of wfText.split("\n").filter((l) => l.includes("uses: "))) assert.match(line, /@[0-9a-f]{40} # v\d+/);
    const names = calls.map((c) => c.slice(0, 2).filter((w) => !w.startsWith("-") && !w.includes(":") && w !== ".").join(" "));
    for (const want of ["db update", "sbom", "check", "sign image", "attest", "attest provenance", "verify image", "repro diff"]) {
      assert.ok(names.includes(want), `the workflow runs tollgate ${want} (has: ${names.join(", ")})`);
    }
    for (const c of calls) assert.deepEqual(checkAgainstCli(c), [], `tollgate ${c.join(" ")}`);
    // The database update is limited to the detected ecosystems, by their OSV names.
    assert.ok(calls.some((c) => c.join(" ") === "db update --ecosystem npm PyPI"));

    const configText = await readFile(join(dir, "tollgate.yaml"), "utf8");
    assert.deepEqual(parseConfig(configText, "tollgate.yaml"), defaultConfig());
  } finally {
    await cleanup();
  }
});

test("the checker above does catch a command or option that does not exist", () => {
  assert.notDeepEqual(checkAgainstCli(["frobnicate"]), []);
  assert.deepEqual(checkAgainstCli(["verify"]), ["verify needs a subcommand"]);
  assert.notDeepEqual(checkAgainstCli(["check", "--no-such-flag"]), []);
  assert.notDeepEqual(checkAgainstCli(["lint"]), []);
  assert.deepEqual(checkAgainstCli(["check", ".", "--report", "sarif=x", "--quiet"]), []);
});

test("never overwrites without --force; --force overwrites; --dockerfile writes a Dockerfile that passes the lint", async () => {
  const { dir, cleanup } = await tempDir();
  try {
    await makeRepo(dir);
    const before = await readFile(join(dir, "Dockerfile"), "utf8");
    const first = await runCli(["init", "--dockerfile", "node"], { cwd: dir });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /skipped +Dockerfile \(exists; --force overwrites it\)/);
    assert.match(first.stderr, /existing file kept; run with --force/);
    assert.equal(await readFile(join(dir, "Dockerfile"), "utf8"), before);
    const again = await runCli(["init"], { cwd: dir });
    assert.equal((again.stdout.match(/skipped/g) ?? []).length, 3);
    const forced = await runCli(["init", "--dockerfile", "node", "--force"], { cwd: dir });
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /overwritten +Dockerfile/);
    assert.equal(await readFile(join(dir, "Dockerfile"), "utf8"), DOCKERFILE_TEMPLATES.node);
    const lint = await runCli(["lint", "dockerfile", "--fail-on", "warning", "--format", "json"], { cwd: dir });
    assert.equal(lint.code, 0, lint.stdout);
    assert.deepEqual((JSON.parse(lint.stdout) as { findings: { severity: string }[] }).findings.filter((f) => f.severity !== "info"), []);
    // No temporary files are left behind.
    assert.deepEqual((await readdir(dir)).filter((n) => n.includes(".tmp-")), []);
  } finally {
    await cleanup();
  }
});

test("both Dockerfile templates: multi-stage, digest-pinned, numeric non-root user, healthcheck, no finding at warning or above", () => {
  for (const [name, text] of Object.entries(DOCKERFILE_TEMPLATES)) {
    const findings = lintDockerfileText(text, name, undefined, { hasDockerignore: true });
    assert.deepEqual(findings.filter((f) => f.severity !== "info"), [], name);
    assert.ok((text.match(/^FROM /gm) ?? []).length >= 2, `${name} is multi-stage`);
    assert.match(text, /@sha256:[0-9a-f]{64}/);
    assert.match(text, /imagetools inspect/, `${name} says how to update the digest`);
    assert.match(text, /^USER \d+:\d+$/m);
    assert.match(text, /^HEALTHCHECK [^\n]*\\\n\s*CMD \[/m);
    assert.match(text, /--mount=type=secret/);
    assert.match(text, /COPY (?:--from=\w+ )?--chown=/);
  }
});

test("init refuses to write through a symlinked directory that leads out of the repository", async () => {
  const { dir, cleanup } = await tempDir();
  const outside = await tempDir();
  try {
    await symlink(outside.dir, join(dir, ".github"));
    await assert.rejects(initRepository(dir), (e: Error) => e.name === "UnsafeInputError");
    assert.deepEqual(await readdir(outside.dir), []);
    const r = await runCli(["init"], { cwd: dir });
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split("\n").length, 1);
  } finally {
    await cleanup();
    await outside.cleanup();
  }
});

test("--format json reports what was written", async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const r = await runCli(["init", "--dockerfile", "python-ml", "--format", "json"], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { ecosystems: { ecosystem: string }[]; files: { path: string; status: string }[] };
    assert.deepEqual(out.ecosystems.map((e) => e.ecosystem), ["docker", "github-actions"]);
    assert.deepEqual(out.files.map((f) => `${f.status} ${f.path}`), ["created .github/workflows/tollgate.yml", "created .github/dependabot.yml", "created tollgate.yaml", "created Dockerfile", "created .dockerignore"]);
  } finally {
    await cleanup();
  }
});

test("tollgate's own action.yml parses, is a composite action and pins its actions by SHA", async () => {
  const action = parseYaml(await readFile(join(ROOT, "action.yml"), "utf8"), "action.yml") as { runs: { using: string; steps: { uses?: string }[] }; inputs: Record<string, unknown> };
  assert.equal(action.runs.using, "composite");
  assert.ok("args" in action.inputs);
  for (const s of action.runs.steps) if (s.uses) assert.match(s.uses, /@[0-9a-f]{40}$/);
});

// ---------------------------------------------------------------------------------------------
// Issue 11: where the workflow gets tollgate from (it is not on the npm registry), and one SARIF upload.

interface Workflow {
  env?: Record<string, string>;
  jobs: Record<string, { steps: { name?: string; uses?: string; run?: string; with?: Record<string, unknown> }[] }>;
}

async function initWorkflow(dir: string, args: string[] = []): Promise<{ text: string; wf: Workflow; stderr: string; stdout: string }> {
  const r = await runCli(["init", "--force", ...args], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const text = await readFile(join(dir, ".github", "workflows", "tollgate.yml"), "utf8");
  return { text, wf: parseYaml(text, "tollgate.yml") as Workflow, stderr: r.stderr, stdout: r.stdout };
}

function installStep(wf: Workflow, job = "gate"): { name?: string; run?: string } {
  const step = wf.jobs[job]?.steps.find((s) => s.name?.startsWith("Install tollgate"));
  assert.ok(step?.run, `${job} has an install step`);
  return step;
}

/** Runs a step's script with bash, `npm` and `git` replaced by stubs that log their arguments. */
async function runStep(script: string, env: Record<string, string>, dir: string): Promise<{ code: number; stdout: string }> {
  const bin = join(dir, "stub-bin");
  await mkdir(bin, { recursive: true });
  for (const tool of ["npm", "git"]) await writeFile(join(bin, tool), `#!/bin/sh\necho "${tool} $*" >> "${join(dir, "calls.log")}"\n`, { mode: 0o755 });
  const { spawnSync } = await import("node:child_process");
  const r = spawnSync("bash", ["-e", "-c", script], { env: { PATH: `${bin}:/usr/bin:/bin`, RUNNER_TEMP: dir, GITHUB_WORKSPACE: dir, ...env }, encoding: "utf8" });
  return { code: r.status ?? -1, stdout: r.stdout };
}

test("init: the workflow does not install an unpublished tollgate@<version>; by default it builds a pinned commit the user sets", async () => {
  const { dir, cleanup } = await tempDir();
  try {
    await makeRepo(dir);
    const { text, wf, stderr } = await initWorkflow(dir);
    assert.doesNotMatch(text, /tollgate@\d/, "no npm spec of an unpublished version");
    assert.deepEqual(wf.env, { TOLLGATE_REPOSITORY: "", TOLLGATE_COMMIT: "" });
    assert.match(text, /not on the npm registry yet/);
    assert.match(stderr, /set TOLLGATE_REPOSITORY and TOLLGATE_COMMIT/);
    for (const job of ["gate", "image", "verify"]) assert.match(installStep(wf, job).run ?? "", /git -C "\$\{src\}" fetch --quiet --depth 1/);
    // Until both are set the step fails, with a GitHub error annotation, before fetching anything.
    const script = installStep(wf).run as string;
    const unset = await runStep(script, { TOLLGATE_REPOSITORY: "", TOLLGATE_COMMIT: "" }, dir);
    assert.equal(unset.code, 1);
    assert.match(unset.stdout, /^::error title=tollgate is not pinned::set TOLLGATE_REPOSITORY/m);
    const short = await runStep(script, { TOLLGATE_REPOSITORY: "acme/tollgate", TOLLGATE_COMMIT: "abc123" }, dir);
    assert.equal(short.code, 1, "a short SHA is not a pin");
    // Set: fetch that commit, install exactly the lockfile without scripts, build, install globally.
    const sha = "0123456789abcdef0123456789abcdef01234567";
    const ok = await runStep(script, { TOLLGATE_REPOSITORY: "acme/tollgate", TOLLGATE_COMMIT: sha }, dir);
    assert.equal(ok.code, 0, ok.stdout);
    const calls = (await readFile(join(dir, "calls.log"), "utf8")).trim().split("\n");
    assert.deepEqual(calls, [
      `git init --quiet ${dir}/tollgate`,
      `git -C ${dir}/tollgate fetch --quiet --depth 1 https://github.com/acme/tollgate.git ${sha}`,
      `git -C ${dir}/tollgate checkout --quiet FETCH_HEAD`,
      `npm ci --prefix ${dir}/tollgate --ignore-scripts --no-audit --no-fund`,
      `npm run --prefix ${dir}/tollgate build`,
      `npm install --global --ignore-scripts --no-audit --no-fund ${dir}/tollgate`,
    ]);
  } finally {
    await cleanup();
  }
});

test("init --tollgate-repository OWNER/NAME@SHA pins it; --tollgate-package installs an npm spec; bad values are usage errors", async () => {
  const { dir, cleanup } = await tempDir();
  try {
    await makeRepo(dir);
    const sha = "0123456789abcdef0123456789abcdef01234567";
    const pinned = await initWorkflow(dir, ["--tollgate-repository", `acme/tollgate@${sha}`]);
    assert.deepEqual(pinned.wf.env, { TOLLGATE_REPOSITORY: "acme/tollgate", TOLLGATE_COMMIT: sha });
    assert.doesNotMatch(pinned.stderr, /TOLLGATE_REPOSITORY/, "nothing left to do");
    const pkg = await initWorkflow(dir, ["--tollgate-package", "tollgate@1.2.3"]);
    assert.deepEqual(pkg.wf.env, { TOLLGATE_PACKAGE: "tollgate@1.2.3" });
    assert.equal(installStep(pkg.wf).run, 'npm install --global --ignore-scripts --no-audit --no-fund "${TOLLGATE_PACKAGE}"');
    for (const bad of [
      ["--tollgate-repository", "acme/tollgate"],
      ["--tollgate-repository", "acme/tollgate@abc123"],
      ["--tollgate-package", 'tollgate@1"; rm -rf /'],
      ["--tollgate-package", "${{ secrets.X }}"],
      ["--tollgate-package", "tollgate@1.2.3", "--tollgate-repository", `acme/tollgate@${sha}`],
    ]) {
      const r = await runCli(["init", "--force", ...bad], { cwd: dir });
      assert.equal(r.code, 2, `${bad.join(" ")}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
  } finally {
    await cleanup();
  }
});

test("init in tollgate's own repository: the workflow builds tollgate from the checkout", async () => {
  const { dir, cleanup } = await tempDir();
  try {
    await copyFile(join(ROOT, "package.json"), join(dir, "package.json"));
    await copyFile(join(ROOT, "package-lock.json"), join(dir, "package-lock.json"));
    const { text, wf, stderr } = await initWorkflow(dir);
    assert.equal(wf.env, undefined);
    assert.doesNotMatch(text, /TOLLGATE_(?:PACKAGE|REPOSITORY|COMMIT)|tollgate@\d/);
    assert.doesNotMatch(stderr, /TOLLGATE_REPOSITORY/);
    const script = installStep(wf).run as string;
    const r = await runStep(script, {}, dir);
    assert.equal(r.code, 0);
    assert.deepEqual((await readFile(join(dir, "calls.log"), "utf8")).trim().split("\n"), [
      "npm ci --ignore-scripts --no-audit --no-fund",
      "npm run build",
      `npm install --global --ignore-scripts --no-audit --no-fund ${dir}`,
    ]);
  } finally {
    await cleanup();
  }
});

test("init: SARIF is uploaded once (check's SARIF holds the Dockerfile lint results); every run script is valid bash", async () => {
  const { dir, cleanup } = await tempDir();
  try {
    await makeRepo(dir);
    const { wf } = await initWorkflow(dir, ["--dockerfile", "node"]);
    const uploads = Object.values(wf.jobs).flatMap((j) => j.steps.filter((s) => s.uses?.startsWith("github/codeql-action/upload-sarif@")));
    assert.equal(uploads.length, 1);
    assert.equal(uploads[0]?.with?.sarif_file, "tollgate.sarif");
    const runs = Object.values(wf.jobs).flatMap((j) => j.steps.flatMap((s) => (s.run ? [s.run] : [])));
    assert.ok(runs.some((r) => /^tollgate check \. --report sarif=tollgate\.sarif/.test(r)));
    assert.ok(!runs.some((r) => /tollgate lint dockerfile/.test(r)), "no second lint run and upload");
    const { spawnSync } = await import("node:child_process");
    for (const r of runs) assert.equal(spawnSync("bash", ["-n", "-c", r]).status, 0, r);
  } finally {
    await cleanup();
  }
});
