/**
 * The `TriageStore` contract, run against both backends: a SQLite file and a real PostgreSQL server
 * (test/gate/triage-pg-server.ts; TOLLGATE_TEST_PG_URL when .ci/run started one). Each test opens a
 * fresh store: a new file, or a new database.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Octokit } from "@octokit/rest";
import { configSchema } from "../../src/config/index.ts";
import { runCheck } from "../../src/gate/check.ts";
import { findingFingerprint } from "../../src/gate/fingerprint.ts";
import { issueMarker, syncIssues } from "../../src/gate/github.ts";
import { openTriageStore, type TriageStore, type TriageStoreOptions } from "../../src/gate/triage.ts";
import type { Component } from "../../src/model/index.ts";
import { tempDir } from "../helpers.ts";
import { EXAMPLE_APP, exampleComponents, exampleSbom, findingsFor, withVersions } from "./fixtures.ts";
import { GitHubStandin } from "./github-standin.ts";
import { postgresMissing, sharedPostgres } from "./triage-pg-server.ts";

const day = (n: number) => new Date(Date.UTC(2026, 10, n, 12));
const belowFail = (components: Component[]) => findingsFor(components).filter((f) => f.severity.level === "MEDIUM" || f.severity.level === "LOW").map((finding) => ({ finding }));
const QUIET = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

interface Backend {
  name: string;
  skip: string | false;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** A location for a new, empty store. */
  fresh(): Promise<string>;
}

let sqliteDir: { dir: string; cleanup: () => Promise<void> } | undefined;
let sqliteN = 0;
const sqlite: Backend = {
  name: "SQLite",
  skip: false,
  setup: async () => void (sqliteDir = await tempDir()),
  teardown: async () => sqliteDir?.cleanup(),
  fresh: async () => join(sqliteDir!.dir, `store-${++sqliteN}`, "triage.db"),
};

const pgSkip = await postgresMissing();
let pgServer: Awaited<ReturnType<typeof sharedPostgres>> | undefined;
const postgres: Backend = {
  name: "PostgreSQL",
  skip: pgSkip,
  setup: async () => void (pgServer = await sharedPostgres()),
  teardown: async () => pgServer?.stop(),
  fresh: async () => pgServer!.createDatabase(),
};
if (pgSkip) console.log(`# triage store contract on PostgreSQL: ${pgSkip}`);

