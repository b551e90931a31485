/**
 * The zip central directory, parsed from bytes the caller has read (APPNOTE 6.3.10 §4.3.12-4.3.16):
 * the end record (searched in the last 64 KiB), its zip64 locator and record, and the directory's
 * records with their zip64 extra fields. No I/O here, so the synchronous reader of OSV exports
 * (src/vulndb/zip.ts) and the asynchronous, relaxed reader of model archives (src/mlmodel/pickle/zip.ts)
 * share one parser. Every offset and length is checked against the bytes given; a problem is a
 * `ZipFormatError` the caller turns into its own error.
 */

export const ZIP_EOCD_SIG = 0x06054b50;
export const ZIP_EOCD64_LOCATOR_SIG = 0x07064b50;
export const ZIP_EOCD64_SIG = 0x06064b50;
export const ZIP_CD_SIG = 0x02014b50;
export const ZIP_LOCAL_SIG = 0x04034b50;

/** The bytes at the end of a file to read for `findEndRecord`: the end record and its longest comment. */
export const ZIP_TAIL_BYTES = 22 + 65535;

/** A zip structure problem, in words (the caller adds the file). */
export class ZipFormatError extends Error {}

/** One central-directory record. */
export interface ZipDirectoryEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/** Where the central directory is; `zip64LocatorAt` when the zip64 record must be read for it. */
export interface ZipEndRecord {
  count: number;
  cdSize: number;
  cdOffset: number;
  /** File offset of the zip64 end locator (20 bytes) to read and pass to `zip64RecordOffset`. */
  zip64LocatorAt?: number;
}

function u64(buf: Buffer, at: number): number {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipFormatError("a zip64 field is out of range");
  return Number(v);
}

/** Finds the end record in the file's last bytes (`tail`, read from `fileSize - tail.length`). */
export function findEndRecord(tail: Buffer, fileSize: number): ZipEndRecord {
  if (fileSize < 22 || tail.length < 22) throw new ZipFormatError("too short for a zip archive");
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === ZIP_EOCD_SIG) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipFormatError("no end of central directory record");
  const record: ZipEndRecord = { count: tail.readUInt16LE(eocd + 10), cdSize: tail.readUInt32LE(eocd + 12), cdOffset: tail.readUInt32LE(eocd + 16) };
  if (record.count === 0xffff || record.cdSize === 0xffffffff || record.cdOffset === 0xffffffff) {
    // zip64: the locator sits just before the end record
    const locAt = fileSize - tail.length + eocd - 20;
    if (locAt < 0) throw new ZipFormatError("zip64 locator missing");
    record.zip64LocatorAt = locAt;
  }
  return record;
}

/** The file offset of the zip64 end record, from the 20-byte locator. */
export function zip64RecordOffset(locator: Buffer, fileSize: number): number {
  if (locator.length < 20 || locator.readUInt32LE(0) !== ZIP_EOCD64_LOCATOR_SIG) throw new ZipFormatError("zip64 locator missing");
  const at = u64(locator, 8);
  if (at > fileSize - 56) throw new ZipFormatError("zip64 end record outside the file");
  return at;
}

/** The directory's place and count from the 56-byte zip64 end record. */
export function parseZip64EndRecord(record: Buffer): ZipEndRecord {
  if (record.length < 56 || record.readUInt32LE(0) !== ZIP_EOCD64_SIG) throw new ZipFormatError("bad zip64 end record signature");
  return { count: u64(record, 32), cdSize: u64(record, 40), cdOffset: u64(record, 48) };
}

/** Checks the directory lies inside the file, within the entry and size limits, before it is read. */
export function checkDirectoryPlace(end: ZipEndRecord, fileSize: number, limits: { maxEntries: number; maxDirectoryBytes: number }): void {
  if (end.count > limits.maxEntries) throw new ZipFormatError(`${end.count} entries, more than the limit of ${limits.maxEntries}`);
  if (end.cdSize > limits.maxDirectoryBytes) throw new ZipFormatError(`central directory of ${end.cdSize} bytes is over the limit of ${limits.maxDirectoryBytes}`);
  if (end.cdOffset > fileSize || end.cdSize > fileSize - end.cdOffset) throw new ZipFormatError("central directory outside the file");
}

/** Parses `count` records from the central directory's bytes. */
export function parseCentralDirectory(cd: Buffer, count: number): ZipDirectoryEntry[] {
  const out: ZipDirectoryEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== ZIP_CD_SIG) throw new ZipFormatError(`central directory record ${i} is damaged`);
    const flags = cd.readUInt16LE(p + 8);
    const method = cd.readUInt16LE(p + 10);
    const crc = cd.readUInt32LE(p + 16);
    let compressedSize = cd.readUInt32LE(p + 20);
    let size = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    let localOffset = cd.readUInt32LE(p + 42);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > cd.length) throw new ZipFormatError(`central directory record ${i} overruns the directory`);
    const name = cd.toString(flags & 0x800 ? "utf8" : "latin1", p + 46, p + 46 + nameLen);
    if (size === 0xffffffff || compressedSize === 0xffffffff || localOffset === 0xffffffff) {
      let e = p + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = cd.readUInt16LE(e);
        const len = cd.readUInt16LE(e + 2);
        if (e + 4 + len > extraEnd) throw new ZipFormatError(`damaged zip64 extra field of ${name}`);
        if (id === 0x0001) {
          let q = e + 4;
          const take = (): number => {
            if (q + 8 > e + 4 + len) throw new ZipFormatError(`damaged zip64 extra field of ${name}`);
            const v = u64(cd, q);
            q += 8;
            return v;
          };
          if (size === 0xffffffff) size = take();
          if (compressedSize === 0xffffffff) compressedSize = take();
          if (localOffset === 0xffffffff) localOffset = take();
        }
        e += 4 + len;
      }
    }
    out.push({ name, method, flags, crc, compressedSize, size, localOffset });
    p = end;
  }
  return out;
}
