/**
 * The PostgreSQL triage store beyond the shared contract: connection URIs and passwords as libpq
 * reads them, TLS modes against a real server with a test CA, migrations under the advisory lock,
 * time limits, the `triage` commands (`--repository`, `migrate`), and a store that cannot be
 * reached (the gate's result stands; `triage.required` makes it exit 2). Real PostgreSQL servers
 * (test/gate/triage-pg-server.ts); skipped with a message when PostgreSQL or the driver is absent.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, cp, readFile, writeFile } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { NetworkError } from "../../src/errors.ts";
import { openTriageStore, SqliteTriageStore } from "../../src/gate/triage.ts";
import { displayPostgresUrl, displayStoreLocation, parsePostgresUrl, resolvePassword } from "../../src/gate/triage-pg-config.ts";
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from "../../src/gate/triage-pg-migrations.ts";
import { PostgresTriageStore } from "../../src/gate/triage-postgres.ts";
import type { Component } from "../../src/model/index.ts";
import { runCli, tempDir } from "../helpers.ts";
import { ADVISORIES, EXAMPLE_APP, exampleComponents, findingsFor } from "./fixtures.ts";
import { adminQuery, postgresMissing, sharedPostgres, startPostgres, type PostgresServer } from "./triage-pg-server.ts";

const run = promisify(execFile);
const day = (n: number) => new Date(Date.UTC(2026, 10, n, 12));
const belowFail = (components: Component[]) => findingsFor(components).filter((f) => f.severity.level === "MEDIUM" || f.severity.level === "LOW").map((finding) => ({ finding }));
/** No GitHub or PostgreSQL settings leak in from the environment the tests run in. */
const CLEAN_ENV = { GITHUB_TOKEN: "", GITHUB_REPOSITORY: "", GITHUB_API_URL: "", TOLLGATE_TRIAGE_URL: "", PGPASSWORD: "", PGSSLMODE: "", PGPASSFILE: "/nonexistent" };

describe("PostgreSQL connection URIs (libpq names)", () => {
  it("reads user, password, host, port, database and the TLS parameters", () => {
    const loc = parsePostgresUrl("postgres://ci%40acme:p%40ss%3Aword@db.example.com:6432/tri%20age?sslmode=verify-ca&sslrootcert=/etc/ca.pem&application_name=runner-7", {});
    assert.deepEqual(loc, {
      host: "db.example.com",
      port: 6432,
      user: "ci@acme",
      password: "p@ss:word",
      database: "tri age",
      sslmode: "verify-ca",
      sslmodeExplicit: true,
      sslrootcert: "/etc/ca.pem",
      applicationName: "runner-7",
    });
    assert.equal(displayPostgresUrl(loc), "postgres://ci%40acme@db.example.com:6432/tri%20age");
    assert.ok(!displayStoreLocation("postgresql://u:hunter22@h/d?sslmode=require").includes("hunter22"));
  });

  it("defaults: port 5432; TLS off on loopback and Unix sockets, verify-full elsewhere; PGSSLMODE", () => {
    assert.equal(parsePostgresUrl("postgres://db.internal/t", {}).sslmode, "verify-full");
    assert.equal(parsePostgresUrl("postgres://db.internal/t", {}).port, 5432);
    assert.equal(parsePostgresUrl("postgres://127.0.0.1:5433/t", {}).sslmode, "disable");
    assert.equal(parsePostgresUrl("postgresql://[::1]/t", {}).host, "::1");
    assert.equal(parsePostgresUrl("postgres:///t?host=/run/postgresql", {}).sslmode, "disable");
    assert.equal(parsePostgresUrl("postgres://db.internal/t", { PGSSLMODE: "require" }).sslmode, "require");
    assert.equal(parsePostgresUrl("postgres://db.internal/t?sslmode=disable", { PGSSLMODE: "verify-full" }).sslmode, "disable");
  });

  it("refuses what it does not implement, in one line without the password", () => {
    const bad: [string, RegExp][] = [
      ["postgres://u:s3cret-pw@db/t?sslmode=prefer", /sslmode=prefer falls back to an unencrypted connection/],
      ["postgres://u:s3cret-pw@db/t?sslmdoe=require", /the parameter "sslmdoe", which tollgate does not implement/],
      ["postgres://u:s3cret-pw@db1,db2/t", /several hosts/],
      ["postgres://u:s3cret-pw@db:99999/t", /bad port "99999"/],
      ["postgres://u:s3cret-pw@/t", /names no host/],
      ["postgres://u:s3cret-pw@db/t?sslcert=/c.pem", /sslcert without sslkey/],
    ];
    for (const [url, re] of bad) {
      assert.throws(() => parsePostgresUrl(url, {}), (e: Error) => re.test(e.message) && !e.message.includes("s3cret-pw") && !e.message.includes("\n"), url);
    }
  });

  it("the password: the URI's, else PGPASSWORD, else a pgpass file (only when private)", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const loc = parsePostgresUrl("postgres://ci@db.example.com:6432/triage", {});
      assert.equal(await resolvePassword({ ...loc, password: "from-url" }, { PGPASSWORD: "from-env" }, "ci"), "from-url");
      assert.equal(await resolvePassword(loc, { PGPASSWORD: "from-env" }, "ci"), "from-env");
      const pgpass = join(dir, "pgpass");
      await writeFile(pgpass, ["# comment", "other.example.com:*:*:ci:wrong", "db.example.com:6432:triage:ci:pa\\:ss\\\\word", "*:*:*:*:fallback", ""].join("\n"), { mode: 0o600 });
      await chmod(pgpass, 0o600);
      assert.equal(await resolvePassword(loc, { PGPASSFILE: pgpass }, "ci"), "pa:ss\\word");
      assert.equal(await resolvePassword(parsePostgresUrl("postgres://ci@elsewhere/x", {}), { PGPASSFILE: pgpass }, "ci"), "fallback");
      await chmod(pgpass, 0o644);
      assert.equal(await resolvePassword(loc, { PGPASSFILE: pgpass }, "ci"), undefined, "a pgpass file others can read is ignored, as libpq does");
    } finally {
      await cleanup();
    }
  });
});

