import { PackageURL } from "packageurl-js";
import type { Cataloger, CatalogResult, ExtractInput, FileEntry } from "../../collect/index.ts";
import type { Component } from "../../model/index.ts";

const MAGIC = Buffer.from("\xff Go buildinf:", "latin1");
const MAX_BINARY = 256 * 1024 * 1024;

function readVarintString(buf: Buffer, pos: number): { value: Buffer; next: number } | undefined {
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
  return { value: buf.subarray(p, p + len), next: p + len };
}

export interface GoBuildInfo {
  goVersion: string;
  path?: string;
  main?: { path: string; version: string };
  deps: { path: string; version: string; sum?: string }[];
}

/** Longest toolchain version or module info string read from a pre-1.18 binary. */
const MAX_POINTER_STRING = 16 * 1024 * 1024;

/**
 * Reads `len` bytes at virtual address `addr` of an ELF file, through its PT_LOAD segments (the
 * pointer-format build info of Go before 1.18 points into the data segment). Undefined when the file
 * is not ELF, or the range is not wholly inside one segment's file bytes.
 */
function readElfVirtual(bin: Buffer, addr: bigint, len: number): Buffer | undefined {
  if (bin.length < 52 || bin.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const is64 = bin[4] === 2;
  const le = bin[5] === 1;
  const u16 = (o: number) => (le ? bin.readUInt16LE(o) : bin.readUInt16BE(o));
  const u32 = (o: number) => (le ? bin.readUInt32LE(o) : bin.readUInt32BE(o));
  const uN = (o: number): bigint => (is64 ? (le ? bin.readBigUInt64LE(o) : bin.readBigUInt64BE(o)) : BigInt(u32(o)));
  if (is64 && bin.length < 64) return undefined;
  const phoff = Number(uN(is64 ? 0x20 : 0x1c));
  const phentsize = u16(is64 ? 0x36 : 0x2a);
  const phnum = u16(is64 ? 0x38 : 0x2c);
  if (phentsize < (is64 ? 56 : 32) || phnum > 4096) return undefined;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (ph + phentsize > bin.length) return undefined;
    if (u32(ph) !== 1) continue; // PT_LOAD
    const offset = is64 ? uN(ph + 8) : uN(ph + 4);
    const vaddr = is64 ? uN(ph + 16) : uN(ph + 8);
    const filesz = is64 ? uN(ph + 32) : uN(ph + 16);
    if (addr < vaddr || addr + BigInt(len) > vaddr + filesz) continue;
    const start = Number(offset + (addr - vaddr));
    if (start + len > bin.length) return undefined;
    return bin.subarray(start, start + len);
  }
  return undefined;
}

/** A Go string header (data pointer, length) at `addr`, and the string it points to. */
function readGoString(bin: Buffer, addr: bigint, ptrSize: 4 | 8, bigEndian: boolean): Buffer | undefined {
  const hdr = readElfVirtual(bin, addr, 2 * ptrSize);
  if (!hdr) return undefined;
  const ptr = (b: Buffer, o: number): bigint => (ptrSize === 8 ? (bigEndian ? b.readBigUInt64BE(o) : b.readBigUInt64LE(o)) : BigInt(bigEndian ? b.readUInt32BE(o) : b.readUInt32LE(o)));
  const dataAddr = ptr(hdr, 0);
  const len = ptr(hdr, ptrSize);
  if (len > BigInt(MAX_POINTER_STRING)) return undefined;
  if (len === 0n) return Buffer.alloc(0);
  return readElfVirtual(bin, dataAddr, Number(len));
}

/**
 * Go's embedded build info (runtime/debug.BuildInfo), after the "\xff Go buildinf:" header (16-byte
 * aligned; byte 14 the pointer size, byte 15 flags). Go 1.18+ writes the toolchain version and the
 * module info inline as varint-length strings (flag 0x2). Go 1.13–1.17 write two pointers to Go
 * string headers in the data segment (flag 0x1: big-endian), read here through the ELF program
 * headers; such binaries in another format (Mach-O, PE) are reported as not read.
 * The layout is Go's debug/buildinfo (https://go.dev/src/debug/buildinfo/buildinfo.go).
 */
export function parseGoBuildInfo(bin: Buffer): GoBuildInfo | "old-format" | undefined {
  let at = bin.indexOf(MAGIC);
  while (at !== -1 && at % 16 !== 0) at = bin.indexOf(MAGIC, at + 1);
  if (at === -1 || at + 32 > bin.length) return undefined;
  const ptrSize = bin[at + 14] as number;
  const flags = bin[at + 15] as number;
  let version: Buffer;
  let modinfo: Buffer;
  if ((flags & 0x2) !== 0) {
    const v = readVarintString(bin, at + 32);
    if (!v) return undefined;
    version = v.value;
    modinfo = readVarintString(bin, v.next)?.value ?? Buffer.alloc(0);
  } else {
    if (ptrSize !== 4 && ptrSize !== 8) return undefined;
    const bigEndian = (flags & 0x1) !== 0;
    const ptrAt = (o: number): bigint => (ptrSize === 8 ? (bigEndian ? bin.readBigUInt64BE(o) : bin.readBigUInt64LE(o)) : BigInt(bigEndian ? bin.readUInt32BE(o) : bin.readUInt32LE(o)));
    if (at + 16 + 2 * ptrSize > bin.length) return undefined;
    const v = readGoString(bin, ptrAt(at + 16), ptrSize, bigEndian);
    if (v === undefined) return bin.readUInt32BE(0) === 0x7f454c46 ? undefined : "old-format";
    version = v;
    modinfo = readGoString(bin, ptrAt(at + 16 + ptrSize), ptrSize, bigEndian) ?? Buffer.alloc(0);
  }
  // The module info sits between two 16-byte binary sentinels (cut as bytes, before decoding).
  if (modinfo.length >= 33 && modinfo[modinfo.length - 17] === 0x0a) modinfo = modinfo.subarray(16, modinfo.length - 16);
  const info: GoBuildInfo = { goVersion: version.toString("utf8"), deps: [] };
  for (const line of modinfo.toString("utf8").split("\n")) {
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
        return { components: [], problems: [{ source: "go-binary", file: entry.path, message: "Go build info from before Go 1.18 (pointer format) is read from ELF binaries only; this one is Mach-O or PE" }] };
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
