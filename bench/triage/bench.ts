/**
 * bench/triage: the triage store at organisation scale (issue #17). 20 concurrent `tollgate check`
 * runs of one 2,000-component project against one store: SQLite (a file) and PostgreSQL (a real
 * server), side by side.
 *
 *   1. The CLI as CI runs it: 20 `tollgate check` processes started at once per backend; the wall time
 *      of the batch and each process's time.
 *   2. The store's own cost per run: 20 processes at once, each building the SBOM and matching once,
 *      then timing the check's remaining steps with the store and without it (`noTriage`); the
 *      difference is the store's overhead (open, record the run, read back, close).
 *
 * The project is generated: an npm lockfile of 2,000 packages, 400 of which have a MEDIUM or LOW
 * advisory (OSV records written here), so every run records 400 triaged findings. PostgreSQL: the
 * server from TOLLGATE_TEST_PG_URL (a superuser URL), else one started like the tests start it.
 * Figures are printed, never asserted. Run: npm run bench -- triage
 */
import { spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const WORK = join(ROOT, "bench", ".work", "triage");
const COMPONENTS = 2000;
const VULNERABLE = 400;
const CONCURRENT = 20;

// ---------------------------------------------------------------------------------------------
// The generated project and database.

function writeProject(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const packages: Record<string, unknown> = {};
  const deps: Record<string, string> = {};
  for (let i = 0; i < COMPONENTS; i++) {
    const name = `bench-pkg-${String(i).padStart(4, "0")}`;
    const version = `1.${i % 7}.${i % 13}`;
    packages[`node_modules/${name}`] = { version, resolved: `https://registry.npmjs.org/${name}/-/${name}-${version}.tgz` };
    if (i < 200) deps[name] = `^${version}`;
  }
  packages[""] = { name: "bench-project", version: "1.0.0", dependencies: deps };
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "bench-project", version: "1.0.0", dependencies: deps }, null, 2));
  writeFileSync(join(dir, "package-lock.json"), JSON.stringify({ name: "bench-project", version: "1.0.0", lockfileVersion: 3, requires: true, packages }, null, 2));
}

function writeAdvisories(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < VULNERABLE; i++) {
    const pkg = `bench-pkg-${String(i * 5).padStart(4, "0")}`;
    const id = `GHSA-bnch-${String(i).padStart(4, "0")}-xxxx`;
    writeFileSync(
      join(dir, `${id}.json`),
      JSON.stringify({
        schema_version: "1.6.0",
        id,
        modified: "2026-11-01T00:00:00Z",
        published: "2026-11-01T00:00:00Z",
        summary: `benchmark advisory ${i}`,
        affected: [{ package: { ecosystem: "npm", name: pkg }, ranges: [{ type: "SEMVER", events: [{ introduced: "0" }, { fixed: "9.0.0" }] }] }],
        database_specific: { severity: i % 2 ? "MODERATE" : "LOW" },
      }),
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Child: one check through the library, timing the store's part (argv: child <store> <n>).

async function child(store: string, n: string): Promise<void> {
  const { runCheck } = await import("../../src/gate/check.ts");
  const { configSchema } = await import("../../src/config/index.ts");
  const config = configSchema.parse({ fail_on: "critical", warn_on: "high", triage: { store, repository: "acme/bench", github: { enabled: false } } });
  const target = { kind: "dir" as const, input: "project", path: join(WORK, "project") };
  const opts = { config, db: join(WORK, "advisories"), cwd: WORK, env: {} };
  const t0 = performance.now();
  const first = await runCheck(target, { ...opts, noTriage: true });
  const t1 = performance.now();
  const withStore = await runCheck(target, { ...opts, sbom: first.sbom, findings: first.findings });
  const t2 = performance.now();
  await runCheck(target, { ...opts, sbom: first.sbom, findings: first.findings, noTriage: true });
  const t3 = performance.now();
  if (withStore.triageError) throw new Error(withStore.triageError);
  console.log(JSON.stringify({ n: Number(n), pipelineMs: t1 - t0, withStoreMs: t2 - t1, withoutStoreMs: t3 - t2, triaged: withStore.triage?.entries.length ?? 0 }));
}

// ---------------------------------------------------------------------------------------------
// Parent.

function spawnNode(args: string[], env: NodeJS.ProcessEnv, cwd = WORK): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolvePromise, reject) => {
    const p = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    p.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    p.on("error", reject);
    p.on("close", (code) => resolvePromise({ code: code ?? -1, stdout, stderr, ms: performance.now() - t0 }));
  });
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { mean: s.reduce((a, b) => a + b, 0) / s.length, p95: s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]!, max: s.at(-1)! };
};
const f = (ms: number) => `${(ms / 1000).toFixed(2)} s`.padStart(9);

