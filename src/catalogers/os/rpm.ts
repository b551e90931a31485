import { rmSync, writeFileSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { Cataloger, CatalogResult, ExtractInput } from "../../collect/index.ts";
import { InputError, LimitExceededError } from "../../errors.ts";
import type { CollectProblem, Component } from "../../model/index.ts";
import type { OsContext } from "./os-context.ts";

/** Where rpm keeps its SQLite database (rpm ≥ 4.16: Fedora, RHEL 9, openSUSE). */
const SQLITE_DBS: ReadonlySet<string> = new Set(["var/lib/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite"]);
const BDB = new Set(["var/lib/rpm/Packages", "usr/lib/sysimage/rpm/Packages"]);
const NDB = new Set(["var/lib/rpm/Packages.db", "usr/lib/sysimage/rpm/Packages.db"]);

const TAG = { name: 1000, version: 1001, release: 1002, epoch: 1003, license: 1014, arch: 1022, sourcerpm: 1044, requirename: 1049, providename: 1047 } as const;

/**
 * One rpm header blob as the rpmdb stores it (no lead, no magic): index count, data size, 16-byte
 * index entries (tag, type, offset, count, big-endian), then the data store. Every offset is bounds-checked.
 */
export function parseRpmHeader(blob: Uint8Array): Map<number, string | string[] | number> {
  const buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (buf.length < 8) throw new Error("rpm header shorter than 8 bytes");
  const il = buf.readUInt32BE(0);
  const dl = buf.readUInt32BE(4);
  const dataStart = 8 + il * 16;
  if (il > 100_000 || dataStart + dl > buf.length) throw new Error("rpm header sizes out of range");
  const out = new Map<number, string | string[] | number>();
  const wanted = new Set<number>(Object.values(TAG));
  for (let i = 0; i < il; i++) {
    const e = 8 + i * 16;
    const tag = buf.readUInt32BE(e);
    if (!wanted.has(tag)) continue;
    const type = buf.readUInt32BE(e + 4);
    const offset = buf.readUInt32BE(e + 8);
    const count = buf.readUInt32BE(e + 12);
    if (offset >= dl) continue;
    const at = dataStart + offset;
    const end = dataStart + dl;
    if (type === 4 && at + 4 <= end) out.set(tag, buf.readUInt32BE(at));
    else if (type === 6 || type === 9 || type === 8) {
      const strings: string[] = [];
      let p = at;
      for (let n = 0; n < (type === 6 ? 1 : Math.min(count, 100_000)) && p < end; n++) {
        const z = buf.indexOf(0, p);
        if (z === -1 || z >= end) break;
        strings.push(buf.toString("utf8", p, z));
        p = z + 1;
      }
      out.set(tag, type === 8 ? strings : (strings[0] ?? ""));
    }
  }
  return out;
}

/** `[epoch:]version[-release]`, as `rpm -q --qf '%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}'` prints it. */
function rpmFullVersion(h: Map<number, string | string[] | number>): string | undefined {
  const version = h.get(TAG.version);
  if (typeof version !== "string") return undefined;
  const epoch = h.get(TAG.epoch);
  const release = h.get(TAG.release);
  return `${typeof epoch === "number" && epoch > 0 ? `${epoch}:` : ""}${version}${typeof release === "string" && release ? `-${release}` : ""}`;
}

export interface RpmLimits {
  /** Most rows read from an rpmdb's Packages table (one per installed package). */
  maxRows: number;
}

export const DEFAULT_RPM_LIMITS: RpmLimits = { maxRows: 200_000 };

type RpmHeader = Map<number, string | string[] | number>;

/**
 * Checks that an rpmdb's Packages is what rpm writes, a plain table whose blob column is stored: a
 * view (which could be an endless recursive query), a virtual table or a computed (generated) column
 * would run SQL chosen by the image when read. Anything else is refused before any row is read.
 */
function checkPackagesTable(db: DatabaseSync): void {
  const schema = db.prepare("SELECT type, sql FROM sqlite_master WHERE name = 'Packages' COLLATE NOCASE").all() as { type: string; sql: string | null }[];
  const entry = schema[0];
  if (!entry) throw new InputError("not an rpm database: no Packages table");
  if (entry.type !== "table") throw new InputError(`Packages is a ${entry.type === "view" ? "view" : entry.type}, not a table (rpm writes a plain table); refusing to run its query`);
  if (/^\s*CREATE\s+VIRTUAL\b/i.test(entry.sql ?? "")) throw new InputError("Packages is a virtual table, not a plain table (rpm writes a plain table); not read");
  const columns = db.prepare("PRAGMA main.table_xinfo('Packages')").all() as { name: string; hidden: number }[];
  const blob = columns.find((c) => c.name.toLowerCase() === "blob");
  if (!blob) throw new InputError("not an rpm database: Packages has no blob column");
  if (blob.hidden !== 0) throw new InputError("Packages.blob is a generated column, computed when read (rpm stores the headers); not read");
}

/**
 * The header of every package in a SQLite rpmdb file (gpg-pubkey entries included), read row by row up
 * to `maxRows`; `truncated` when there were more. Only a plain Packages table is read (checkPackagesTable).
 */
function rpmdbHeaders(file: string, maxRows: number): { headers: RpmHeader[]; truncated: boolean } {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    checkPackagesTable(db);
    const headers: RpmHeader[] = [];
    for (const row of db.prepare("SELECT blob FROM main.Packages").iterate() as Iterable<{ blob: unknown }>) {
      if (headers.length >= maxRows) return { headers, truncated: true };
      if (!(row.blob instanceof Uint8Array)) throw new InputError("a row of Packages holds no header blob");
      headers.push(parseRpmHeader(row.blob));
    }
    return { headers, truncated: false };
  } finally {
    db.close();
  }
}

