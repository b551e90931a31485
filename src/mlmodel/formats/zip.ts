/**
 * Zip containers of model files (PyTorch, Keras v3, NumPy .npz) read with yauzl over a ByteSource,
 * so only the central directory and the members asked for are read. Bounded: the entry count is
 * checked before the directory is listed; names must stay inside the archive (yauzl refuses absolute
 * names and `..`; checkPathLimits the lengths) and appear once; a member is read into memory only up
 * to a cap, a deflated one only below a compression-ratio cap, and yauzl fails one that inflates to
 * more than it declares. Stored members (PyTorch writes every member stored) are handed out as a
 * slice of the source, not copied.
 */
import { Readable } from "node:stream";
import yauzl from "yauzl";
import { InputError, LimitExceededError, UnsafeInputError } from "../../errors.ts";
import { checkPathLimits } from "../../io/files.ts";
import { bufferSource, checkRange, sliceSource, type ByteSource } from "../../io/byte-source.ts";

export interface ZipLimits {
  /** Most entries (default 100,000). */
  maxEntries: number;
  /** Largest member read into memory (default 256 MiB). */
  maxMemberBytes: number;
  /** Highest uncompressed/compressed ratio of a deflated member that is read (default 1,100). */
  maxRatio: number;
  /** Most bytes read out of the archive's members in all (default 1 GiB). */
  maxTotalBytes: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxEntries: 100_000, maxMemberBytes: 256 * 1024 * 1024, maxRatio: 1_100, maxTotalBytes: 1024 * 1024 * 1024 };

export interface ZipMember {
  name: string;
  /** Uncompressed size. */
  size: number;
  compressedSize: number;
  /** 0 stored, 8 deflate. */
  method: number;
  encrypted: boolean;
  entry: yauzl.Entry;
}

const ZIP_MAGIC = Buffer.from("PK\x03\x04", "latin1");

/** True when a file starts like a zip archive (local file header at offset 0). */
export function isZipHead(head: Buffer): boolean {
  return head.length >= 4 && head.subarray(0, 4).equals(ZIP_MAGIC);
}

class SourceReader extends yauzl.RandomAccessReader {
  private readonly source: ByteSource;
  constructor(source: ByteSource) {
    super();
    this.source = source;
  }
  override _readStreamForRange(start: number, end: number): Readable {
    const source = this.source;
    return Readable.from(
      (async function* () {
        for (let at = start; at < end; ) {
          const n = Math.min(1024 * 1024, end - at);
          yield await source.read(at, n);
          at += n;
        }
      })(),
      { objectMode: false },
    );
  }
}

/** An open zip: its members, and bounded reads of them. */
export class ModelZip {
  readonly source: ByteSource;
  readonly members: ZipMember[];
  private readonly byName: Map<string, ZipMember>;
  private readonly zip: yauzl.ZipFile;
  private readonly limits: ZipLimits;
  private readBytes = 0;

  private constructor(source: ByteSource, zip: yauzl.ZipFile, members: ZipMember[], limits: ZipLimits) {
    this.source = source;
    this.zip = zip;
    this.members = members;
    this.byName = new Map(members.map((m) => [m.name, m]));
    this.limits = limits;
  }

  /** Opens a zip over `source` and lists its members (directories left out). */
  static async open(source: ByteSource, limits: Partial<ZipLimits> = {}): Promise<ModelZip> {
    const l = { ...DEFAULT_ZIP_LIMITS, ...limits };
    let zip: yauzl.ZipFile;
    try {
      zip = await yauzl.fromRandomAccessReaderPromise(new SourceReader(source), source.size, { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: true });
    } catch (e) {
      throw zipError(source.name, e);
    }
    const members: ZipMember[] = [];
    const seen = new Set<string>();
    try {
      if (zip.entryCount > l.maxEntries) throw new LimitExceededError(`${source.name}: ${zip.entryCount} zip entries, more than the limit of ${l.maxEntries}`);
      for await (const entry of zip.eachEntry()) {
        const name = entry.fileName;
        checkPathLimits(name, source.name, "zip member name");
        if (seen.has(name)) throw new UnsafeInputError(`${source.name}: the zip holds "${name}" twice (readers would disagree on which one counts)`);
        seen.add(name);
        if (name.endsWith("/")) continue;
        members.push({ name, size: entry.uncompressedSize, compressedSize: entry.compressedSize, method: entry.compressionMethod, encrypted: entry.isEncrypted(), entry });
      }
    } catch (e) {
      zip.close();
      throw zipError(source.name, e);
    }
    return new ModelZip(source, zip, members, l);
  }

