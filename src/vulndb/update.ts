/**
 * `tollgate db update`: downloads OSV's per-ecosystem exports (`<base>/<Ecosystem>/all.zip`) and
 * swaps the result in atomically. The new database is built in a temporary copy beside the old one
 * and renamed over it only when every ecosystem imported, so a failed or interrupted update never
 * breaks the existing database. Downloads resume (HTTP Range) and retry; an unchanged export
 * (ETag / Last-Modified) is skipped; where OSV publishes `modified_id.csv` and only a few records
 * changed since the last update, those records are fetched one by one instead of the whole export.
 *
 * A full download replaces the ecosystem's record set: records stored from that ecosystem's export
 * (labelled with the ecosystem's name) that the new all.zip no longer has are deleted; records from
 * `db import` of other sources, and other ecosystems, are untouched. The incremental path sees only
 * records added or modified since the cursor (each line of modified_id.csv is a record that exists
 * now); a record OSV removed simply drops out of the listing, with no line saying so, so the
 * incremental path cannot see removals: they are dropped at the next full download (more than
 * INCREMENTAL_MAX_RECORDS changes, a first update, or `--no-incremental`).
 *
 * Concurrency: the update holds `<db>.lock` (`acquireLockFile`) from start to end, so two updates of
 * one database run one after the other (`withDbLock` gives `db import` the same lock). And because a
 * writer that does not take the lock (an older tollgate, a `db import` run meanwhile) must not be lost
 * either, the copy is taken under a SQLite shared lock and the swap under a write lock, after checking
 * that the database has not changed since the copy; when it has, the downloaded data is applied again
 * to a fresh copy. Copies left by a killed update (`.<db>.update-<pid>-*`) are removed by the next one.
 *
 * Every request has the connect, response and idle timeouts of `timeouts`, and a download a total
 * scaled by its size; a connect or response timeout is not retried.
 */
import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, writeFileSync, writeSync } from "node:fs";
import { copyFile, link, mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import { DatabaseSync } from "node:sqlite";
import { basename, dirname, join } from "node:path";
import { InputError, LimitExceededError, NetworkError, TollgateError, UsageError } from "../errors.ts";
import { acquireLockFile, removeStaleFiles, writeFileAtomic, type FileLock } from "../io/atomic-write.ts";
import { fetchWithTimeouts, NetworkTimeoutError, redactSecrets, type NetworkTimeouts } from "../io/http.ts";
import { cacheDir } from "../io/paths.ts";
import { importOsvSources, expandHome } from "./index.ts";
import type { ImportStats } from "./store.ts";
import { VulnStore } from "./store.ts";

export const DEFAULT_OSV_BASE_URL = "https://osv-vulnerabilities.storage.googleapis.com";

/** Most records fetched one by one in an incremental update; beyond that the whole export is cheaper. */
export const INCREMENTAL_MAX_RECORDS = 500;

export interface UpdateOptions {
  /** The database file to update (created when missing). */
  dbPath: string;
  /** OSV ecosystem names, e.g. ["npm", "PyPI"]. Default: those already in the database, else those seen in recent scans. */
  ecosystems?: readonly string[];
  /** Mirror of OSV's export bucket (default: OSV's public bucket). */
  baseUrl?: string;
  /** Attempts per download (default 4). */
  attempts?: number;
  /** First retry delay in ms, doubled each time (default 500). */
  retryDelayMs?: number;
  /** Largest export accepted, bytes (default 4 GiB). */
  maxDownloadBytes?: number;
  /** Use modified_id.csv when possible (default true). */
  incremental?: boolean;
  /** Largest modified_id.csv read, bytes (default 256 MiB); reading stops at the first byte over it. */
  maxModifiedCsvBytes?: number;
  progress?: (message: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Connect, response, idle and per-download timeouts (default DEFAULT_NETWORK_TIMEOUTS). */
  timeouts?: Partial<NetworkTimeouts>;
  /** How long to wait for another update or import holding the database's lock (default 15 minutes). */
  lockTimeoutMs?: number;
  /** A fetch to use instead of the built-in one with `timeouts`. */
  fetch?: typeof fetch;
}

export interface EcosystemUpdate {
  ecosystem: string;
  /** full: all.zip imported; incremental: changed records fetched; unchanged: the export had not changed. */
  mode: "full" | "incremental" | "unchanged";
  stats?: ImportStats;
  bytes: number;
}

export interface UpdateResult {
  dbPath: string;
  ecosystems: EcosystemUpdate[];
}

/** The lock file of a database: `<db>.lock`. */
export function dbLockPath(dbPath: string): string {
  return `${dbPath}.lock`;
}

/**
 * Runs `fn` holding the database's lock (`<db>.lock`), as `db update` does for its whole run: `db
 * import` wrapped in it waits for an update instead of racing it.
 */
export async function withDbLock<T>(dbPath: string, fn: () => Promise<T>, options: { timeoutMs?: number; progress?: (m: string) => void } = {}): Promise<T> {
  const lock = await acquireLockFile(dbLockPath(expandHome(dbPath)), {
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.progress ? { onWait: options.progress } : {}),
  });
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

/** The state file where scans note which ecosystems they met, for `db update` without --ecosystem. */
export function seenEcosystemsFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), "seen-ecosystems.json");
}

