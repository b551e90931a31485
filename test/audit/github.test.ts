// Under a simulated GitHub Actions environment (GITHUB_ACTIONS=true, a GITHUB_STEP_SUMMARY file, the
// GITHUB_* identity variables: what the runner sets), each signing event is also a `::notice` line
// on stderr and a row in the job summary, escaped as workflow commands and Markdown require; and the
// seq:hash the summary shows is an anchor that detects the log's last entries being cut off.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { escapeWorkflowData, escapeWorkflowProperty, SUMMARY_HEADER } from "../../src/audit/sink.ts";
import { auditLogPath, signerIdentity } from "../../src/audit/index.ts";
import type { SigningEvent } from "../../src/audit/types.ts";
import { stateDir } from "../../src/io/paths.ts";
import { ROOT, runCli, tempDir } from "../helpers.ts";

const ACTIONS_ENV = {
  GITHUB_ACTIONS: "true",
  GITHUB_WORKFLOW_REF: "acme/app/.github/workflows/release.yml@refs/heads/main",
  GITHUB_RUN_ID: "9876543210",
  GITHUB_RUN_ATTEMPT: "2",
  GITHUB_REPOSITORY: "acme/app",
  GITHUB_SHA: "0123456789abcdef0123456789abcdef01234567",
  GITHUB_REF: "refs/heads/main",
  GITHUB_ACTOR: "octocat",
};

