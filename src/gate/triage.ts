import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { InputError, NotImplementedError } from "../errors.ts";
import type { Finding, Severity } from "../model/index.ts";
import { findingFingerprint, packageIdentity } from "./fingerprint.ts";

/**
 * The triage store: findings below the fail threshold, remembered across runs. Keyed by a stable
 * fingerprint (vulnerability + package identity + target); first seen, last seen, run count and a
 * status (new, acknowledged, fixed). SQLite by default; the `TriageStore` interface is what the gate
 * and the CLI use, so a PostgreSQL backend (`postgres://…`) can be added behind `openTriageStore`
 * without changes above it.
 */

export type TriageStatus = "new" | "acknowledged" | "fixed";

export interface TriageEntry {
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

export interface TriageStore {
  /**
   * Records one run of a target: upserts the findings seen, marks the ones not seen as fixed.
   * `stillPresent` lists fingerprints of findings that are there but not triaged in this run (waived,
   * suppressed by VEX, or now failing): they are left as they are, not marked fixed.
   */
  recordRun(target: string, inputs: readonly TriageInput[], at: Date, stillPresent?: ReadonlySet<string>): Promise<TriageRunResult>;
  list(filter?: { status?: TriageStatus; target?: string }): Promise<TriageEntry[]>;
  /** An entry by full fingerprint or a unique prefix (at least 6 hex digits). */
  get(idOrPrefix: string): Promise<TriageEntry | undefined>;
  acknowledge(idOrPrefix: string, reason: string, at: Date): Promise<TriageEntry>;
  setIssue(fingerprint: string, issue: { number: number; url?: string; state: "open" | "closed" }): Promise<void>;
  close(): Promise<void>;
}

const SCHEMA_VERSION = 1;

/** How long a writer waits for another process's transaction on the store. */
const BUSY_TIMEOUT_MS = 15_000;

interface Row {
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

/** The SQLite triage store (node:sqlite; one file that CI can cache). */
export class SqliteTriageStore implements TriageStore {
  private readonly db: DatabaseSync;

  private constructor(db: DatabaseSync) {
    this.db = db;
  }

  static async open(path: string, options: { create?: boolean } = {}): Promise<SqliteTriageStore> {
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
    const store = new SqliteTriageStore(db);
    try {
      store.migrate(path);
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
      if (version < SCHEMA_VERSION) this.migrateFrom();
      this.db.exec("COMMIT");
    } catch (e) {
      this.db.exec("ROLLBACK");
      throw e;
    }
  }