/** Records the ecosystems a scan met (best effort: a read-only cache dir is not an error). */
export async function noteSeenEcosystems(ecosystems: Iterable<string>, env: NodeJS.ProcessEnv = process.env, now: Date = new Date()): Promise<void> {
  const file = seenEcosystemsFile(env);
  try {
    let seen: Record<string, string> = {};
    try {
      seen = JSON.parse(await readFile(file, "utf8")) as Record<string, string>;
    } catch {
      seen = {};
    }
    let changed = false;
    for (const e of ecosystems) {
      const day = now.toISOString().slice(0, 10);
      if (seen[e]?.slice(0, 10) !== day) {
        seen[e] = now.toISOString();
        changed = true;
      }
    }
    if (!changed) return;
    await writeFileAtomic(file, JSON.stringify(seen, null, 2));
  } catch {
    // the cache dir may be read-only: scans never fail for this
  }
}

/** Ecosystems seen in scans within `days` days. */
export async function recentlySeenEcosystems(env: NodeJS.ProcessEnv = process.env, days = 30, now: Date = new Date()): Promise<string[]> {
  try {
    const seen = JSON.parse(await readFile(seenEcosystemsFile(env), "utf8")) as Record<string, string>;
    return Object.entries(seen)
      .filter(([, at]) => now.getTime() - Date.parse(at) <= days * 86400_000)
      .map(([e]) => e)
      .sort();
  } catch {
    return [];
  }
}

