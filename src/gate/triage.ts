import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, isAbsolute, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { InputError } from "../errors.ts";
import type { Finding, Severity, TriageStatus } from "../model/index.ts";
import { findingFingerprint, packageIdentity } from "./fingerprint.ts";

/**
 * The triage store: findings below the fail threshold, remembered across runs. Keyed by repository
 * and a stable fingerprint (vulnerability + package identity + target); first seen, last seen, run
 * count and a status (new, acknowledged, fixed), the run history, and the GitHub issue opened for a
 * finding. The `TriageStore` interface is what the gate and the CLI use; `openTriageStore` picks the
 * backend from the location: a file path is SQLite (one machine, a file CI can cache), a
 * `postgres://` URL is PostgreSQL (`triage-postgres.ts`: one store shared by every CI runner of an
 * organisation). Both implement the same contract (test/gate/triage-contract.test.ts runs on both).
 */

export interface TriageEntry {
  /** The repository the finding was recorded under (`owner/name`), `""` when the run named none. */
  repository: string;
  fingerprint: string;
  vulnerabilityId: string;
  aliases: string[];
  /** Package identity (purl without version). */
  package: string;
  /** The version seen most recently. */
  version?: string;
  severity: Severity;
  fixedVersions: string[];
  summary?: string;
  target: string;
  firstSeen: string;
  lastSeen: string;
  /** Runs of this target in which it was seen. */
  runCount: number;
  status: TriageStatus;
  ackReason?: string;
  ackAt?: string;
  fixedAt?: string;
  /** The GitHub issue opened for it, when there is one. */
  issueNumber?: number;
  issueUrl?: string;
  issueState?: "open" | "closed";
}

/** One finding routed to triage in a run. */
export interface TriageInput {
  finding: Finding;
}

/** What a run did to the store. */
export interface TriageRunResult {
  runId: number;
  /** Entries seen for the first time. */
  firstSeen: TriageEntry[];
  /** Entries seen in this run and in the run before it. */
  recurring: TriageEntry[];
  /** Entries seen again after one or more runs without them (including ones that had been fixed). */
  reappeared: TriageEntry[];
  /** Entries not seen in this run: marked fixed now. */
  fixed: TriageEntry[];
}

/** Which entries `list` returns (all when empty). */
export interface TriageFilter {
  status?: TriageStatus;
  target?: string;
  repository?: string;
}

/** One run in the store's history. */
export interface TriageRun {
  id: number;
  repository: string;
  target: string;
  /** The run's time (ISO 8601). */
  at: string;
  firstSeen: number;
  recurring: number;
  reappeared: number;
  fixed: number;
}

/** How an open store is scoped and reached. */
export interface TriageStoreOptions {
  /** false: fail with NOT_FOUND when there is no store yet (the `triage` commands) instead of creating one. */
  create?: boolean;
  /** The repository runs are recorded under (`owner/name`); `""` (default) when there is none. */
  repository?: string;
  /** Environment for the PostgreSQL password and TLS settings (PGPASSWORD, PGSSLMODE…); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Time limits of the PostgreSQL connection and of each statement, ms (from the `timeouts:` config). */
  timeouts?: { connectMs?: number; statementMs?: number; idleMs?: number };
}

/** Whether a triage store location names a PostgreSQL database (`postgres://` or `postgresql://`). */
export function isPostgresLocation(location: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(location);
}

/** How long an issue claim holds before another run may take it over (its holder died). */
export const ISSUE_CLAIM_TTL_MS = 10 * 60_000;