  private migrateFrom(): void {
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
      PRAGMA user_version = ${SCHEMA_VERSION};
    `);
  }

  async recordRun(target: string, inputs: readonly TriageInput[], at: Date, stillPresent: ReadonlySet<string> = new Set()): Promise<TriageRunResult> {
    const now = at.toISOString();
    const result: TriageRunResult = { runId: 0, firstSeen: [], recurring: [], reappeared: [], fixed: [] };
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const prev = this.db.prepare("SELECT max(id) AS id FROM runs WHERE target = ?").get(target) as { id: number | null };
      const prevRunId = prev.id ?? 0;
      const runId = Number(this.db.prepare("INSERT INTO runs (target, at) VALUES (?, ?)").run(target, now).lastInsertRowid);
      result.runId = runId;
      const select = this.db.prepare("SELECT * FROM findings WHERE fingerprint = ?");
      const insert = this.db.prepare(
        `INSERT INTO findings (fingerprint, vulnerability_id, aliases, package, version, severity, fixed_versions, summary, target,
           first_seen, last_seen, run_count, last_run_id, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, 'new')`,
      );
      const update = this.db.prepare(
        `UPDATE findings SET aliases = ?, version = ?, severity = ?, fixed_versions = ?, summary = ?, last_seen = ?,
           run_count = run_count + 1, last_run_id = ?, status = CASE WHEN status = 'fixed' THEN 'new' ELSE status END, fixed_at = NULL
         WHERE fingerprint = ?`,
      );
      const seen = new Set<string>();
      for (const { finding: f } of inputs) {
        const fp = findingFingerprint(f, target);
        if (seen.has(fp)) continue; // the same package at two paths: one entry
        seen.add(fp);
        const existing = select.get(fp) as Row | undefined;
        const aliases = JSON.stringify(f.aliases);
        const fixed = JSON.stringify(f.fixedVersions);
        if (!existing) {
          insert.run(fp, f.id, aliases, packageIdentity(f), f.component.version ?? null, f.severity.level, fixed, f.summary ?? null, target, now, now, runId);
          result.firstSeen.push(toEntry(select.get(fp) as unknown as Row));
          continue;
        }
        update.run(aliases, f.component.version ?? null, f.severity.level, fixed, f.summary ?? null, now, runId, fp);
        const entry = toEntry(select.get(fp) as unknown as Row);
        if (existing.last_run_id === prevRunId && existing.status !== "fixed") result.recurring.push(entry);
        else result.reappeared.push(entry);
      }
      const stale = this.db.prepare("SELECT * FROM findings WHERE target = ? AND status != 'fixed' AND last_run_id < ?").all(target, runId) as unknown as Row[];
      const markFixed = this.db.prepare("UPDATE findings SET status = 'fixed', fixed_at = ? WHERE fingerprint = ?");
      for (const r of stale) {
        if (stillPresent.has(r.fingerprint)) continue;
        markFixed.run(now, r.fingerprint);
        result.fixed.push(toEntry(select.get(r.fingerprint) as unknown as Row));
      }
      this.db.exec("COMMIT");
    } catch (e) {
      this.db.exec("ROLLBACK");
      throw e;
    }
    return result;
  }

  async list(filter: { status?: TriageStatus; target?: string } = {}): Promise<TriageEntry[]> {
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
    const sql = `SELECT * FROM findings${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY last_seen DESC, vulnerability_id, package`;
    return (this.db.prepare(sql).all(...args) as unknown as Row[]).map(toEntry);
  }

  async get(idOrPrefix: string): Promise<TriageEntry | undefined> {
    const id = idOrPrefix.toLowerCase();
    if (!/^[0-9a-f]{6,64}$/.test(id)) throw new InputError(`${idOrPrefix}: expected a fingerprint (at least 6 hex digits)`);
    const rows = this.db.prepare("SELECT * FROM findings WHERE substr(fingerprint, 1, ?) = ? LIMIT 2").all(id.length, id) as unknown as Row[];
    if (rows.length > 1) throw new InputError(`${idOrPrefix}: more than one finding has this prefix; give more digits`);
    return rows[0] ? toEntry(rows[0]) : undefined;
  }

  async acknowledge(idOrPrefix: string, reason: string, at: Date): Promise<TriageEntry> {
    const entry = await this.get(idOrPrefix);
    if (!entry) throw new InputError(`${idOrPrefix}: no such finding in the triage store`);
    this.db.prepare("UPDATE findings SET status = 'acknowledged', ack_reason = ?, ack_at = ? WHERE fingerprint = ?").run(reason, at.toISOString(), entry.fingerprint);
    return (await this.get(entry.fingerprint))!;
  }

  async setIssue(fingerprint: string, issue: { number: number; url?: string; state: "open" | "closed" }): Promise<void> {
    this.db.prepare("UPDATE findings SET issue_number = ?, issue_url = ?, issue_state = ? WHERE fingerprint = ?").run(issue.number, issue.url ?? null, issue.state, fingerprint);
  }

  async close(): Promise<void> {
    if (this.db.isOpen) this.db.close();
  }
}

/** Opens the triage store at a location from the config: a file path, or (later) a `postgres://` URL. */
export async function openTriageStore(location: string, options: { create?: boolean } = {}): Promise<TriageStore> {
  if (/^postgres(ql)?:\/\//i.test(location)) throw new NotImplementedError("a PostgreSQL triage store");
  return SqliteTriageStore.open(location, options);
}

/** The triage store as CSV (RFC 4180 quoting). */
export function triageToCsv(entries: readonly TriageEntry[]): string {
  const cols: (keyof TriageEntry)[] = [
    "fingerprint", "vulnerabilityId", "aliases", "package", "version", "severity", "fixedVersions", "target",
    "firstSeen", "lastSeen", "runCount", "status", "ackReason", "ackAt", "fixedAt", "issueNumber", "issueUrl", "issueState",
  ];
  const cell = (v: unknown): string => {
    const s = v === undefined ? "" : Array.isArray(v) ? v.join(" ") : String(v);
    // A leading =, +, - or @ would be a formula in a spreadsheet: prefix it with a quote.
    const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
    return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  return [cols.join(","), ...entries.map((e) => cols.map((c) => cell(e[c])).join(","))].join("\r\n") + "\r\n";
}
