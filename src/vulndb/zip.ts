/**
 * A synchronous, bounded reader for the zip archives OSV exports (all.zip: hundreds of thousands of
 * small stored or deflated JSON entries, zip64 when there are more than 65,535). yauzl reads each
 * central-directory record and each entry with its own asynchronous file read, which made an import
 * of 300,000 records I/O-bound (about 0.6 ms an entry); this reader parses the central directory from
 * one buffer and reads entry data through a sliding 4 MiB window, in offset order.
 *
 * Every field is bounds-checked against the file: the end record is searched only in the last 64 KiB,
 * the directory must lie inside the file, local headers must carry their signature and agree on the
 * method, entry data must lie inside the file, only stored (0) and deflate (8) are read, encrypted
 * entries are refused, inflation is capped at the declared size and the CRC-32 is checked.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { crc32, inflateRawSync } from "node:zlib";
import { InputError, LimitExceededError, UnsafeInputError } from "../errors.ts";
import { checkDirectoryPlace, findEndRecord, parseCentralDirectory, parseZip64EndRecord, zip64RecordOffset, ZIP_LOCAL_SIG, ZIP_TAIL_BYTES, ZipFormatError, type ZipDirectoryEntry } from "../io/zip-directory.ts";

export type ZipEntryInfo = ZipDirectoryEntry;

export interface ZipLimits {
  maxEntries: number;
  maxEntryBytes: number;
  maxTotalBytes: number;
  /** Largest central directory read into memory (default 512 MiB). */
  maxDirectoryBytes?: number;
}

const WINDOW = 4 * 1024 * 1024;

function readAt(fd: number, length: number, position: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got === length ? buf : buf.subarray(0, got);
}

/** Reads the central directory: the entries in directory order. */
export function readZipDirectory(fd: number, fileSize: number, path: string, limits: ZipLimits): ZipEntryInfo[] {
  const bad = (what: string): never => {
    throw new InputError(`not a valid zip archive (${what})`, { file: path });
  };
  try {
    const tail = readAt(fd, Math.min(fileSize, ZIP_TAIL_BYTES), fileSize - Math.min(fileSize, ZIP_TAIL_BYTES));
    let end = findEndRecord(tail, fileSize);
    if (end.zip64LocatorAt !== undefined) end = parseZip64EndRecord(readAt(fd, 56, zip64RecordOffset(readAt(fd, 20, end.zip64LocatorAt), fileSize)));
    if (end.count > limits.maxEntries) throw new LimitExceededError(`${path}: ${end.count} entries, more than the limit of ${limits.maxEntries}`);
    const maxDirectoryBytes = limits.maxDirectoryBytes ?? 512 * 1024 * 1024;
    if (end.cdSize > maxDirectoryBytes) throw new LimitExceededError(`${path}: central directory of ${end.cdSize} bytes`);
    checkDirectoryPlace(end, fileSize, { maxEntries: limits.maxEntries, maxDirectoryBytes });
    const cd = readAt(fd, end.cdSize, end.cdOffset);
    if (cd.length !== end.cdSize) bad("truncated central directory");
    const entries = parseCentralDirectory(cd, end.count);
    for (const e of entries) if (e.localOffset + 30 > end.cdOffset) bad(`entry ${e.name} starts outside the data area`);
    return entries;
  } catch (e) {
    if (e instanceof ZipFormatError) bad(e.message);
    throw e;
  }
}

/**
 * Calls `onEntry(name, data)` for each entry accepted by `want`, in file order. Data is checked
 * (size, CRC) before it is handed over, and is valid only during the call (the read window is reused).
 */
export function forEachZipEntry(path: string, want: (e: ZipEntryInfo) => boolean, onEntry: (name: string, data: Buffer) => void, limits: ZipLimits): number {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new InputError(`cannot open (${(e as Error).message})`, { file: path });
  }
  try {
    const fileSize = fstatSync(fd).size;
    const entries = readZipDirectory(fd, fileSize, path, limits).filter(want);
    entries.sort((a, b) => a.localOffset - b.localOffset);
    let total = 0;
    // One window buffer, reused: `data` handed to onEntry is valid only during the call.
    let buffer: Buffer = Buffer.allocUnsafe(Math.min(WINDOW, fileSize));
    let window: Buffer = buffer.subarray(0, 0);
    let winStart = 0;
    for (const e of entries) {
      if (e.flags & 0x1) throw new UnsafeInputError(`${path}:${e.name}: encrypted zip entries are not read`);
      if (e.method !== 0 && e.method !== 8) throw new InputError(`${e.name}: compression method ${e.method} is not supported (stored and deflate are)`, { file: path });
      if (e.size > limits.maxEntryBytes) throw new LimitExceededError(`${path}:${e.name}: ${e.size} bytes, more than the per-record limit of ${limits.maxEntryBytes}`);
      if (e.compressedSize > limits.maxEntryBytes) throw new LimitExceededError(`${path}:${e.name}: ${e.compressedSize} compressed bytes, more than the per-record limit`);
      total += e.size;
      if (total > limits.maxTotalBytes) throw new LimitExceededError(`${path}: more than ${limits.maxTotalBytes} bytes uncompressed`);
      // local header (30 bytes + name + extra), then the data
      const need = (start: number, len: number): Buffer => {
        if (start + len > fileSize) throw new InputError(`${e.name}: entry data outside the file`, { file: path });
        if (start < winStart || start + len > winStart + window.length) {
          const want = Math.min(Math.max(WINDOW, len), fileSize - start);
          if (want > buffer.length) buffer = Buffer.allocUnsafe(want);
          let got = 0;
          while (got < want) {
            const n = readSync(fd, buffer, got, want - got, start + got);
            if (n === 0) break;
            got += n;
          }
          winStart = start;
          window = buffer.subarray(0, got);
          if (got < len) throw new InputError(`${e.name}: entry data outside the file`, { file: path });
        }
        return window.subarray(start - winStart, start - winStart + len);
      };
      const head = need(e.localOffset, 30);
      if (head.readUInt32LE(0) !== ZIP_LOCAL_SIG) throw new InputError(`${e.name}: local header signature missing`, { file: path });
      if (head.readUInt16LE(8) !== e.method) throw new InputError(`${e.name}: local header and directory disagree on the method`, { file: path });
      const dataStart = e.localOffset + 30 + head.readUInt16LE(26) + head.readUInt16LE(28);
      const raw = need(dataStart, e.compressedSize);
      let data: Buffer;
      if (e.method === 0) {
        if (e.compressedSize !== e.size) throw new InputError(`${e.name}: stored entry sizes disagree`, { file: path });
        data = raw;
      } else {
        try {
          // One output chunk one byte larger than the declared size: a single inflate call for a
          // well-formed entry (the default 16 KiB chunks cost an allocation each), and an entry that
          // inflates past its declared size still overruns maxOutputLength and is refused.
          data = inflateRawSync(raw, { maxOutputLength: Math.max(1, e.size), chunkSize: Math.max(64, e.size + 1) });
        } catch (err) {
          const tooBig = (err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE";
          throw new InputError(`${e.name}: ${tooBig ? "inflates to more than its declared size" : `corrupt deflate data (${(err as Error).message})`}`, { file: path });
        }
      }
      if (data.length !== e.size) throw new InputError(`${e.name}: inflated size ${data.length} differs from the declared ${e.size}`, { file: path });
      if (crc32(data) >>> 0 !== e.crc >>> 0) throw new InputError(`${e.name}: CRC-32 mismatch`, { file: path });
      onEntry(e.name, data);
    }
    return entries.length;
  } finally {
    closeSync(fd);
  }
}