const pgSkip = await postgresMissing();

describe("PostgreSQL store: the connection's own time limit", { skip: pgSkip }, () => {
  it("a server that accepts and never answers: the connection times out with one line", async () => {
    const sockets: Socket[] = [];
    const silent = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as { port: number }).port;
    try {
      await assert.rejects(
        openTriageStore(`postgres://ci:Pw-12345678@127.0.0.1:${port}/triage`, { timeouts: { connectMs: 300 } }),
        (e: Error) => /^triage store postgres:\/\/ci@127\.0\.0\.1:\d+\/triage: cannot connect: connection timed out$/.test(e.message),
      );
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it("no password anywhere for a server that asks for one: a clear line", { skip: pgSkip }, async () => {
    const server = await startPostgres();
    try {
      const url = `postgres://${server.user}@127.0.0.1:${server.port}/postgres`;
      await assert.rejects(openTriageStore(url, { env: { PGPASSFILE: "/nonexistent" } }), /cannot connect: the server asks for a password and none was given/);
    } finally {
      await server.stop();
    }
  });
});
if (pgSkip) console.log(`# PostgreSQL triage store: ${pgSkip}`);

describe("PostgreSQL triage store against a real server", { skip: pgSkip }, () => {
  let pg: Awaited<ReturnType<typeof sharedPostgres>>;
  before(async () => void (pg = await sharedPostgres()));
  after(() => pg?.stop());
  const withoutPassword = (url: string) => {
    const u = new URL(url);
    const password = decodeURIComponent(u.password);
    u.password = "";
    return { url: u.toString(), password };
  };

  it("20 stores opening a fresh database at once: the migrations run once, every store works", async () => {
    const url = await pg.createDatabase();
    const stores = await Promise.all(Array.from({ length: 20 }, (_, i) => openTriageStore(url, { repository: `acme/r${i}` })));
    try {
      await Promise.all(stores.map((s) => s.recordRun("dir:.", belowFail(exampleComponents()), day(1))));
      const applied = await adminQuery<{ version: number }>(url, "SELECT version FROM tollgate.schema_migrations ORDER BY version");
      assert.deepEqual(applied.map((r) => r.version), MIGRATIONS.map((m) => m.version));
      assert.equal((await stores[0]!.runs()).length, 20);
      assert.equal((await stores[0]!.list()).length, 60);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it("a schema newer than this tollgate is refused; an empty database is not a store for the triage commands", async () => {
    const url = await pg.createDatabase();
    await assert.rejects(openTriageStore(url, { create: false }), /no triage store in this database yet/);
    (await openTriageStore(url)).close();
    await adminQuery(url, "INSERT INTO tollgate.schema_migrations (version, name) VALUES ($1, 'from the future')", [LATEST_SCHEMA_VERSION + 1]);
    await assert.rejects(openTriageStore(url), new RegExp(`schema ${LATEST_SCHEMA_VERSION + 1} is newer than this tollgate understands`));
  });

  it("password from PGPASSWORD or a pgpass file; a wrong one is a one-line error without it", async () => {
    const { url, password } = withoutPassword(await pg.createDatabase());
    const { dir, cleanup } = await tempDir();
    try {
      const a = await openTriageStore(url, { env: { PGPASSWORD: password } });
      await a.close();
      const pgpass = join(dir, "pgpass");
      const u = new URL(url);
      await writeFile(pgpass, `${u.hostname}:${u.port}:*:${u.username}:${password}\n`, { mode: 0o600 });
      const b = await openTriageStore(url, { env: { PGPASSFILE: pgpass } });
      await b.close();
      const wrong = "Wr0ng-Passw0rd-xyz";
      await assert.rejects(openTriageStore(url, { env: { PGPASSWORD: wrong } }), (e: Error) => {
        assert.ok(e instanceof NetworkError);
        assert.match(e.message, /^triage store postgres:\/\/tollgate@127\.0\.0\.1:\d+\/tollgate_test_\w+: cannot connect: password authentication failed for user "tollgate" \(28P01\)$/);
        return true;
      });
      const inUrl = new URL(url);
      inUrl.password = wrong;
      const cli = await runCli(["triage", "list", "--store", inUrl.toString()], { env: CLEAN_ENV });
      assert.equal(cli.code, 2);
      assert.ok(!cli.stderr.includes(wrong), cli.stderr);
      assert.match(cli.stderr, /^tollgate: triage store postgres:\/\/tollgate@127\.0\.0\.1:\d+\/\w+: cannot connect: password authentication failed/m);
    } finally {
      await cleanup();
    }
  });

  it("every statement has a time limit: a run blocked on a lock fails instead of hanging", async () => {
    const url = await pg.createDatabase();
    const store = await openTriageStore(url, { repository: "acme/app", timeouts: { statementMs: 500 } });
    const pgm = (await import("pg")).default;
    const holder = new pgm.Client({ connectionString: url });
    await holder.connect();
    try {
      await store.recordRun("dir:.", belowFail(exampleComponents()), day(1));
      await holder.query("BEGIN");
      await holder.query("SELECT * FROM tollgate.scopes WHERE repository = 'acme/app' FOR UPDATE");
      await assert.rejects(store.recordRun("dir:.", belowFail(exampleComponents()), day(2)), /cannot record the run: canceling statement due to (lock|statement) timeout \((55P03|57014)\)/);
      await holder.query("ROLLBACK");
      // The failed run left nothing behind; the next one records normally.
      const r = await store.recordRun("dir:.", belowFail(exampleComponents()), day(3));
      assert.deepEqual(r.recurring.map((e) => e.runCount), [2, 2, 2]);
      assert.equal((await store.runs()).length, 2);
    } finally {
      await holder.end();
      await store.close();
    }
  });

  it("triage list, ack and export with --repository, through TOLLGATE_TRIAGE_URL", async () => {
    const url = await pg.createDatabase();
    const { url: bare, password } = withoutPassword(url);
    for (const repo of ["acme/web", "acme/api"]) {
      const s = await openTriageStore(url, { repository: repo });
      await s.recordRun("dir:.", belowFail(exampleComponents()), day(1));
      await s.close();
    }
    const env = { ...CLEAN_ENV, TOLLGATE_TRIAGE_URL: bare, PGPASSWORD: password };
    const all = await runCli(["triage", "list"], { env });
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stdout.trim().split("\n").length, 6);
    const web = await runCli(["triage", "list", "--repository", "acme/web", "--format", "json"], { env });
    const entries = JSON.parse(web.stdout) as { fingerprint: string; repository: string }[];
    assert.deepEqual([...new Set(entries.map((e) => e.repository))], ["acme/web"]);
    assert.equal(entries.length, 3);
    const id = entries[0]!.fingerprint.slice(0, 12);
    const ambiguous = await runCli(["triage", "ack", id, "--reason", "x"], { env });
    assert.equal(ambiguous.code, 2);
    assert.match(ambiguous.stderr, /in more than one repository \(acme\/api, acme\/web\); give --repository/);
    const ack = await runCli(["triage", "ack", id, "--reason", "accepted for web", "--repository", "acme/web"], { env });
    assert.equal(ack.code, 0, ack.stderr);
    assert.match(ack.stderr, /acknowledged .* of acme\/web\)/);
    const exported = await runCli(["triage", "export", "--repository", "acme/web"], { env });
    const doc = JSON.parse(exported.stdout) as { entries: { status: string; ackReason?: string }[]; runs: { repository: string }[] };
    assert.deepEqual(doc.entries.filter((e) => e.status === "acknowledged").map((e) => e.ackReason), ["accepted for web"]);
    assert.deepEqual(doc.runs.map((r) => r.repository), ["acme/web"]);
    const csv = await runCli(["triage", "export", "--format", "csv"], { env });
    assert.equal(csv.stdout.trim().split("\r\n").length, 7);
    const empty = await runCli(["triage", "list", "--store", withoutPassword(await pg.createDatabase()).url], { env });
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /no triage store in this database yet/);
  });

  it("triage migrate copies a SQLite store (acks, issues, history) once, and the next run carries on", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = join(dir, "triage.db");
      const local = await SqliteTriageStore.open(file);
      const all = belowFail(exampleComponents());
      await local.recordRun("dir:.", all, day(1));
      await local.recordRun("dir:.", all, day(2));
      const [first] = await local.list();
      await local.acknowledge(first!.fingerprint, "dev only", day(2));
      const second = (await local.list()).find((e) => e.fingerprint !== first!.fingerprint)!;
      await local.setIssue(second.fingerprint, { number: 12, url: "https://github.example/acme/web/issues/12", state: "open" });
      await local.close();
      const url = await pg.createDatabase();
      const { url: bare, password } = withoutPassword(url);
      const env = { ...CLEAN_ENV, PGPASSWORD: password };
      const noRepo = await runCli(["triage", "migrate", "--from", `sqlite:${file}`, "--to", bare], { env });
      assert.equal(noRepo.code, 2);
      assert.match(noRepo.stderr, /give --repository owner\/name/);
      const m = await runCli(["triage", "migrate", "--from", `sqlite:${file}`, "--to", bare, "--repository", "acme/web"], { env });
      assert.equal(m.code, 0, m.stderr);
      assert.match(m.stderr, /copied 3 finding\(s\) and 2 run\(s\)/);
      const again = await runCli(["triage", "migrate", "--from", `sqlite:${file}`, "--to", bare, "--repository", "acme/web"], { env });
      assert.match(again.stderr, /copied 0 finding\(s\) and 0 run\(s\); kept 3 finding\(s\) and 2 run\(s\)/);
      const shared = await openTriageStore(url, { repository: "acme/web" });
      try {
        const got = await shared.get(first!.fingerprint, { repository: "acme/web" });
        assert.deepEqual([got?.status, got?.ackReason, got?.runCount, got?.firstSeen], ["acknowledged", "dev only", 2, day(1).toISOString()]);
        assert.equal((await shared.get(second.fingerprint))?.issueNumber, 12);
        assert.deepEqual((await shared.runs()).map((r) => [r.repository, r.at]), [["acme/web", day(1).toISOString()], ["acme/web", day(2).toISOString()]]);
        // The history came along: the third run is recurring, not first seen or reappeared.
        const r3 = await shared.recordRun("dir:.", all, day(3));
        assert.deepEqual([r3.firstSeen.length, r3.recurring.length, r3.reappeared.length], [0, 3, 0]);
      } finally {
        await shared.close();
      }
      const schemaOnly = await runCli(["triage", "migrate", "--to", withoutPassword(await pg.createDatabase()).url], { env });
      assert.equal(schemaOnly.code, 0, schemaOnly.stderr);
      assert.match(schemaOnly.stderr, new RegExp(`the triage store schema is current \\(version ${LATEST_SCHEMA_VERSION}\\)`));
      const badFrom = await runCli(["triage", "migrate", "--from", file, "--to", bare], { env });
      assert.equal(badFrom.code, 2);
      assert.match(badFrom.stderr, /--from: expected sqlite:PATH/);
    } finally {
      await cleanup();
    }
  });

  it("least privilege as the README sets it up: the owner migrates, the CI role only reads and writes rows", async () => {
    const url = await pg.createDatabase();
    const db = new URL(url).pathname.slice(1);
    const sfx = Math.random().toString(36).slice(2, 8);
    const [owner, ci] = [`tollgate_owner_${sfx}`, `tollgate_ci_${sfx}`];
    const [ownerPw, ciPw] = [`owner-${sfx}-pw`, `ci-${sfx}-pw`];
    // The README's statements (roles named per test: roles belong to the whole server).
    for (const sql of [
      `CREATE ROLE ${owner} LOGIN PASSWORD '${ownerPw}'`,
      `CREATE ROLE ${ci} LOGIN PASSWORD '${ciPw}'`,
      `REVOKE ALL ON DATABASE ${db} FROM PUBLIC`,
      `GRANT CONNECT ON DATABASE ${db} TO ${owner}, ${ci}`,
      `CREATE SCHEMA tollgate AUTHORIZATION ${owner}`,
      `GRANT USAGE ON SCHEMA tollgate TO ${ci}`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA tollgate GRANT SELECT, INSERT, UPDATE ON TABLES TO ${ci}`,
    ]) {
      await adminQuery(url, sql);
    }
    const as = (role: string) => {
      const u = new URL(url);
      u.username = role;
      u.password = "";
      return u.toString();
    };
    // Before the owner migrates, the CI role cannot create the schema's tables: a clear error.
    await assert.rejects(openTriageStore(as(ci), { env: { PGPASSWORD: ciPw } }), /: permission denied for schema tollgate \(42501\); the schema's owner brings it up to date with `tollgate triage migrate --to URL`$/);
    const m = await runCli(["triage", "migrate", "--to", as(owner)], { env: { ...CLEAN_ENV, PGPASSWORD: ownerPw } });
    assert.equal(m.code, 0, m.stderr);
    const store = await openTriageStore(as(ci), { env: { PGPASSWORD: ciPw }, repository: "acme/web" });
    try {
      const all = belowFail(exampleComponents());
      await store.recordRun("dir:.", all, day(1));
      const r = await store.recordRun("dir:.", all.slice(1), day(2));
      assert.equal(r.fixed.length, 1);
      const fp = r.recurring[0]!.fingerprint;
      assert.equal(await store.claimIssue(fp, "run-1"), true);
      await store.setIssue(fp, { number: 3, state: "open" });
      assert.equal((await store.acknowledge(fp, "ok", day(3))).status, "acknowledged");
      assert.equal((await store.runs()).length, 2);
    } finally {
      await store.close();
    }
    const pgm = (await import("pg")).default;
    const ciUrl = new URL(as(ci));
    ciUrl.password = ciPw;
    const client = new pgm.Client({ connectionString: ciUrl.toString() });
    await client.connect();
    try {
      await assert.rejects(client.query("DROP TABLE tollgate.findings"), /must be owner/);
      await assert.rejects(client.query("DELETE FROM tollgate.runs"), /permission denied/);
    } finally {
      await client.end();
    }
  });

  it("tollgate check records into the shared store under its repository; the report shows no password", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const url = await pg.createDatabase();
      const { url: bare, password } = withoutPassword(url);
      await cp(EXAMPLE_APP, join(dir, "app"), { recursive: true });
      await writeFile(join(dir, "tollgate.yaml"), "triage:\n  repository: acme/web\n  github:\n    enabled: false\n");
      const env = { ...CLEAN_ENV, TOLLGATE_TRIAGE_URL: url };
      const r = await runCli(["check", "app", "--db", ADVISORIES, "--format", "json"], { cwd: dir, env });
      assert.equal(r.code, 1, r.stderr);
      assert.ok(!r.stdout.includes(password) && !r.stderr.includes(password));
      const report = JSON.parse(r.stdout) as { triage: { store: string; firstSeen: number } };
      assert.equal(report.triage.store, bare);
      assert.equal(report.triage.firstSeen, 3);
      const rows = await adminQuery<{ repository: string; n: number }>(url, "SELECT repository, count(*)::int AS n FROM tollgate.findings GROUP BY repository");
      assert.deepEqual(rows, [{ repository: "acme/web", n: 3 }]);
    } finally {
      await cleanup();
    }
  });
});

describe("a triage store that cannot be reached", { skip: pgSkip }, () => {
  it("the gate's result stands, the store error is one line without the password; triage.required exits 2", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await cp(EXAMPLE_APP, join(dir, "app"), { recursive: true });
      // A port nothing listens on: a server started and stopped again.
      const server = await startPostgres();
      const closed = server.url("triage").replace(`:${server.password}@`, ":S3cret-Store-Pw@");
      await server.stop();
      await writeFile(join(dir, "tollgate.yaml"), "triage:\n  github:\n    enabled: false\n");
      const env = { ...CLEAN_ENV, TOLLGATE_TRIAGE_URL: closed };
      const r = await runCli(["check", "app", "--db", ADVISORIES], { cwd: dir, env });
      assert.equal(r.code, 1, "the gate fails on lodash and minimist, as without a store");
      assert.match(r.stdout, /^FAIL: 5 finding\(s\) in 5 component\(s\): 2 failing, 2 warning, 1 triaged, 0 suppressed$/m);
      const lines = r.stderr.split("\n").filter((l) => l.includes("triage store"));
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /triage store not updated \(the gate's result stands\): triage store postgres:\/\/tollgate@127\.0\.0\.1:\d+\/triage: cannot connect: connect ECONNREFUSED/);
      assert.ok(!r.stderr.includes("S3cret-Store-Pw") && !r.stdout.includes("S3cret-Store-Pw"));
      await writeFile(join(dir, "tollgate.yaml"), "fail_on: none\ntriage:\n  required: true\n  github:\n    enabled: false\n");
      const required = await runCli(["check", "app", "--db", ADVISORIES, "--format", "json", "--output", "report.json"], { cwd: dir, env });
      assert.equal(required.code, 2, required.stderr);
      assert.match(required.stderr, /triage\.required: exit 2/);
      const report = JSON.parse(await readFile(join(dir, "report.json"), "utf8")) as { outcome: string; triage: unknown };
      assert.deepEqual([report.outcome, report.triage], ["pass", null], "the report is written: the gate passed, the store was not updated");
    } finally {
      await cleanup();
    }
  });
});

describe("TLS to the store: sslmode and sslrootcert as libpq means them", { skip: pgSkip }, () => {
  let server: PostgresServer | undefined;
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ dir, cleanup } = await tempDir());
    const openssl = (...args: string[]) => run("openssl", args, { cwd: dir });
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    await openssl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=tollgate test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
    await openssl("req", "-x509", ...ec, "-keyout", "other.key", "-out", "other-ca.pem", "-days", "2", "-subj", "/CN=another CA", "-addext", "basicConstraints=critical,CA:TRUE");
    await openssl("req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost");
    await writeFile(join(dir, "ext.cnf"), "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n");
    await openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf");
    server = await startPostgres({
      files: { "server.pem": await readFile(join(dir, "server.pem")), "server.key": await readFile(join(dir, "server.key")) },
      settings: { ssl: "on", ssl_cert_file: "{dir}/server.pem", ssl_key_file: "{dir}/server.key" },
    });
  });
  after(async () => {
    await server?.stop();
    await cleanup?.();
  });

  /** Opens a store with these URL parameters and tells whether its connection is encrypted. */
  async function encrypted(host: string, query: string): Promise<boolean> {
    const app = `tls-${Math.random().toString(36).slice(2, 10)}`;
    const url = `postgres://${server!.user}@${host}:${server!.port}/postgres?application_name=${app}&${query}`;
    const store = await PostgresTriageStore.open(url, { env: { PGPASSWORD: server!.password } });
    try {
      const [row] = await adminQuery<{ ssl: boolean }>(server!.url(), "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = $1", [app]);
      return row!.ssl;
    } finally {
      await store.close();
    }
  }

  it("verify-full checks the chain and the name; verify-ca the chain; require encrypts; disable does not", async () => {
    const ca = join(dir, "ca.pem");
    assert.equal(await encrypted("localhost", `sslmode=verify-full&sslrootcert=${ca}`), true);
    await assert.rejects(encrypted("127.0.0.1", `sslmode=verify-full&sslrootcert=${ca}`), /cannot connect: .*(Hostname\/IP does not match|IP: 127\.0\.0\.1 is not in the cert's list)/);
    assert.equal(await encrypted("127.0.0.1", `sslmode=verify-ca&sslrootcert=${ca}`), true);
    await assert.rejects(encrypted("localhost", `sslmode=verify-full&sslrootcert=${join(dir, "other-ca.pem")}`), /cannot connect: .*(certificate|self-signed|unable to verify)/i);
    await assert.rejects(encrypted("localhost", "sslmode=verify-full&sslrootcert=system"), /cannot connect: .*(certificate|self-signed|unable to verify)/i);
    assert.equal(await encrypted("127.0.0.1", "sslmode=require"), true);
    // require with a root certificate checks the chain, as libpq does.
    await assert.rejects(encrypted("127.0.0.1", `sslmode=require&sslrootcert=${join(dir, "other-ca.pem")}`), /cannot connect/);
    assert.equal(await encrypted("127.0.0.1", "sslmode=disable"), false);
    await assert.rejects(encrypted("localhost", `sslmode=verify-full&sslrootcert=${join(dir, "missing.pem")}`), /missing\.pem: cannot read the root certificate/);
  });
});