for (const backend of [sqlite, postgres]) {
  describe(`triage store contract (${backend.name})`, { skip: backend.skip }, () => {
    before(() => backend.setup());
    after(() => backend.teardown());
    const open = async (location?: string, options: TriageStoreOptions = {}): Promise<{ store: TriageStore; location: string }> => {
      const loc = location ?? (await backend.fresh());
      return { store: await openTriageStore(loc, options), location: loc };
    };

    it("first seen, recurring, reappeared after a gap, fixed; keyed by vulnerability + package + target", async () => {
      const { store } = await open();
      try {
        const all = belowFail(exampleComponents());
        assert.equal(all.length, 3);
        const r1 = await store.recordRun("dir:app", all, day(1));
        assert.equal(r1.firstSeen.length, 3);
        assert.deepEqual(r1.firstSeen.map((e) => [e.runCount, e.status, e.firstSeen, e.repository]), Array(3).fill([1, "new", day(1).toISOString(), ""]));
        const r2 = await store.recordRun("dir:app", all, day(2));
        assert.equal(r2.recurring.length, 3);
        assert.deepEqual(r2.recurring.map((e) => e.runCount), [2, 2, 2]);
        assert.ok(r2.runId > r1.runId);
        // Run 3 without debug: debug's finding is fixed.
        const r3 = await store.recordRun("dir:app", all.filter((i) => i.finding.component.name !== "debug"), day(3));
        assert.deepEqual(r3.fixed.map((e) => e.vulnerabilityId), ["GHSA-gxpj-cx7g-858c"]);
        assert.equal(r3.fixed[0]!.status, "fixed");
        assert.equal(r3.fixed[0]!.fixedAt, day(3).toISOString());
        // Run 4 with debug again: seen again after a gap, status new again, first seen kept.
        const r4 = await store.recordRun("dir:app", all, day(4));
        assert.deepEqual(r4.reappeared.map((e) => [e.vulnerabilityId, e.status, e.runCount, e.firstSeen, e.fixedAt]), [["GHSA-gxpj-cx7g-858c", "new", 3, day(1).toISOString(), undefined]]);
        assert.equal(r4.recurring.length, 2);
        // Another target is another key: the same finding elsewhere is first seen there.
        const other = await store.recordRun("dir:other", all, day(4));
        assert.equal(other.firstSeen.length, 3);
        assert.equal((await store.list({ target: "dir:app" })).length, 3);
        assert.equal((await store.list()).length, 6);
        // The entry carries what the finding said.
        const nanoid = (await store.list({ target: "dir:app" })).find((e) => e.package === "pkg:npm/nanoid")!;
        assert.deepEqual([nanoid.vulnerabilityId, nanoid.version, nanoid.severity, nanoid.lastSeen, nanoid.aliases.includes("CVE-2021-23566")], ["GHSA-qrpm-p2h7-hrv2", "3.1.30", "MEDIUM", day(4).toISOString(), true]);
        assert.deepEqual(nanoid.fixedVersions, ["3.1.31"]);
        // A version bump within the still-vulnerable range keeps the same fingerprint.
        const bumped = findingsFor(withVersions({ nanoid: "3.1.29" })).find((f) => f.component.name === "nanoid")!;
        const orig = all.find((i) => i.finding.component.name === "nanoid")!.finding;
        assert.equal(findingFingerprint(bumped, "dir:app"), findingFingerprint(orig, "dir:app"));
        assert.notEqual(findingFingerprint(orig, "dir:app"), findingFingerprint(orig, "dir:other"));
        // The same package twice in one run (two paths) is one entry, counted once.
        const twice = [...all, ...all];
        const r5 = await store.recordRun("dir:app", twice, day(5));
        assert.deepEqual(r5.recurring.map((e) => e.runCount).sort(), [4, 5, 5]);
      } finally {
        await store.close();
      }
    });

    it("a finding still present but not triaged (stillPresent) is not marked fixed", async () => {
      const { store } = await open();
      try {
        const all = belowFail(exampleComponents());
        await store.recordRun("dir:app", all, day(1));
        const keep = new Set([findingFingerprint(all[0]!.finding, "dir:app")]);
        const r = await store.recordRun("dir:app", [], day(2), keep);
        assert.equal(r.fixed.length, 2);
        assert.ok(!r.fixed.some((e) => keep.has(e.fingerprint)));
        assert.deepEqual((await store.list({ status: "new" })).map((e) => e.fingerprint), [...keep]);
      } finally {
        await store.close();
      }
    });

    it("acknowledge by unique prefix; ambiguous or unknown prefixes are errors; survives reopening", async () => {
      const { store: first, location } = await open();
      let store = first;
      try {
        await store.recordRun("dir:app", belowFail(exampleComponents()), day(1));
        const [e] = await store.list({ status: "new" });
        const acked = await store.acknowledge(e!.fingerprint.slice(0, 8), "tracked in JIRA-1", day(2));
        assert.deepEqual([acked.status, acked.ackReason, acked.ackAt], ["acknowledged", "tracked in JIRA-1", day(2).toISOString()]);
        await assert.rejects(store.acknowledge("ffffff", "x", day(2)), /no such finding/);
        await assert.rejects(store.acknowledge("zz", "x", day(2)), /expected a fingerprint/);
        await store.close();
        store = await openTriageStore(location, { create: false });
        assert.equal((await store.get(e!.fingerprint))?.ackReason, "tracked in JIRA-1");
        assert.equal(await store.get("abcdef0123"), undefined);
        // Acknowledged stays acknowledged while seen.
        await store.recordRun("dir:app", belowFail(exampleComponents()), day(3));
        assert.equal((await store.get(e!.fingerprint))?.status, "acknowledged");
      } finally {
        await store.close();
      }
    });

    it("repositories share one store without mixing: keys, filters, history, prefixes", async () => {
      const location = await backend.fresh();
      const web = await openTriageStore(location, { repository: "acme/web" });
      const api = await openTriageStore(location, { repository: "acme/api" });
      try {
        const all = belowFail(exampleComponents());
        await web.recordRun("dir:.", all, day(1));
        await api.recordRun("dir:.", all, day(1));
        const r2 = await web.recordRun("dir:.", all, day(2));
        assert.deepEqual(r2.recurring.map((e) => [e.repository, e.runCount]), Array(3).fill(["acme/web", 2]));
        // The other repository's run neither counts for this one nor fixes its findings.
        const apiRun = await api.recordRun("dir:.", all.slice(0, 1), day(2));
        assert.equal(apiRun.fixed.length, 2);
        assert.equal((await web.list({ repository: "acme/web", status: "fixed" })).length, 0);
        assert.equal((await web.list({ repository: "acme/api", status: "fixed" })).length, 2);
        assert.equal((await web.list()).length, 6);
        assert.deepEqual([...new Set((await web.list({ repository: "acme/web" })).map((e) => e.repository))], ["acme/web"]);
        // The same fingerprint in two repositories: ack needs the repository.
        const fp = (await web.list({ repository: "acme/web" }))[0]!.fingerprint;
        await assert.rejects(web.acknowledge(fp.slice(0, 10), "x", day(3)), /in more than one repository \(acme\/api, acme\/web\); give --repository/);
        const acked = await web.acknowledge(fp.slice(0, 10), "web only", day(3), { repository: "acme/web" });
        assert.equal(acked.repository, "acme/web");
        assert.notEqual((await api.get(fp, { repository: "acme/api" }))?.status, "acknowledged");
        // Run history, per repository.
        const runs = await web.runs({ repository: "acme/web" });
        assert.deepEqual(runs.map((r) => [r.repository, r.target, r.at, r.firstSeen, r.recurring, r.fixed]), [
          ["acme/web", "dir:.", day(1).toISOString(), 3, 0, 0],
          ["acme/web", "dir:.", day(2).toISOString(), 0, 3, 0],
        ]);
        assert.equal((await web.runs()).length, 4);
      } finally {
        await web.close();
        await api.close();
      }
    });

    it("an issue is claimed by exactly one caller; released claims and recorded issues behave", async () => {
      const location = await backend.fresh();
      const stores = await Promise.all(Array.from({ length: 5 }, () => openTriageStore(location, { repository: "acme/app" })));
      try {
        const all = belowFail(exampleComponents());
        await stores[0]!.recordRun("dir:app", all, day(1));
        const fp = findingFingerprint(all[0]!.finding, "dir:app");
        const claims = await Promise.all(stores.map((s, i) => s.claimIssue(fp, `run-${i}`)));
        assert.equal(claims.filter(Boolean).length, 1, `claims: ${claims.join(",")}`);
        const winner = claims.indexOf(true);
        // A claim given up can be taken by another run; a recorded issue ends all claims.
        await stores[(winner + 1) % 5]!.releaseIssueClaim(fp, "not-the-holder");
        assert.equal(await stores[0]!.claimIssue(fp, "late"), false, "a release by someone else does nothing");
        await stores[winner]!.releaseIssueClaim(fp, `run-${winner}`);
        assert.equal(await stores[1]!.claimIssue(fp, "second"), true);
        await stores[1]!.setIssue(fp, { number: 7, url: "https://github.example/acme/app/issues/7", state: "open" });
        assert.equal(await stores[2]!.claimIssue(fp, "third"), false);
        const e = await stores[3]!.get(fp);
        assert.deepEqual([e?.issueNumber, e?.issueUrl, e?.issueState], [7, "https://github.example/acme/app/issues/7", "open"]);
        // Claims are per repository.
        const other = await openTriageStore(location, { repository: "acme/other" });
        try {
          await other.recordRun("dir:app", all, day(1));
          assert.equal(await other.claimIssue(fp, "x"), true);
        } finally {
          await other.close();
        }
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });

    it("a store that is not there yet is an error for the triage commands (create: false)", async () => {
      const location = await backend.fresh();
      await assert.rejects(openTriageStore(location, { create: false }), (e: Error & { code?: string }) => e.code === "NOT_FOUND" && /no triage store/.test(e.message));
    });

    it("check: a triaged finding that gets waived is still present, not marked fixed", async () => {
      const location = await backend.fresh();
      const target = { kind: "dir" as const, input: "app", path: EXAMPLE_APP };
      const sbom = exampleSbom();
      const base = { triage: { store: location, github: { enabled: false } } };
      const run = (extra: Record<string, unknown>, n: number) => runCheck(target, { config: configSchema.parse({ ...base, ...extra }), sbom, findings: findingsFor(sbom.components), now: day(n), env: {} });
      assert.equal((await run({}, 1)).triage?.firstSeen, 3);
      const waived = await run({ waivers: [{ id: "GHSA-qrpm-p2h7-hrv2", reason: "dev only", expires: "2999-01-01" }] }, 2);
      assert.equal(waived.triage?.fixed, 0);
      assert.equal(waived.triage?.recurring, 2);
      assert.equal(waived.triageError, undefined);
      const store = await openTriageStore(location);
      try {
        assert.deepEqual((await store.list({ status: "fixed" })).map((e) => e.vulnerabilityId), []);
      } finally {
        await store.close();
      }
    });

    describe("GitHub issues against the local stand-in", () => {
      const gh = new GitHubStandin();
      before(() => gh.start("acme/app"));
      after(() => gh.stop());
      const octokit = () => new Octokit({ auth: "test-token", baseUrl: gh.url, request: { retries: 0 }, log: QUIET });
      const noSleep = async () => undefined;

      it("one labelled issue after N runs, never duplicated, comment after a gap, closed when fixed; a new store links it", async () => {
        const { store } = await open(undefined, { repository: "acme/app" });
        const label = `contract-${backend.name}`;
        const opts = { repository: "acme/app", labels: [label], recurringAfter: 2, octokit: octokit(), sleep: noSleep };
        const mine = () => gh.issues.filter((i) => i.labels.includes(label));
        try {
          const nanoidOnly = belowFail(exampleComponents()).filter((i) => i.finding.component.name === "nanoid");
          assert.deepEqual(await syncIssues(store, await store.recordRun("dir:app", nanoidOnly, day(1)), opts), []);
          const a2 = await syncIssues(store, await store.recordRun("dir:app", nanoidOnly, day(2)), opts);
          assert.deepEqual(a2.map((a) => [a.kind, a.error]), [["open", undefined]]);
          assert.equal(mine().length, 1);
          const issue = mine()[0]!;
          assert.ok(issue.body.includes(issueMarker(a2[0]!.fingerprint)));
          assert.equal((await store.get(a2[0]!.fingerprint))?.issueNumber, issue.number);
          assert.deepEqual(await syncIssues(store, await store.recordRun("dir:app", nanoidOnly, day(3)), opts), []);
          const gap = await syncIssues(store, await store.recordRun("dir:app", [], day(4)), opts);
          assert.deepEqual(gap.map((a) => a.kind), ["close"]);
          assert.equal(issue.state, "closed");
          const back = await syncIssues(store, await store.recordRun("dir:app", nanoidOnly, day(5)), opts);
          assert.deepEqual(back.map((a) => [a.kind, a.issueNumber]), [["reopen", issue.number]]);
          assert.equal(issue.state, "open");
          assert.equal(mine().length, 1, "never a second issue");
          const { store: fresh } = await open(undefined, { repository: "acme/app" });
          try {
            await fresh.recordRun("dir:app", nanoidOnly, day(6));
            const linked = await syncIssues(fresh, await fresh.recordRun("dir:app", nanoidOnly, day(7)), opts);
            assert.deepEqual(linked.map((a) => [a.kind, a.issueNumber]), [["link", issue.number]]);
            assert.equal(mine().length, 1);
          } finally {
            await fresh.close();
          }
        } finally {
          await store.close();
        }
      });

      it("a failed create gives the claim back: the next run opens the issue", async () => {
        const { store } = await open(undefined, { repository: "acme/app" });
        const label = `claim-${backend.name}`;
        const opts = { repository: "acme/app", labels: [label], recurringAfter: 1, octokit: octokit(), sleep: noSleep, retries: 0 };
        try {
          const debugOnly = belowFail(exampleComponents()).filter((i) => i.finding.component.name === "debug");
          gh.failures.push({ method: "POST", pathIncludes: "/issues", status: 422 });
          const failed = await syncIssues(store, await store.recordRun("dir:claim", debugOnly, day(1)), opts);
          assert.match(failed[0]?.error ?? "", /HTTP 422/);
          const ok = await syncIssues(store, await store.recordRun("dir:claim", debugOnly, day(2)), opts);
          assert.deepEqual(ok.map((a) => [a.kind, a.error]), [["open", undefined]]);
          assert.equal(gh.issues.filter((i) => i.labels.includes(label)).length, 1);
        } finally {
          await store.close();
        }
      });
    });
  });
}
