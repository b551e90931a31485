import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Octokit } from "@octokit/rest";
import { configSchema } from "../../src/config/index.ts";
import { runCheck } from "../../src/gate/check.ts";
import { findingFingerprint } from "../../src/gate/fingerprint.ts";
import { issueMarker, syncIssues } from "../../src/gate/github.ts";
import { openTriageStore, SqliteTriageStore, triageToCsv } from "../../src/gate/triage.ts";
import type { Component } from "../../src/model/index.ts";
import { runCli, tempDir } from "../helpers.ts";
import { EXAMPLE_APP, exampleComponents, exampleSbom, findingsFor, withVersions } from "./fixtures.ts";
import { GitHubStandin } from "./github-standin.ts";

const day = (n: number) => new Date(Date.UTC(2026, 10, n, 12));
const belowFail = (components: Component[]) => findingsFor(components).filter((f) => f.severity.level === "MEDIUM" || f.severity.level === "LOW").map((finding) => ({ finding }));

// The store's contract (first seen, recurring, fixed, acknowledge, repositories, issue claims) runs on
// SQLite and PostgreSQL in triage-contract.test.ts; this file keeps the SQLite-only and CLI tests.
describe("triage store (SQLite)", () => {
  it("CSV export quotes fields and neutralises spreadsheet formulas", () => {
    const csv = triageToCsv([
      { repository: "acme/app", fingerprint: "a".repeat(64), vulnerabilityId: "GHSA-x", aliases: ["CVE-1"], package: "pkg:npm/a", severity: "LOW", fixedVersions: [], target: "dir:.", firstSeen: "t", lastSeen: "t", runCount: 1, status: "acknowledged", ackReason: '=HYPERLINK("http://evil"), "quoted"' },
    ]);
    assert.match(csv, /,"'=HYPERLINK\(""http:\/\/evil""\), ""quoted""",/);
    assert.ok(csv.startsWith("fingerprint,vulnerabilityId,"));
    assert.ok(csv.split("\r\n")[0]!.endsWith(",repository") && csv.split("\r\n")[1]!.endsWith(",acme/app"));
  });

  it("a store written by schema 1 (before repositories) is migrated in place and keeps its findings", async () => {
    const { dir, cleanup } = await tempDir();
    const path = join(dir, "v1.db");
    try {
      const { DatabaseSync } = await import("node:sqlite");
      const db = new DatabaseSync(path);
      db.exec(`
        CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, target TEXT NOT NULL, at TEXT NOT NULL);
        CREATE TABLE findings (fingerprint TEXT PRIMARY KEY, vulnerability_id TEXT NOT NULL, aliases TEXT NOT NULL, package TEXT NOT NULL, version TEXT,
          severity TEXT NOT NULL, fixed_versions TEXT NOT NULL, summary TEXT, target TEXT NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
          run_count INTEGER NOT NULL, last_run_id INTEGER NOT NULL, status TEXT NOT NULL CHECK (status IN ('new', 'acknowledged', 'fixed')),
          ack_reason TEXT, ack_at TEXT, fixed_at TEXT, issue_number INTEGER, issue_url TEXT, issue_state TEXT);
        PRAGMA user_version = 1;`);
      const nanoid = belowFail(exampleComponents()).filter((i) => i.finding.component.name === "nanoid");
      const fp = findingFingerprint(nanoid[0]!.finding, "dir:app");
      db.prepare("INSERT INTO runs (target, at) VALUES ('dir:app', ?)").run(day(1).toISOString());
      db.prepare(`INSERT INTO findings VALUES (?, 'GHSA-qrpm-p2h7-hrv2', '[]', 'pkg:npm/nanoid', '3.1.30', 'MEDIUM', '[]', NULL, 'dir:app', ?, ?, 1, 1, 'acknowledged', 'ok', ?, NULL, 4, NULL, 'open')`)
        .run(fp, day(1).toISOString(), day(1).toISOString(), day(1).toISOString());
      db.close();
      // The first run that names its repository (CI sets GITHUB_REPOSITORY) adopts the unnamed history.
      const store = await openTriageStore(path, { repository: "acme/app" });
      try {
        const r = await store.recordRun("dir:app", nanoid, day(2));
        assert.deepEqual(r.recurring.map((e) => [e.repository, e.runCount, e.status, e.ackReason, e.issueNumber]), [["acme/app", 2, "acknowledged", "ok", 4]]);
        assert.deepEqual((await store.runs()).map((x) => [x.id, x.repository, x.target]), [[1, "acme/app", "dir:app"], [2, "acme/app", "dir:app"]]);
      } finally {
        await store.close();
      }
      // Once a run has named a repository, unnamed runs (a local run) stay apart and are not adopted.
      const local = await openTriageStore(path);
      await local.recordRun("dir:app", nanoid, day(3));
      await local.close();
      const other = await openTriageStore(path, { repository: "acme/other" });
      try {
        assert.deepEqual((await other.runs()).map((x) => x.repository), ["acme/app", "acme/app", ""]);
      } finally {
        await other.close();
      }
    } finally {
      await cleanup();
    }
  });
});

