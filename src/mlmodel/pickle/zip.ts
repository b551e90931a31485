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

export interface ZipMember {
  name: string;
  method: number;
  flags: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

export interface ZipScanLimits {
  maxZipEntries: number;
  /** Largest member read whole (uncompressed bytes). */
  maxMemberBytes: number;
  /** Largest uncompressed/compressed ratio accepted for members over 1 MiB. */
  maxCompressionRatio: number;
}

const EOCD_SIG = 0x06054b50;
const EOCD64_LOCATOR_SIG = 0x07064b50;
const EOCD64_SIG = 0x06064b50;
const CD_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const MAX_DIRECTORY_BYTES = 64 * 1024 * 1024;

/** A zip structure problem: the archive cannot be listed or a member cannot be read. */
export class ZipReadError extends Error {}

function u64(buf: Buffer, at: number): number {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipReadError("a zip64 field is out of range");
  return Number(v);
}

/** True when the bytes start with a zip local header or an empty archive's end record. */
export function hasZipMagic(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6));
}

/** Lists the members from the central directory. */
export async function listZip(source: ByteSource, limits: ZipScanLimits): Promise<ZipMember[]> {
  const size = source.size;
  if (size < 22) throw new ZipReadError("too short for a zip archive");
  const tailLen = Math.min(size, 22 + 65535);
  const tail = await source.read(size - tailLen, tailLen);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIG) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipReadError("no end of central directory record");
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locAt = size - tailLen + eocd - 20;
    if (locAt < 0) throw new ZipReadError("zip64 locator missing");
    const loc = await source.read(locAt, 20);
    if (loc.readUInt32LE(0) !== EOCD64_LOCATOR_SIG) throw new ZipReadError("zip64 locator missing");
    const recAt = u64(loc, 8);
    if (recAt > size - 56) throw new ZipReadError("zip64 end record outside the file");
    const rec = await source.read(recAt, 56);
    if (rec.readUInt32LE(0) !== EOCD64_SIG) throw new ZipReadError("bad zip64 end record signature");
    count = u64(rec, 32);
    cdSize = u64(rec, 40);
    cdOffset = u64(rec, 48);
  }
  if (count > limits.maxZipEntries) throw new ZipReadError(`${count} entries, more than the limit of ${limits.maxZipEntries}`);
  if (cdSize > MAX_DIRECTORY_BYTES) throw new ZipReadError(`central directory of ${cdSize} bytes is over the limit of ${MAX_DIRECTORY_BYTES}`);
  if (cdOffset > size || cdSize > size - cdOffset) throw new ZipReadError("central directory outside the file");
  const cd = await source.read(cdOffset, cdSize);
  const out: ZipMember[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CD_SIG) throw new ZipReadError(`central directory record ${i} is damaged`);
    const flags = cd.readUInt16LE(p + 8);
    const method = cd.readUInt16LE(p + 10);
    let compressedSize = cd.readUInt32LE(p + 20);
    let usize = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    let localOffset = cd.readUInt32LE(p + 42);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > cd.length) throw new ZipReadError(`central directory record ${i} overruns the directory`);
    const name = cd.toString(flags & 0x800 ? "utf8" : "latin1", p + 46, p + 46 + nameLen);
    if (usize === 0xffffffff || compressedSize === 0xffffffff || localOffset === 0xffffffff) {
      let e = p + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = cd.readUInt16LE(e);
        const len = cd.readUInt16LE(e + 2);
        if (e + 4 + len > extraEnd) throw new ZipReadError(`damaged zip64 extra field of ${name}`);
        if (id === 0x0001) {
          let q = e + 4;
          const take = (): number => {
            if (q + 8 > e + 4 + len) throw new ZipReadError(`damaged zip64 extra field of ${name}`);
            const v = u64(cd, q);
            q += 8;
            return v;
          };
          if (usize === 0xffffffff) usize = take();
          if (compressedSize === 0xffffffff) compressedSize = take();
          if (localOffset === 0xffffffff) localOffset = take();
        }
        e += 4 + len;
      }
    }
    out.push({ name, method, flags, compressedSize, size: usize, localOffset });
    p = end;
  }
  return out;
}

/** Where a member's data starts (after its local header), checked against the source. */
async function dataStart(source: ByteSource, m: ZipMember): Promise<number> {
  if (m.localOffset > source.size - 30) throw new ZipReadError(`${m.name}: local header outside the file`);
  const head = await source.read(m.localOffset, 30);
  if (head.readUInt32LE(0) !== LOCAL_SIG) throw new ZipReadError(`${m.name}: no local header signature at byte ${m.localOffset}`);
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