export interface TriageStore {
  /** Where the store is, fit to print (a path, or a URL without its password). */
  readonly location: string;
  /** The repository this store records runs under (`""` when none). */
  readonly repository: string;
  /**
   * Records one run of a target: upserts the findings seen, marks the ones not seen as fixed, and adds
   * the run to the history. Runs of one repository and target are serialised, so concurrent runs
   * each count once. `stillPresent` lists fingerprints of findings that are there but not triaged in
   * this run (waived, suppressed by VEX, or now failing): they are left as they are, not marked fixed.
   */
  recordRun(target: string, inputs: readonly TriageInput[], at: Date, stillPresent?: ReadonlySet<string>): Promise<TriageRunResult>;
  list(filter?: TriageFilter): Promise<TriageEntry[]>;
  /** The run history, oldest first. */
  runs(filter?: { repository?: string; target?: string }): Promise<TriageRun[]>;
  /**
   * An entry by full fingerprint or a unique prefix (at least 6 hex digits), in any repository unless
   * `repository` is given; a prefix found in several repositories is an error asking for one.
   */
  get(idOrPrefix: string, scope?: { repository?: string }): Promise<TriageEntry | undefined>;
  acknowledge(idOrPrefix: string, reason: string, at: Date, scope?: { repository?: string }): Promise<TriageEntry>;
  /** Records the GitHub issue of a finding of this store's repository (and drops any claim on it). */
  setIssue(fingerprint: string, issue: { number: number; url?: string; state: "open" | "closed" }): Promise<void>;
  /**
   * Claims the opening of a finding's issue for `claimant`, atomically: true for exactly one caller
   * while the finding has no issue and no live claim (a claim older than ISSUE_CLAIM_TTL_MS is dead).
   * This is what keeps concurrent runs from opening the same issue twice.
   */
  claimIssue(fingerprint: string, claimant: string): Promise<boolean>;
  /** Gives up a claim that did not lead to an issue (the API call failed), so a later run can try. */
  releaseIssueClaim(fingerprint: string, claimant: string): Promise<void>;
  close(): Promise<void>;
}

const SCHEMA_VERSION = 2;

/** How long a writer waits for another process's transaction on the store. */
const BUSY_TIMEOUT_MS = 15_000;

interface Row {
  repository: string;
  fingerprint: string;
  vulnerability_id: string;
  aliases: string;
  package: string;
  version: string | null;
  severity: string;
  fixed_versions: string;
  summary: string | null;
  target: string;
  first_seen: string;
  last_seen: string;
  run_count: number;
  last_run_id: number;
  status: string;
  ack_reason: string | null;
  ack_at: string | null;
  fixed_at: string | null;
  issue_number: number | null;
  issue_url: string | null;
  issue_state: string | null;
}

function toEntry(r: Row): TriageEntry {
  const e: TriageEntry = {
    repository: r.repository,
    fingerprint: r.fingerprint,
    vulnerabilityId: r.vulnerability_id,
    aliases: JSON.parse(r.aliases) as string[],
    package: r.package,
    severity: r.severity as Severity,
    fixedVersions: JSON.parse(r.fixed_versions) as string[],
    target: r.target,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
    runCount: r.run_count,
    status: r.status as TriageStatus,
  };
  if (r.version !== null) e.version = r.version;
  if (r.summary !== null) e.summary = r.summary;
  if (r.ack_reason !== null) e.ackReason = r.ack_reason;
  if (r.ack_at !== null) e.ackAt = r.ack_at;
  if (r.fixed_at !== null) e.fixedAt = r.fixed_at;
  if (r.issue_number !== null) e.issueNumber = r.issue_number;
  if (r.issue_url !== null) e.issueUrl = r.issue_url;
  if (r.issue_state === "open" || r.issue_state === "closed") e.issueState = r.issue_state;
  return e;
}

/** The fingerprint or prefix of `triage ack`, lower-cased; an error for anything else. */
export function fingerprintPrefix(idOrPrefix: string): string {
  const id = idOrPrefix.toLowerCase();
  if (!/^[0-9a-f]{6,64}$/.test(id)) throw new InputError(`${idOrPrefix}: expected a fingerprint (at least 6 hex digits)`);
  return id;
}

/** The one entry a prefix names among the (at most a few) rows that start with it. */
export function pickByPrefix(idOrPrefix: string, found: readonly TriageEntry[]): TriageEntry | undefined {
  if (found.length === 0) return undefined;
  const fps = new Set(found.map((e) => e.fingerprint));
  if (fps.size > 1) throw new InputError(`${idOrPrefix}: more than one finding has this prefix; give more digits`);
  if (found.length > 1) {
    const repos = found.map((e) => e.repository || '""').sort().join(", ");
    throw new InputError(`${idOrPrefix}: this finding is in more than one repository (${repos}); give --repository`);
  }
  return found[0];
}

