// The audit log's hash chain: each kind of tampering is detected by `tollgate audit verify` (exit 1,
// naming the first bad line and what is wrong), and what a chain alone cannot detect (the last
// entries cut off cleanly, the tail rewritten consistently) is shown to pass plain verification and
// to be caught by an anchor (an entry's seq and hash recorded elsewhere).
import assert from "node:assert/strict";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { recordSigningEventEntry } from "../../src/audit/index.ts";
import { chainEntry, entryHash, entryLine, GENESIS_HASH, type AuditEntry } from "../../src/audit/log.ts";
import type { SigningEvent } from "../../src/audit/types.ts";
import { runCli, tempDir } from "../helpers.ts";

const KEY_A = "a1".repeat(32);
const KEY_B = "b2".repeat(32);

function event(i: number): SigningEvent {
  return {
    operation: i % 2 ? "sign image" : "sign blob",
    artifact: `artifact-${i}.tar`,
    artifactDigest: `sha256:${String(i).padStart(2, "0").repeat(32)}`,
    keyId: i % 2 ? KEY_B : KEY_A,
    backend: "file",
    keyRef: i % 2 ? "release.key" : "cosign.key",
    signer: { user: "tester" },
    result: i === 4 ? "failure" : "success",
    ...(i === 4 ? { error: "wrong password" } : {}),
    output: `artifact-${i}.sigstore.json`,
  };
}

/** A log of `n` entries written by the real recorder, one second apart from 2026-12-01T10:00:00Z. */
async function makeLog(dir: string, n = 5): Promise<{ path: string; lines: string[]; entries: AuditEntry[] }> {
  const path = join(dir, "state", "audit.log");
  const env = { TOLLGATE_AUDIT_LOG: path };
  for (let i = 1; i <= n; i++) {
    await recordSigningEventEntry(event(i), { env, config: {}, now: new Date(Date.UTC(2026, 11, i, 10, 0, 0)) });
  }
  const text = await readFile(path, "utf8");
  const lines = text.split("\n").slice(0, -1);
  return { path, lines, entries: lines.map((l) => JSON.parse(l) as AuditEntry) };
}

async function verify(path: string, ...extra: string[]): Promise<{ code: number; out: { intact: boolean; entries: number; head?: { seq: number; hash: string }; problem?: { line: number; kind: string; message: string } }; stderr: string }> {
  const r = await runCli(["audit", "verify", path, "--format", "json", ...extra]);
  return { code: r.code, out: r.code === 2 ? { intact: false, entries: 0 } : JSON.parse(r.stdout), stderr: r.stderr };
}

async function withLog(fn: (log: { path: string; lines: string[]; entries: AuditEntry[]; dir: string }) => Promise<void>): Promise<void> {
  const { dir, cleanup } = await tempDir("tollgate-audit-");
  try {
    await fn({ ...(await makeLog(dir)), dir });
  } finally {
    await cleanup();
  }
}