/**
 * The name@version of every package in a SQLite rpmdb (for layer attribution: an older layer's copy of
 * the database). SQLite reads files, so the bytes go to a private file in `scratch` and are removed.
 */
export function rpmInstalledKeys(contents: Buffer, scratch: string, limits: Partial<RpmLimits> = {}): Set<string> {
  const maxRows = limits.maxRows ?? DEFAULT_RPM_LIMITS.maxRows;
  const file = join(scratch, `rpmdb-history-${Date.now()}-${Math.random().toString(16).slice(2)}.sqlite`);
  writeFileSync(file, contents, { mode: 0o600 });
  const keys = new Set<string>();
  try {
    const { headers, truncated } = rpmdbHeaders(file, maxRows);
    // A partial list would attribute packages to the wrong layer: better none.
    if (truncated) throw new LimitExceededError(`more than ${maxRows} rows in Packages`);
    for (const h of headers) {
      const name = h.get(TAG.name);
      const full = rpmFullVersion(h);
      if (typeof name === "string" && full !== undefined && name !== "gpg-pubkey") keys.add(`${name}@${full}`);
    }
  } finally {
    rmSync(file, { force: true });
  }
  return keys;
}

/**
 * rpm's database: the SQLite rpmdb (rpm ≥ 4.16). BerkeleyDB and NDB databases are reported as not read.
 * Only a plain Packages table is read, row by row up to `limits.maxRows` (more rows are a problem).
 * Its older copies, rewritten by later layers, say which layer introduced each package.
 */
export function rpmCataloger(ctx: OsContext, scratchDir: () => Promise<string>, limits: Partial<RpmLimits> = {}): Cataloger {
  const maxRows = limits.maxRows ?? DEFAULT_RPM_LIMITS.maxRows;
  return {
    name: "rpm",
    fileRequired: (entry) => SQLITE_DBS.has(entry.path) || BDB.has(entry.path) || NDB.has(entry.path),
    async extract({ entry, contents }: ExtractInput): Promise<CatalogResult> {
      if (!SQLITE_DBS.has(entry.path)) {
        const kind = BDB.has(entry.path) ? "BerkeleyDB" : "NDB";
        ctx.unreadDatabases.push(`/${entry.path}`);
        return {
          components: [],
          problems: [{ source: "rpm", file: entry.path, message: `rpm database in ${kind} format found and not read (tollgate reads the SQLite rpmdb only); its packages are missing from the SBOM` }],
        };
      }
      const file = join(await scratchDir(), `rpmdb-${Date.now()}-${Math.random().toString(16).slice(2)}.sqlite`);
      await writeFile(file, contents, { mode: 0o600 });
      const components: Component[] = [];
      const problems: CollectProblem[] = [];
      let headers: RpmHeader[];
      try {
        const read = rpmdbHeaders(file, maxRows);
        headers = read.headers;
        if (read.truncated) {
          problems.push({ source: "rpm", file: entry.path, message: `more than ${maxRows} rows in Packages; the rest are not read (limit on rpmdb rows) and their packages are missing from the SBOM` });
        }
      } finally {
        await rm(file, { force: true });
      }
      for (const h of headers) {
        const name = h.get(TAG.name);
        const full = rpmFullVersion(h);
        if (typeof name !== "string" || full === undefined || name === "gpg-pubkey") continue;
        const epoch = h.get(TAG.epoch);
        const arch = h.get(TAG.arch);
        const license = h.get(TAG.license);
        const sourceRpm = h.get(TAG.sourcerpm);
        const c: Component = {
          ref: `rpm:${name}@${full}`,
          name,
          version: full,
          type: "library",
          hashes: [],
          licenses: typeof license === "string" && license ? [license] : [],
          locations: [{ path: `/${entry.path}`, ...(entry.layer ? { layer: entry.layer } : {}) }],
          dependencies: [],
          foundBy: "rpm",
        };
        if (typeof sourceRpm === "string" && sourceRpm) {
          const m = /^(.+)-([^-]+)-([^-]+)\.src\.rpm$/.exec(sourceRpm);
          if (m) {
            c.sourceName = m[1] as string;
            c.sourceVersion = `${m[2]}-${m[3]}`;
          }
        }
        components.push(c);
        const requires = h.get(TAG.requirename);
        const provides = h.get(TAG.providename);
        ctx.add({
          kind: "rpm",
          component: c,
          ...(typeof arch === "string" ? { arch } : {}),
          ...(typeof epoch === "number" && epoch > 0 ? { epoch: String(epoch) } : {}),
          depends: Array.isArray(requires) ? requires : [],
          provides: Array.isArray(provides) ? provides : [],
        });
      }
      return problems.length ? { components, problems } : { components };
    },
    history: {
      required: (entry) => SQLITE_DBS.has(entry.path),
      async extract({ entry, contents }) {
        let keys: Set<string>;
        try {
          keys = rpmInstalledKeys(contents, await scratchDir(), { maxRows });
        } catch {
          // An older copy that is not a readable SQLite rpmdb only loses its layer's attribution: the
          // packages stay attributed to the database's own layer.
          return;
        }
        ctx.addHistory(entry, keys);
      },
    },
  };
}
