import { userInfo } from "node:os";
import type { Client, ClientConfig, QueryResultRow } from "pg";
import { InputError, NetworkError, TollgateError } from "../errors.ts";
import { redactSecrets } from "../io/text.ts";
import { findingFingerprint, packageIdentity } from "./fingerprint.ts";
import { displayPostgresUrl, parsePostgresUrl, resolvePassword, tlsOptions, type PostgresLocation } from "./triage-pg-config.ts";
import { LATEST_SCHEMA_VERSION, MIGRATION_LOCK, MIGRATIONS, SCHEMA } from "./triage-pg-migrations.ts";
import {
  fingerprintPrefix,
  ISSUE_CLAIM_TTL_MS,
  pickByPrefix,
  type TriageEntry,
  type TriageFilter,
  type TriageInput,
  type TriageRun,
  type TriageRunResult,
  type TriageDump,
  type TriageStore,
  type TriageStoreOptions,
} from "./triage.ts";
import type { Severity, TriageStatus } from "../model/index.ts";

/**
 * The PostgreSQL triage store: one database shared by every CI runner of an organisation, through
 * node-postgres (one connection per store). Same contract as the SQLite store; what differs is how
 * concurrency is made safe across machines:
 *
 * - the schema is migrated under an advisory lock (`triage-pg-migrations.ts`);
 * - `recordRun` locks the (repository, target) row of `tollgate.scopes` FOR UPDATE, so the runs of one
 *   target are recorded one at a time: every run is in the history and every run count is exact;
 * - `claimIssue` is one conditional UPDATE … RETURNING, so exactly one run opens a finding's issue.
 *
 * Every statement has a time limit (`statement_timeout` on the server, `query_timeout` here) and the
 * connection one too (`connectionTimeoutMillis`); a connection that dies is an error of the next call,
 * never a crash. Error messages are one line and never carry the password.
 */

const DEFAULT_CONNECT_MS = 15_000;
const DEFAULT_STATEMENT_MS = 30_000;
/** A query's client-side limit is the server's plus this, so that the server's error comes first. */
const CLIENT_SLACK_MS = 5_000;

interface FindingRow {
  repository: string;
  fingerprint: string;
  vulnerability_id: string;
  aliases: string[];
  package: string;
  version: string | null;
  severity: string;
  fixed_versions: string[];
  summary: string | null;
  target: string;
  first_seen: Date;
  last_seen: Date;
  run_count: number;
  last_run_id: string;
  status: string;
  ack_reason: string | null;
  ack_at: Date | null;
  fixed_at: Date | null;
  issue_number: number | null;
  issue_url: string | null;
  issue_state: string | null;
}

interface RunRow {
  id: string;
  repository: string;
  target: string;
  at: Date;
  first_seen_count: number;
  recurring_count: number;
  reappeared_count: number;
  fixed_count: number;
}

const iso = (d: Date | string): string => (d instanceof Date ? d.toISOString() : new Date(d).toISOString());

function toEntry(r: FindingRow): TriageEntry {
  const e: TriageEntry = {
    repository: r.repository,
    fingerprint: r.fingerprint,
    vulnerabilityId: r.vulnerability_id,
    aliases: r.aliases,
    package: r.package,
    severity: r.severity as Severity,
    fixedVersions: r.fixed_versions,
    target: r.target,
    firstSeen: iso(r.first_seen),
    lastSeen: iso(r.last_seen),
    runCount: Number(r.run_count),
    status: r.status as TriageStatus,
  };
  if (r.version !== null) e.version = r.version;
  if (r.summary !== null) e.summary = r.summary;
  if (r.ack_reason !== null) e.ackReason = r.ack_reason;
  if (r.ack_at !== null) e.ackAt = iso(r.ack_at);
  if (r.fixed_at !== null) e.fixedAt = iso(r.fixed_at);
  if (r.issue_number !== null) e.issueNumber = Number(r.issue_number);
  if (r.issue_url !== null) e.issueUrl = r.issue_url;
  if (r.issue_state === "open" || r.issue_state === "closed") e.issueState = r.issue_state;
  return e;
}

