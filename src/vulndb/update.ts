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
 */
import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, writeFileSync, writeSync } from "node:fs";
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { EXIT_USAGE, InputError, LimitExceededError, TollgateError, UsageError } from "../errors.ts";
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
  progress?: (message: string) => void;
  env?: NodeJS.ProcessEnv;
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

class NetworkError extends TollgateError {
  constructor(message: string) {
    super("NETWORK", message, EXIT_USAGE);
    this.name = "NetworkError";
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
    await mkdir(dirname(file), { recursive: true });
    const tmp = `${file}.tmp-${process.pid}`;
    await writeFile(tmp, JSON.stringify(seen, null, 2));
    await rename(tmp, file);
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
      throw new NetworkError(`${url}: HTTP ${res.status} ${res.statusText}`);
    }
    const append = res.status === 206 && have > 0;
    const etag = res.headers.get("etag") ?? undefined;
    const lastModified = res.headers.get("last-modified") ?? undefined;
    const length = Number(res.headers.get("content-length") ?? NaN);
    if (Number.isFinite(length) && (append ? have : 0) + length > options.maxBytes) {
      await res.body?.cancel();
      throw new LimitExceededError(`${url}: ${length} bytes, more than the limit of ${options.maxBytes}`);
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
        if (got > options.maxBytes) throw new LimitExceededError(`${url}: more than the limit of ${options.maxBytes} bytes`);
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
  throw new NetworkError(`download failed after ${options.attempts} attempts: ${lastError}`);
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

async function fetchText(fetcher: typeof fetch, url: string, maxBytes: number): Promise<string | undefined> {
  let res: Response;
  try {
    res = await fetcher(url, { headers: { "user-agent": "tollgate" } });
  } catch {
    return undefined;
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    return undefined;
  }
  const buf = Buffer.from(await res.arrayBuffer());
  if (buf.length > maxBytes) throw new LimitExceededError(`${url}: more than ${maxBytes} bytes`);
  return buf.toString("utf8");
}

/**
 * Updates the database from OSV's exports. The database file is replaced atomically at the end; on
 * any failure it is left exactly as it was.
 */
export async function updateVulnDb(options: UpdateOptions): Promise<UpdateResult> {
  const env = options.env ?? process.env;
  const dbPath = expandHome(options.dbPath);
  const fetcher = options.fetch ?? fetch;
  const base = options.baseUrl ?? DEFAULT_OSV_BASE_URL;
  if (!/^https?:\/\//.test(base)) throw new UsageError(`--base-url ${base}: expected an http(s) URL`);
  const attempts = options.attempts ?? 4;
  const retryDelayMs = options.retryDelayMs ?? 500;
  const maxBytes = options.maxDownloadBytes ?? 4 * 1024 ** 3;
  const progress = options.progress ?? (() => undefined);

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

  const downloads = join(cacheDir(env), "downloads");
  const tmp = join(dirname(dbPath), `.${basename(dbPath)}.update-${process.pid}-${randomBytes(4).toString("hex")}`);
  await mkdir(dirname(dbPath), { recursive: true });
  const results: EcosystemUpdate[] = [];
  try {
    if (exists) await copyFile(dbPath, tmp);
    const store = new VulnStore(tmp);
    try {
      for (const eco of ecosystems) {
        const prev = previous.get(eco);
        const sourceName = eco;
        // Incremental: a cursor from the last update and a short list of changes since.
        let csv: { modified: string; id: string }[] | undefined;
        if (options.incremental !== false) {
          const text = await fetchText(fetcher, exportUrl(base, eco, "modified_id.csv"), 256 * 1024 * 1024);
          if (text !== undefined) csv = parseModifiedCsv(text);
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
              const text = await fetchText(fetcher, url, 32 * 1024 * 1024);
              if (text === undefined) throw new NetworkError(`${url}: could not be fetched`);
              texts.push({ name: url, text });
            }
            const stats = await store.importRecords(
              async ({ add }) => {
                for (const t of texts) add(t.name, t.text);
              },
              { skipInvalid: true, source: sourceName },
            );
            const total = store.sources().find((s) => s.name === sourceName)?.records ?? 0;
            store.recordSource({
              name: sourceName,
              kind: "osv-export",
              location: exportUrl(base, eco, "all.zip"),
              importedAt: new Date().toISOString(),
              records: total + stats.inserted,
              ...(prev.etag ? { etag: prev.etag } : {}),
              ...(prev.lastModified ? { lastModified: prev.lastModified } : {}),
              cursor: newest || prev.cursor,
            });
            results.push({ ecosystem: eco, mode: "incremental", stats, bytes: 0 });
            continue;
          }
        }
        const url = exportUrl(base, eco, "all.zip");
        progress(`${eco}: downloading ${url}`);
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
          results.push({ ecosystem: eco, mode: "unchanged", bytes: 0 });
          continue;
        }
        progress(`${eco}: importing`);
        let stats: ImportStats;
        try {
          // the full export is the ecosystem's whole record set: what it no longer has is deleted
          stats = await importOsvSources(store, [dl.path], { skipInvalid: true, source: sourceName, replaceSource: true });
        } finally {
          await rm(dl.path, { force: true });
        }
        store.recordSource({
          name: sourceName,
          kind: "osv-export",
          location: url,
          importedAt: new Date().toISOString(),
          records: stats.read - stats.rejected,
          ...(dl.etag ? { etag: dl.etag } : {}),
          ...(dl.lastModified ? { lastModified: dl.lastModified } : {}),
          ...(newest ? { cursor: newest } : {}),
        });
        results.push({ ecosystem: eco, mode: "full", stats, bytes: dl.bytes });
      }
      store.setMeta("updated_at", new Date().toISOString());
    } finally {
      store.close();
    }
    await rename(tmp, dbPath);
  } catch (e) {
    await rm(tmp, { force: true });
    if (e instanceof InputError || e instanceof TollgateError) throw e;
    throw new NetworkError(`db update failed, the database was left unchanged: ${(e as Error).message}`);
  }
  return { dbPath, ecosystems: results };
}
