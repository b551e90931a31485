/**
 * A real PostgreSQL server for the triage store's tests: Debian's `postgresql` binaries, `initdb` into
 * a throw-away directory, `pg_ctl start` on 127.0.0.1 on a free port with the Unix socket inside that
 * directory. PostgreSQL refuses to run as root, so under root it runs as the `postgres` user (made by
 * the Debian package) or `nobody`, through `runuser`. No mock: the store talks to the real server.
 *
 * When `.ci/run` has started one it exports TOLLGATE_TEST_PG_URL (a superuser URL) and the tests
 * reuse it (`sharedPostgres`); a test that must kill the server starts its own (`startPostgres`).
 * Each test gets its own database (`createDatabase`), so tests never see each other's rows.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, existsSync, readdirSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The directory of initdb, pg_ctl and postgres (the newest Debian version), or undefined. */
export function postgresBinDir(): string | undefined {
  const base = "/usr/lib/postgresql";
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => existsSync(join(base, v, "bin", "initdb")))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(base, versions[0], "bin");
  }
  for (const dir of (process.env.PATH ?? "").split(":")) if (dir && existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl"))) return dir;
  return undefined;
}

/** Whether node-postgres can be loaded. */
async function driverMissing(): Promise<string | false> {
  try {
    await import("pg");
    return false;
  } catch {
    return "SKIPPED: the pg package (node-postgres) is not installed (npm ci installs it)";
  }
}

/** Why the PostgreSQL tests cannot run here, or false. */
export async function postgresMissing(): Promise<string | false> {
  const driver = await driverMissing();
  if (driver) return driver;
  if (process.env.TOLLGATE_TEST_PG_URL) return false;
  return postgresBinDir() ? false : "SKIPPED: PostgreSQL is not installed (apt-get install postgresql; .ci/run installs it)";
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function idOf(user: string): Promise<{ uid: number; gid: number } | undefined> {
  try {
    const uid = Number((await run("id", ["-u", user])).stdout.trim());
    const gid = Number((await run("id", ["-g", user])).stdout.trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

export interface PostgresServer {
  /** A superuser URL (with its password) for a database on this server. */
  url(database?: string): string;
  host: string;
  port: number;
  user: string;
  password: string;
  /** Creates an empty database and returns its URL. */
  createDatabase(): Promise<string>;
  /** `pg_ctl stop -m immediate`: the server dies without closing connections cleanly. */
  kill(): Promise<void>;
  /** Stops the server (if this helper started it) and removes its directory. */
  stop(): Promise<void>;
  /** The server log, for failure messages. */
  log(): Promise<string>;
}

/**
 * Starts a PostgreSQL server of its own in a temporary directory. `files` are written into that
 * directory first, readable by the server only (e.g. a TLS key), and `settings` are passed as `-c`
 * options (values may use `{dir}` for the directory).
 */
export async function startPostgres(options: { files?: Record<string, string | Buffer>; settings?: Record<string, string> } = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (!bin) throw new Error("PostgreSQL binaries not found");
  const dir = await mkdtemp(join(tmpdir(), "tollgate-pg-"));
  const data = join(dir, "data");
  const password = randomBytes(12).toString("hex");
  const user = "tollgate";
  const port = await freePort();
  // As root, PostgreSQL must run as another user, who must own its directory.
  let as: string[] = [];
  let owner: { uid: number; gid: number } | undefined;
  if (process.getuid?.() === 0) {
    const name = (await idOf("postgres")) ? "postgres" : "nobody";
    owner = (await idOf(name))!;
    chownSync(dir, owner.uid, owner.gid);
    chmodSync(dir, 0o700);
    as = ["runuser", "-u", name, "--"];
  }
  const pwfile = join(dir, "pw");
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (owner) chownSync(pwfile, owner.uid, owner.gid);
  const exec = (cmd: string, args: string[]) => (as.length ? run(as[0]!, [...as.slice(1), join(bin, cmd), ...args]) : run(join(bin, cmd), args));
  await exec("initdb", ["-D", data, "-U", user, `--pwfile=${pwfile}`, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync", "--no-instructions"]);
  await rm(pwfile, { force: true });
  for (const [name, content] of Object.entries(options.files ?? {})) {
    await writeFile(join(dir, name), content, { mode: 0o600 });
    if (owner) chownSync(join(dir, name), owner.uid, owner.gid);
  }
  const logFile = join(dir, "server.log");
  const extra = Object.entries(options.settings ?? {}).map(([k, v]) => `-c ${k}=${v.replaceAll("{dir}", dir)}`);
  const opts = [`-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=120`, ...extra].join(" ");
  await exec("pg_ctl", ["start", "-w", "-t", "60", "-D", data, "-l", logFile, "-o", opts]);
  let stopped = false;
  const server: PostgresServer = {
    host: "127.0.0.1",
    port,
    user,
    password,
    url: (database = "postgres") => `postgres://${user}:${password}@127.0.0.1:${port}/${database}`,
    createDatabase: () => createDatabaseAt(server.url()),
    kill: async () => {
      await exec("pg_ctl", ["stop", "-w", "-D", data, "-m", "immediate"]);
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      try {
        await exec("pg_ctl", ["stop", "-w", "-D", data, "-m", "fast"]);
      } catch {
        // already stopped (killed by the test)
      }
      await rm(dir, { recursive: true, force: true });
    },
    log: () => readFile(logFile, "utf8").catch(() => ""),
  };
  return server;
}

/** Creates a fresh database through an admin URL and returns the new database's URL. */
export async function createDatabaseAt(adminUrl: string): Promise<string> {
  const pg = (await import("pg")).default;
  const name = `tollgate_test_${randomBytes(6).toString("hex")}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * The server the tests share: .ci/run's (TOLLGATE_TEST_PG_URL) when there is one, else one started
 * here (stop it in after()).
 */
export async function sharedPostgres(): Promise<{ createDatabase: () => Promise<string>; stop: () => Promise<void>; adminUrl: string }> {
  const given = process.env.TOLLGATE_TEST_PG_URL;
  if (given) return { adminUrl: given, createDatabase: () => createDatabaseAt(given), stop: async () => undefined };
  const server = await startPostgres();
  return { adminUrl: server.url(), createDatabase: () => server.createDatabase(), stop: () => server.stop() };
}

/** Runs SQL as the admin (to inspect what the store wrote). */
export async function adminQuery<T = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const pg = (await import("pg")).default;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}