function exportUrl(base: string, ecosystem: string, file: string): string {
  return `${base.replace(/\/+$/, "")}/${encodeURIComponent(ecosystem)}/${file}`;
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

interface Download {
  status: "downloaded" | "not-modified";
  path: string;
  bytes: number;
  etag?: string;
  lastModified?: string;
}

/**
 * Downloads `url` to `dest`, resuming a partial `dest.part` with a Range request (guarded by If-Range
 * on the ETag), retrying network errors and 5xx answers with exponential back-off.
 */
export async function downloadResumable(
  url: string,
  dest: string,
  options: { attempts: number; retryDelayMs: number; maxBytes: number; etag?: string; lastModified?: string; progress?: (m: string) => void; fetch: typeof fetch },
): Promise<Download> {
  const part = `${dest}.part`;
  const metaFile = `${dest}.part.json`;
  await mkdir(dirname(dest), { recursive: true });
  let lastError = "";
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    let have: number;
    let partEtag: string | undefined;
    try {
      have = (await stat(part)).size;
      partEtag = (JSON.parse(await readFile(metaFile, "utf8")) as { etag?: string }).etag;
    } catch {
      have = 0;
    }
    const headers: Record<string, string> = { "user-agent": "tollgate" };
    if (have > 0 && partEtag) {
      headers.range = `bytes=${have}-`;
      headers["if-range"] = partEtag;
    } else {
      have = 0;
      if (options.etag) headers["if-none-match"] = options.etag;
      else if (options.lastModified) headers["if-modified-since"] = options.lastModified;
    }
    let res: Response;
    try {
      res = await options.fetch(url, { headers, redirect: "follow" });
    } catch (e) {
      // A host that let the connect or response timeout run out is not waited for again.
      if (e instanceof NetworkTimeoutError) throw e;
      lastError = `${url}: ${(e as Error).message}${(e as { cause?: Error }).cause ? ` (${(e as { cause: Error }).cause.message})` : ""}`;
      if (attempt < options.attempts) await delay(options.retryDelayMs * 2 ** (attempt - 1));
      continue;
    }
    if (res.status === 304) {
      await res.body?.cancel();
      return { status: "not-modified", path: dest, bytes: 0 };
    }
    if (res.status >= 500 || res.status === 429) {
      await res.body?.cancel();
      lastError = `${url}: HTTP ${res.status}`;
      if (attempt < options.attempts) await delay(options.retryDelayMs * 2 ** (attempt - 1));
      continue;
    }
    if (res.status !== 200 && res.status !== 206) {
      await res.body?.cancel();
      throw new NetworkError(redactSecrets(`${url}: HTTP ${res.status} ${res.statusText}`));
    }
    const append = res.status === 206 && have > 0;
    const etag = res.headers.get("etag") ?? undefined;
    const lastModified = res.headers.get("last-modified") ?? undefined;
    const length = Number(res.headers.get("content-length") ?? NaN);
    if (Number.isFinite(length) && (append ? have : 0) + length > options.maxBytes) {
      await res.body?.cancel();
      throw new LimitExceededError(`${redactSecrets(url)}: ${length} bytes, more than the limit of ${options.maxBytes}`);
    }
    // From here to the end of the body, file I/O is synchronous: the body is read as it arrives, so
    // that what came before a broken connection is kept for the next attempt to resume from.
    const fd = openSync(part, append ? "a" : "w");
    writeFileSync(metaFile, JSON.stringify({ etag: etag ?? null }));
    if (!append) have = 0;
    let got = have;
    let lastReport = 0;
    try {
      if (!res.body) throw new Error("empty response body");
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        got += chunk.length;
        if (got > options.maxBytes) throw new LimitExceededError(`${redactSecrets(url)}: more than the limit of ${options.maxBytes} bytes`);
        writeSync(fd, chunk);
        if (options.progress && got - lastReport > 1 << 20) {
          lastReport = got;
          options.progress(`${basename(dirname(dest))}: ${(got / 1048576).toFixed(1)} MiB${Number.isFinite(length) ? ` of ${((length + (append ? have : 0)) / 1048576).toFixed(1)} MiB` : ""}`);
        }
      }
      fsyncSync(fd);
    } catch (e) {
      closeSync(fd);
      if (e instanceof LimitExceededError) throw e;
      lastError = `${url}: download interrupted after ${got} bytes (${(e as Error).message})`;
      if (attempt < options.attempts) await delay(options.retryDelayMs * 2 ** (attempt - 1));
      continue;
    }
    closeSync(fd);
    if (Number.isFinite(length) && got !== (append ? have : 0) + length) {
      lastError = `${url}: got ${got} bytes, expected ${(append ? have : 0) + length}`;
      if (attempt < options.attempts) await delay(options.retryDelayMs * 2 ** (attempt - 1));
      continue;
    }
    await rename(part, dest);
    await rm(metaFile, { force: true });
    return { status: "downloaded", path: dest, bytes: got, ...(etag ? { etag } : {}), ...(lastModified ? { lastModified } : {}) };
  }
  throw new NetworkError(redactSecrets(`download failed after ${options.attempts} attempts: ${lastError}`));
}

/** The ids modified after `cursor`, newest first, from OSV's modified_id.csv (`<iso timestamp>,<id>` lines). */
export function parseModifiedCsv(text: string): { modified: string; id: string }[] {
  const out: { modified: string; id: string }[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") continue;
    const comma = line.indexOf(",");
    if (comma < 0) continue;
    const modified = line.slice(0, comma).trim();
    const id = line.slice(comma + 1).trim().replace(/^.*\//, "");
    if (!Number.isFinite(Date.parse(modified)) || !/^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(id)) continue;
    out.push({ modified, id });
  }
  return out;
}

/** A small file: its text, or why it could not be had. */
async function fetchText(fetcher: typeof fetch, url: string, maxBytes: number): Promise<{ text: string } | { error: string; timeout?: NetworkTimeoutError }> {
  let res: Response;
  try {
    res = await fetcher(url, { headers: { "user-agent": "tollgate" } });
  } catch (e) {
    return { error: (e as Error).message, ...(e instanceof NetworkTimeoutError ? { timeout: e } : {}) };
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    return { error: `HTTP ${res.status}` };
  }
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel();
    throw new LimitExceededError(`${redactSecrets(url)}: more than ${maxBytes} bytes`);
  }
  // Streamed with a count: a body without Content-Length (chunked) is never read whole before the
  // limit is checked, and reading stops at the first byte over it.
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    if (res.body) {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        total += chunk.byteLength;
        if (total > maxBytes) {
          await res.body.cancel().catch(() => undefined);
          throw new LimitExceededError(`${redactSecrets(url)}: more than ${maxBytes} bytes`);
        }
        chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      }
    }
  } catch (e) {
    if (e instanceof LimitExceededError) throw e;
    return { error: (e as Error).message, ...(e instanceof NetworkTimeoutError ? { timeout: e } : {}) };
  }
  return { text: Buffer.concat(chunks, total).toString("utf8") };
}