async function cliBatch(store: string): Promise<{ wallMs: number; runs: number[] }> {
  const env = { TOLLGATE_TRIAGE_URL: store, GITHUB_TOKEN: "", GITHUB_REPOSITORY: "acme/bench", NO_COLOR: "1" };
  const t0 = performance.now();
  const results = await Promise.all(
    Array.from({ length: CONCURRENT }, () => spawnNode([join(ROOT, "bin", "tollgate.cjs"), "check", "project", "--db", "advisories", "--format", "json", "--quiet"], env)),
  );
  const wallMs = performance.now() - t0;
  for (const r of results) {
    if (r.code !== 0 && r.code !== 1) throw new Error(`tollgate check exited ${r.code}: ${r.stderr.trim()}`);
    if (/triage store not updated/.test(r.stderr)) throw new Error(r.stderr.trim());
  }
  return { wallMs, runs: results.map((r) => r.ms) };
}

async function libraryBatch(store: string): Promise<{ pipeline: number[]; overhead: number[]; triaged: number }> {
  const results = await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => spawnNode(["--no-warnings", fileURLToPath(import.meta.url), "child", store, String(i)], {})));
  const rows = results.map((r) => {
    if (r.code !== 0) throw new Error(`child failed: ${r.stderr.trim()}`);
    return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { pipelineMs: number; withStoreMs: number; withoutStoreMs: number; triaged: number };
  });
  return { pipeline: rows.map((r) => r.pipelineMs), overhead: rows.map((r) => r.withStoreMs - r.withoutStoreMs), triaged: rows[0]!.triaged };
}

async function main(): Promise<void> {
  if (process.argv[2] === "child") return child(process.argv[3]!, process.argv[4]!);
  rmSync(WORK, { recursive: true, force: true });
  writeProject(join(WORK, "project"));
  writeAdvisories(join(WORK, "advisories"));
  const { createDatabaseAt, postgresBinDir, startPostgres } = await import("../../test/gate/triage-pg-server.ts");
  let stop = async () => undefined as void;
  let adminUrl = process.env.TOLLGATE_TEST_PG_URL;
  if (!adminUrl) {
    if (!postgresBinDir()) {
      console.log("PostgreSQL is not installed (apt-get install postgresql): only SQLite is measured");
    } else {
      const server = await startPostgres();
      adminUrl = server.url();
      stop = () => server.stop();
    }
  }
  try {
    console.log(`${CONCURRENT} concurrent checks of a ${COMPONENTS}-component project (${VULNERABLE} triaged findings per run), Node ${process.version}`);
    const backends: { name: string; store: () => Promise<string> }[] = [{ name: "SQLite", store: async () => join(WORK, `sqlite-${Date.now()}`, "triage.db") }];
    if (adminUrl) backends.push({ name: "PostgreSQL", store: () => createDatabaseAt(adminUrl) });

    console.log("\n1. tollgate check processes (the CLI as CI runs it)");
    console.log(`${"store".padEnd(12)}${"wall, 20 runs".padStart(15)}${"mean run".padStart(11)}${"p95 run".padStart(11)}`);
    const cli: Record<string, number> = {};
    for (const b of backends) {
      const r = await cliBatch(await b.store());
      const s = stats(r.runs);
      cli[b.name] = r.wallMs;
      console.log(`${b.name.padEnd(12)}${f(r.wallMs).padStart(15)}${f(s.mean).padStart(11)}${f(s.p95).padStart(11)}`);
    }

    console.log("\n2. the store's cost per run (20 at once; check with the store minus check without it)");
    console.log(`${"store".padEnd(12)}${"overhead mean".padStart(15)}${"p95".padStart(11)}${"max".padStart(11)}${"SBOM+match".padStart(13)}`);
    const over: Record<string, number> = {};
    for (const b of backends) {
      const r = await libraryBatch(await b.store());
      const o = stats(r.overhead);
      over[b.name] = o.mean;
      console.log(`${b.name.padEnd(12)}${f(o.mean).padStart(15)}${f(o.p95).padStart(11)}${f(o.max).padStart(11)}${f(stats(r.pipeline).mean).padStart(13)}   (${r.triaged} findings recorded per run)`);
    }
    if (cli.PostgreSQL !== undefined && cli.SQLite !== undefined) {
      console.log(`\nPostgreSQL / SQLite: wall time ${(cli.PostgreSQL / cli.SQLite).toFixed(2)}x, store overhead per run ${(over.PostgreSQL! / over.SQLite!).toFixed(2)}x`);
    }
  } finally {
    await stop();
  }
}

await main();