function toRun(r: RunRow): TriageRun {
  return {
    id: Number(r.id),
    repository: r.repository,
    target: r.target,
    at: iso(r.at),
    firstSeen: r.first_seen_count,
    recurring: r.recurring_count,
    reappeared: r.reappeared_count,
    fixed: r.fixed_count,
  };
}

/** Entries in the order SQLite's `list` gives them (byte order, not the database's collation). */
function byVulnerability(a: TriageEntry, b: TriageEntry): number {
  const k = (e: TriageEntry) => [e.vulnerabilityId, e.package, e.repository, e.target];
  const [x, y] = [k(a), k(b)];
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return 0;
}

/** The PostgreSQL triage store (`postgres://…`). */
export class PostgresTriageStore implements TriageStore {
  readonly location: string;
  readonly repository: string;
  private readonly client: Client;
  private readonly secrets: string[];
  /** Set when the connection died between calls: the next call fails with it. */
  private broken: Error | undefined;
  private closed = false;

  private constructor(client: Client, location: string, repository: string, secrets: string[]) {
    this.client = client;
    this.location = location;
    this.repository = repository;
    this.secrets = secrets;
    // node-postgres emits 'error' on an idle connection that dies (the server restarted, the network
    // went): without a listener that would end the process; here it fails the next call instead.
    client.on("error", (e: Error) => {
      this.broken = e;
    });
  }

  /**
   * Connects, checks the schema version and applies pending migrations (under the advisory lock).
   * `create: false` refuses a database that has no triage store yet.
   */
  static async open(url: string, options: TriageStoreOptions = {}): Promise<PostgresTriageStore> {
    const env = options.env ?? process.env;
    const loc = parsePostgresUrl(url, env);
    const shown = displayPostgresUrl(loc);
    const user = loc.user ?? (env.PGUSER || userInfo().username);
    const password = await resolvePassword({ ...loc, user }, env, user);
    const secrets = [password, loc.password].filter((s): s is string => typeof s === "string");
    const connectMs = loc.connectTimeoutSeconds !== undefined ? loc.connectTimeoutSeconds * 1000 : (options.timeouts?.connectMs ?? DEFAULT_CONNECT_MS);
    const statementMs = options.timeouts?.statementMs ?? DEFAULT_STATEMENT_MS;
    const config: ClientConfig = {
      host: loc.host,
      port: loc.port,
      user,
      database: loc.database ?? (env.PGDATABASE || user),
      // A function, so that node-postgres never reads a pgpass file itself (resolvePassword did);
      // called only when the server asks for a password.
      password: async () => {
        if (password === undefined) throw new Error("the server asks for a password and none was given (the URL, PGPASSWORD or a pgpass file)");
        return password;
      },
      ssl: await tlsOptions(loc, env),
      connectionTimeoutMillis: connectMs,
      statement_timeout: statementMs,
      lock_timeout: statementMs,
      idle_in_transaction_session_timeout: Math.max(statementMs, options.timeouts?.idleMs ?? 0) + CLIENT_SLACK_MS,
      query_timeout: statementMs + CLIENT_SLACK_MS,
      application_name: loc.applicationName ?? "tollgate",
      keepAlive: true,
    };
    let PgClient: typeof Client;
    try {
      PgClient = (await import("pg")).default.Client;
    } catch (e) {
      throw new InputError(`a postgres:// triage store needs the pg package (node-postgres), which is not installed: ${(e as Error).message.split("\n")[0]}`);
    }
    const client = new PgClient(config);
    const store = new PostgresTriageStore(client, shown, options.repository ?? "", secrets);
    try {
      await client.connect().catch((e: unknown) => {
        throw store.error(e, "cannot connect");
      });
      await store.migrate(options.create !== false);
    } catch (e) {
      await store.close();
      throw e;
    }
    return store;
  }