/** What was downloaded for one ecosystem, ready to apply to a copy of the database (again, if need be). */
type Fetched =
  | { ecosystem: string; mode: "unchanged" }
  | { ecosystem: string; mode: "incremental"; texts: { name: string; text: string }[]; cursor: string; etag?: string; lastModified?: string }
  | { ecosystem: string; mode: "full"; url: string; path: string; bytes: number; etag?: string; lastModified?: string; cursor?: string };

/** `.<db>.update-<pid>-<hex>` (and SQLite's `-journal` beside it): an update's copy of the database. */
function updateCopyPattern(dbPath: string): RegExp {
  const name = basename(dbPath).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^\\.${name}\\.update-(\\d+)-[0-9a-f]{8}(?:-journal|-wal|-shm)?$`);
}

/** What identifies the database file's content: inode, size, mtime and SQLite's file change counter. */
async function dbIdentity(path: string): Promise<string> {
  let fh;
  try {
    fh = await open(path, "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    throw e;
  }
  try {
    const st = await fh.stat();
    const header = Buffer.alloc(100);
    await fh.read(header, 0, 100, 0);
    return `${st.ino}:${st.size}:${st.mtimeMs}:${header.readUInt32BE(24)}`;
  } finally {
    await fh.close();
  }
}

/** A connection that only locks: SQLite's own locking against `db import` and scans. */
function lockingConnection(path: string, timeoutMs: number): DatabaseSync {
  return new DatabaseSync(path, { timeout: timeoutMs });
}

/**
 * Copies the database to `tmp` under a SQLite shared lock (no writer can commit half-way through
 * the copy; a crashed writer's journal is rolled back first) and returns the identity it had.
 */
async function copyDatabase(dbPath: string, tmp: string, lockTimeoutMs: number): Promise<string> {
  if ((await dbIdentity(dbPath)) === "missing") return "missing"; // (opening it would create it)
  let db: DatabaseSync;
  try {
    db = lockingConnection(dbPath, lockTimeoutMs);
  } catch (e) {
    throw new InputError(`cannot open the vulnerability database (${(e as Error).message})`, { file: dbPath });
  }
  try {
    db.exec("BEGIN");
    db.prepare("SELECT count(*) FROM sqlite_master").get();
    const identity = await dbIdentity(dbPath);
    await copyFile(dbPath, tmp);
    db.exec("COMMIT");
    return identity;
  } finally {
    db.close();
  }
}

/**
 * Renames `tmp` over the database if the database is still what was copied: checked holding SQLite's
 * write lock (after any writer's transaction), so that nothing committed since the copy is lost.
 * False when it changed.
 */
async function swapIfUnchanged(dbPath: string, tmp: string, identity: string, lockTimeoutMs: number): Promise<boolean> {
  if (identity === "missing") {
    // There was no database: create it only if there still is none (link fails if one appeared).
    try {
      await link(tmp, dbPath);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw e;
    }
    await rm(tmp, { force: true });
    return true;
  }
  let db: DatabaseSync;
  try {
    db = lockingConnection(dbPath, lockTimeoutMs);
  } catch {
    return false;
  }
  try {
    db.exec("BEGIN IMMEDIATE");
    try {
      if ((await dbIdentity(dbPath)) !== identity) return false;
      await rename(tmp, dbPath);
      return true;
    } finally {
      db.exec("ROLLBACK");
    }
  } finally {
    db.close();
  }
}

/** How many times the downloaded data is applied again when the database changed meanwhile. */
const SWAP_ATTEMPTS = 4;

/**
 * Updates the database from OSV's exports. The database file is replaced atomically at the end; on
 * any failure it is left exactly as it was.
 */
export async function updateVulnDb(options: UpdateOptions): Promise<UpdateResult> {
  const env = options.env ?? process.env;
  const dbPath = expandHome(options.dbPath);
  const fetcher = options.fetch ?? fetchWithTimeouts(options.timeouts ?? {});
  const base = options.baseUrl ?? DEFAULT_OSV_BASE_URL;
  if (!/^https?:\/\//.test(base)) throw new UsageError(`--base-url ${redactSecrets(base)}: expected an http(s) URL`);
  const attempts = options.attempts ?? 4;
  const retryDelayMs = options.retryDelayMs ?? 500;
  const maxBytes = options.maxDownloadBytes ?? 4 * 1024 ** 3;
  const lockTimeoutMs = options.lockTimeoutMs ?? 15 * 60_000;
  const progress = options.progress ?? (() => undefined);

  await mkdir(dirname(dbPath), { recursive: true });
  const lock: FileLock = await acquireLockFile(dbLockPath(dbPath), { timeoutMs: lockTimeoutMs, onWait: progress });
  const downloaded: string[] = [];
  let tmp: string | undefined;
  try {
    // copies of the database left by updates that were killed
    await removeStaleFiles(dirname(dbPath), updateCopyPattern(dbPath));
    let exists = true;
    try {
      await stat(dbPath);
    } catch {
      exists = false;
    }
    let previous: Map<string, { etag?: string; lastModified?: string; cursor?: string }> = new Map();
    if (exists) {
      const old = new VulnStore(dbPath, { readOnly: true });
      try {
        previous = new Map(old.sources().filter((s) => s.kind === "osv-export").map((s) => [s.name, s]));
      } finally {
        old.close();
      }
    }
    let ecosystems = options.ecosystems?.length ? [...options.ecosystems] : [...previous.keys()];
    if (ecosystems.length === 0) ecosystems = await recentlySeenEcosystems(env);
    if (ecosystems.length === 0) {
      throw new UsageError("no ecosystems to update: pass --ecosystem (e.g. --ecosystem npm PyPI), set db.ecosystems in tollgate.yaml, or run a scan first");
    }

    // 1. The network: everything is downloaded before the database is touched.
    const downloads = join(cacheDir(env), "downloads");
    const fetched: Fetched[] = [];
    for (const eco of ecosystems) {
      const prev = previous.get(eco);
      // Incremental: a cursor from the last update and a short list of changes since.
      let csv: { modified: string; id: string }[] | undefined;
      if (options.incremental !== false) {
        const got = await fetchText(fetcher, exportUrl(base, eco, "modified_id.csv"), options.maxModifiedCsvBytes ?? 256 * 1024 * 1024);
        if ("text" in got) csv = parseModifiedCsv(got.text);
        else if (got.timeout) throw got.timeout;
      }
      const newest = csv?.reduce((m, r) => (Date.parse(r.modified) > Date.parse(m) ? r.modified : m), csv[0]?.modified ?? "");
      // Incremental: adds and modifications only; removals wait for the next full download (see above).
      if (prev?.cursor && csv) {
        const changed = csv.filter((r) => Date.parse(r.modified) > Date.parse(prev.cursor!));
        if (changed.length <= INCREMENTAL_MAX_RECORDS) {
          progress(`${eco}: ${changed.length} changed record(s) since ${prev.cursor}`);
          const texts: { name: string; text: string }[] = [];
          for (const r of changed) {
            const url = exportUrl(base, eco, `${encodeURIComponent(r.id)}.json`);
            const got = await fetchText(fetcher, url, 32 * 1024 * 1024);
            if (!("text" in got)) throw got.timeout ?? new NetworkError(redactSecrets(`${url}: could not be fetched (${got.error})`));
            texts.push({ name: url, text: got.text });
          }
          fetched.push({
            ecosystem: eco,
            mode: "incremental",
            texts,
            cursor: newest || prev.cursor,
            ...(prev.etag ? { etag: prev.etag } : {}),
            ...(prev.lastModified ? { lastModified: prev.lastModified } : {}),
          });
          continue;
        }
      }
      const url = exportUrl(base, eco, "all.zip");
      progress(`${eco}: downloading ${redactSecrets(url)}`);
      const dest = join(downloads, encodeURIComponent(eco), "all.zip");
      const dl = await downloadResumable(url, dest, {
        attempts,
        retryDelayMs,
        maxBytes,
        ...(prev?.etag ? { etag: prev.etag } : {}),
        ...(prev?.lastModified ? { lastModified: prev.lastModified } : {}),
        progress,
        fetch: fetcher,
      });
      if (dl.status === "not-modified") {
        fetched.push({ ecosystem: eco, mode: "unchanged" });
        continue;
      }
      downloaded.push(dl.path);
      fetched.push({
        ecosystem: eco,
        mode: "full",
        url,
        path: dl.path,
        bytes: dl.bytes,
        ...(dl.etag ? { etag: dl.etag } : {}),
        ...(dl.lastModified ? { lastModified: dl.lastModified } : {}),
        ...(newest ? { cursor: newest } : {}),
      });
    }

    // 2. Applied to a copy, swapped in if the database did not change meanwhile; else again.
    for (let attempt = 1; ; attempt++) {
      tmp = join(dirname(dbPath), `.${basename(dbPath)}.update-${process.pid}-${randomBytes(4).toString("hex")}`);
      const identity = exists || attempt > 1 ? await copyDatabase(dbPath, tmp, lockTimeoutMs) : "missing";
      const results = await applyUpdate(tmp, fetched, base, progress);
      if (await swapIfUnchanged(dbPath, tmp, identity, lockTimeoutMs)) {
        tmp = undefined;
        return { dbPath, ecosystems: results };
      }
      await rm(tmp, { force: true });
      await rm(`${tmp}-journal`, { force: true });
      tmp = undefined;
      if (attempt >= SWAP_ATTEMPTS) {
        throw new NetworkError(`db update: ${dbPath} kept changing while the update was applied (${attempt} times); the database was left as it is`);
      }
      progress(`${dbPath} changed during the update (another writer): applying the update to it again`);
    }
  } catch (e) {
    if (e instanceof InputError || e instanceof TollgateError) throw e;
    throw new NetworkError(redactSecrets(`db update failed, the database was left unchanged: ${(e as Error).message}`), { cause: e });
  } finally {
    if (tmp) {
      await rm(tmp, { force: true });
      await rm(`${tmp}-journal`, { force: true });
    }
    for (const p of downloaded) await rm(p, { force: true });
    await lock.release();
  }
}

/** Imports what was downloaded into the database copy at `path`. */
async function applyUpdate(path: string, fetched: readonly Fetched[], base: string, progress: (m: string) => void): Promise<EcosystemUpdate[]> {
  const results: EcosystemUpdate[] = [];
  const store = new VulnStore(path);
  try {
    for (const f of fetched) {
      const eco = f.ecosystem;
      if (f.mode === "unchanged") {
        results.push({ ecosystem: eco, mode: "unchanged", bytes: 0 });
        continue;
      }
      if (f.mode === "incremental") {
        const stats = await store.importRecords(
          async ({ add }) => {
            for (const t of f.texts) add(t.name, t.text);
          },
          { skipInvalid: true, source: eco },
        );
        const total = store.sources().find((s) => s.name === eco)?.records ?? 0;
        store.recordSource({
          name: eco,
          kind: "osv-export",
          location: exportUrl(base, eco, "all.zip"),
          importedAt: new Date().toISOString(),
          records: total + stats.inserted,
          ...(f.etag ? { etag: f.etag } : {}),
          ...(f.lastModified ? { lastModified: f.lastModified } : {}),
          cursor: f.cursor,
        });
        results.push({ ecosystem: eco, mode: "incremental", stats, bytes: 0 });
        continue;
      }
      progress(`${eco}: importing`);
      // the full export is the ecosystem's whole record set: what it no longer has is deleted
      const stats = await importOsvSources(store, [f.path], { skipInvalid: true, source: eco, replaceSource: true });
      store.recordSource({
        name: eco,
        kind: "osv-export",
        location: f.url,
        importedAt: new Date().toISOString(),
        records: stats.read - stats.rejected,
        ...(f.etag ? { etag: f.etag } : {}),
        ...(f.lastModified ? { lastModified: f.lastModified } : {}),
        ...(f.cursor ? { cursor: f.cursor } : {}),
      });
      results.push({ ecosystem: eco, mode: "full", stats, bytes: f.bytes });
    }
    store.setMeta("updated_at", new Date().toISOString());
  } finally {
    store.close();
  }
  return results;
}