  /** The member named exactly `name`. */
  get(name: string): ZipMember | undefined {
    return this.byName.get(name);
  }

  /** The file offset of a stored member's data (undefined for a compressed or encrypted one). */
  async dataOffset(m: ZipMember): Promise<number | undefined> {
    if (m.method !== 0 || m.encrypted) return undefined;
    let header: { fileDataStart: number };
    try {
      header = await this.zip.readLocalFileHeaderPromise(m.entry, { minimal: true });
    } catch (e) {
      throw zipError(this.source.name, e, m.name);
    }
    checkRange(`${this.source.name}!${m.name}`, this.source.size, header.fileDataStart, m.size);
    return header.fileDataStart;
  }

  /**
   * A ByteSource over a member: a slice of the archive for a stored member, else the member inflated
   * into memory (at most `max` bytes, default maxMemberBytes).
   */
  async memberSource(m: ZipMember, max = this.limits.maxMemberBytes): Promise<ByteSource> {
    const shown = `${this.source.name}!${m.name}`;
    const at = await this.dataOffset(m);
    if (at !== undefined) return sliceSource(this.source, at, m.size, shown);
    return bufferSource(await this.read(m, max), shown);
  }

  /** A member's bytes (whole), refused above `max` bytes or the ratio cap. */
  async read(m: ZipMember, max = this.limits.maxMemberBytes): Promise<Buffer> {
    const shown = `${this.source.name}!${m.name}`;
    if (m.size > max) throw new LimitExceededError(`${shown}: ${m.size} bytes is over the limit of ${max} bytes for a member read into memory`);
    return this.readUpTo(m, m.size, shown);
  }

  /** The first `n` bytes of a member (fewer if it is shorter), inflating no more than needed. */
  async head(m: ZipMember, n: number): Promise<Buffer> {
    return this.readUpTo(m, Math.min(n, m.size), `${this.source.name}!${m.name}`);
  }

  private async readUpTo(m: ZipMember, n: number, shown: string): Promise<Buffer> {
    if (m.encrypted) throw new UnsafeInputError(`${shown}: encrypted zip members are not read`);
    if (m.method !== 0 && m.method !== 8) throw new InputError(`compression method ${m.method} is not supported (stored and deflate are)`, { file: shown });
    if (m.method === 8 && m.size > Math.max(1, m.compressedSize) * this.limits.maxRatio) {
      throw new LimitExceededError(`${shown}: compression ratio ${Math.round(m.size / Math.max(1, m.compressedSize))} is over the limit of ${this.limits.maxRatio} (a zip bomb?)`);
    }
    if (this.readBytes + n > this.limits.maxTotalBytes) throw new LimitExceededError(`${this.source.name}: more than ${this.limits.maxTotalBytes} bytes read out of the archive's members`);
    this.readBytes += n;
    const out = Buffer.alloc(n);
    if (n === 0) return out;
    let stream: Readable;
    try {
      stream = await this.zip.openReadStreamPromise(m.entry);
    } catch (e) {
      throw zipError(this.source.name, e, m.name);
    }
    let filled = 0;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        const take = Math.min(chunk.length, n - filled);
        chunk.copy(out, filled, 0, take);
        filled += take;
        if (filled >= n) break;
      }
    } catch (e) {
      throw zipError(this.source.name, e, m.name);
    } finally {
      stream.destroy();
    }
    if (filled < n) throw new InputError(`truncated member: ${filled} of ${n} bytes`, { file: shown });
    return out;
  }

  close(): void {
    this.zip.close();
  }
}

/** A yauzl error as one line naming the archive (and member); tollgate errors pass through. */
function zipError(name: string, e: unknown, member?: string): Error {
  if (e instanceof InputError || e instanceof LimitExceededError || e instanceof UnsafeInputError) return e;
  const msg = (e as Error).message ?? String(e);
  const where = member ? `${name}!${member}` : name;
  if (/absolute path|invalid relative path|invalid characters in fileName/.test(msg)) return new UnsafeInputError(`${where}: zip member name escapes the archive (${msg})`);
  return new InputError(`not a valid zip archive (${msg})`, { file: where });
}

/** Opens `source` as a zip, runs `fn`, and closes it. */
export async function withZip<T>(source: ByteSource, fn: (zip: ModelZip) => Promise<T>, limits: Partial<ZipLimits> = {}): Promise<T> {
  const zip = await ModelZip.open(source, limits);
  try {
    return await fn(zip);
  } finally {
    zip.close();
  }
}