  /** One line, no password, naming the store. */
  private error(e: unknown, doing: string): TollgateError {
    if (e instanceof TollgateError) return e;
    const err = e as { message?: string; code?: string };
    let msg = (err.message ?? String(e)).split("\n")[0]!;
    if (msg === "timeout expired") msg = "connection timed out";
    if (msg === "Query read timeout") msg = "the statement timed out";
    const code = typeof err.code === "string" && !msg.includes(err.code) ? ` (${err.code})` : "";
    // A role without DDL rights meets a schema that is not current: say who can bring it up to date.
    const hint = err.code === "42501" && /^(migration|cannot create the schema)/.test(doing) ? "; the schema's owner brings it up to date with `tollgate triage migrate --to URL`" : "";
    return new NetworkError(redactSecrets(`triage store ${this.location}: ${doing}: ${msg}${code}${hint}`, this.secrets), { cause: e });
  }

  private async q<R extends QueryResultRow>(sql: string, params: unknown[] = [], doing = "query failed"): Promise<R[]> {
    if (this.closed) throw new InputError(`triage store ${this.location}: used after close`);
    if (this.broken) throw this.error(this.broken, "the connection was lost");
    try {
      return (await this.client.query<R>(sql, params)).rows;
    } catch (e) {
      throw this.error(e, doing);
    }
  }

  private async tx<T>(fn: () => Promise<T>): Promise<T> {
    await this.q("BEGIN");
    try {
      const out = await fn();
      await this.q("COMMIT");
      return out;
    } catch (e) {
      try {
        if (!this.broken) await this.client.query("ROLLBACK");
      } catch {
        // the connection is gone: the server rolls back
      }
      throw e;
    }
  }

