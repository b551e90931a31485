/**
 * Organisation scale: 20 `tollgate check` processes of one repository at once, writing to one triage
 * store (PostgreSQL, and the SQLite file as well), with the GitHub API stand-in: every run is
 * recorded and counted once, the recurring threshold is crossed by exactly one run, and exactly one
 * issue is opened per finding. And the database killed in the middle of a check: the check ends with
 * its gate result and reports the store error.
 */
import assert from "node:assert/strict";
import { cp, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openTriageStore } from "../../src/gate/triage.ts";
import { runCli, tempDir } from "../helpers.ts";
import { ADVISORIES, EXAMPLE_APP } from "./fixtures.ts";
import { GitHubStandin } from "./github-standin.ts";
import { postgresMissing, sharedPostgres, startPostgres } from "./triage-pg-server.ts";

const RUNS = 20;
const RECURRING_AFTER = 3;
const CLEAN_ENV = { GITHUB_TOKEN: "", GITHUB_REPOSITORY: "", GITHUB_API_URL: "", TOLLGATE_TRIAGE_URL: "", PGPASSWORD: "", PGSSLMODE: "" };

interface Report {
  outcome: string;
  findings: unknown[];
  triage: { entries: { id: string; runCount: number; issueNumber?: number }[] } | null;
  issues: { kind: string; vulnerabilityId: string; error?: string }[];
  notices: string[];
}

const pgSkip = await postgresMissing();
if (pgSkip) console.log(`# triage store concurrency on PostgreSQL: ${pgSkip}`);

const backends = [
  { name: "PostgreSQL", skip: pgSkip },
  { name: "SQLite", skip: false as const },
];

for (const backend of backends) {
  describe(`${RUNS} concurrent checks of one repository on one store (${backend.name})`, { skip: backend.skip }, () => {
    const gh = new GitHubStandin();
    let pg: Awaited<ReturnType<typeof sharedPostgres>> | undefined;
    before(async () => {
      await gh.start("acme/app");
      if (backend.name === "PostgreSQL") pg = await sharedPostgres();
    });
    after(async () => {
      await gh.stop();
      await pg?.stop();
    });

    it("every run recorded and counted once, the threshold crossed once, exactly one issue per finding", async () => {
      const { dir, cleanup } = await tempDir();
      try {
        await cp(EXAMPLE_APP, join(dir, "app"), { recursive: true });
        const location = pg ? await pg.createDatabase() : join(dir, "shared", "triage.db");
        await writeFile(join(dir, "tollgate.yaml"), `triage:\n  recurring_after: ${RECURRING_AFTER}\n  github:\n    labels: [security, tollgate]\n`);
        const env = { ...CLEAN_ENV, TOLLGATE_TRIAGE_URL: location, GITHUB_TOKEN: "test-token", GITHUB_REPOSITORY: "acme/app", GITHUB_API_URL: gh.url };
        const results = await Promise.all(Array.from({ length: RUNS }, () => runCli(["check", "app", "--db", ADVISORIES, "--format", "json"], { cwd: dir, env })));
        const reports = results.map((r) => {
          assert.equal(r.code, 1, `the gate fails on lodash and minimist in every run: ${r.stderr}`);
          assert.doesNotMatch(r.stderr, /triage store not updated|GitHub issue action failed/);
          return JSON.parse(r.stdout) as Report;
        });
        // Every run counted once: for each finding, the runs saw the counts 1..20, each once.
        const counts = new Map<string, number[]>();
        for (const rep of reports) for (const e of rep.triage!.entries) counts.set(e.id, [...(counts.get(e.id) ?? []), e.runCount]);
        assert.equal(counts.size, 3);
        for (const [id, seen] of counts) assert.deepEqual(seen.sort((a, b) => a - b), Array.from({ length: RUNS }, (_, i) => i + 1), id);
        // Crossed once: one run per finding saw the threshold count.
        for (const [id, seen] of counts) assert.equal(seen.filter((n) => n === RECURRING_AFTER).length, 1, id);
        // Exactly one issue per finding, opened by one run.
        const opened = reports.flatMap((r) => r.issues.filter((a) => a.kind === "open").map((a) => a.vulnerabilityId)).sort();
        assert.deepEqual(opened, [...counts.keys()].sort());
        assert.equal(gh.issues.length, 3, gh.issues.map((i) => i.title).join("; "));
        assert.equal(gh.requests.filter((r) => r.method === "POST" && r.path === "/repos/acme/app/issues").length, 3);
        // The store agrees: 20 runs in the history, run count 20, each finding linked to its issue.
        const store = await openTriageStore(location, { create: false });
        try {
          const runs = await store.runs({ repository: "acme/app", target: "dir:app" });
          assert.equal(runs.length, RUNS);
          assert.equal(new Set(runs.map((r) => r.id)).size, RUNS);
          const entries = await store.list({ repository: "acme/app" });
          assert.deepEqual(entries.map((e) => e.runCount), [RUNS, RUNS, RUNS]);
          assert.deepEqual(entries.map((e) => e.issueNumber).sort(), [1, 2, 3]);
        } finally {
          await store.close();
        }
      } finally {
        await cleanup();
      }
    });
  });
}

describe("the database killed in the middle of a check", { skip: pgSkip }, () => {
  const gh = new GitHubStandin();
  before(() => gh.start("acme/app"));
  after(() => gh.stop());

  it("the check finishes with its gate result and reports the store error", async () => {
    const { dir, cleanup } = await tempDir();
    const server = await startPostgres();
    try {
      await cp(EXAMPLE_APP, join(dir, "app"), { recursive: true });
      const url = await server.createDatabase();
      await writeFile(join(dir, "tollgate.yaml"), "triage:\n  recurring_after: 1\n  github:\n    labels: [killed]\n");
      const env = { ...CLEAN_ENV, TOLLGATE_TRIAGE_URL: url, GITHUB_TOKEN: "test-token", GITHUB_REPOSITORY: "acme/app", GITHUB_API_URL: gh.url };
      // The check has recorded its run and is opening the first issue when the database dies.
      let arrived!: () => void;
      let release!: () => void;
      const reached = new Promise<void>((r) => (arrived = r));
      gh.holds.push({ method: "POST", pathIncludes: "/repos/acme/app/issues", arrived, release: new Promise<void>((r) => (release = r)) });
      const check = runCli(["check", "app", "--db", ADVISORIES, "--format", "json"], { cwd: dir, env });
      await reached;
      await server.kill();
      release();
      const r = await check;
      assert.equal(r.code, 1, `the gate's own result (lodash and minimist fail): ${r.stderr}`);
      const report = JSON.parse(r.stdout) as Report;
      assert.equal(report.outcome, "fail");
      assert.equal(report.findings.length, 5);
      assert.equal(report.triage, null, "the run's triage summary could not be read back");
      const storeLines = r.stderr.split("\n").filter((l) => l.includes("triage store not updated"));
      assert.equal(storeLines.length, 1, r.stderr);
      assert.match(storeLines[0]!, /^tollgate: triage store not updated \(the gate's result stands\): triage store postgres:\/\/tollgate@127\.0\.0\.1:\d+\/\w+: .*(terminat|connection was lost|ECONNREFUSED|shutdown)/i);
      assert.ok(!r.stderr.includes(server.password) && !r.stdout.includes(server.password));
      // The issue that was created is reported; what the dead store could not record is an error of its action.
      assert.ok(report.issues.some((a) => a.kind === "open" && a.error !== undefined && /triage store/.test(a.error)), JSON.stringify(report.issues));
    } finally {
      await server.stop();
      await cleanup();
    }
  });
});
