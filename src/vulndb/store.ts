/**
 * The vulnerability database: OSV records in SQLite (node:sqlite, built into Node 22+; benchmarked
 * against better-sqlite3 12 in bench/vulndb). One row per record holds its JSON as imported; an index
 * of (ecosystem, package name) → record makes a component's lookup one indexed query, whatever the
 * size of the database. The schema is versioned with `PRAGMA user_version` and migrated on open.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { InputError } from "../errors.ts";
import { normalizePackageName } from "../ecosystem/registry.ts";
import { parseOsvRecord, splitEcosystem, type OsvRecord } from "./osv.ts";

/** The schema version this tollgate writes. Older databases are migrated on open; newer ones refused. */
export const SCHEMA_VERSION = 2;

/** Each entry upgrades the schema from version i to i + 1. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE records (
     rid INTEGER PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     modified TEXT NOT NULL,
     modified_ms INTEGER NOT NULL,
     withdrawn TEXT,
     aliases TEXT NOT NULL,
     source TEXT,
     json TEXT NOT NULL
   );
   CREATE TABLE affected (eco TEXT NOT NULL, release TEXT NOT NULL, name TEXT NOT NULL, rid INTEGER NOT NULL);
   CREATE INDEX affected_package ON affected (eco, name);
   CREATE INDEX affected_record ON affected (rid);
   CREATE TABLE sources (
     name TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     location TEXT NOT NULL,
     imported_at TEXT NOT NULL,
     records INTEGER NOT NULL,
     etag TEXT,
     last_modified TEXT,
     cursor TEXT
   );`,
  // 2: the package index becomes one clustered B-tree (WITHOUT ROWID, keyed by package then record)
  // instead of a table plus two indexes: a third of the writes per imported record.
  `CREATE TABLE affected2 (eco TEXT NOT NULL, name TEXT NOT NULL, rid INTEGER NOT NULL, release TEXT NOT NULL, PRIMARY KEY (eco, name, rid, release)) WITHOUT ROWID;
   INSERT OR IGNORE INTO affected2 (eco, name, rid, release) SELECT eco, name, rid, release FROM affected;
   DROP TABLE affected;
   ALTER TABLE affected2 RENAME TO affected;`,
];

export interface ImportStats {
  /** Records read from the source. */
  read: number;
  inserted: number;
  /** Replaced by a newer `modified`. */
  updated: number;
  /** Same or older `modified` than the stored copy. */
  unchanged: number;
  /** Withdrawn records among those stored (kept, never matched). */
  withdrawn: number;
  /** Records of the source deleted because this import (with `replaceSource`) no longer has them. */
  removed: number;
  /** Invalid records skipped (only with `skipInvalid`), with the first messages. */
  rejected: number;
  problems: string[];
}

export interface SourceInfo {
  name: string;
  kind: string;
  location: string;
  importedAt: string;
  records: number;
  etag?: string;
  lastModified?: string;
  /** For incremental updates: the newest `modified` seen in the source's modified_id.csv. */
  cursor?: string;
}

export interface VulnDbStatus {
  /** The database file, or the records it was loaded from (in memory). */
  path: string;
  inMemory: boolean;
  schemaVersion: number;
  records: number;
  withdrawn: number;
  ecosystems: { ecosystem: string; records: number }[];
  sources: SourceInfo[];
  /** When the database last changed (ISO), if ever. */
  updatedAt?: string;
  /** Seconds since `updatedAt`. */
  ageSeconds?: number;
}

/** A record that names a package, with the ecosystem release it is scoped to ("" for none). */
export interface CandidateRecord {
  record: OsvRecord;
  release: string;
}

export interface ImportOptions {
  /** Skip invalid records (counted in `rejected`) instead of failing the whole import. */
  skipInvalid?: boolean;
  /** A label stored with each record (the source name). */
  source?: string;
  /**
   * The import is the source's complete record set (e.g. an ecosystem's full all.zip): records last
   * written under the `source` label and absent from this import are deleted, in the same
   * transaction. Records stored under other labels are untouched. An invalid entry (skipped with
   * `skipInvalid`) still counts as present under the id its file name gives (`<id>.json`, as in OSV's
   * exports), so a record upstream broke is kept rather than lost.
   */
  replaceSource?: boolean;
}

