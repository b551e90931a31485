/**
 * A bounded tar member lister over a ByteSource (POSIX ustar, with GNU `L` long names and pax `path`
 * records), for the very old PyTorch format (a tar of `sys_info`, `pickle`, `storages`, `tensors`).
 * Only headers are read; members are reported with the file offset of their data, so a scanner can
 * read them in place. Header checksums are verified; names must be relative and stay inside the
 * archive; the entry count and long-name records are capped.
 */
import { LimitExceededError, UnsafeInputError } from "../../errors.ts";
import { checkPathLimits } from "../../io/files.ts";
import { Cursor, formatError } from "./binary.ts";
import type { ByteSource } from "../../io/byte-source.ts";

export interface TarMember {
  name: string;
  /** ustar type flag ("0" regular file, "5" directory, ...). */
  type: string;
  size: number;
  /** File offset of the member's data. */
  offset: number;
}

/** True when a 512-byte block looks like a tar header (ustar magic at 257 and a valid checksum). */
export function isTarHead(head: Buffer): boolean {
  if (head.length < 512) return false;
  const magic = head.subarray(257, 262).toString("latin1");
  if (magic !== "ustar") return false;
  return checksumOk(head.subarray(0, 512));
}

function checksumOk(block: Buffer): boolean {
  const stored = parseOctal(block.subarray(148, 156));
  if (stored === undefined) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] as number);
  return sum === stored;
}

function parseOctal(field: Buffer): number | undefined {
  const s = field.toString("latin1").replace(/\0.*$/s, "").trim();
  if (s === "") return 0;
  if (!/^[0-7]+$/.test(s)) return undefined;
  const n = parseInt(s, 8);
  return Number.isSafeInteger(n) ? n : undefined;
}

function cString(b: Buffer): string {
  const z = b.indexOf(0);
  return b.subarray(0, z < 0 ? b.length : z).toString("utf8");
}

/** Lists the members of a tar archive (headers only). */
export async function listTarMembers(source: ByteSource, options: { maxEntries?: number } = {}): Promise<TarMember[]> {
  const maxEntries = options.maxEntries ?? 10_000;
  const name = source.name;
  const cur = new Cursor(source);
  const members: TarMember[] = [];
  let longName: string | undefined;
  let records = 0;
  while (cur.remaining >= 512) {
    const at = cur.offset;
    const block = Buffer.from(await cur.take(512, "tar header"));
    if (block.every((b) => b === 0)) break;
    if (++records > maxEntries * 2) throw new LimitExceededError(`${name}: more than ${maxEntries * 2} tar records`);
    if (!checksumOk(block)) throw formatError(name, at, "tar header checksum mismatch");
    const size = parseOctal(block.subarray(124, 136));
    if (size === undefined) throw formatError(name, at, "tar header size is not octal");
    const type = String.fromCharCode(block[156] === 0 ? 0x30 : (block[156] as number));
    const dataAt = cur.offset;
    const padded = Math.ceil(size / 512) * 512;
    if (size > cur.remaining) throw formatError(name, at, `truncated: tar member of ${size} bytes, ${cur.remaining} left`);
    if (type === "L" || type === "x") {
      if (size > 64 * 1024) throw new LimitExceededError(`${name}: at byte ${at}: tar ${type === "L" ? "long name" : "pax"} record of ${size} bytes is over the limit of 65536`);
      const data = Buffer.from(await cur.take(size, "tar record"));
      cur.skip(padded - size);
      if (type === "L") longName = cString(data);
      else {
        const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString("utf8"));
        if (m) longName = m[1];
      }
      continue;
    }
    let mname = longName ?? cString(block.subarray(0, 100));
    longName = undefined;
    const prefix = block.subarray(257, 262).toString("latin1") === "ustar" ? cString(block.subarray(345, 500)) : "";
    if (prefix && mname === cString(block.subarray(0, 100))) mname = `${prefix}/${mname}`;
    if (mname.startsWith("/") || mname.split("/").includes("..")) throw new UnsafeInputError(`${name}: tar member name "${mname}" escapes the archive`);
    checkPathLimits(mname, name, "tar member name");
    if (members.length >= maxEntries) throw new LimitExceededError(`${name}: more than ${maxEntries} tar members`);
    members.push({ name: mname.replace(/^\.\//, ""), type, size, offset: dataAt });
    cur.skip(Math.min(padded, cur.remaining));
  }
  // No end-of-archive blocks is tolerated (as Python's tarfile does); half a header is not.
  if (cur.remaining > 0 && cur.remaining < 512) throw formatError(name, cur.offset, `truncated: a tar header needs 512 bytes, ${cur.remaining} left`);
  return members;
}
