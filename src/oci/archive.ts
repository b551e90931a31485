import { createReadStream, type Stats } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { Readable } from "node:stream";
import { checkPathLimits, openRegularFile } from "../io/files.ts";
import { InputError, LimitExceededError, UnsafeInputError } from "../errors.ts";

/** One member of a plain tar file: where its data starts and how long it is. */
export interface TarMember {
  name: string;
  offset: number;
  size: number;
  type: "file" | "directory" | "other";
}

function cString(buf: Buffer, start: number, end: number): string {
  const slice = buf.subarray(start, end);
  const nul = slice.indexOf(0);
  return slice.toString("utf8", 0, nul === -1 ? slice.length : nul);
}

function octal(buf: Buffer, start: number, end: number, where: string): number {
  // GNU base-256 encoding for large sizes: high bit set on the first byte.
  if ((buf[start] as number) & 0x80) {
    let v = 0;
    for (let i = start + 1; i < end; i++) v = v * 256 + (buf[i] as number);
    if (!Number.isSafeInteger(v)) throw new InputError("tar size field out of range", { file: where });
    return v;
  }
  const s = cString(buf, start, end).trim();
  if (s === "") return 0;
  if (!/^[0-7]+$/.test(s)) throw new InputError(`malformed tar header (size field "${s.slice(0, 20)}")`, { file: where });
  return parseInt(s, 8);
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space === -1) break;
    const len = parseInt(data.toString("latin1", pos, space), 10);
    if (!Number.isFinite(len) || len <= 0 || pos + len > data.length) break;
    const record = data.toString("utf8", space + 1, pos + len - 1);
    const eq = record.indexOf("=");
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}

/** Normalizes a member name: no leading "./" or "/", no "." parts; ".." and over-long names are refused. */
export function normalizeMemberName(raw: string, where: string): string {
  checkPathLimits(raw, where, "entry");
  const parts: string[] = [];
  for (const p of raw.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") throw new UnsafeInputError(`${where}: entry "${raw.slice(0, 200)}" climbs out of the archive with ".."`);
    parts.push(p);
  }
  return parts.join("/");
}

/**
 * Indexes a plain (uncompressed) tar file by walking its 512-byte headers with seeks, never reading
 * member data: the outer tar of `docker save` and OCI archives. Handles ustar prefixes, PAX and GNU
 * long names.
 */
export class TarFileIndex {
  readonly path: string;
  readonly members = new Map<string, TarMember>();
  /** The file indexed (device, inode, size): a later open must find the same file, or offsets would lie. */
  private identity: Pick<Stats, "dev" | "ino" | "size"> | undefined;

  private constructor(path: string) {
    this.path = path;
  }

  /** Indexes a tar file; a FIFO, device or directory in its place is refused at once, never waited on. */
  static async open(path: string, maxMembers = 1_000_000): Promise<TarFileIndex> {
    const index = new TarFileIndex(path);
    const { handle, stat } = await openRegularFile(path);
    try {
      index.identity = { dev: stat.dev, ino: stat.ino, size: stat.size };
      await index.scan(handle, stat.size, maxMembers);
    } finally {
      await handle.close();
    }
    return index;
  }

  /** Opens the indexed file again, checking it is still the same regular file. */
  private async reopen(): Promise<FileHandle> {
    const { handle, stat } = await openRegularFile(this.path);
    const id = this.identity;
    if (id && (stat.dev !== id.dev || stat.ino !== id.ino || stat.size !== id.size)) {
      await handle.close();
      throw new InputError("the archive changed while it was being read", { file: this.path });
    }
    return handle;
  }

  private async scan(handle: FileHandle, size: number, maxMembers: number): Promise<void> {
    const header = Buffer.alloc(512);
    let offset = 0;
    let longName: string | undefined;
    let pax: Record<string, string> = {};
    while (offset + 512 <= size) {
      await handle.read(header, 0, 512, offset);
      if (header.every((b) => b === 0)) break;
      const where = `${this.path} (offset ${offset})`;
      const magic = header.toString("latin1", 257, 262);
      if (magic !== "ustar") throw new InputError("not a tar archive (no ustar header)", { file: where });
      const typeflag = String.fromCharCode(header[156] as number);
      const entrySize = octal(header, 124, 136, where);
      const dataOffset = offset + 512;
      if (dataOffset + entrySize > size) throw new InputError("truncated tar archive", { file: where });
      offset = dataOffset + Math.ceil(entrySize / 512) * 512;
      if (typeflag === "L" || typeflag === "x" || typeflag === "g") {
        if (entrySize > 1024 * 1024) throw new LimitExceededError(`${where}: extended header of ${entrySize} bytes`);
        const data = Buffer.alloc(entrySize);
        await handle.read(data, 0, entrySize, dataOffset);
        if (typeflag === "L") longName = cString(data, 0, data.length);
        else if (typeflag === "x") pax = parsePax(data);
        continue;
      }
      const prefix = cString(header, 345, 500);
      const shortName = cString(header, 0, 100);
      const rawName = pax.path ?? longName ?? (prefix ? `${prefix}/${shortName}` : shortName);
      const paxSize = pax.size !== undefined ? Number(pax.size) : undefined;
      longName = undefined;
      pax = {};
      const name = normalizeMemberName(rawName, this.path);
      const type = typeflag === "0" || typeflag === "\0" || typeflag === "7" ? "file" : typeflag === "5" ? "directory" : "other";
      if (this.members.size >= maxMembers) throw new LimitExceededError(`${this.path}: more than ${maxMembers} archive members`);
      this.members.set(name, { name, offset: dataOffset, size: paxSize !== undefined && Number.isSafeInteger(paxSize) ? paxSize : entrySize, type });
    }
  }

  get(name: string): TarMember | undefined {
    const m = this.members.get(normalizeMemberName(name, this.path));
    return m?.type === "file" ? m : undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Reads a whole member, bounded. */
  async read(name: string, maxBytes: number): Promise<Buffer> {
    const m = this.get(name);
    if (!m) throw new InputError(`no member ${name} in the archive`, { file: this.path, code: "NOT_FOUND" });
    if (m.size > maxBytes) throw new LimitExceededError(`${this.path}: member ${name} has ${m.size} bytes, over the limit of ${maxBytes}`);
    const handle = await this.reopen();
    try {
      const buf = Buffer.alloc(m.size);
      const { bytesRead } = await handle.read(buf, 0, m.size, m.offset);
      if (bytesRead !== m.size) throw new InputError(`member ${name} is truncated`, { file: this.path });
      return buf;
    } finally {
      await handle.close();
    }
  }

  /** Streams a member's bytes. */
  async stream(name: string): Promise<Readable> {
    const m = this.get(name);
    if (!m) throw new InputError(`no member ${name} in the archive`, { file: this.path, code: "NOT_FOUND" });
    if (m.size === 0) return Readable.from([]);
    const fd = await this.reopen();
    return createReadStream(this.path, { fd, start: m.offset, end: m.offset + m.size - 1, highWaterMark: 1024 * 1024 });
  }
}