describe("audit log: the format", () => {
  it("writes {seq, time, prevHash, …event, hash} lines chained from the genesis hash, file mode 0600", async () => {
    await withLog(async ({ path, entries, lines }) => {
      assert.equal(entries.length, 5);
      assert.deepEqual(Object.keys(entries[0] as object).slice(0, 3), ["seq", "time", "prevHash"]);
      assert.equal(Object.keys(entries[0] as object).at(-1), "hash");
      assert.equal(entries[0]?.prevHash, GENESIS_HASH);
      for (const [i, e] of entries.entries()) {
        assert.equal(e.seq, i + 1);
        assert.equal(e.hash, entryHash(e as unknown as Record<string, unknown>));
        if (i > 0) assert.equal(e.prevHash, entries[i - 1]?.hash);
      }
      assert.equal(entries[0]?.time, "2026-12-01T10:00:00.000Z");
      assert.equal(entries[3]?.result, "failure");
      assert.equal(entries[3]?.error, "wrong password");
      // the hash is over the canonical (sorted-key) JSON without `hash`: independent recomputation
      const { createHash } = await import("node:crypto");
      const { hash: _hash, ...rest } = JSON.parse(lines[2] as string) as Record<string, unknown>;
      const sorted = JSON.stringify(Object.fromEntries(Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, v && typeof v === "object" ? Object.fromEntries(Object.entries(v).sort()) : v])));
      assert.equal(createHash("sha256").update(sorted).digest("hex"), entries[2]?.hash);
      assert.equal((await stat(path)).mode & 0o777, 0o600);
      assert.equal((await stat(join(path, ".."))).mode & 0o777, 0o700);
    });
  });

  it("keeps secrets out of the log", async () => {
    const { dir, cleanup } = await tempDir("tollgate-audit-");
    try {
      const path = join(dir, "audit.log");
      const env = { TOLLGATE_AUDIT_LOG: path, VAULT_TOKEN: "hvs.CAESIJ9xV7pQ2", TOLLGATE_PASSWORD: "correct horse battery" };
      await recordSigningEventEntry(
        {
          operation: "sign blob",
          artifact: "https://user:s3cretpw@example.com/a.tar",
          artifactDigest: `sha256:${"0".repeat(64)}`,
          keyRef: "pkcs11:token=ci;object=signing?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=123456",
          backend: "pkcs11",
          result: "failure",
          error: "vault: permission denied for token hvs.CAESIJ9xV7pQ2 (Authorization: Bearer abcdef123456789) after eyJhbGciOiJFUzI1NiJ9.payload-of-the-token\nsecond line with correct horse battery",
        },
        { env, config: {}, secrets: ["eyJhbGciOiJFUzI1NiJ9.payload-of-the-token"] },
      );
      const text = await readFile(path, "utf8");
      for (const secret of ["eyJhbGciOiJFUzI1NiJ9", "hvs.CAESIJ9xV7pQ2", "s3cretpw", "123456", "abcdef123456789", "correct horse battery", "second line"]) {
        assert.ok(!text.includes(secret), `${secret} is not in the log: ${text}`);
      }
      assert.match(text, /pin-value=\[REDACTED\]/);
      assert.equal((await verify(path)).code, 0);
    } finally {
      await cleanup();
    }
  });

  it("refuses to append to a log whose last line is damaged, and leaves it as it was", async () => {
    await withLog(async ({ path, lines }) => {
      const damaged = `${lines.join("\n")}\n${(lines[4] as string).slice(0, 40)}`;
      await writeFile(path, damaged);
      await assert.rejects(recordSigningEventEntry(event(6), { env: { TOLLGATE_AUDIT_LOG: path }, config: {} }), /last line is incomplete.*audit verify/);
      const edited = [...lines];
      edited[4] = (edited[4] as string).replace('"success"', '"failure"');
      await writeFile(path, `${edited.join("\n")}\n`);
      await assert.rejects(recordSigningEventEntry(event(6), { env: { TOLLGATE_AUDIT_LOG: path }, config: {} }), /last entry is damaged \(hash mismatch/);
      assert.equal(await readFile(path, "utf8"), `${edited.join("\n")}\n`);
    });
  });
});

