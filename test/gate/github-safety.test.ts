/**
 * GitHub issue sync when the API misbehaves, against the local stand-in (test/gate/github-standin.ts):
 * a rate limit or an auth failure stops the sync at once (no retry, no further actions), a stalled
 * API ends in one timeout line, a failed listing of the existing issues opens none, the token never
 * goes over plain HTTP to another host, and no error carries it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { syncIssues, type IssueSyncOptions } from "../../src/gate/github.ts";
import { SqliteTriageStore } from "../../src/gate/triage.ts";
import { tempDir } from "../helpers.ts";
import { exampleComponents, findingsFor } from "./fixtures.ts";
import { GitHubStandin } from "./github-standin.ts";

const day = (n: number) => new Date(Date.UTC(2026, 10, n, 12));
const belowFail = () => findingsFor(exampleComponents()).filter((f) => f.severity.level === "MEDIUM" || f.severity.level === "LOW").map((finding) => ({ finding }));
const TOKEN = "ghs_0123456789abcdefABCDEF0123456789abcd";
const TINY = { connectMs: 300, responseMs: 300, idleMs: 300, minBytesPerSecond: 1 << 20 };

describe("GitHub issue sync when the API fails (stand-in on 127.0.0.1)", { timeout: 30_000 }, () => {
  const gh = new GitHubStandin();
  before(() => gh.start("acme/app"));
  after(() => gh.stop());

  /** A store whose findings are due for issues (3 of them), and sync options through the real client. */
  async function due(label: string) {
    const { dir, cleanup } = await tempDir();
    const store = await SqliteTriageStore.open(join(dir, "t.db"));
    const run = await store.recordRun(`dir:${label}`, belowFail(), day(1));
    assert.equal(run.firstSeen.length, 3);
    const sleeps: number[] = [];
    const options: IssueSyncOptions = {
      repository: "acme/app",
      labels: [label],
      recurringAfter: 1,
      token: TOKEN,
      baseUrl: gh.url,
      timeouts: TINY,
      sleep: async (ms: number) => void sleeps.push(ms),
    };
    return { store, run, options, sleeps, done: async () => (await store.close(), await cleanup()) };
  }

  const requestsFor = (from: number, method: string, suffix: string) => gh.requests.slice(from).filter((r) => r.method === method && r.path.endsWith(suffix)).length;

  it("a rate limit stops the sync: no retry, no wait, no further issue action", async () => {
    const t = await due("rl-stop");
    const from = gh.requests.length;
    try {
      gh.failures.push({ method: "POST", pathIncludes: "/issues", status: 403, headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 3600), "retry-after": "60" } });
      const started = Date.now();
      const actions = await syncIssues(t.store, t.run, t.options);
      assert.ok(Date.now() - started < 5000);
      assert.deepEqual(t.sleeps, [], "no wait for the rate limit to reset");
      assert.equal(requestsFor(from, "POST", "/issues"), 1, "one attempt, then nothing more");
      assert.equal(actions.length, 1);
      assert.match(actions[0]!.error ?? "", /HTTP 403: API rate limit exceeded.*2 other issue actions not attempted/);
    } finally {
      await t.done();
    }
  });

  it("an auth failure (401) stops the sync at once", async () => {
    const t = await due("auth-stop");
    const from = gh.requests.length;
    try {
      gh.failures.push({ method: "GET", pathIncludes: "/issues", status: 401 });
      const actions = await syncIssues(t.store, t.run, t.options);
      assert.equal(gh.requests.length - from, 1, "the listing, and nothing after it");
      assert.equal(actions.length, 1);
      assert.match(actions[0]!.error ?? "", /HTTP 401: Bad credentials.*2 other issue actions not attempted/);
    } finally {
      await t.done();
    }
  });

  it("when listing the existing issues fails, no issue is opened (the marker check is what prevents duplicates)", async () => {
    const t = await due("list-fails");
    const from = gh.requests.length;
    try {
      for (let i = 0; i < 10; i++) gh.failures.push({ method: "GET", pathIncludes: "/issues", status: 502 });
      const actions = await syncIssues(t.store, t.run, t.options);
      assert.equal(requestsFor(from, "POST", "/issues"), 0, "nothing opened");
      assert.ok(actions.every((a) => a.error !== undefined && a.issueNumber === undefined));
      assert.match(actions[0]!.error ?? "", /HTTP 502/);
    } finally {
      gh.failures.splice(0);
      await t.done();
    }
  });

  it("a stalled API: one line naming the host and the response timeout, and the sync stops", async () => {
    const t = await due("stalled");
    const from = gh.requests.length;
    gh.silent.push({ method: "GET", pathIncludes: "/issues" });
    try {
      const started = Date.now();
      const actions = await syncIssues(t.store, t.run, t.options);
      assert.ok(Date.now() - started < 5000, `${Date.now() - started} ms`);
      assert.equal(gh.requests.length - from, 1, "not retried");
      assert.equal(actions.length, 1);
      assert.equal(actions[0]!.error, `${new URL(gh.url).host}: response timeout: no response headers within 300 ms (2 other issue actions not attempted)`);
    } finally {
      gh.silent.splice(0);
      await t.done();
    }
  });

  it("the token never goes over plain HTTP to a host that is not this machine", async () => {
    const t = await due("plain-http");
    const from = gh.requests.length;
    try {
      const actions = await syncIssues(t.store, t.run, { ...t.options, baseUrl: "http://example.com/api/v3" });
      assert.equal(gh.requests.length, from);
      assert.equal(actions.length, 1);
      assert.match(actions[0]!.error ?? "", /^refused to send the GitHub token over plain HTTP to example\.com/);
      // loopback is this machine: the stand-in itself is plain HTTP on 127.0.0.1
      const ok = await syncIssues(t.store, t.run, t.options);
      assert.deepEqual(ok.map((a) => [a.kind, a.error]), [["open", undefined], ["open", undefined], ["open", undefined]]);
      assert.ok(gh.requests.slice(from).every((r) => r.authorization === `token ${TOKEN}`));
    } finally {
      await t.done();
    }
  });

  it("the built-in client (with its timeouts) follows the pagination of the issue list", async () => {
    const t = await due("paged-builtin");
    try {
      for (let i = 0; i < 120; i++) gh.issues.push({ number: gh.issues.length + 1, title: `other ${i}`, body: "", labels: ["paged-builtin"], state: "open", comments: [] });
      const first = await syncIssues(t.store, t.run, t.options);
      assert.deepEqual(first.map((a) => [a.kind, a.error]), [["open", undefined], ["open", undefined], ["open", undefined]]);
      // a fresh store: the three are found again by their markers, past the first page
      const fresh = await SqliteTriageStore.open(":memory:");
      try {
        const again = await syncIssues(fresh, await fresh.recordRun("dir:paged-builtin", belowFail(), day(1)), t.options);
        assert.deepEqual(again.map((a) => a.kind), ["link", "link", "link"]);
      } finally {
        await fresh.close();
      }
    } finally {
      await t.done();
    }
  });

  it("errors carry no token", async () => {
    const t = await due("redact");
    try {
      gh.failures.push({ method: "GET", pathIncludes: "/issues", status: 422, message: `Validation failed for token ${TOKEN} (Authorization: token ${TOKEN})` });
      const actions = await syncIssues(t.store, t.run, t.options);
      const text = actions.map((a) => a.error ?? "").join("\n");
      assert.match(text, /HTTP 422/);
      assert.ok(!text.includes(TOKEN) && !text.includes(TOKEN.slice(4)), text);
    } finally {
      await t.done();
    }
  });
});