describe("GitHub issues against a local stand-in for the GitHub API (127.0.0.1)", () => {
  const gh = new GitHubStandin();
  before(() => gh.start("acme/app"));
  after(() => gh.stop());
  const octokit = () => new Octokit({ auth: "test-token", baseUrl: gh.url, request: { retries: 0 }, log: QUIET });
  const noSleep = async () => undefined;
  const QUIET = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

  it("opens one labelled issue with a hidden marker after N runs, never duplicates, comments after a gap, closes when fixed", async () => {
    const { dir, cleanup } = await tempDir();
    const store = await SqliteTriageStore.open(join(dir, "t.db"));
    const opts = { repository: "acme/app", labels: ["security", "tollgate"], recurringAfter: 2, octokit: octokit(), sleep: noSleep };
    try {
      const nanoidOnly = belowFail(exampleComponents()).filter((i) => i.finding.component.name === "nanoid");
      assert.deepEqual(await syncIssues(store, await store.recordRun("dir:app", nanoidOnly, day(1)), opts), []);
      const a2 = await syncIssues(store, await store.recordRun("dir:app", nanoidOnly, day(2)), opts);
      assert.deepEqual(a2.map((a) => [a.kind, a.issueNumber, a.error]), [["open", 1, undefined]]);
      assert.equal(gh.issues.length, 1);
      const issue = gh.issues[0]!;
      assert.deepEqual(issue.labels, ["security", "tollgate"]);
      assert.ok(issue.body.includes(issueMarker(a2[0]!.fingerprint)));
      assert.match(issue.title, /GHSA-qrpm-p2h7-hrv2 in npm\/nanoid@3\.1\.30/);
      assert.ok(gh.requests.every((r) => r.authorization === "token test-token"));
      // Recurring again: nothing new.
      assert.deepEqual(await syncIssues(store, await store.recordRun("dir:app", nanoidOnly, day(3)), opts), []);
      // A gap (a run without it), then seen again: the gap closes it as fixed, the return reopens and comments.
      const gap = await syncIssues(store, await store.recordRun("dir:app", [], day(4)), opts);
      assert.deepEqual(gap.map((a) => a.kind), ["close"]);
      assert.equal(issue.state, "closed");
      assert.equal(issue.state_reason, "completed");
      const back = await syncIssues(store, await store.recordRun("dir:app", nanoidOnly, day(5)), opts);
      assert.deepEqual(back.map((a) => [a.kind, a.issueNumber]), [["reopen", 1]]);
      assert.equal(issue.state, "open");
      assert.match(issue.comments.at(-1)!, /Seen again by tollgate/);
      assert.equal(gh.issues.length, 1, "never a second issue");
      // A fresh store (e.g. a lost CI cache) finds the existing issue by its marker instead of opening another.
      const fresh = await SqliteTriageStore.open(join(dir, "fresh.db"));
      try {
        await fresh.recordRun("dir:app", nanoidOnly, day(6));
        const linked = await syncIssues(fresh, await fresh.recordRun("dir:app", nanoidOnly, day(7)), opts);
        assert.deepEqual(linked.map((a) => [a.kind, a.issueNumber]), [["link", 1]]);
        assert.equal(gh.issues.length, 1);
      } finally {
        await fresh.close();
      }
    } finally {
      await store.close();
      await cleanup();
    }
  });

  it("retries server errors, not rate limits; a persistent error is reported, never thrown", async () => {
    const { dir, cleanup } = await tempDir();
    const store = await SqliteTriageStore.open(join(dir, "t.db"));
    const before = gh.issues.length;
    const sleeps: number[] = [];
    const opts = { repository: "acme/app", labels: ["rl-test"], recurringAfter: 1, octokit: octokit(), sleep: async (ms: number) => void sleeps.push(ms), retries: 2 };
    try {
      const debugOnly = belowFail(exampleComponents()).filter((i) => i.finding.component.name === "debug");
      // A rate limit is reported at once: no retry, no wait for the reset (test/gate/github-safety.test.ts has more).
      gh.failures.push({ method: "POST", pathIncludes: "/issues", status: 403, headers: { "x-ratelimit-remaining": "0", "retry-after": "7" } });
      const limited = await syncIssues(store, await store.recordRun("dir:rl", debugOnly, day(1)), opts);
      assert.deepEqual(limited.map((a) => [a.kind, a.error]), [["open", "HTTP 403: API rate limit exceeded"]]);
      assert.deepEqual(sleeps, []);
      // A 502 is retried.
      gh.failures.push({ method: "POST", pathIncludes: "/issues", status: 502 });
      const ok = await syncIssues(store, await store.recordRun("dir:rl", debugOnly, day(2)), opts);
      assert.deepEqual(ok.map((a) => [a.kind, a.error]), [["open", undefined]]);
      assert.deepEqual(sleeps, [1000]);
      assert.equal(gh.issues.length, before + 1);
      // Three 500s exhaust two retries: reported in the action, not thrown.
      for (let i = 0; i < 3; i++) gh.failures.push({ method: "POST", pathIncludes: "/comments", status: 500 });
      await store.recordRun("dir:rl", [], day(3));
      const failed = await syncIssues(store, await store.recordRun("dir:rl", debugOnly, day(4)), opts);
      assert.equal(failed.length, 1);
      assert.match(failed[0]!.error ?? "", /HTTP 500/);
      // A 404 (not retryable) is reported at once.
      const bad = await syncIssues(store, await store.recordRun("dir:rl", [], day(5)), { ...opts, repository: "acme/missing" });
      assert.match(bad[0]?.error ?? "", /HTTP 404/);
    } finally {
      await store.close();
      await cleanup();
    }
  });

  it("finds its marker on a later page of the labelled issues (pagination)", async () => {
    const { dir, cleanup } = await tempDir();
    const store = await SqliteTriageStore.open(join(dir, "t.db"));
    try {
      const nanoid = belowFail(exampleComponents()).filter((i) => i.finding.component.name === "nanoid");
      const fp = findingFingerprint(nanoid[0]!.finding, "dir:paged");
      for (let i = 0; i < 130; i++) gh.issues.push({ number: gh.issues.length + 1, title: `other ${i}`, body: "", labels: ["paged"], state: "open", comments: [] });
      const target = gh.issues.length + 1;
      gh.issues.push({ number: target, title: "earlier issue", body: `tracked\n${issueMarker(fp)}`, labels: ["paged"], state: "open", comments: [] });
      const acts = await syncIssues(store, await store.recordRun("dir:paged", nanoid, day(1)), { repository: "acme/app", labels: ["paged"], recurringAfter: 1, octokit: octokit(), sleep: noSleep });
      assert.deepEqual(acts.map((a) => [a.kind, a.issueNumber]), [["link", target]]);
      assert.ok(gh.requests.some((r) => r.method === "GET" && r.path.endsWith("/issues")), "listed");
    } finally {
      await store.close();
      await cleanup();
    }
  });

  it("advisory text cannot mention people or inject HTML into the issue", async () => {
    const { dir, cleanup } = await tempDir();
    const store = await SqliteTriageStore.open(join(dir, "t.db"));
    try {
      const hostile = belowFail(exampleComponents())
        .filter((i) => i.finding.component.name === "debug")
        .map((i) => ({ finding: { ...i.finding, summary: "ping @security-team\n<img src=x onerror=alert(1)>" } }));
      const acts = await syncIssues(store, await store.recordRun("dir:hostile", hostile, day(1)), { repository: "acme/app", labels: ["hostile"], recurringAfter: 1, octokit: octokit(), sleep: noSleep });
      const issue = gh.issues.find((i) => i.number === acts[0]!.issueNumber)!;
      assert.ok(!issue.body.includes("@security-team") && issue.body.includes("@\u200bsecurity-team"));
      assert.ok(!issue.body.includes("<img"));
    } finally {
      await store.close();
      await cleanup();
    }
  });

  it("dry run plans the actions and makes no request", async () => {
    const { dir, cleanup } = await tempDir();
    const store = await SqliteTriageStore.open(join(dir, "t.db"));
    const count = gh.requests.length;
    try {
      const run = await store.recordRun("dir:dry", belowFail(exampleComponents()), day(1));
      const planned = await syncIssues(store, run, { repository: "acme/app", labels: ["x"], recurringAfter: 1, dryRun: true });
      assert.deepEqual(planned.map((a) => [a.kind, a.dryRun]), [["open", true], ["open", true], ["open", true]]);
      assert.equal(gh.requests.length, count);
    } finally {
      await store.close();
      await cleanup();
    }
  });

  it("check over the same tree: first seen, recurring, one issue on the 3rd run; upgraded, the issue is closed", async () => {
    const { dir, cleanup } = await tempDir();
    const before = gh.issues.length;
    try {
      const config = configSchema.parse({ triage: { store: join(dir, "triage.db"), recurring_after: 3, github: { repository: "acme/app", labels: ["tollgate-3runs"] } } });
      const target = { kind: "dir" as const, input: "examples/vulnerable-app", path: EXAMPLE_APP };
      const check = async (components: Component[], n: number) => {
        const sbom = exampleSbom(components);
        return runCheck(target, { config, sbom, findings: findingsFor(components), now: day(n), env: { GITHUB_TOKEN: "t", GITHUB_API_URL: gh.url }, octokit: octokit(), sleep: noSleep });
      };
      const r1 = await check(exampleComponents(), 1);
      assert.equal(r1.outcome, "fail", "the gate still fails on HIGH/CRITICAL; triage runs anyway");
      assert.deepEqual([r1.triage?.firstSeen, r1.triage?.recurring, r1.issues.length], [3, 0, 0]);
      const r2 = await check(exampleComponents(), 2);
      assert.deepEqual([r2.triage?.firstSeen, r2.triage?.recurring, r2.issues.length], [0, 3, 0]);
      const r3 = await check(exampleComponents(), 3);
      assert.deepEqual(r3.issues.map((a) => a.kind), ["open", "open", "open"]);
      assert.equal(gh.issues.length, before + 3);
      const mine = gh.issues.slice(before);
      assert.ok(mine.every((i) => i.labels.includes("tollgate-3runs") && i.state === "open"));
      const r3b = await check(exampleComponents(), 4);
      assert.deepEqual(r3b.issues, [], "a fourth sighting opens nothing more");
      // The dependencies are upgraded to their fixed versions: their issues are closed with a comment.
      const upgraded = withVersions({ lodash: "4.17.21", debug: "2.6.9", nanoid: "3.1.31", minimist: "1.2.6" });
      const r4 = await check(upgraded, 5);
      assert.equal(r4.outcome, "pass");
      assert.deepEqual(r4.issues.map((a) => a.kind), ["close", "close", "close"]);
      assert.ok(mine.every((i) => i.state === "closed" && /no longer finds/.test(i.comments.at(-1) ?? "")));
      assert.equal(r4.triage?.fixed, 3);
    } finally {
      await cleanup();
    }
  });
});