/** The package keys (ecosystem base, release, normalized name) an OSV record affects. */
export function affectedKeys(record: OsvRecord): { eco: string; release: string; name: string }[] {
  const seen = new Set<string>();
  const out: { eco: string; release: string; name: string }[] = [];
  for (const a of record.affected ?? []) {
    if (!a.package) continue;
    const { base, release } = splitEcosystem(a.package.ecosystem);
    const name = normalizePackageName(base, a.package.name);
    const key = `${base}\0${release}\0${name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ eco: base, release, name });
  }
  return out;
}

/** A record parsed and checked, reduced to what the store writes (structured-cloneable, for worker threads). */
export interface PreparedRecord {
  id: string;
  modified: string;
  modifiedMs: number;
  withdrawn: string | null;
  /** JSON array of the aliases. */
  aliases: string;
  keys: { eco: string; release: string; name: string }[];
  /** The record's JSON as read. */
  text: string;
}

/** A stored record's JSON column as text (imports from worker threads store the UTF-8 bytes). */
function jsonText(v: string | Uint8Array): string {
  return typeof v === "string" ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("utf8");
}

export interface RecordSinks {
  add(name: string, text: string): void;
  addPrepared(record: PreparedRecord): void;
  reject(error: Error): void;
}

/** Parses and checks one record (InputError naming `name` and the field when invalid). */
export function prepareRecord(name: string, text: string): PreparedRecord {
  const record = parseOsvRecord(text, name);
  return {
    id: record.id,
    modified: record.modified,
    modifiedMs: timestampMs(record.modified),
    withdrawn: record.withdrawn ?? null,
    aliases: JSON.stringify(record.aliases ?? []),
    keys: affectedKeys(record),
    text,
  };
}

function timestampMs(iso: string): number {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : 0;
}

export class VulnStore {
  readonly path: string;
  readonly inMemory: boolean;
  readonly db: DatabaseSync;
  private readonly cache = new Map<number, OsvRecord>();
  private stmts?: {
    find: StatementSync;
    insertNew: StatementSync;
    update: StatementSync;
    insertAffected: StatementSync;
    deleteAffected: StatementSync;
    json: StatementSync;
    candidates: StatementSync;
  };

  constructor(path: string, options: { inMemory?: boolean; readOnly?: boolean } = {}) {
    this.path = path;
    this.inMemory = options.inMemory === true;
    try {
      this.db = new DatabaseSync(this.inMemory ? ":memory:" : path, { readOnly: options.readOnly === true });
    } catch (e) {
      throw new InputError(`cannot open the vulnerability database (${(e as Error).message})`, { file: path });
    }
    try {
      this.db.exec("PRAGMA busy_timeout = 5000");
      this.db.exec("PRAGMA cache_size = -8192"); // 8 MiB of page cache: a larger cache measured no faster import, and more resident memory
      if (!options.readOnly) this.migrate();
      else this.checkVersion();
    } catch (e) {
      this.db.close();
      if (e instanceof InputError) throw e;
      throw new InputError(`not a tollgate vulnerability database (${(e as Error).message})`, { file: path });
    }
  }

  schemaVersion(): number {
    return Number((this.db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
  }

  private checkVersion(): number {
    const v = this.schemaVersion();
    if (v > SCHEMA_VERSION) {
      throw new InputError(`database schema ${v} is newer than this tollgate supports (${SCHEMA_VERSION}); upgrade tollgate or run \`tollgate db update\` with a new --db`, { file: this.path });
    }
    if (v === 0) {
      const tables = this.db.prepare("SELECT count(*) AS n FROM sqlite_master").get() as { n: number };
      if (Number(tables.n) > 0) throw new InputError("a SQLite file, but not a tollgate vulnerability database", { file: this.path });
    }
    return v;
  }

  private migrate(): void {
    let v = this.checkVersion();
    // A new database gets 16 KiB pages (SQLite's default is 4 KiB): records of a kilobyte or more
    // then share pages with fewer splits, and a bulk import measured about a fifth less CPU in
    // SQLite. It only takes effect before the first table is created; existing files keep theirs.
    if (v === 0) this.db.exec("PRAGMA page_size = 16384");
    while (v < SCHEMA_VERSION) {
      this.db.exec("BEGIN IMMEDIATE");
      try {
        this.db.exec(MIGRATIONS[v]!);
        this.db.exec(`PRAGMA user_version = ${v + 1}`);
        if (v === 0) this.setMeta("created_at", new Date().toISOString());
        this.db.exec("COMMIT");
      } catch (e) {
        this.db.exec("ROLLBACK");
        throw e;
      }
      v++;
    }
  }

  private statements() {
    this.stmts ??= {
      find: this.db.prepare("SELECT rid, modified_ms FROM records WHERE id = ?"),
      insertNew: this.db.prepare(
        "INSERT INTO records (id, modified, modified_ms, withdrawn, aliases, source, json) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING",
      ),
      update: this.db.prepare("UPDATE records SET modified = ?, modified_ms = ?, withdrawn = ?, aliases = ?, source = ?, json = ? WHERE rid = ?"),
      insertAffected: this.db.prepare("INSERT OR IGNORE INTO affected (eco, release, name, rid) VALUES (?, ?, ?, ?)"),
      deleteAffected: this.db.prepare("DELETE FROM affected WHERE eco = ? AND name = ? AND rid = ?"),
      json: this.db.prepare("SELECT json FROM records WHERE rid = ?"),
      candidates: this.db.prepare(
        "SELECT r.rid AS rid, r.json AS json, a.release AS release FROM affected a JOIN records r ON r.rid = a.rid WHERE a.eco = ? AND a.name = ? AND r.withdrawn IS NULL",
      ),
    };
    return this.stmts;
  }

  getMeta(key: string): string | undefined {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined;
    return row?.value;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(key, value);
  }

  /**
   * Runs `fill` inside one transaction: either every record lands or none does. `fill` feeds records
   * as text (`add`), already prepared (`addPrepared`, e.g. parsed in a worker thread) or as invalid
   * (`reject`). Upserts by id: a record replaces the stored one only when its `modified` is newer.
   */
  async importRecords(fill: (sink: RecordSinks) => Promise<unknown>, options: ImportOptions = {}): Promise<ImportStats> {
    const stats: ImportStats = { read: 0, inserted: 0, updated: 0, unchanged: 0, withdrawn: 0, removed: 0, rejected: 0, problems: [] };
    const s = this.statements();
    const source = options.source ?? null;
    if (options.replaceSource && source === null) throw new Error("importRecords: replaceSource needs a source label");
    // ids present in this import, when it replaces the source's record set
    const present = options.replaceSource ? new Set<string>() : undefined;
    const reject = (error: Error): void => {
      stats.read++;
      if (!options.skipInvalid) throw error;
      stats.rejected++;
      if (stats.problems.length < 10) stats.problems.push(error.message);
    };
    const addPrepared = (r: PreparedRecord): void => {
      stats.read++;
      present?.add(r.id);
      // Most records are new: try the insert first; only a conflict on the id needs the comparison.
      const ins = s.insertNew.run(r.id, r.modified, r.modifiedMs, r.withdrawn, r.aliases, source, r.text);
      let rid: number;
      if (ins.changes === 1) {
        rid = Number(ins.lastInsertRowid);
        stats.inserted++;
      } else {
        const existing = s.find.get(r.id) as { rid: number | bigint; modified_ms: number | bigint };
        if (r.modifiedMs <= Number(existing.modified_ms)) {
          stats.unchanged++;
          return;
        }
        rid = Number(existing.rid);
        // the old version's package keys locate its index rows (the index is keyed by package)
        const old = s.json.get(rid) as { json: string | Uint8Array };
        for (const k of affectedKeys(JSON.parse(jsonText(old.json)) as OsvRecord)) s.deleteAffected.run(k.eco, k.name, rid);
        s.update.run(r.modified, r.modifiedMs, r.withdrawn, r.aliases, source, r.text, rid);
        this.cache.delete(rid);
        stats.updated++;
      }
      if (r.withdrawn !== null) stats.withdrawn++;
      for (const k of r.keys) s.insertAffected.run(k.eco, k.release, k.name, rid);
    };
    const add = (name: string, text: string): void => {
      let prepared: PreparedRecord;
      try {
        prepared = prepareRecord(name, text);
      } catch (e) {
        if (present) {
          // `<archive>:<entry>` or a file path: the id is the file name (both readings kept, to err on keeping)
          const file = name.replace(/^.*\//, "").replace(/\.json$/i, "");
          present.add(file).add(file.replace(/^.*:/, ""));
        }
        reject(e as Error);
        return;
      }
      addPrepared(prepared);
    };
    this.db.exec("BEGIN IMMEDIATE");
    try {
      await fill({ add, addPrepared, reject });
      if (present) stats.removed = this.removeAbsent(source!, present);
      if (stats.inserted + stats.updated + stats.removed > 0) this.setMeta("updated_at", new Date().toISOString());
      this.db.exec("COMMIT");
    } catch (e) {
      this.db.exec("ROLLBACK");
      throw e;
    }
    return stats;
  }

  /** Deletes the records stored under `source` whose id is not in `keep` (and their index rows); returns how many. Call inside a transaction. */
  private removeAbsent(source: string, keep: ReadonlySet<string>): number {
    const s = this.statements();
    const rows = this.db.prepare("SELECT rid, id FROM records WHERE source = ?").all(source) as { rid: number | bigint; id: string }[];
    const del = this.db.prepare("DELETE FROM records WHERE rid = ?");
    let removed = 0;
    for (const row of rows) {
      if (keep.has(row.id)) continue;
      const rid = Number(row.rid);
      const old = s.json.get(rid) as { json: string | Uint8Array };
      for (const k of affectedKeys(JSON.parse(jsonText(old.json)) as OsvRecord)) s.deleteAffected.run(k.eco, k.name, rid);
      del.run(rid);
      this.cache.delete(rid);
      removed++;
    }
    return removed;
  }

  /** Records (not withdrawn) naming `name` in ecosystem `eco` (the base name, e.g. `Debian`), with their release scope. */
  candidates(eco: string, name: string): CandidateRecord[] {
    const rows = this.statements().candidates.all(eco, normalizePackageName(eco, name)) as { rid: number | bigint; json: string | Uint8Array; release: string }[];
    return rows.map((row) => {
      const rid = Number(row.rid);
      let record = this.cache.get(rid);
      if (!record) {
        record = JSON.parse(jsonText(row.json)) as OsvRecord;
        this.cache.set(rid, record);
      }
      return { record, release: row.release };
    });
  }

  /** The release scopes ("" for none) the database has records for in ecosystem `eco` (base name); empty when it has none. */
  releasesOf(eco: string): string[] {
    return (this.db.prepare("SELECT DISTINCT release FROM affected WHERE eco = ?").all(eco) as { release: string }[]).map((r) => r.release);
  }

  /** A record by its id, or by one of its aliases (e.g. a CVE id). Withdrawn records are returned too. */
  get(id: string): OsvRecord | undefined {
    const row = this.db.prepare("SELECT json FROM records WHERE id = ?").get(id) as { json: string | Uint8Array } | undefined;
    if (row) return JSON.parse(jsonText(row.json)) as OsvRecord;
    const alias = this.db.prepare("SELECT json FROM records WHERE aliases LIKE ? ORDER BY id LIMIT 1").get(`%${JSON.stringify(id)}%`) as { json: string | Uint8Array } | undefined;
    return alias ? (JSON.parse(jsonText(alias.json)) as OsvRecord) : undefined;
  }

  recordSource(info: SourceInfo): void {
    this.db
      .prepare(
        `INSERT INTO sources (name, kind, location, imported_at, records, etag, last_modified, cursor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET kind = excluded.kind, location = excluded.location, imported_at = excluded.imported_at,
           records = excluded.records, etag = excluded.etag, last_modified = excluded.last_modified, cursor = excluded.cursor`,
      )
      .run(info.name, info.kind, info.location, info.importedAt, info.records, info.etag ?? null, info.lastModified ?? null, info.cursor ?? null);
  }

  sources(): SourceInfo[] {
    const rows = this.db.prepare("SELECT * FROM sources ORDER BY name").all() as Record<string, string | number | null>[];
    return rows.map((r) => ({
      name: String(r.name),
      kind: String(r.kind),
      location: String(r.location),
      importedAt: String(r.imported_at),
      records: Number(r.records),
      ...(r.etag !== null ? { etag: String(r.etag) } : {}),
      ...(r.last_modified !== null ? { lastModified: String(r.last_modified) } : {}),
      ...(r.cursor !== null ? { cursor: String(r.cursor) } : {}),
    }));
  }

  status(now: Date = new Date()): VulnDbStatus {
    const totals = this.db.prepare("SELECT count(*) AS n, count(withdrawn) AS w FROM records").get() as { n: number; w: number };
    const ecos = this.db
      .prepare("SELECT eco || CASE WHEN release = '' THEN '' ELSE ':' || release END AS ecosystem, count(DISTINCT rid) AS n FROM affected GROUP BY eco, release ORDER BY eco, release")
      .all() as { ecosystem: string; n: number }[];
    const updatedAt = this.getMeta("updated_at");
    return {
      path: this.path,
      inMemory: this.inMemory,
      schemaVersion: this.schemaVersion(),
      records: Number(totals.n),
      withdrawn: Number(totals.w),
      ecosystems: ecos.map((e) => ({ ecosystem: e.ecosystem, records: Number(e.n) })),
      sources: this.sources(),
      ...(updatedAt !== undefined ? { updatedAt, ageSeconds: Math.max(0, Math.round((now.getTime() - Date.parse(updatedAt)) / 1000)) } : {}),
    };
  }

  private closed = false;

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}
