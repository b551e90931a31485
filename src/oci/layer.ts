import { createHash, type Hash } from "node:crypto";
import { Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createZstdDecompress } from "node:zlib";
import { extract as tarExtract, type Header } from "tar-stream";
import { checkPathLimits } from "../io/files.ts";
import { InputError, LimitExceededError, TollgateError, UnsafeInputError, VerificationFailedError } from "../errors.ts";
import { digestAlgorithm } from "./manifest.ts";
import type { OciLimits, LayerRef } from "./types.ts";

export type LayerEntryType = "file" | "link" | "symlink" | "directory" | "other";

/** One entry of a layer tar, its path normalized (no leading "/" or "./"); `data` streams a file's bytes. */
export interface LayerEntry {
  path: string;
  type: LayerEntryType;
  size: number;
  mode?: number;
  /** Symlink target as written, or a hard link's normalized target path. */
  linkname?: string;
  /** The tar header as written, for tools that compare layers (`repro diff`): name before normalizing, times, owners, PAX records. */
  header: LayerEntryHeader;
  data: Readable;
}

/** The parts of a layer entry's tar header that differ between two builds of the same files. */
export interface LayerEntryHeader {
  name: string;
  /** Modification time in seconds since the epoch (fractional with PAX mtime). */
  mtime?: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  /** PAX extended header records (e.g. atime, ctime, SCHILY.xattr.*), when written. */
  pax?: Record<string, string>;
}

/**
 * The bomb guard. Decompressed bytes are counted for the whole image: every pass over its layers (the
 * walk, an index pass, each re-read of a layer for a companion file) adds to one total, shared by the
 * budgets of one image (`pass()`), bounded by `maxDecompressedBytes`. Entries are counted per pass.
 */
export class ReadBudget {
  readonly limits: OciLimits;
  private readonly total: { bytes: number };
  /** Decompressed bytes of this pass. */
  passBytes = 0;
  entries = 0;

  constructor(limits: OciLimits, shared?: ReadBudget) {
    this.limits = limits;
    this.total = shared ? shared.total : { bytes: 0 };
  }

  /** A budget for one more pass over the same image: its own entry count, the image's byte total. */
  pass(): ReadBudget {
    return new ReadBudget(this.limits, this);
  }

  /** Decompressed bytes of all passes over the image so far. */
  get bytes(): number {
    return this.total.bytes;
  }

  addBytes(n: number, where: string): void {
    this.total.bytes += n;
    this.passBytes += n;
    if (this.total.bytes > this.limits.maxDecompressedBytes) {
      throw new LimitExceededError(
        `${where}: the image's layers decompress to more than ${this.limits.maxDecompressedBytes} bytes in all reads of it (limit on total decompressed bytes; a compression bomb?)`,
      );
    }
  }

  addEntry(where: string): void {
    if (++this.entries > this.limits.maxEntries) throw new LimitExceededError(`${where}: more than ${this.limits.maxEntries} entries in the image's layers`);
  }
}

/**
 * Layer paths: leading "/" and "./" dropped; a ".." part is refused (it would leave the image root), and
 * so is a path over 4096 characters or with a name over 255 bytes (LimitExceededError).
 */
export function normalizeLayerPath(raw: string, where: string): string {
  checkPathLimits(raw, where, "entry");
  const parts: string[] = [];
  for (const p of raw.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") throw new UnsafeInputError(`${where}: entry "${raw.slice(0, 200)}" climbs out of the image root with ".."; refusing the layer`);
    parts.push(p);
  }
  return parts.join("/");
}

function entryType(t: Header["type"]): LayerEntryType {
  switch (t) {
    case "file":
    case "contiguous-file":
      return "file";
    case "link":
      return "link";
    case "symlink":
      return "symlink";
    case "directory":
      return "directory";
    default:
      return "other";
  }
}

type Compression = "gzip" | "zstd" | "none";

function detectCompression(head: Buffer): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return "zstd";
  return "none";
}

/** A stream stage that counts and hashes the decompressed tar and enforces the byte budget. */
class DecompressedGuard extends Transform {
  private readonly hash: Hash | undefined;
  private readonly diffId: string | undefined;
  private readonly budget: ReadBudget;
  private readonly where: string;

