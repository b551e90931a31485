/**
 * Builders for model files in their documented layouts, written byte by byte (no model library):
 * safetensors, GGUF, protobuf messages (ONNX, SavedModel), .npy, zip archives (stored or deflated
 * members, for PyTorch, Keras 3 and .npz), tar and a minimal HDF5 container.
 */
import { buildZip } from "../vulndb/zip-writer.ts";

// ---------------------------------------------------------------- safetensors

export interface StTensor {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** A safetensors file: u64 LE header length, JSON header padded with spaces to 8, data bytes. */
export function safetensors(header: Record<string, StTensor | Record<string, string>> | string, data: Buffer, pad = true): Buffer {
  let json = typeof header === "string" ? header : JSON.stringify(header);
  if (pad) while (Buffer.byteLength(json) % 8 !== 0) json += " ";
  const h = Buffer.from(json, "utf8");
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, data]);
}

// ---------------------------------------------------------------- GGUF

export type GgufKv =
  | { key: string; type: "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "f32" | "bool" | "u64" | "i64" | "f64"; value: number | bigint | boolean }
  | { key: string; type: "string"; value: string }
  | { key: string; type: "array"; elementType: number; raw: Buffer };

const GT = { u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10, i64: 11, f64: 12 } as const;

export class GgufWriter {
  private readonly parts: Buffer[] = [];
  readonly version: number;
  constructor(version = 3) {
    this.version = version;
  }
  len(n: number | bigint): this {
    const b = Buffer.alloc(this.version === 1 ? 4 : 8);
    if (this.version === 1) b.writeUInt32LE(Number(n));
    else b.writeBigUInt64LE(BigInt(n));
    this.parts.push(b);
    return this;
  }
  u32(n: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    this.parts.push(b);
    return this;
  }
  u64(n: bigint | number): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    this.parts.push(b);
    return this;
  }
  bytes(b: Buffer): this {
    this.parts.push(b);
    return this;
  }
  str(s: string): this {
    const b = Buffer.from(s, "utf8");
    return this.len(b.length).bytes(b);
  }
  scalar(type: keyof typeof GT, value: number | bigint | boolean): this {
    let b: Buffer;
    switch (type) {
      case "u8": b = Buffer.from([Number(value)]); break;
      case "i8": b = Buffer.alloc(1); b.writeInt8(Number(value)); break;
      case "bool": b = Buffer.from([value ? 1 : 0]); break;
      case "u16": b = Buffer.alloc(2); b.writeUInt16LE(Number(value)); break;
      case "i16": b = Buffer.alloc(2); b.writeInt16LE(Number(value)); break;
      case "u32": b = Buffer.alloc(4); b.writeUInt32LE(Number(value)); break;
      case "i32": b = Buffer.alloc(4); b.writeInt32LE(Number(value)); break;
      case "f32": b = Buffer.alloc(4); b.writeFloatLE(Number(value)); break;
      case "u64": b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(value)); break;
      case "i64": b = Buffer.alloc(8); b.writeBigInt64LE(BigInt(value)); break;
      case "f64": b = Buffer.alloc(8); b.writeDoubleLE(Number(value)); break;
      default: throw new Error(type);
    }
    this.parts.push(b);
    return this;
  }
  kv(k: GgufKv): this {
    this.str(k.key).u32(GT[k.type]);
    if (k.type === "string") return this.str(k.value);
    if (k.type === "array") return this.u32(k.elementType).bytes(k.raw);
    return this.scalar(k.type, k.value);
  }
  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export interface GgufTensorSpec {
  name: string;
  dims: number[];
  type: number;
  offset: number;
}

/** A complete GGUF file: header, key-values, tensor infos, padding to the alignment, `dataBytes` of data. */
export function gguf(kvs: GgufKv[], tensors: GgufTensorSpec[], dataBytes: number, version = 3, alignment = 32): Buffer {
  const w = new GgufWriter(version);
  w.bytes(Buffer.from("GGUF")).u32(version).len(tensors.length).len(kvs.length);
  for (const k of kvs) w.kv(k);
  for (const t of tensors) {
    w.str(t.name).u32(t.dims.length);
    for (const d of t.dims) {
      if (version === 1) w.u32(d);
      else w.u64(d);
    }
    w.u32(t.type).u64(t.offset);
  }
  const head = w.build();
  const pad = (alignment - (head.length % alignment)) % alignment;
  return Buffer.concat([head, Buffer.alloc(pad), Buffer.alloc(dataBytes, 0x11)]);
}