describe("tollgate audit verify", () => {
  it("exit 0 on an intact log, with its head", async () => {
    await withLog(async ({ path, entries }) => {
      const r = await verify(path);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.out, { path, intact: true, entries: 5, head: { seq: 5, hash: entries[4]?.hash } });
      const table = await runCli(["audit", "verify", path]);
      assert.equal(table.code, 0);
      assert.match(table.stdout, new RegExp(`intact, 5 entries; head 5:${entries[4]?.hash}`));
    });
  });

  it("an edited field: hash mismatch on that line", async () => {
    await withLog(async ({ path, lines }) => {
      const edited = [...lines];
      edited[2] = (edited[2] as string).replace("artifact-3.tar", "artifact-X.tar");
      await writeFile(path, `${edited.join("\n")}\n`);
      const r = await verify(path);
      assert.equal(r.code, 1);
      assert.equal(r.out.problem?.line, 3);
      assert.equal(r.out.problem?.kind, "hash-mismatch");
      assert.match(r.out.problem?.message ?? "", /hash mismatch/);
      const table = await runCli(["audit", "verify", path]);
      assert.equal(table.code, 1);
      assert.match(table.stdout, /TAMPERED: line 3: hash mismatch/);
    });
  });

  it("an edited entry with its hash recomputed: the next line's prevHash no longer matches", async () => {
    await withLog(async ({ path, lines, entries }) => {
      const forged = { ...(entries[1] as AuditEntry), keyId: KEY_B };
      forged.hash = entryHash(forged as unknown as Record<string, unknown>);
      const edited = [...lines];
      edited[1] = entryLine(forged).trimEnd();
      await writeFile(path, `${edited.join("\n")}\n`);
      const r = await verify(path);
      assert.equal(r.code, 1);
      assert.equal(r.out.problem?.line, 3);
      assert.equal(r.out.problem?.kind, "prev-hash");
    });
  });

  it("a removed entry: seq gap on the line after it", async () => {
    await withLog(async ({ path, lines }) => {
      await writeFile(path, `${lines.filter((_, i) => i !== 2).join("\n")}\n`);
      const r = await verify(path);
      assert.equal(r.code, 1);
      assert.equal(r.out.problem?.line, 3);
      assert.equal(r.out.problem?.kind, "seq");
      assert.match(r.out.problem?.message ?? "", /seq gap: expected 3, found 4/);
      assert.equal(r.out.entries, 2);
    });
  });

  it("the first entry removed: seq gap on line 1", async () => {
    await withLog(async ({ path, lines }) => {
      await writeFile(path, `${lines.slice(1).join("\n")}\n`);
      const r = await verify(path);
      assert.equal(r.code, 1);
      assert.equal(r.out.problem?.line, 1);
      assert.equal(r.out.problem?.kind, "seq");
    });
  });

  it("two entries reordered: seq out of order", async () => {
    await withLog(async ({ path, lines }) => {
      const swapped = [...lines];
      [swapped[1], swapped[2]] = [swapped[2] as string, swapped[1] as string];
      await writeFile(path, `${swapped.join("\n")}\n`);
      const r = await verify(path);
      assert.equal(r.code, 1);
      assert.equal(r.out.problem?.line, 2);
      assert.equal(r.out.problem?.kind, "seq");
      assert.match(r.out.problem?.message ?? "", /expected 2, found 3/);
    });
  });

  it("a truncated last line", async () => {
    await withLog(async ({ path, lines }) => {
      const text = `${lines.join("\n")}\n`;
      await writeFile(path, text.slice(0, text.length - 30));
      const r = await verify(path);
      assert.equal(r.code, 1);
      assert.equal(r.out.problem?.line, 5);
      assert.equal(r.out.problem?.kind, "truncated");
      // only the newline gone: still reported (a writer never leaves a line without it)
      await writeFile(path, text.slice(0, -1));
      const r2 = await verify(path);
      assert.equal(r2.code, 1);
      assert.equal(r2.out.problem?.kind, "truncated");
      assert.match(r2.out.problem?.message ?? "", /without its newline/);
    });
  });

  it("a line that is not JSON", async () => {
    await withLog(async ({ path, lines }) => {
      const edited = [...lines];
      edited.splice(3, 0, "# added by hand");
      await writeFile(path, `${edited.join("\n")}\n`);
      const r = await verify(path);
      assert.equal(r.code, 1);
      assert.equal(r.out.problem?.line, 4);
      assert.equal(r.out.problem?.kind, "not-json");
    });
  });

  it("a forged line inserted with a recomputed hash but the wrong prevHash", async () => {
    await withLog(async ({ path, lines, entries }) => {
      const forgedEvent = { ...event(9), artifact: "backdoor.tar" };
      // it claims seq 3 and carries a valid hash of its own content, but links to entry 1, not 2
      const forged = chainEntry({ seq: 2, hash: entries[0]?.hash as string }, "2026-12-02T12:00:00.000Z", forgedEvent);
      assert.equal(forged.hash, entryHash(forged as unknown as Record<string, unknown>));
      const edited = [...lines];
      edited.splice(2, 0, entryLine(forged).trimEnd());
      await writeFile(path, `${edited.join("\n")}\n`);
      const r = await verify(path);
      assert.equal(r.code, 1);
      assert.equal(r.out.problem?.line, 3);
      assert.equal(r.out.problem?.kind, "prev-hash");
      assert.match(r.out.problem?.message ?? "", /prevHash mismatch/);
    });
  });

  it("a forged line inserted with the right prevHash: the entry after it is out of sequence", async () => {
    await withLog(async ({ path, lines, entries }) => {
      const forged = chainEntry(entries[1], "2026-12-02T12:00:00.000Z", { ...event(9), artifact: "backdoor.tar" });
      const edited = [...lines];
      edited.splice(2, 0, entryLine(forged).trimEnd());
      await writeFile(path, `${edited.join("\n")}\n`);
      const r = await verify(path);
      assert.equal(r.code, 1);
      assert.equal(r.out.problem?.line, 4);
      assert.equal(r.out.problem?.kind, "seq");
    });
  });

  it("LIMITATION: the last entries cut off cleanly pass the chain check; an anchor (the head recorded elsewhere) detects it", async () => {
    await withLog(async ({ path, lines, entries }) => {
      await writeFile(path, `${lines.slice(0, 3).join("\n")}\n`);
      // A hash chain proves each entry follows the one before; nothing in the file says how many there were.
      const plain = await verify(path);
      assert.equal(plain.code, 0);
      assert.equal(plain.out.entries, 3);
      const head = entries[4] as AuditEntry;
      const anchored = await verify(path, "--anchor", `${head.seq}:${head.hash}`);
      assert.equal(anchored.code, 1);
      assert.equal(anchored.out.problem?.kind, "anchor");
      assert.match(anchored.out.problem?.message ?? "", /ends at entry 3, before the anchored entry 5/);
    });
  });

  it("LIMITATION: the whole tail replaced consistently passes the chain check; an anchor detects it", async () => {
    await withLog(async ({ path, lines, entries }) => {
      // entries 3..5 rewritten (a failure turned into successes, another key), re-chained from entry 2
      let previous: AuditEntry = entries[1] as AuditEntry;
      const forgedTail: string[] = [];
      for (let i = 3; i <= 5; i++) {
        previous = chainEntry(previous, (entries[i - 1] as AuditEntry).time, { ...event(i), keyId: KEY_A, result: "success", error: undefined } as SigningEvent);
        forgedTail.push(entryLine(previous).trimEnd());
      }
      await writeFile(path, `${[...lines.slice(0, 2), ...forgedTail].join("\n")}\n`);
      const plain = await verify(path);
      assert.equal(plain.code, 0, "a consistent rewrite is a valid chain");
      assert.equal(plain.out.entries, 5);
      const head = entries[4] as AuditEntry;
      const anchored = await verify(path, "--anchor", `5:${head.hash}`);
      assert.equal(anchored.code, 1);
      assert.equal(anchored.out.problem?.line, 5);
      assert.equal(anchored.out.problem?.kind, "anchor");
      // an anchor on an entry before the rewrite still holds
      assert.equal((await verify(path, "--anchor", `2:${(entries[1] as AuditEntry).hash}`)).code, 0);
    });
  });

  it("exit 2 when the log cannot be read, or the anchor is malformed", async () => {
    const { dir, cleanup } = await tempDir("tollgate-audit-");
    try {
      const missing = await runCli(["audit", "verify", join(dir, "nope.log")]);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /nope\.log: no such file/);
      await mkdir(join(dir, "a-dir"));
      const directory = await runCli(["audit", "verify", join(dir, "a-dir")]);
      assert.equal(directory.code, 2);
      assert.match(directory.stderr, /not a regular file/);
      await writeFile(join(dir, "ok.log"), "");
      const badAnchor = await runCli(["audit", "verify", join(dir, "ok.log"), "--anchor", "5:xyz"]);
      assert.equal(badAnchor.code, 2);
      assert.match(badAnchor.stderr, /--anchor 5:xyz: expected SEQ:HASH/);
      const empty = await runCli(["audit", "verify", join(dir, "ok.log")]);
      assert.equal(empty.code, 0);
      assert.match(empty.stdout, /intact, 0 entries/);
    } finally {
      await cleanup();
    }
  });

  it("reads the configured log: TOLLGATE_AUDIT_LOG, else audit.log in tollgate.yaml, else the XDG state dir", async () => {
    const { dir, cleanup } = await tempDir("tollgate-audit-");
    try {
      const { path: fromEnv } = await makeLog(join(dir, "env"), 1);
      const { path: fromConfig } = await makeLog(join(dir, "cfg"), 2);
      assert.equal(fromConfig, join(dir, "cfg", "state", "audit.log"));
      const { path: fromState } = await makeLog(join(dir, "xdg"), 3);
      assert.equal(fromState, join(dir, "xdg", "state", "audit.log"));
      await writeFile(join(dir, "tollgate.yaml"), `audit:\n  log: ${join("cfg", "state", "audit.log")}\n`);
      const env = { XDG_STATE_HOME: join(dir, "xdg", "state", ".."), TOLLGATE_AUDIT_LOG: "" };
      // XDG_STATE_HOME/tollgate/audit.log: move the third log there
      await mkdir(join(dir, "xdg", "tollgate"), { recursive: true });
      await writeFile(join(dir, "xdg", "tollgate", "audit.log"), await readFile(fromState));
      const a = await runCli(["audit", "verify"], { cwd: dir, env: { ...env, TOLLGATE_AUDIT_LOG: fromEnv } });
      assert.match(a.stdout, /intact, 1 entry/);
      const b = await runCli(["audit", "verify"], { cwd: dir, env });
      assert.match(b.stdout, /intact, 2 entries/);
      const c = await runCli(["audit", "verify"], { cwd: join(dir, "env"), env: { ...env, XDG_STATE_HOME: join(dir, "xdg") } });
      assert.match(c.stdout, new RegExp(`${join(dir, "xdg", "tollgate", "audit.log")}: intact, 3 entries`));
    } finally {
      await cleanup();
    }
  });
});

