/**
 * Shared helpers of the model-format readers: the error every reader throws (file and byte offset in
 * one line) and a forward cursor over a ByteSource that reads through a window, so a header of many
 * small fields costs few reads and every length taken from the file is checked against the bytes left
 * and against a cap before anything is allocated.
 */
import { InputError, LimitExceededError } from "../../errors.ts";
import type { ByteSource } from "../../io/byte-source.ts";

/** An InputError `name: at byte N: problem` (one line; exit 2). */
export function formatError(name: string, offset: number, problem: string): InputError {
  return new InputError(`at byte ${offset}: ${problem}`, { file: name });
}

/** A LimitExceededError `name: at byte N: what is over the limit of cap`. */
export function limitError(name: string, offset: number, what: string, value: number | bigint, cap: number): LimitExceededError {
  return new LimitExceededError(`${name}: at byte ${offset}: ${what} ${value} is over the limit of ${cap}`);
}

const WINDOW = 64 * 1024;

/** A little- (or big-) endian forward reader over a ByteSource from `start` to `end`. */
export class Cursor {
  readonly source: ByteSource;
  readonly end: number;
  private pos: number;
  private window: Buffer = Buffer.alloc(0);
  private windowStart = 0;
  littleEndian = true;

  /** When set, the end is a cap below the source's end: running into it is a LimitExceededError. */
  private readonly cap: { bytes: number; what: string } | undefined;

  constructor(source: ByteSource, start = 0, end = source.size, cap?: { bytes: number; what: string }) {
    this.source = source;
    this.pos = start;
    this.end = end;
    this.cap = cap && start + cap.bytes < end ? cap : undefined;
    if (this.cap) this.end = start + this.cap.bytes;
  }

  /** Throws (truncated, or over the cap) unless `n` bytes are left. */
  need(n: number, what: string, at = this.pos): void {
    if (n > this.remaining) throw this.short(n, what, at);
  }

  private short(n: number, what: string, at = this.pos): Error {
    if (this.cap) return new LimitExceededError(`${this.source.name}: at byte ${at}: ${what} of ${n} bytes runs past the limit of ${this.cap.bytes} bytes for the ${this.cap.what}`);
    return this.fail(`truncated: ${what} needs ${n} bytes, ${this.remaining} left`, at);
  }

  /** A cursor over [start, end) of the same source that starts with this cursor's window (no re-read). */
  fork(start: number, end: number): Cursor {
    const c = new Cursor(this.source, start, end);
    c.littleEndian = this.littleEndian;
    c.window = this.window;
    c.windowStart = this.windowStart;
    return c;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  fail(problem: string, at = this.pos): InputError {
    return formatError(this.source.name, at, problem);
  }

  /** `n` bytes at the cursor (a view valid until the next read), after checking they are there. */
  async take(n: number, what = "field"): Promise<Buffer> {
    if (!Number.isSafeInteger(n) || n < 0) throw this.fail(`invalid length ${n} for ${what}`);
    if (n > this.remaining) throw this.short(n, what);
    const at = this.pos;
    if (at < this.windowStart || at + n > this.windowStart + this.window.length) {
      if (n > WINDOW) {
        this.pos += n;
        return this.source.read(at, n);
      }
      const len = Math.min(Math.max(WINDOW, n), this.end - at);
      this.window = await this.source.read(at, len);
      this.windowStart = at;
    }
    this.pos += n;
    return this.window.subarray(at - this.windowStart, at - this.windowStart + n);
  }

  /**
   * `n` bytes at the cursor when they are already in the window (no await: the hot path of loops over
   * many small fields), else undefined and the cursor does not move (call take, which reads or throws).
   */
  takeSync(n: number): Buffer | undefined {
    const at = this.pos;
    if (n < 0 || n > this.remaining || at < this.windowStart || at + n > this.windowStart + this.window.length) return undefined;
    this.pos += n;
    return this.window.subarray(at - this.windowStart, at - this.windowStart + n);
  }

  /** `n` bytes at `start` (anywhere in the source): from the window when there, else read. The cursor does not move. */
  async bytesAt(start: number, n: number): Promise<Buffer> {
    if (start >= this.windowStart && start + n <= this.windowStart + this.window.length) {
      return this.window.subarray(start - this.windowStart, start - this.windowStart + n);
    }
    return this.source.read(start, n);
  }

  /** Moves forward `n` bytes without reading them (checked against the end). */
  skip(n: number, what = "field"): void {
    if (!Number.isSafeInteger(n) || n < 0) throw this.fail(`invalid length ${n} for ${what}`);
    if (n > this.remaining) throw this.short(n, what);
    this.pos += n;
  }

  seek(offset: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > this.end) throw this.fail(`offset ${offset} outside the file`);
    this.pos = offset;
  }

  async u8(what = "u8"): Promise<number> {
    return (await this.take(1, what)).readUInt8(0);
  }
  async i8(what = "i8"): Promise<number> {
    return (await this.take(1, what)).readInt8(0);
  }
  async u16(what = "u16"): Promise<number> {
    const b = await this.take(2, what);
    return this.littleEndian ? b.readUInt16LE(0) : b.readUInt16BE(0);
  }
  async i16(what = "i16"): Promise<number> {
    const b = await this.take(2, what);
    return this.littleEndian ? b.readInt16LE(0) : b.readInt16BE(0);
  }
  async u32(what = "u32"): Promise<number> {
    const b = await this.take(4, what);
    return this.littleEndian ? b.readUInt32LE(0) : b.readUInt32BE(0);
  }
  async i32(what = "i32"): Promise<number> {
    const b = await this.take(4, what);
    return this.littleEndian ? b.readInt32LE(0) : b.readInt32BE(0);
  }
  async u64(what = "u64"): Promise<bigint> {
    const b = await this.take(8, what);
    return this.littleEndian ? b.readBigUInt64LE(0) : b.readBigUInt64BE(0);
  }
  async i64(what = "i64"): Promise<bigint> {
    const b = await this.take(8, what);
    return this.littleEndian ? b.readBigInt64LE(0) : b.readBigInt64BE(0);
  }
  async f32(what = "f32"): Promise<number> {
    const b = await this.take(4, what);
    return this.littleEndian ? b.readFloatLE(0) : b.readFloatBE(0);
  }
  async f64(what = "f64"): Promise<number> {
    const b = await this.take(8, what);
    return this.littleEndian ? b.readDoubleLE(0) : b.readDoubleBE(0);
  }

  /**
   * A length field already read as bigint, checked against `cap` (LimitExceededError) and the bytes
   * left (InputError, truncated) before the caller allocates; `unit` bytes per counted item.
   */
  checkLength(value: bigint, cap: number, what: string, at: number, unit = 1): number {
    if (value > BigInt(cap)) throw limitError(this.source.name, at, what, value, cap);
    const n = Number(value);
    if (n * unit > this.remaining) throw this.short(n * unit, `${what} ${n}`, at);
    return n;
  }
}

/** UTF-8 decoding that refuses invalid sequences (InputError at the field's offset). */
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function strictUtf8(bytes: Uint8Array, name: string, at: number, what: string): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw formatError(name, at, `${what} is not valid UTF-8`);
  }
}

/** A bigint as a number when it is a safe integer, else an InputError. */
export function safeNumber(value: bigint, name: string, at: number, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) throw formatError(name, at, `${what} ${value} is out of range`);
  return Number(value);
}