/** The SQLite triage store (node:sqlite; one file that CI can cache). */
export class SqliteTriageStore implements TriageStore {
  private readonly db: DatabaseSync;
  readonly location: string;
  readonly repository: string;

  private constructor(db: DatabaseSync, location: string, repository: string) {
    this.db = db;
    this.location = location;
    this.repository = repository;
  }

  static async open(path: string, options: TriageStoreOptions = {}): Promise<SqliteTriageStore> {
    if (path !== ":memory:" && options.create === false && !existsSync(path)) {
      throw new InputError("no triage store here yet (tollgate check creates it)", { file: path, code: "NOT_FOUND" });
    }
    if (path !== ":memory:") await mkdir(dirname(path), { recursive: true });
    let db: DatabaseSync;
    try {
      // busy_timeout first: switching a new file to WAL takes a lock that parallel openers (a CI
      // matrix sharing one cached store) must wait for, not fail on.
      db = new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS });
      db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.exec("PRAGMA journal_mode = WAL");
    } catch (e) {
      throw new InputError(`cannot open the triage store: ${(e as Error).message}`, { file: path });
    }
    const store = new SqliteTriageStore(db, path, options.repository ?? "");
    try {
      store.migrate(path);
      store.adoptUnnamed();
    } catch (e) {
      db.close();
      if (e instanceof InputError) throw e;
      throw new InputError(`cannot open the triage store: ${(e as Error).message}`, { file: path });
    }
    return store;
  }

  private migrate(path: string): void {
    const userVersion = () => (this.db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version;
    const check = (version: number) => {
      if (version > SCHEMA_VERSION) {
        throw new InputError(`triage store schema ${version} is newer than this tollgate understands (${SCHEMA_VERSION})`, { file: path });
      }
    };
    const current = userVersion();
    check(current);
    if (current === SCHEMA_VERSION) return;
    // One process migrates; the others wait for its transaction and then see the new version.
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const version = userVersion();
      check(version);
      if (version < 1) this.migrateTo1();
      if (version < 2) this.migrateTo2();
      this.db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
      this.db.exec("COMMIT");
    } catch (e) {
      this.db.exec("ROLLBACK");
      throw e;
    }
  }

  /**
   * A store written before runs named their repository (schema 1, or runs without one) belongs to the
   * repository that first opens it with a name, as long as no run has named another: a cached CI
   * store keeps its counts, acknowledgements and issue links across the upgrade.
   */
  private adoptUnnamed(): void {
    if (this.repository === "") return;
    if (this.db.prepare("SELECT 1 FROM runs WHERE repository != '' LIMIT 1").get() !== undefined) return;
    if (this.db.prepare("SELECT 1 FROM runs WHERE repository = '' LIMIT 1").get() === undefined) return;
    this.db.exec("BEGIN IMMEDIATE");
    try {
      if (this.db.prepare("SELECT 1 FROM runs WHERE repository != '' LIMIT 1").get() === undefined) {
        this.db.prepare("UPDATE runs SET repository = ? WHERE repository = ''").run(this.repository);
        this.db.prepare("UPDATE findings SET repository = ? WHERE repository = ''").run(this.repository);
      }
      this.db.exec("COMMIT");
    } catch (e) {
      this.db.exec("ROLLBACK");
      throw e;
    }
  }

  /** Schema 1: findings keyed by fingerprint, runs by target. */
  private migrateTo1(): void {
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        target TEXT NOT NULL,
        at TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS findings (
        fingerprint TEXT PRIMARY KEY,
        vulnerability_id TEXT NOT NULL,
        aliases TEXT NOT NULL,
        package TEXT NOT NULL,
        version TEXT,
        severity TEXT NOT NULL,
        fixed_versions TEXT NOT NULL,
        summary TEXT,
        target TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        run_count INTEGER NOT NULL,
        last_run_id INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('new', 'acknowledged', 'fixed')),
        ack_reason TEXT,
        ack_at TEXT,
        fixed_at TEXT,
        issue_number INTEGER,
        issue_url TEXT,
        issue_state TEXT
      );
      CREATE INDEX IF NOT EXISTS findings_target ON findings (target, status);
    `);
  }

  /**
   * Schema 2: the repository in every key (a store shared by several repositories), the run's
   * counts in the history, and the issue claim that keeps concurrent runs from opening an issue twice.
   */
  private migrateTo2(): void {
    this.db.exec(`
      ALTER TABLE runs ADD COLUMN repository TEXT NOT NULL DEFAULT '';
      ALTER TABLE runs ADD COLUMN first_seen_count INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE runs ADD COLUMN recurring_count INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE runs ADD COLUMN reappeared_count INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE runs ADD COLUMN fixed_count INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX runs_scope ON runs (repository, target, id);
      CREATE TABLE findings_v2 (
        repository TEXT NOT NULL DEFAULT '',
        fingerprint TEXT NOT NULL,
        vulnerability_id TEXT NOT NULL,
        aliases TEXT NOT NULL,
        package TEXT NOT NULL,
        version TEXT,
        severity TEXT NOT NULL,
        fixed_versions TEXT NOT NULL,
        summary TEXT,
        target TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        run_count INTEGER NOT NULL,
        last_run_id INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('new', 'acknowledged', 'fixed')),
        ack_reason TEXT,
        ack_at TEXT,
        fixed_at TEXT,
        issue_number INTEGER,
        issue_url TEXT,
        issue_state TEXT,
        issue_claim TEXT,
        issue_claimed_at INTEGER,
        PRIMARY KEY (repository, fingerprint)
      );
      INSERT INTO findings_v2 (repository, fingerprint, vulnerability_id, aliases, package, version, severity, fixed_versions, summary, target,
          first_seen, last_seen, run_count, last_run_id, status, ack_reason, ack_at, fixed_at, issue_number, issue_url, issue_state)
        SELECT '', fingerprint, vulnerability_id, aliases, package, version, severity, fixed_versions, summary, target,
          first_seen, last_seen, run_count, last_run_id, status, ack_reason, ack_at, fixed_at, issue_number, issue_url, issue_state FROM findings;
      DROP TABLE findings;
      ALTER TABLE findings_v2 RENAME TO findings;
      CREATE INDEX findings_scope ON findings (repository, target, status);
      CREATE INDEX findings_fingerprint ON findings (fingerprint);
    `);
  }

  async recordRun(target: string, inputs: readonly TriageInput[], at: Date, stillPresent: ReadonlySet<string> = new Set()): Promise<TriageRunResult> {
    const now = at.toISOString();
    const repo = this.repository;
    const result: TriageRunResult = { runId: 0, firstSeen: [], recurring: [], reappeared: [], fixed: [] };
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const prev = this.db.prepare("SELECT max(id) AS id FROM runs WHERE repository = ? AND target = ?").get(repo, target) as { id: number | null };
      const prevRunId = prev.id ?? 0;
      const runId = Number(this.db.prepare("INSERT INTO runs (repository, target, at) VALUES (?, ?, ?)").run(repo, target, now).lastInsertRowid);
      result.runId = runId;
      const select = this.db.prepare("SELECT * FROM findings WHERE repository = ? AND fingerprint = ?");
      const insert = this.db.prepare(
        `INSERT INTO findings (repository, fingerprint, vulnerability_id, aliases, package, version, severity, fixed_versions, summary, target,
           first_seen, last_seen, run_count, last_run_id, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, 'new')`,
      );
      const update = this.db.prepare(
        `UPDATE findings SET aliases = ?, version = ?, severity = ?, fixed_versions = ?, summary = ?, last_seen = ?,
           run_count = run_count + 1, last_run_id = ?, status = CASE WHEN status = 'fixed' THEN 'new' ELSE status END, fixed_at = NULL
         WHERE repository = ? AND fingerprint = ?`,
      );
      const seen = new Set<string>();
      for (const { finding: f } of inputs) {
        const fp = findingFingerprint(f, target);
        if (seen.has(fp)) continue; // the same package at two paths: one entry
        seen.add(fp);
        const existing = select.get(repo, fp) as Row | undefined;
        const aliases = JSON.stringify(f.aliases);
        const fixed = JSON.stringify(f.fixedVersions);
        if (!existing) {
          insert.run(repo, fp, f.id, aliases, packageIdentity(f), f.component.version ?? null, f.severity.level, fixed, f.summary ?? null, target, now, now, runId);
          result.firstSeen.push(toEntry(select.get(repo, fp) as unknown as Row));
          continue;
        }
        update.run(aliases, f.component.version ?? null, f.severity.level, fixed, f.summary ?? null, now, runId, repo, fp);
        const entry = toEntry(select.get(repo, fp) as unknown as Row);
        if (existing.last_run_id === prevRunId && existing.status !== "fixed") result.recurring.push(entry);
        else result.reappeared.push(entry);
      }
      const stale = this.db.prepare("SELECT * FROM findings WHERE repository = ? AND target = ? AND status != 'fixed' AND last_run_id < ?").all(repo, target, runId) as unknown as Row[];
      const markFixed = this.db.prepare("UPDATE findings SET status = 'fixed', fixed_at = ? WHERE repository = ? AND fingerprint = ?");
      for (const r of stale) {
        if (stillPresent.has(r.fingerprint)) continue;
        markFixed.run(now, repo, r.fingerprint);
        result.fixed.push(toEntry(select.get(repo, r.fingerprint) as unknown as Row));
      }
      this.db
        .prepare("UPDATE runs SET first_seen_count = ?, recurring_count = ?, reappeared_count = ?, fixed_count = ? WHERE id = ?")
        .run(result.firstSeen.length, result.recurring.length, result.reappeared.length, result.fixed.length, runId);
      this.db.exec("COMMIT");
    } catch (e) {
      this.db.exec("ROLLBACK");
      throw e;
    }
    return result;
  }

  async list(filter: TriageFilter = {}): Promise<TriageEntry[]> {
    const where: string[] = [];
    const args: string[] = [];
    if (filter.status) {
      where.push("status = ?");
      args.push(filter.status);
    }
    if (filter.target) {
      where.push("target = ?");
      args.push(filter.target);
    }
    if (filter.repository !== undefined) {
      where.push("repository = ?");
      args.push(filter.repository);
    }
    const sql = `SELECT * FROM findings${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY last_seen DESC, vulnerability_id, package, repository, target`;
    return (this.db.prepare(sql).all(...args) as unknown as Row[]).map(toEntry);
  }

  async runs(filter: { repository?: string; target?: string } = {}): Promise<TriageRun[]> {
    const where: string[] = [];
    const args: string[] = [];
    if (filter.repository !== undefined) {
      where.push("repository = ?");
      args.push(filter.repository);
    }
    if (filter.target !== undefined) {
      where.push("target = ?");
      args.push(filter.target);
    }
    const rows = this.db.prepare(`SELECT * FROM runs${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY id`).all(...args) as unknown as RunRow[];
    return rows.map(toRun);
  }

  async get(idOrPrefix: string, scope: { repository?: string } = {}): Promise<TriageEntry | undefined> {
    const id = fingerprintPrefix(idOrPrefix);
    const rows = (
      scope.repository !== undefined
        ? this.db.prepare("SELECT * FROM findings WHERE substr(fingerprint, 1, ?) = ? AND repository = ? LIMIT 3").all(id.length, id, scope.repository)
        : this.db.prepare("SELECT * FROM findings WHERE substr(fingerprint, 1, ?) = ? LIMIT 3").all(id.length, id)
    ) as unknown as Row[];
    return pickByPrefix(idOrPrefix, rows.map(toEntry));
  }

  async acknowledge(idOrPrefix: string, reason: string, at: Date, scope: { repository?: string } = {}): Promise<TriageEntry> {
    const entry = await this.get(idOrPrefix, scope);
    if (!entry) throw new InputError(`${idOrPrefix}: no such finding in the triage store`);
    this.db
      .prepare("UPDATE findings SET status = 'acknowledged', ack_reason = ?, ack_at = ? WHERE repository = ? AND fingerprint = ?")
      .run(reason, at.toISOString(), entry.repository, entry.fingerprint);
    return (await this.get(entry.fingerprint, { repository: entry.repository }))!;
  }

  async setIssue(fingerprint: string, issue: { number: number; url?: string; state: "open" | "closed" }): Promise<void> {
    this.db
      .prepare("UPDATE findings SET issue_number = ?, issue_url = ?, issue_state = ?, issue_claim = NULL, issue_claimed_at = NULL WHERE repository = ? AND fingerprint = ?")
      .run(issue.number, issue.url ?? null, issue.state, this.repository, fingerprint);
  }

  async claimIssue(fingerprint: string, claimant: string): Promise<boolean> {
    // One statement: SQLite runs it under the database's write lock, so exactly one caller changes the row.
    const now = Date.now();
    const r = this.db
      .prepare(
        `UPDATE findings SET issue_claim = ?, issue_claimed_at = ?
         WHERE repository = ? AND fingerprint = ? AND issue_number IS NULL AND (issue_claim IS NULL OR issue_claimed_at < ?)`,
      )
      .run(claimant, now, this.repository, fingerprint, now - ISSUE_CLAIM_TTL_MS);
    return Number(r.changes) === 1;
  }

  async releaseIssueClaim(fingerprint: string, claimant: string): Promise<void> {
    this.db
      .prepare("UPDATE findings SET issue_claim = NULL, issue_claimed_at = NULL WHERE repository = ? AND fingerprint = ? AND issue_claim = ?")
      .run(this.repository, fingerprint, claimant);
  }

  /** Everything in the store, for `tollgate triage migrate` (findings with the run that last saw them). */
  async dump(): Promise<TriageDump> {
    const rows = this.db.prepare("SELECT * FROM findings ORDER BY repository, fingerprint").all() as unknown as Row[];
    return { findings: rows.map((r) => ({ ...toEntry(r), lastRunId: Number(r.last_run_id) })), runs: await this.runs() };
  }

  async close(): Promise<void> {
    if (this.db.isOpen) this.db.close();
  }
}

/** A whole store's contents (`SqliteTriageStore.dump`). */
export interface TriageDump {
  findings: (TriageEntry & { lastRunId: number })[];
  runs: TriageRun[];
}

interface RunRow {
  id: number;
  repository: string;
  target: string;
  at: string;
  first_seen_count: number;
  recurring_count: number;
  reappeared_count: number;
  fixed_count: number;
}

function toRun(r: RunRow): TriageRun {
  return {
    id: Number(r.id),
    repository: r.repository,
    target: r.target,
    at: r.at,
    firstSeen: Number(r.first_seen_count),
    recurring: Number(r.recurring_count),
    reappeared: Number(r.reappeared_count),
    fixed: Number(r.fixed_count),
  };
}

/**
 * Where the triage store of a run is: the `TOLLGATE_TRIAGE_URL` environment variable, else
 * `triage.store` from the config (a path relative to the config file's directory, or a URL).
 */
export function triageStoreLocation(configured: string, env: NodeJS.ProcessEnv, baseDir: string): string {
  const fromEnv = env.TOLLGATE_TRIAGE_URL?.trim();
  const location = fromEnv || configured;
  if (isPostgresLocation(location) || location === ":memory:" || isAbsolute(location)) return location;
  return join(baseDir, location);
}

/**
 * Opens the triage store at a location: a `postgres://` or `postgresql://` URL opens the PostgreSQL
 * backend (loaded only then), anything else is a SQLite file path.
 */
export async function openTriageStore(location: string, options: TriageStoreOptions = {}): Promise<TriageStore> {
  if (isPostgresLocation(location)) {
    const { PostgresTriageStore } = await import("./triage-postgres.ts");
    return PostgresTriageStore.open(location, options);
  }
  return SqliteTriageStore.open(location, options);
}

/** The triage store as CSV (RFC 4180 quoting). */
export function triageToCsv(entries: readonly TriageEntry[]): string {
  const cols: (keyof TriageEntry)[] = [
    "fingerprint", "vulnerabilityId", "aliases", "package", "version", "severity", "fixedVersions", "target",
    "firstSeen", "lastSeen", "runCount", "status", "ackReason", "ackAt", "fixedAt", "issueNumber", "issueUrl", "issueState", "repository",
  ];
  const cell = (v: unknown): string => {
    const s = v === undefined ? "" : Array.isArray(v) ? v.join(" ") : String(v);
    // A leading =, +, - or @ would be a formula in a spreadsheet: prefix it with a quote.
    const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
    return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  return [cols.join(","), ...entries.map((e) => cols.map((c) => cell(e[c])).join(","))].join("\r\n") + "\r\n";
}