  private async schemaVersion(): Promise<number> {
    // pg_class read with the statement's snapshot (to_regclass may answer from a catalog cache that
    // has not yet seen the migration another runner just committed).
    const [t] = await this.q<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = $1 AND c.relname = 'schema_migrations'`,
      [SCHEMA],
      "cannot read the schema version",
    );
    if (!t?.n) return 0;
    const [v] = await this.q<{ v: number | null }>(`SELECT max(version) AS v FROM ${SCHEMA}.schema_migrations`, [], "cannot read the schema version");
    return v?.v ?? 0;
  }

  private async migrate(create: boolean): Promise<void> {
    const check = (v: number) => {
      if (v > LATEST_SCHEMA_VERSION) throw new InputError(`triage store ${this.location}: schema ${v} is newer than this tollgate understands (${LATEST_SCHEMA_VERSION})`);
    };
    const current = await this.schemaVersion();
    check(current);
    if (current === LATEST_SCHEMA_VERSION) return;
    if (current === 0 && !create) {
      throw new InputError(`triage store ${this.location}: no triage store in this database yet (tollgate check or tollgate triage migrate creates it)`, { code: "NOT_FOUND" });
    }
    await this.tx(async () => {
      // Runners that start together queue here; the first migrates, the others then find it done.
      await this.q("SELECT pg_advisory_xact_lock($1, $2)", [...MIGRATION_LOCK], "waiting for the migration lock");
      const version = await this.schemaVersion();
      check(version);
      if (version === 0) {
        // Created only when missing: a least-privilege role may own a schema made for it without
        // having CREATE on the database.
        const [ns] = await this.q<{ n: number }>("SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1", [SCHEMA]);
        if (!ns?.n) await this.q(`CREATE SCHEMA ${SCHEMA}`, [], "cannot create the schema");
        await this.q(
          `CREATE TABLE IF NOT EXISTS ${SCHEMA}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
          [],
          "cannot create the schema",
        );
      }
      for (const m of MIGRATIONS) {
        if (m.version <= version) continue;
        await this.q(m.sql, [], `migration ${m.version} (${m.name}) failed`);
        await this.q(`INSERT INTO ${SCHEMA}.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
      }
    });
  }

  async recordRun(target: string, inputs: readonly TriageInput[], at: Date, stillPresent: ReadonlySet<string> = new Set()): Promise<TriageRunResult> {
    const repo = this.repository;
    const result: TriageRunResult = { runId: 0, firstSeen: [], recurring: [], reappeared: [], fixed: [] };
    // The findings of this run, once each (the same package at two paths is one entry), in input order.
    const seen = new Map<string, TriageInput["finding"]>();
    for (const { finding } of inputs) {
      const fp = findingFingerprint(finding, target);
      if (!seen.has(fp)) seen.set(fp, finding);
    }
    const fps = [...seen.keys()];
    // Everything the statements need is built before the transaction: the scope's lock is held for
    // five round trips and the database's work, nothing else.
    const col = <T>(f: (x: TriageInput["finding"]) => T) => fps.map((fp) => f(seen.get(fp)!));
    const columns = [
      fps,
      col((f) => f.id),
      col((f) => JSON.stringify(f.aliases)),
      col((f) => packageIdentity(f)),
      col((f) => f.component.version ?? null),
      col((f) => f.severity.level),
      col((f) => JSON.stringify(f.fixedVersions)),
      col((f) => f.summary ?? null),
    ];
    type Upserted = FindingRow & { prior_run_id: string | null; prior_status: string | null };
    const { rows, fixed } = await this.tx(async () => {
      // The scope's row lock (ON CONFLICT DO UPDATE locks the row, new or not): runs of one repository
      // and target are recorded one at a time. It returns the scope's previous run.
      const [scope] = await this.q<{ last_run_id: string }>(
        `INSERT INTO ${SCHEMA}.scopes AS s (repository, target) VALUES ($1, $2)
         ON CONFLICT (repository, target) DO UPDATE SET last_run_id = s.last_run_id RETURNING last_run_id`,
        [repo, target],
        "cannot record the run",
      );
      const prevRunId = scope!.last_run_id;
      const [run] = await this.q<{ id: string }>(`INSERT INTO ${SCHEMA}.runs (repository, target, at) VALUES ($1, $2, $3) RETURNING id`, [repo, target, at], "cannot record the run");
      const runId = run!.id;
      // Upsert the findings seen; `before` reads them as they were when the statement started.
      const upserted =
        fps.length === 0
          ? []
          : await this.q<Upserted>(
              `WITH before AS (
                 SELECT fingerprint, last_run_id, status FROM ${SCHEMA}.findings WHERE repository = $1 AND fingerprint = ANY($5::text[])
               ), up AS (
                 INSERT INTO ${SCHEMA}.findings AS f (repository, fingerprint, vulnerability_id, aliases, package, version, severity, fixed_versions, summary, target,
                     first_seen, last_seen, run_count, last_run_id, status)
                 SELECT $1, u.fp, u.vid, u.aliases::jsonb, u.pkg, u.ver, u.sev, u.fixed::jsonb, u.summary, $2, $3, $3, 1, $4, 'new'
                 FROM unnest($5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[]) AS u(fp, vid, aliases, pkg, ver, sev, fixed, summary)
                 ON CONFLICT (repository, fingerprint) DO UPDATE SET aliases = EXCLUDED.aliases, version = EXCLUDED.version, severity = EXCLUDED.severity,
                   fixed_versions = EXCLUDED.fixed_versions, summary = EXCLUDED.summary, last_seen = EXCLUDED.last_seen, run_count = f.run_count + 1,
                   last_run_id = EXCLUDED.last_run_id, status = CASE WHEN f.status = 'fixed' THEN 'new' ELSE f.status END, fixed_at = NULL
                 RETURNING f.*
               )
               SELECT up.*, before.last_run_id AS prior_run_id, before.status AS prior_status FROM up LEFT JOIN before USING (fingerprint)`,
              [repo, target, at, runId, ...columns],
              "cannot record the run",
            );
      let firstSeen = 0;
      let recurring = 0;
      for (const r of upserted) {
        if (r.prior_run_id === null) firstSeen++;
        else if (r.prior_run_id === prevRunId && r.prior_status !== "fixed") recurring++;
      }
      // Not seen in this run (and not still present): fixed. Then the scope's latest run and the run's counts.
      const gone = await this.q<FindingRow>(
        `WITH gone AS (
           UPDATE ${SCHEMA}.findings SET status = 'fixed', fixed_at = $3
           WHERE repository = $1 AND target = $2 AND status <> 'fixed' AND last_run_id <> $4 AND NOT (fingerprint = ANY($5::text[]))
           RETURNING *
         ), scope AS (
           UPDATE ${SCHEMA}.scopes SET last_run_id = $4 WHERE repository = $1 AND target = $2
         ), counts AS (
           UPDATE ${SCHEMA}.runs SET first_seen_count = $6, recurring_count = $7, reappeared_count = $8, fixed_count = (SELECT count(*) FROM gone) WHERE id = $4
         )
         SELECT * FROM gone`,
        [repo, target, at, runId, [...stillPresent], firstSeen, recurring, upserted.length - firstSeen - recurring],
        "cannot record the run",
      );
      result.runId = Number(runId);
      return { rows: upserted.map((r) => ({ row: r, prevRunId })), fixed: gone };
    });
    const byFp = new Map(rows.map((r) => [r.row.fingerprint, r]));
    for (const fp of fps) {
      const { row, prevRunId } = byFp.get(fp)!;
      const entry = toEntry(row);
      if (row.prior_run_id === null) result.firstSeen.push(entry);
      else if (row.prior_run_id === prevRunId && row.prior_status !== "fixed") result.recurring.push(entry);
      else result.reappeared.push(entry);
    }
    result.fixed = fixed.map(toEntry).sort(byVulnerability);
    return result;
  }

  async list(filter: TriageFilter = {}): Promise<TriageEntry[]> {
    const where: string[] = [];
    const args: string[] = [];
    const add = (col: string, v: string) => {
      args.push(v);
      where.push(`${col} = $${args.length}`);
    };
    if (filter.status) add("status", filter.status);
    if (filter.target) add("target", filter.target);
    if (filter.repository !== undefined) add("repository", filter.repository);
    const rows = await this.q<FindingRow>(
      `SELECT * FROM ${SCHEMA}.findings${where.length ? ` WHERE ${where.join(" AND ")}` : ""}
       ORDER BY last_seen DESC, vulnerability_id COLLATE "C", package COLLATE "C", repository COLLATE "C", target COLLATE "C"`,
      args,
      "cannot list the findings",
    );
    return rows.map(toEntry);
  }

  async runs(filter: { repository?: string; target?: string } = {}): Promise<TriageRun[]> {
    const where: string[] = [];
    const args: string[] = [];
    if (filter.repository !== undefined) {
      args.push(filter.repository);
      where.push(`repository = $${args.length}`);
    }
    if (filter.target !== undefined) {
      args.push(filter.target);
      where.push(`target = $${args.length}`);
    }
    const rows = await this.q<RunRow>(`SELECT * FROM ${SCHEMA}.runs${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY id`, args, "cannot list the runs");
    return rows.map(toRun);
  }

  async get(idOrPrefix: string, scope: { repository?: string } = {}): Promise<TriageEntry | undefined> {
    const id = fingerprintPrefix(idOrPrefix);
    const rows =
      scope.repository !== undefined
        ? await this.q<FindingRow>(`SELECT * FROM ${SCHEMA}.findings WHERE fingerprint LIKE $1 AND repository = $2 LIMIT 3`, [`${id}%`, scope.repository])
        : await this.q<FindingRow>(`SELECT * FROM ${SCHEMA}.findings WHERE fingerprint LIKE $1 LIMIT 3`, [`${id}%`]);
    return pickByPrefix(idOrPrefix, rows.map(toEntry));
  }

  async acknowledge(idOrPrefix: string, reason: string, at: Date, scope: { repository?: string } = {}): Promise<TriageEntry> {
    const entry = await this.get(idOrPrefix, scope);
    if (!entry) throw new InputError(`${idOrPrefix}: no such finding in the triage store`);
    const [row] = await this.q<FindingRow>(
      `UPDATE ${SCHEMA}.findings SET status = 'acknowledged', ack_reason = $3, ack_at = $4 WHERE repository = $1 AND fingerprint = $2 RETURNING *`,
      [entry.repository, entry.fingerprint, reason, at],
      "cannot acknowledge the finding",
    );
    return toEntry(row!);
  }

  async setIssue(fingerprint: string, issue: { number: number; url?: string; state: "open" | "closed" }): Promise<void> {
    await this.q(
      `UPDATE ${SCHEMA}.findings SET issue_number = $3, issue_url = $4, issue_state = $5, issue_claim = NULL, issue_claimed_at = NULL
       WHERE repository = $1 AND fingerprint = $2`,
      [this.repository, fingerprint, issue.number, issue.url ?? null, issue.state],
      "cannot record the issue",
    );
  }

  async claimIssue(fingerprint: string, claimant: string): Promise<boolean> {
    // One conditional UPDATE: a concurrent claimer waits for this row's lock, then re-checks the
    // condition on the committed row and finds it claimed (READ COMMITTED's re-check).
    const rows = await this.q(
      `UPDATE ${SCHEMA}.findings SET issue_claim = $3, issue_claimed_at = clock_timestamp()
       WHERE repository = $1 AND fingerprint = $2 AND issue_number IS NULL
         AND (issue_claim IS NULL OR issue_claimed_at < clock_timestamp() - make_interval(secs => $4))
       RETURNING fingerprint`,
      [this.repository, fingerprint, claimant, ISSUE_CLAIM_TTL_MS / 1000],
      "cannot claim the issue",
    );
    return rows.length === 1;
  }

  async releaseIssueClaim(fingerprint: string, claimant: string): Promise<void> {
    await this.q(
      `UPDATE ${SCHEMA}.findings SET issue_claim = NULL, issue_claimed_at = NULL WHERE repository = $1 AND fingerprint = $2 AND issue_claim = $3`,
      [this.repository, fingerprint, claimant],
      "cannot release the issue claim",
    );
  }

  /** The schema version of the open store (after its migrations). */
  async schema(): Promise<number> {
    return this.schemaVersion();
  }

  /**
   * Copies a dump of another store in, in one transaction: runs not already there (same repository,
   * target and time) are added to the history; findings the destination already has are kept as they
   * are. `repository` names the findings and runs the source recorded without one.
   */
  async importDump(dump: TriageDump, repository = ""): Promise<{ findings: number; runs: number; findingsKept: number; runsKept: number }> {
    const repoOf = (r: string) => r || repository;
    return this.tx(async () => {
      const runIds = new Map<number, string>();
      let runs = 0;
      for (const r of dump.runs) {
        const repo = repoOf(r.repository);
        const [added] = await this.q<{ id: string }>(
          `INSERT INTO ${SCHEMA}.runs (repository, target, at, first_seen_count, recurring_count, reappeared_count, fixed_count)
           SELECT $1, $2, $3, $4, $5, $6, $7
           WHERE NOT EXISTS (SELECT 1 FROM ${SCHEMA}.runs WHERE repository = $1 AND target = $2 AND at = $3)
           RETURNING id`,
          [repo, r.target, r.at, r.firstSeen, r.recurring, r.reappeared, r.fixed],
          "cannot copy the runs",
        );
        if (added) {
          runs++;
          runIds.set(r.id, added.id);
        } else {
          const [had] = await this.q<{ id: string }>(`SELECT min(id) AS id FROM ${SCHEMA}.runs WHERE repository = $1 AND target = $2 AND at = $3`, [repo, r.target, r.at]);
          runIds.set(r.id, had!.id);
        }
      }
      // Each scope's latest run, so that the next recordRun tells recurring from reappeared.
      const latest = new Map<string, { repository: string; target: string; id: string }>();
      for (const r of dump.runs) {
        const repo = repoOf(r.repository);
        const id = runIds.get(r.id)!;
        const k = JSON.stringify([repo, r.target]);
        const cur = latest.get(k);
        if (!cur || BigInt(id) > BigInt(cur.id)) latest.set(k, { repository: repo, target: r.target, id });
      }
      for (const l of latest.values()) {
        await this.q(
          `INSERT INTO ${SCHEMA}.scopes (repository, target, last_run_id) VALUES ($1, $2, $3)
           ON CONFLICT (repository, target) DO UPDATE SET last_run_id = greatest(${SCHEMA}.scopes.last_run_id, EXCLUDED.last_run_id)`,
          [l.repository, l.target, l.id],
          "cannot copy the runs",
        );
      }
      let findings = 0;
      const BATCH = 500;
      for (let i = 0; i < dump.findings.length; i += BATCH) {
        const rows = dump.findings.slice(i, i + BATCH).map((e) => ({
          repository: repoOf(e.repository),
          fingerprint: e.fingerprint,
          vulnerability_id: e.vulnerabilityId,
          aliases: e.aliases,
          package: e.package,
          version: e.version ?? null,
          severity: e.severity,
          fixed_versions: e.fixedVersions,
          summary: e.summary ?? null,
          target: e.target,
          first_seen: e.firstSeen,
          last_seen: e.lastSeen,
          run_count: e.runCount,
          last_run_id: runIds.get(e.lastRunId) ?? "0",
          status: e.status,
          ack_reason: e.ackReason ?? null,
          ack_at: e.ackAt ?? null,
          fixed_at: e.fixedAt ?? null,
          issue_number: e.issueNumber ?? null,
          issue_url: e.issueUrl ?? null,
          issue_state: e.issueState ?? null,
        }));
        const added = await this.q(
          `INSERT INTO ${SCHEMA}.findings (repository, fingerprint, vulnerability_id, aliases, package, version, severity, fixed_versions, summary, target,
              first_seen, last_seen, run_count, last_run_id, status, ack_reason, ack_at, fixed_at, issue_number, issue_url, issue_state)
           SELECT repository, fingerprint, vulnerability_id, aliases, package, version, severity, fixed_versions, summary, target,
              first_seen, last_seen, run_count, last_run_id, status, ack_reason, ack_at, fixed_at, issue_number, issue_url, issue_state
           FROM jsonb_to_recordset($1::jsonb) AS x(repository text, fingerprint text, vulnerability_id text, aliases jsonb, package text, version text,
              severity text, fixed_versions jsonb, summary text, target text, first_seen timestamptz, last_seen timestamptz, run_count integer,
              last_run_id bigint, status text, ack_reason text, ack_at timestamptz, fixed_at timestamptz, issue_number integer, issue_url text, issue_state text)
           ON CONFLICT DO NOTHING
           RETURNING fingerprint`,
          [JSON.stringify(rows)],
          "cannot copy the findings",
        );
        findings += added.length;
      }
      return { findings, runs, findingsKept: dump.findings.length - findings, runsKept: dump.runs.length - runs };
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A connection whose peer vanished may never answer the goodbye: wait a moment, not forever.
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([this.client.end(), new Promise<void>((r) => (timer = setTimeout(r, 2_000).unref()))]);
    } catch {
      // a dead connection: nothing to close
    } finally {
      clearTimeout(timer);
    }
  }
}

export type { PostgresLocation };
