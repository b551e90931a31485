import { PackageURL } from "packageurl-js";
import type { Cataloger, CatalogResult, ExtractInput, FileEntry } from "../../collect/index.ts";
import type { Component } from "../../model/index.ts";

const MAGIC = Buffer.from("\xff Go buildinf:", "latin1");
const MAX_BINARY = 256 * 1024 * 1024;

function readVarintString(buf: Buffer, pos: number): { value: string; next: number } | undefined {
  let len = 0;
  let shift = 0;
  let p = pos;
  for (;;) {
    if (p >= buf.length || shift > 28) return undefined;
    const b = buf[p++] as number;
    len |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
  }
  if (len < 0 || p + len > buf.length) return undefined;
  return { value: buf.toString("utf8", p, p + len), next: p + len };
}

export interface GoBuildInfo {
  goVersion: string;
  path?: string;
  main?: { path: string; version: string };
  deps: { path: string; version: string; sum?: string }[];
}

/**
 * Go's embedded build info (runtime/debug.BuildInfo), in the inline form Go 1.18+ writes: the
 * "\xff Go buildinf:" header (16-byte aligned), then the toolchain version and the module info as
 * varint-length strings. Older binaries use pointers into the data segment; they are reported, not read.
 */
export function parseGoBuildInfo(bin: Buffer): GoBuildInfo | "old-format" | undefined {
  let at = bin.indexOf(MAGIC);
  while (at !== -1 && at % 16 !== 0) at = bin.indexOf(MAGIC, at + 1);
  if (at === -1 || at + 32 > bin.length) return undefined;
  const flags = bin[at + 15] as number;
  if ((flags & 0x2) === 0) return "old-format";
  const v = readVarintString(bin, at + 32);
  if (!v) return undefined;
  const m = readVarintString(bin, v.next);
  let modinfo = m?.value ?? "";
  if (modinfo.length >= 33 && modinfo[modinfo.length - 17] === "\n") modinfo = modinfo.slice(16, -16);
  const info: GoBuildInfo = { goVersion: v.value, deps: [] };
  for (const line of modinfo.split("\n")) {
    const f = line.split("\t");
    if (f[0] === "path" && f[1]) info.path = f[1];
    else if (f[0] === "mod" && f[1]) info.main = { path: f[1], version: f[2] ?? "" };
    else if (f[0] === "dep" && f[1]) {
      const d: { path: string; version: string; sum?: string } = { path: f[1], version: f[2] ?? "" };
      if (f[3]) d.sum = f[3];
      info.deps.push(d);
    } else if (f[0] === "=>" && f[1] && info.deps.length > 0) {
      // A replacement applies to the dep just above it.
      const last = info.deps[info.deps.length - 1] as { path: string; version: string; sum?: string };
      last.path = f[1];
      last.version = f[2] ?? last.version;
    }
  }
  return info;
}

function goPurl(path: string, version: string): string {
  const slash = path.lastIndexOf("/");
  return new PackageURL("golang", slash === -1 ? null : path.slice(0, slash), slash === -1 ? path : path.slice(slash + 1), version || null, null, null).toString();
}

/** Go binaries in an image: the modules compiled in and the Go standard library version (OSV "stdlib"). */
export function goBinaryCataloger(): Cataloger {
  return {
    name: "go-binary",
    fileRequired: (entry: FileEntry) => entry.mode !== undefined && (entry.mode & 0o111) !== 0 && entry.size > 4096 && entry.size <= MAX_BINARY,
    async extract({ entry, contents }: ExtractInput): Promise<CatalogResult> {
      if (contents.readUInt32BE(0) !== 0x7f454c46 && contents.readUInt16BE(0) !== 0x4d5a && contents.readUInt32BE(0) !== 0xcffaedfe) return { components: [] };
      const info = parseGoBuildInfo(contents);
      if (!info) return { components: [] };
      if (info === "old-format") {
        return { components: [], problems: [{ source: "go-binary", file: entry.path, message: "Go build info from before Go 1.18 (pointer format) is not read" }] };
      }
      const location = { path: `/${entry.path}`, ...(entry.layer ? { layer: entry.layer } : {}) };
      const make = (path: string, version: string, extra: Partial<Component> = {}): Component => {
        const purl = goPurl(path, version);
        return {
          ref: `${purl}#/${entry.path}`,
          name: path,
          version,
          purl,
          ecosystem: "Go",
          type: "library",
          hashes: [],
          licenses: [],
          locations: [location],
          dependencies: [],
          foundBy: "go-binary",
          ...extra,
        };
      };
      const components: Component[] = [];
      const goVersion = info.goVersion.replace(/^go/, "").split(/\s/)[0] ?? "";
      if (goVersion) components.push(make("stdlib", goVersion, { properties: { "tollgate:go:toolchain": info.goVersion } }));
      for (const d of info.deps) if (d.version) components.push(make(d.path, d.version, d.sum ? { properties: { "tollgate:go:sum": d.sum } } : {}));
      if (info.main && info.main.version && info.main.version !== "(devel)") {
        const main = make(info.main.path, info.main.version, { type: "application" });
        main.dependencies = components.map((c) => c.ref);
        components.push(main);
      }
      return { components };
    },
  };
}