/** Records events in a child process (the notice goes to its stderr), as a signing command would. */
function record(events: SigningEvent[], env: Record<string, string>, config: object = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = `
    const { recordSigningEvent } = await import(${JSON.stringify(join(ROOT, "src", "audit", "index.ts"))});
    for (const e of ${JSON.stringify(events)}) await recordSigningEvent(e, { config: ${JSON.stringify(config)} });`;
  return new Promise((resolve, reject) => {
    // only the variables given: the test's own environment may be a real GitHub Actions job
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const DIGEST = `sha256:${"ab".repeat(32)}`;
const KEY = "cd".repeat(32);

describe("audit under GitHub Actions", () => {
  it("each event is a ::notice line and a job summary row; the summary's seq:hash anchors the log", async () => {
    const { dir, cleanup } = await tempDir("tollgate-audit-gh-");
    try {
      const log = join(dir, "audit.log");
      const summary = join(dir, "step_summary.md");
      await writeFile(summary, "## Build\n\nsome earlier step output\n");
      const env = { ...ACTIONS_ENV, TOLLGATE_AUDIT_LOG: log, GITHUB_STEP_SUMMARY: summary };
      const hostile = "re|lease 100%\r\n::error::forged, [x](http://evil) @octocat";
      const r = await record(
        [
          { operation: "sign blob", artifact: hostile, artifactDigest: DIGEST, keyId: KEY, backend: "hashivault", keyRef: "hashivault://release", result: "success", output: "app.sigstore.json" },
          { operation: "sign blob", artifact: "app.tar", artifactDigest: DIGEST, keyId: KEY, backend: "hashivault", result: "failure", error: "permission denied" },
        ],
        env,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "", "nothing on stdout (it may carry a command's output)");
      const entries = (await readFile(log, "utf8")).trimEnd().split("\n").map((l) => JSON.parse(l) as { seq: number; hash: string; signer: Record<string, string> });
      assert.equal(entries.length, 2);
      // the signer identity comes from the job
      assert.deepEqual(entries[0]?.signer, {
        ci: "github-actions",
        workflow: ACTIONS_ENV.GITHUB_WORKFLOW_REF,
        run: "9876543210",
        attempt: "2",
        repository: "acme/app",
        sha: ACTIONS_ENV.GITHUB_SHA,
        ref: "refs/heads/main",
        actor: "octocat",
      });

      const notices = r.stderr.split("\n").filter((l) => l !== "");
      assert.equal(notices.length, 2, r.stderr);
      for (const n of notices) assert.match(n, /^::notice title=tollgate signing::/);
      const first = notices[0] as string;
      // one line: no raw CR/LF, `%` escaped, no second workflow command can start
      assert.ok(!/[\r\n]/.test(first));
      assert.match(first, /re\|lease 100%25\\u000d\\u000a::error::forged/);
      assert.match(first, new RegExp(`sign blob success: .* \\(${DIGEST}\\) key ${KEY} \\(hashivault\\) by ci=github-actions workflow=acme/app/\\.github/workflows/release\\.yml@refs/heads/main run=9876543210`));
      assert.match(first, new RegExp(`\\[audit entry 1:${entries[0]?.hash}\\]$`));
      assert.match(notices[1] as string, new RegExp(`sign blob failure: app\\.tar .*: permission denied \\[audit entry 2:${entries[1]?.hash}\\]$`));

      const md = await readFile(summary, "utf8");
      assert.ok(md.startsWith("## Build\n\nsome earlier step output\n"), "the summary is appended to, not replaced");
      const tableLines = md.split("\n").filter((l) => l.startsWith("|"));
      assert.equal(tableLines[0], SUMMARY_HEADER);
      assert.equal(md.split(SUMMARY_HEADER).length, 2, "one header for both rows");
      const rows = tableLines.slice(2);
      assert.equal(rows.length, 2);
      const cells = (row: string): string[] => row.slice(2, -2).split(/(?<!\\) \| /);
      const row1 = cells(rows[0] as string);
      assert.equal(row1.length, 10, rows[0]);
      assert.equal(row1[0], "1");
      assert.equal(row1[4], "re\\|lease 100% ::error::forged, \\[x\\]\\(http://evil\\) @\u200boctocat");
      assert.equal(row1[9], entries[0]?.hash);
      const row2 = cells(rows[1] as string);
      assert.equal(row2[0], "2");
      assert.equal(row2[3], "failure: permission denied");

      // The anchor the summary shows (seq and hash of the last row) detects the log's tail being cut off.
      await writeFile(log, `${(await readFile(log, "utf8")).split("\n")[0]}\n`);
      assert.equal((await runCli(["audit", "verify", log])).code, 0, "the cut log is still a valid chain");
      const anchored = await runCli(["audit", "verify", log, "--anchor", `${row2[0]}:${row2[9]}`]);
      assert.equal(anchored.code, 1);
      assert.match(anchored.stdout, /ends at entry 1, before the anchored entry 2/);

      // A later step's summary with something else written after our table: a new header first.
      await writeFile(summary, `${md}\nother output\n`);
      const again = await record([{ operation: "sign image", artifact: "ghcr.io/acme/app:1", artifactDigest: DIGEST, result: "success" }], env);
      assert.equal(again.code, 0, again.stderr);
      assert.equal((await readFile(summary, "utf8")).split(SUMMARY_HEADER).length, 3);
    } finally {
      await cleanup();
    }
  });

  it("no notice or summary row with audit.github: false, or outside GitHub Actions", async () => {
    const { dir, cleanup } = await tempDir("tollgate-audit-gh-");
    try {
      const log = join(dir, "audit.log");
      const summary = join(dir, "step_summary.md");
      const event: SigningEvent = { operation: "sign blob", artifact: "a", artifactDigest: DIGEST, result: "success" };
      const off = await record([event], { ...ACTIONS_ENV, TOLLGATE_AUDIT_LOG: log, GITHUB_STEP_SUMMARY: summary }, { audit: { github: false } });
      assert.equal(off.code, 0, off.stderr);
      assert.equal(off.stderr, "");
      const outside = await record([event], { TOLLGATE_AUDIT_LOG: log, GITHUB_STEP_SUMMARY: summary });
      assert.equal(outside.code, 0, outside.stderr);
      assert.equal(outside.stderr, "");
      await assert.rejects(readFile(summary), /ENOENT/);
      assert.equal((await readFile(log, "utf8")).trimEnd().split("\n").length, 2, "the local log has both");
    } finally {
      await cleanup();
    }
  });

  it("a summary file that cannot be written fails the recording (after the log has the event)", async () => {
    const { dir, cleanup } = await tempDir("tollgate-audit-gh-");
    try {
      const log = join(dir, "audit.log");
      const r = await record([{ operation: "sign blob", artifact: "a", artifactDigest: DIGEST, result: "success" }], { ...ACTIONS_ENV, TOLLGATE_AUDIT_LOG: log, GITHUB_STEP_SUMMARY: dir });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /GITHUB_STEP_SUMMARY .*cannot append the signing event/);
      assert.match(r.stderr, /^::notice title=tollgate signing::/m);
      assert.equal((await readFile(log, "utf8")).trimEnd().split("\n").length, 1);
    } finally {
      await cleanup();
    }
  });
});

describe("audit: workflow command escaping, paths, identity", () => {
  it("escapes % CR LF in messages and also : , in properties", () => {
    assert.equal(escapeWorkflowData("100%\r\nnext::x,y"), "100%25%0D%0Anext::x,y");
    assert.equal(escapeWorkflowProperty("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
  });

  it("the log path: TOLLGATE_AUDIT_LOG, else audit.log in the config (relative to the working directory), else <state dir>/audit.log", () => {
    assert.equal(auditLogPath({ env: { TOLLGATE_AUDIT_LOG: "/x/a.log" }, config: { audit: { log: "/y/b.log" } } }), "/x/a.log");
    assert.equal(auditLogPath({ env: {}, config: { audit: { log: "logs/b.log" } }, cwd: "/work" }), "/work/logs/b.log");
    assert.equal(auditLogPath({ env: { XDG_STATE_HOME: "/state" }, config: {} }), "/state/tollgate/audit.log");
    assert.equal(auditLogPath({ env: { HOME: "/home/u" }, config: {} }), "/home/u/.local/state/tollgate/audit.log");
    // a relative XDG_STATE_HOME is ignored, as the XDG specification says
    assert.equal(stateDir({ XDG_STATE_HOME: "rel", HOME: "/home/u" }), "/home/u/.local/state/tollgate");
  });

  it("the signer outside CI is the local user and host", () => {
    const id = signerIdentity({ USER: "someone" });
    assert.ok(id.user && id.user.length > 0);
    assert.ok(id.host && id.host.length > 0);
    assert.equal(id.ci, undefined);
  });
});