  constructor(budget: ReadBudget, where: string, diffId: string | undefined) {
    super({ highWaterMark: 1024 * 1024 });
    this.budget = budget;
    this.where = where;
    this.diffId = diffId;
    this.hash = diffId ? createHash(digestAlgorithm(diffId, where)) : undefined;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.budget.addBytes(chunk.length, this.where);
    } catch (e) {
      cb(e as Error);
      return;
    }
    this.hash?.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.hash && this.diffId) {
      const actual = `${this.diffId.split(":")[0]}:${this.hash.digest("hex")}`;
      if (actual !== this.diffId) {
        cb(new VerificationFailedError(`${this.where}: uncompressed layer digest ${actual} does not match the config's diff_id ${this.diffId}`));
        return;
      }
    }
    cb();
  }
}

/**
 * Streams one layer: the stored bytes are hashed (checked against the manifest digest at the end),
 * decompressed by their magic bytes (gzip, zstd or none), counted against the budget, hashed again
 * (checked against the diff_id) and split into tar entries. Nothing is kept in memory or written to
 * disk beyond the stream buffers. A digest mismatch fails the pass when the layer ends.
 */
export async function* readLayer(layer: LayerRef, budget: ReadBudget, where: string): AsyncGenerator<LayerEntry> {
  const source = await layer.open();
  const iter = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let head = Buffer.alloc(0);
  const pending: Buffer[] = [];
  while (head.length < 4) {
    const r = await iter.next();
    if (r.done) break;
    pending.push(r.value);
    head = Buffer.concat([head, r.value]);
  }
  const compression = detectCompression(head);
  const alg = layer.digest ? digestAlgorithm(layer.digest, where) : undefined;
  const storedHash = alg ? createHash(alg) : undefined;
  async function* stored(): AsyncGenerator<Buffer> {
    for (const chunk of pending) {
      storedHash?.update(chunk);
      yield chunk;
    }
    pending.length = 0;
    for (;;) {
      const r = await iter.next();
      if (r.done) break;
      storedHash?.update(r.value);
      yield r.value;
    }
    if (storedHash && layer.digest) {
      const actual = `${alg}:${storedHash.digest("hex")}`;
      if (actual !== layer.digest) throw new VerificationFailedError(`${where}: layer blob digest ${actual} does not match ${layer.digest}`);
    }
  }
  const input = Readable.from(stored(), { objectMode: false, highWaterMark: 1024 * 1024 });
  const extract = tarExtract();
  const guard = new DecompressedGuard(budget, where, layer.diffId);
  const stages: NodeJS.ReadWriteStream[] = [];
  if (compression === "gzip") stages.push(createGunzip({ chunkSize: 256 * 1024 }));
  else if (compression === "zstd") stages.push(createZstdDecompress({ chunkSize: 256 * 1024 }));
  const done = pipeline([input, ...stages, guard, extract]);
  let pipelineError: unknown;
  done.catch((e: unknown) => {
    pipelineError = e;
  });
  try {
    for await (const entry of extract) {
      const h = entry.header;
      budget.addEntry(where);
      const path = normalizeLayerPath(h.name, where);
      const type = entryType(h.type);
      const size = h.size ?? 0;
      if (type === "file" && size > budget.limits.maxEntryBytes) {
        throw new LimitExceededError(`${where}: entry ${path} has ${size} bytes, over the limit of ${budget.limits.maxEntryBytes} per file`);
      }
      const header: LayerEntryHeader = { name: h.name };
      if (h.mtime) header.mtime = h.mtime.getTime() / 1000;
      if (h.uid !== undefined) header.uid = h.uid;
      if (h.gid !== undefined) header.gid = h.gid;
      if (h.uname) header.uname = h.uname;
      if (h.gname) header.gname = h.gname;
      if (h.pax && Object.keys(h.pax).length > 0) header.pax = h.pax as Record<string, string>;
      const e: LayerEntry = { path, type, size, header, data: entry as unknown as Readable };
      if (h.mode !== undefined) e.mode = h.mode;
      if (h.linkname) {
        if (type !== "link") checkPathLimits(h.linkname, where, `the target of ${path}`);
        e.linkname = type === "link" ? normalizeLayerPath(h.linkname, where) : h.linkname;
      }
      yield e;
      entry.resume();
    }
    await done;
  } catch (e) {
    source.destroy();
    input.destroy();
    await done.catch(() => undefined);
    const cause = e instanceof TollgateError ? e : (pipelineError ?? e);
    if (cause instanceof Error && !(cause instanceof InputError) && (cause as NodeJS.ErrnoException).code?.startsWith("Z_")) {
      throw new InputError(`layer data is corrupt: ${cause.message}`, { file: where });
    }
    if (cause instanceof Error && /Invalid tar header|Unexpected end of data/i.test(cause.message)) {
      throw new InputError(`layer is not a valid tar: ${cause.message}`, { file: where });
    }
    throw cause;
  } finally {
    if (!input.destroyed) input.destroy();
  }
}
