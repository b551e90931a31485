import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { Cataloger, CatalogResult, ExtractInput } from "../../collect/index.ts";
import type { Component } from "../../model/index.ts";
import type { OsContext } from "./os-context.ts";

const SQLITE_DBS = new Set(["var/lib/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite"]);
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

/** rpm's database: the SQLite rpmdb (rpm ≥ 4.16). BerkeleyDB and NDB databases are reported as not read. */
export function rpmCataloger(ctx: OsContext, scratchDir: () => Promise<string>): Cataloger {
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
      const db = new DatabaseSync(file, { readOnly: true });
      const components: Component[] = [];
      try {
        const rows = db.prepare("SELECT hnum, blob FROM Packages").all() as { hnum: number; blob: Uint8Array }[];
        for (const row of rows) {
          const h = parseRpmHeader(row.blob);
          const name = h.get(TAG.name);
          const version = h.get(TAG.version);
          const release = h.get(TAG.release);
          if (typeof name !== "string" || typeof version !== "string" || name === "gpg-pubkey") continue;
          const epoch = h.get(TAG.epoch);
          const arch = h.get(TAG.arch);
          const license = h.get(TAG.license);
          const sourceRpm = h.get(TAG.sourcerpm);
          const full = `${typeof epoch === "number" && epoch > 0 ? `${epoch}:` : ""}${version}${typeof release === "string" && release ? `-${release}` : ""}`;
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
      } finally {
        db.close();
      }
      return { components };
    },
  };
}