/** A GGUF string array's raw value: count then strings. */
export function ggufStringArray(values: string[], version = 3): Buffer {
  const w = new GgufWriter(version);
  w.len(values.length);
  for (const v of values) w.str(v);
  return w.build();
}

// ---------------------------------------------------------------- protobuf

export function varint(n: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}

/** Protobuf field encoders: `pb.str(2, "x")`, `pb.msg(7, [...])`, `pb.int(1, 8)`. */
export const pb = {
  int: (field: number, value: number | bigint): Buffer => Buffer.concat([varint((field << 3) | 0), varint(value)]),
  bytes: (field: number, value: Buffer): Buffer => Buffer.concat([varint((field << 3) | 2), varint(value.length), value]),
  str: (field: number, value: string): Buffer => pb.bytes(field, Buffer.from(value, "utf8")),
  msg: (field: number, parts: Buffer[]): Buffer => pb.bytes(field, Buffer.concat(parts)),
};

// ---------------------------------------------------------------- .npy

/** A .npy file (version 1.0 unless the header needs 2.0) with the header padded to 64 bytes. */
export function npy(header: string, data: Buffer, major = 1): Buffer {
  const lenBytes = major === 1 ? 2 : 4;
  const enc = major === 3 ? "utf8" : "latin1";
  let h = header;
  const total = () => 6 + 2 + lenBytes + Buffer.byteLength(h, enc) + 1;
  while (total() % 64 !== 0) h += " ";
  h += "\n";
  const hb = Buffer.from(h, enc);
  const len = Buffer.alloc(lenBytes);
  if (major === 1) len.writeUInt16LE(hb.length);
  else len.writeUInt32LE(hb.length);
  return Buffer.concat([Buffer.from("\x93NUMPY", "latin1"), Buffer.from([major, 0]), len, hb, data]);
}

// ---------------------------------------------------------------- zip

export interface ZipEntrySpec {
  name: string;
  data: Buffer;
  deflate?: boolean;
  /** Lie about the uncompressed size in both headers. */
  declaredSize?: number;
}

/** A zip archive (no zip64) of stored or deflated members, written as Python's zipfile does. */
export function zip(entries: ZipEntrySpec[]): Buffer {
  return buildZip(entries.map((e) => ({ name: e.name, data: e.data, store: e.deflate !== true, ...(e.declaredSize !== undefined ? { declaredSize: e.declaredSize } : {}) })));
}

// ---------------------------------------------------------------- tar

export { ustar as tar } from "../helpers.ts";

// ---------------------------------------------------------------- HDF5 (minimal)

/**
 * A minimal HDF5-shaped file for the legacy Keras reader: superblock signature (version 0), padding,
 * then root-group attribute messages as h5py lays them out (name, then the fixed-length string value),
 * then `weights` filler. Not a complete HDF5 file: the reader's byte search is what is under test.
 */
export function hdf5WithAttributes(attrs: Record<string, string>, weights = 4096, userBlock = 0): Buffer {
  const sb = Buffer.alloc(96);
  Buffer.from("\x89HDF\r\n\x1a\n", "latin1").copy(sb, 0);
  sb[8] = 0; // superblock version 0
  const msgs: Buffer[] = [];
  for (const [name, value] of Object.entries(attrs)) {
    const n = Buffer.from(`${name}\0`, "latin1");
    const head = Buffer.alloc(16);
    head.writeUInt16LE(0x000c, 0); // attribute message type
    head.writeUInt16LE(n.length, 8);
    msgs.push(head, n, Buffer.alloc((8 - (n.length % 8)) % 8), Buffer.alloc(24, 0x01), Buffer.from(value, "utf8"), Buffer.alloc(8));
  }
  return Buffer.concat([Buffer.alloc(userBlock), sb, ...msgs, Buffer.alloc(weights, 0x42)]);
}