describe("tollgate triage (CLI)", () => {
  it("list, ack and export on a store written by the gate", async () => {
    const { dir, cleanup } = await tempDir();
    const db = join(dir, "triage.db");
    try {
      const store = await openTriageStore(db);
      await store.recordRun("dir:examples/vulnerable-app", belowFail(exampleComponents()), day(1));
      const [first] = await store.list();
      await store.close();
      const list = await runCli(["triage", "list", "--store", db]);
      assert.equal(list.code, 0, list.stderr);
      assert.equal(list.stdout.trim().split("\n").length, 3);
      assert.match(list.stdout, /new\s+MEDIUM\s+GHSA-qrpm-p2h7-hrv2\s+pkg:npm\/nanoid@3\.1\.30\s+runs 1/);
      const id = first!.fingerprint.slice(0, 10);
      const ack = await runCli(["triage", "ack", id, "--reason", "dev-only dependency", "--store", db]);
      assert.equal(ack.code, 0, ack.stderr);
      const acked = await runCli(["triage", "list", "--status", "acknowledged", "--format", "json", "--store", db]);
      const entries = JSON.parse(acked.stdout) as { fingerprint: string; ackReason: string }[];
      assert.deepEqual(entries.map((e) => [e.fingerprint, e.ackReason]), [[first!.fingerprint, "dev-only dependency"]]);
      const csv = await runCli(["triage", "export", "--format", "csv", "--store", db]);
      assert.equal(csv.stdout.trim().split("\r\n").length, 4);
      const bad = await runCli(["triage", "ack", "0123456789", "--reason", "x", "--store", db]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /^tollgate: 0123456789: no such finding in the triage store$/m);
      const badStatus = await runCli(["triage", "list", "--status", "open", "--store", db]);
      assert.equal(badStatus.code, 2);
      const missing = await runCli(["triage", "list", "--store", join(dir, "none", "t.db")]);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /none\/t\.db: no triage store here yet \(tollgate check creates it\)$/m);
    } finally {
      await cleanup();
    }
  });
});
