/**
 * A bounded, relaxed zip reader for scanning the pickles inside PyTorch checkpoints and .npz files.
 *
 * Relaxed the way picklescan's RelaxedZipFile and PyTorch's own reader are, because the scanner must
 * see what a loader would load, not what a strict unzipper accepts: names, sizes and methods come from
 * the central directory; the local header only gives where the data starts; the CRC is not checked;
 * general-purpose flags (encryption 0x1, patched data 0x20, strong encryption 0x40) do not stop the
 * read: a member flagged encrypted is read as it is stored, and the caller decides whether what came
 * out is plaintext. yauzl is not used here because it refuses the whole archive when one entry carries
 * the strong-encryption flag (0x40), which would let one flagged dummy entry hide every pickle.
 *
 * Bounded: the end record is searched in the last 64 KiB, the central directory size and entry count
 * are capped, every offset is checked against the source, inflation stops at the declared size (and at
 * a cap), and a compression ratio over the limit is refused.
 */
import { inflateRawSync, constants as zlibConstants } from "node:zlib";
import type { ByteSource } from "../../io/byte-source.ts";
import { checkDirectoryPlace, findEndRecord, parseCentralDirectory, parseZip64EndRecord, zip64RecordOffset, ZIP_LOCAL_SIG, ZIP_TAIL_BYTES, ZipFormatError, type ZipDirectoryEntry } from "../../io/zip-directory.ts";

export type ZipMember = ZipDirectoryEntry;

export interface ZipScanLimits {
  maxZipEntries: number;
  /** Largest member read whole (uncompressed bytes). */
  maxMemberBytes: number;
  /** Largest uncompressed/compressed ratio accepted for members over 1 MiB. */
  maxCompressionRatio: number;
}

const MAX_DIRECTORY_BYTES = 64 * 1024 * 1024;

/** A zip structure problem: the archive cannot be listed or a member cannot be read. */
export class ZipReadError extends ZipFormatError {}


/** True when the bytes start with a zip local header or an empty archive's end record. */
export function hasZipMagic(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6));
}

/** Lists the members from the central directory. */
export async function listZip(source: ByteSource, limits: ZipScanLimits): Promise<ZipMember[]> {
  const size = source.size;
  try {
    if (size < 22) throw new ZipFormatError("too short for a zip archive");
    const tailLen = Math.min(size, ZIP_TAIL_BYTES);
    let end = findEndRecord(await source.read(size - tailLen, tailLen), size);
    if (end.zip64LocatorAt !== undefined) end = parseZip64EndRecord(await source.read(zip64RecordOffset(await source.read(end.zip64LocatorAt, 20), size), 56));
    checkDirectoryPlace(end, size, { maxEntries: limits.maxZipEntries, maxDirectoryBytes: MAX_DIRECTORY_BYTES });
    return parseCentralDirectory(await source.read(end.cdOffset, end.cdSize), end.count);
  } catch (e) {
    if (e instanceof ZipFormatError && !(e instanceof ZipReadError)) throw new ZipReadError(e.message);
    throw e;
  }
}

/** Where a member's data starts (after its local header), checked against the source. */
async function dataStart(source: ByteSource, m: ZipMember): Promise<number> {
  if (m.localOffset > source.size - 30) throw new ZipReadError(`${m.name}: local header outside the file`);
  const head = await source.read(m.localOffset, 30);
  if (head.readUInt32LE(0) !== ZIP_LOCAL_SIG) throw new ZipReadError(`${m.name}: no local header signature at byte ${m.localOffset}`);
  const start = m.localOffset + 30 + head.readUInt16LE(26) + head.readUInt16LE(28);
  if (start > source.size || m.compressedSize > source.size - start) throw new ZipReadError(`${m.name}: data outside the file`);
  return start;
}

/**
 * The member's bytes as stored, decompressed (stored or deflate). `maxBytes` caps what is returned:
 * with `partial`, fewer bytes than the member holds are fine (a prefix for format detection);
 * otherwise a member over the cap is an error. Members over 1 MiB with a ratio above the limit are
 * refused as a zip bomb.
 */
export async function readZipMember(source: ByteSource, m: ZipMember, limits: ZipScanLimits, maxBytes: number, partial = false): Promise<Buffer> {
  if (m.method !== 0 && m.method !== 8) throw new ZipReadError(`${m.name}: compression method ${m.method} is not supported (stored and deflate are)`);
  if (!partial && m.size > maxBytes) throw new ZipReadError(`${m.name}: ${m.size} bytes is over the limit of ${maxBytes}`);
  if (m.method === 8 && m.size > 1024 * 1024 && m.size / Math.max(1, m.compressedSize) > limits.maxCompressionRatio) {
    throw new ZipReadError(`${m.name}: compression ratio ${Math.round(m.size / Math.max(1, m.compressedSize))} is over the limit of ${limits.maxCompressionRatio} (a zip bomb?)`);
  }
  const start = await dataStart(source, m);
  if (m.method === 0) {
    const n = partial ? Math.min(m.compressedSize, maxBytes) : m.compressedSize;
    if (n > maxBytes) throw new ZipReadError(`${m.name}: ${n} bytes is over the limit of ${maxBytes}`);
    return source.read(start, n);
  }
  // deflate: the whole member, inflated up to its declared size; or, for a prefix, the first 16 KiB of
  // compressed data (at most about 16 MiB once inflated, deflate's ratio being at most 1032:1)
  const raw = await source.read(start, partial ? Math.min(m.compressedSize, 16 * 1024) : m.compressedSize);
  try {
    if (partial) {
      const out = inflateRawSync(raw, { maxOutputLength: 17 * 1024 * 1024, finishFlush: zlibConstants.Z_SYNC_FLUSH });
      return out.subarray(0, Math.min(out.length, maxBytes));
    }
    const out = inflateRawSync(raw, { maxOutputLength: m.size + 1, chunkSize: Math.max(64, Math.min(m.size + 1, 16 * 1024 * 1024)) });
    if (out.length !== m.size) throw new ZipReadError(`${m.name}: inflates to ${out.length} bytes, not its declared ${m.size}`);
    return out;
  } catch (e) {
    if (e instanceof ZipReadError) throw e;
    if ((e as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") throw new ZipReadError(`${m.name}: inflates to more than its declared ${m.size} bytes`);
    throw new ZipReadError(`${m.name}: corrupt deflate data (${(e as Error).message})`);
  }
}