describe("tollgate audit list", () => {
  it("lists every event, and filters by artifact digest or name, key id (prefix) or reference, and date", async () => {
    await withLog(async ({ path }) => {
      const list = async (...args: string[]): Promise<AuditEntry[]> => {
        const r = await runCli(["audit", "list", "--log", path, "--format", "json", ...args]);
        assert.equal(r.code, 0, r.stderr);
        return JSON.parse(r.stdout) as AuditEntry[];
      };
      assert.deepEqual((await list()).map((e) => e.seq), [1, 2, 3, 4, 5]);
      assert.deepEqual((await list("--artifact", `sha256:${"03".repeat(32)}`)).map((e) => e.seq), [3]);
      assert.deepEqual((await list("--artifact", "artifact-4.tar")).map((e) => e.seq), [4]);
      assert.deepEqual((await list("--key", KEY_B)).map((e) => e.seq), [1, 3, 5]);
      assert.deepEqual((await list("--key", KEY_A.slice(0, 8).toUpperCase())).map((e) => e.seq), [2, 4]);
      assert.deepEqual((await list("--key", "release.key")).map((e) => e.seq), [1, 3, 5]);
      assert.deepEqual((await list("--since", "2026-12-03")).map((e) => e.seq), [3, 4, 5]);
      assert.deepEqual((await list("--since", "2026-12-03T10:00:01Z", "--key", KEY_A)).map((e) => e.seq), [4]);
      assert.deepEqual(await list("--artifact", "nothing"), []);
      const table = await runCli(["audit", "list", "--log", path, "--key", KEY_A]);
      assert.equal(table.code, 0);
      const rows = table.stdout.trimEnd().split("\n");
      assert.equal(rows.length, 2);
      assert.match(rows[1] as string, /^\s+4\s+2026-12-04T10:00:00\.000Z\s+sign blob\s+failure\s+sha256:040404040404…\s+a1a1a1a1a1a1\s+file\s+artifact-4\.tar$/);
      const bad = await runCli(["audit", "list", "--log", path, "--since", "2026-02-30"]);
      assert.equal(bad.code, 2);
    });
  });

  it("shows control characters in a listed artifact name escaped", async () => {
    const { dir, cleanup } = await tempDir("tollgate-audit-");
    try {
      const path = join(dir, "audit.log");
      await recordSigningEventEntry({ ...event(1), artifact: "evil\u001b]0;pwned\u0007.tar" }, { env: { TOLLGATE_AUDIT_LOG: path }, config: {} });
      const r = await runCli(["audit", "list", "--log", path]);
      assert.equal(r.code, 0);
      assert.ok(!r.stdout.includes("\u001b"), r.stdout);
      assert.match(r.stdout, /evil\\u001b\]0;pwned\\u0007\.tar/);
    } finally {
      await cleanup();
    }
  });

  it("lists a tampered log up to its first bad line and exits 1", async () => {
    await withLog(async ({ path, lines }) => {
      const edited = [...lines];
      edited[3] = (edited[3] as string).replace('"failure"', '"success"');
      await writeFile(path, `${edited.join("\n")}\n`);
      const r = await runCli(["audit", "list", "--log", path, "--format", "json"]);
      assert.equal(r.code, 1);
      assert.deepEqual((JSON.parse(r.stdout) as AuditEntry[]).map((e) => e.seq), [1, 2, 3]);
      assert.match(r.stderr, /TAMPERED: line 4: hash mismatch/);
    });
  });
});
