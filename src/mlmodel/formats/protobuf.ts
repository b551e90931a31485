/**
 * A minimal, bounded protobuf wire-format reader (https://protobuf.dev/programming-guides/encoding/)
 * over a ByteSource, for ONNX ModelProto and TensorFlow SavedModel: fields are walked in place and
 * length-delimited ones are only described (offset and length), so a caller descends into the
 * messages it wants and reads the strings it wants, each under a cap, while multi-GB `raw_data`
 * is skipped unread. A length must fit in the bytes left of its message; nesting depth and the number
 * of fields visited in one file are capped; groups (wire types 3 and 4) are refused.
 */
import { LimitExceededError } from "../../errors.ts";
import { Cursor, formatError, limitError, strictUtf8 } from "./binary.ts";
import type { ByteSource } from "../../io/byte-source.ts";

export interface ProtoLimits {
  /** Deepest message nesting (default 100, protobuf's own default recursion limit). */
  maxDepth: number;
  /** Most fields visited in one file (default 50,000,000). */
  maxFields: number;
}

export const DEFAULT_PROTO_LIMITS: ProtoLimits = { maxDepth: 100, maxFields: 50_000_000 };

/** One field as found: the number, the wire type and either the scalar or the payload's place. */
export interface ProtoField {
  number: number;
  wireType: 0 | 1 | 2 | 5;
  /** File offset of the field's tag. */
  offset: number;
  /** Wire type 0 (varint), 1 (fixed64) and 5 (fixed32): the value as an unsigned bigint. */
  value: bigint;
  /** Wire type 2: file offset and length of the payload. */
  start: number;
  length: number;
}

/** Shared state of one file's walk: the field budget. */
interface WalkState {
  limits: ProtoLimits;
  fields: number;
}

/** A reader for one message: the bytes [start, end) of the source. */
export class ProtoReader {
  private readonly cur: Cursor;
  readonly depth: number;
  private readonly state: WalkState;

  private constructor(cur: Cursor, depth: number, state: WalkState) {
    this.cur = cur;
    this.depth = depth;
    this.state = state;
  }

  /** A reader for the top-level message of `source` (the whole source, or [start, end)). */
  static open(source: ByteSource, limits: Partial<ProtoLimits> = {}, start = 0, end = source.size): ProtoReader {
    return new ProtoReader(new Cursor(source, start, end), 0, { limits: { ...DEFAULT_PROTO_LIMITS, ...limits }, fields: 0 });
  }

  get name(): string {
    return this.cur.source.name;
  }

  /** The fields of this message, in file order. */
  async *fields(): AsyncGenerator<ProtoField> {
    const cur = this.cur;
    while (cur.remaining > 0) {
      if (++this.state.fields > this.state.limits.maxFields) throw limitError(this.name, cur.offset, "protobuf field count", this.state.fields, this.state.limits.maxFields);
      const offset = cur.offset;
      const tag = await this.varint("field tag");
      const wire = Number(tag & 7n);
      const number = Number(tag >> 3n);
      if (number < 1 || number > 536_870_911) throw formatError(this.name, offset, `invalid protobuf field number ${number}`);
      switch (wire) {
        case 0:
          yield { number, wireType: 0, offset, value: await this.varint(`field ${number}`), start: 0, length: 0 };
          break;
        case 1:
          yield { number, wireType: 1, offset, value: (await cur.take(8, `field ${number}`)).readBigUInt64LE(0), start: 0, length: 0 };
          break;
        case 5:
          yield { number, wireType: 5, offset, value: BigInt((await cur.take(4, `field ${number}`)).readUInt32LE(0)), start: 0, length: 0 };
          break;
        case 2: {
          const lenAt = cur.offset;
          const len = await this.varint(`field ${number} length`);
          if (len > BigInt(cur.remaining)) throw formatError(this.name, lenAt, `truncated: field ${number} declares ${len} bytes, ${cur.remaining} left in its message`);
          const start = cur.offset;
          const length = Number(len);
          cur.skip(length);
          yield { number, wireType: 2, offset, value: 0n, start, length };
          break;
        }
        default:
          throw formatError(this.name, offset, `protobuf wire type ${wire} (field ${number}) is not supported`);
      }
    }
  }

  /** A reader for the embedded message in a length-delimited field. */
  sub(field: ProtoField): ProtoReader {
    if (field.wireType !== 2) throw formatError(this.name, field.offset, `field ${field.number} is not a message`);
    if (this.depth + 1 > this.state.limits.maxDepth) throw limitError(this.name, field.offset, "protobuf nesting depth", this.depth + 1, this.state.limits.maxDepth);
    return new ProtoReader(this.cur.fork(field.start, field.start + field.length), this.depth + 1, this.state);
  }

  /**
   * The payload of a length-delimited field as UTF-8 text. Above `max` bytes: LimitExceededError, or
   * with `truncate` the first `max` bytes (a long doc string is shortened, not fatal).
   */
  async string(field: ProtoField, max: number, truncate = false): Promise<string> {
    if (field.wireType !== 2) throw formatError(this.name, field.offset, `field ${field.number} is not a string`);
    let len = field.length;
    if (len > max) {
      if (!truncate) throw limitError(this.name, field.offset, `string field ${field.number} length`, len, max);
      len = max;
    }
    const bytes = await this.cur.bytesAt(field.start, len);
    if (truncate && len < field.length) return bytes.toString("utf8");
    return strictUtf8(bytes, this.name, field.start, `string field ${field.number}`);
  }

  private async varint(what: string): Promise<bigint> {
    const at = this.cur.offset;
    let result = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.cur.takeSync(1)?.[0] ?? (await this.cur.u8(what));
      result |= BigInt(b & 0x7f) << BigInt(7 * i);
      if ((b & 0x80) === 0) {
        if (i === 9 && b > 1) break;
        return result;
      }
    }
    throw formatError(this.name, at, `${what}: malformed varint (more than 64 bits)`);
  }
}

/** A varint field's value as a signed 64-bit integer (int64 fields written negative use 10 bytes). */
export function int64(value: bigint): bigint {
  return BigInt.asIntN(64, value);
}

/** A bigint as a number, or throws LimitExceededError if it is not a safe integer. */
export function toSafe(value: bigint, name: string, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) throw new LimitExceededError(`${name}: ${what} ${value} is out of range`);
  return Number(value);
}
