/**
 * GGUF header reader (ggml-org/ggml `docs/gguf.md`), versions 1 to 3, little- or big-endian:
 * magic `GGUF`, version, tensor count, metadata count, the metadata key-values (every value type,
 * arrays nested up to a cap), then the tensor infos (name, dimensions, ggml type, offset). Version 1
 * used u32 for counts and string lengths, later versions u64. Every count and length is checked
 * against its cap and the bytes left before anything is allocated; the whole header is capped too.
 * Tensor data is never read, but each tensor's extent is checked to lie inside the file.
 */
import { Cursor, formatError, limitError, safeNumber, strictUtf8 } from "./binary.ts";
import type { ByteSource } from "../../io/byte-source.ts";

export const GGUF_VALUE_TYPES = ["UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32", "BOOL", "STRING", "ARRAY", "UINT64", "INT64", "FLOAT64"] as const;
export type GgufValueType = (typeof GGUF_VALUE_TYPES)[number];

/** A metadata value: scalars as JS values (64-bit integers as bigint), arrays with their element type. */
export type GgufValue = number | bigint | boolean | string | GgufArray;

export interface GgufArray {
  type: "array";
  elementType: GgufValueType;
  /** Number of elements in the file. */
  count: number;
  /** The first `maxArrayValuesKept` elements (all of them when the array is short). */
  values: GgufValue[];
}

/** ggml tensor types: name, block size (elements) and block bytes (gguf-py GGML_QUANT_SIZES). */
export const GGML_TYPES: Readonly<Record<number, { name: string; block: number; bytes: number }>> = {
  0: { name: "F32", block: 1, bytes: 4 },
  1: { name: "F16", block: 1, bytes: 2 },
  2: { name: "Q4_0", block: 32, bytes: 18 },
  3: { name: "Q4_1", block: 32, bytes: 20 },
  6: { name: "Q5_0", block: 32, bytes: 22 },
  7: { name: "Q5_1", block: 32, bytes: 24 },
  8: { name: "Q8_0", block: 32, bytes: 34 },
  9: { name: "Q8_1", block: 32, bytes: 40 },
  10: { name: "Q2_K", block: 256, bytes: 84 },
  11: { name: "Q3_K", block: 256, bytes: 110 },
  12: { name: "Q4_K", block: 256, bytes: 144 },
  13: { name: "Q5_K", block: 256, bytes: 176 },
  14: { name: "Q6_K", block: 256, bytes: 210 },
  15: { name: "Q8_K", block: 256, bytes: 292 },
  16: { name: "IQ2_XXS", block: 256, bytes: 66 },
  17: { name: "IQ2_XS", block: 256, bytes: 74 },
  18: { name: "IQ3_XXS", block: 256, bytes: 98 },
  19: { name: "IQ1_S", block: 256, bytes: 50 },
  20: { name: "IQ4_NL", block: 32, bytes: 18 },
  21: { name: "IQ3_S", block: 256, bytes: 110 },
  22: { name: "IQ2_S", block: 256, bytes: 82 },
  23: { name: "IQ4_XS", block: 256, bytes: 136 },
  24: { name: "I8", block: 1, bytes: 1 },
  25: { name: "I16", block: 1, bytes: 2 },
  26: { name: "I32", block: 1, bytes: 4 },
  27: { name: "I64", block: 1, bytes: 8 },
  28: { name: "F64", block: 1, bytes: 8 },
  29: { name: "IQ1_M", block: 256, bytes: 56 },
  30: { name: "BF16", block: 1, bytes: 2 },
  34: { name: "TQ1_0", block: 256, bytes: 54 },
  35: { name: "TQ2_0", block: 256, bytes: 66 },
  39: { name: "MXFP4", block: 32, bytes: 17 },
};

export interface GgufOptions {
  /** Most bytes the header (key-values and tensor infos) may span (default 256 MiB). */
  maxHeaderBytes?: number;
  /** Most metadata key-values (default 65,536). */
  maxKeyValues?: number;
  /** Most tensors (default 1,000,000). */
  maxTensors?: number;
  /** Longest string value (default 64 MiB: tokenizer.huggingface.json can be large). */
  maxStringBytes?: number;
  /** Most elements in one array (default 16,777,216) and in all arrays together (default 64 Mi). */
  maxArrayElements?: number;
  maxTotalArrayElements?: number;
  /** Deepest array nesting (default 4). */
  maxArrayDepth?: number;
  /** Array elements kept in the result per array (default 1024; the count is always exact). */
  maxArrayValuesKept?: number;
  /** Array elements kept in the result over all arrays (default 1,000,000); later ones are read and checked, not kept. */
  maxTotalValuesKept?: number;
}

export interface GgufTensorInfo {
  name: string;
  dims: bigint[];
  /** ggml type number and its name when known. */
  type: number;
  typeName?: string;
  /** Offset relative to the start of tensor data. */
  offset: bigint;
  elements: bigint;
  /** Bytes of data, when the type is known. */
  bytes?: bigint;
}

export interface GgufHeader {
  format: "gguf";
  version: 1 | 2 | 3;
  bigEndian: boolean;
  tensorCount: number;
  metadata: Map<string, GgufValue>;
  /** Value type of each key (arrays as "ARRAY"). */
  metadataTypes: Map<string, GgufValueType>;
  tensors: GgufTensorInfo[];
  alignment: number;
  /** File offset where tensor data starts (aligned end of the header). */
  dataStart: number;
  parameterCount: bigint;
  /** Convenience fields from the metadata (strings only). */
  architecture?: string;
  name?: string;
  license?: string;
  chatTemplate?: string;
  /** File offset of the first byte of the `tokenizer.chat_template` text (for findings). */
  chatTemplateOffset?: number;
}

/** Reads a GGUF header: metadata and tensor infos (never tensor data). */
export async function readGgufHeader(source: ByteSource, options: GgufOptions = {}): Promise<GgufHeader> {
  const o = {
    maxHeaderBytes: options.maxHeaderBytes ?? 256 * 1024 * 1024,
    maxKeyValues: options.maxKeyValues ?? 65_536,
    maxTensors: options.maxTensors ?? 1_000_000,
    maxStringBytes: options.maxStringBytes ?? 64 * 1024 * 1024,
    maxArrayElements: options.maxArrayElements ?? 16 * 1024 * 1024,
    maxTotalArrayElements: options.maxTotalArrayElements ?? 64 * 1024 * 1024,
    maxArrayDepth: options.maxArrayDepth ?? 4,
    maxArrayValuesKept: options.maxArrayValuesKept ?? 1024,
    maxTotalValuesKept: options.maxTotalValuesKept ?? 1_000_000,
  };
  const name = source.name;
  const cur = new Cursor(source, 0, source.size, { bytes: o.maxHeaderBytes, what: "GGUF header" });
  const magic = await cur.take(4, "magic");
  if (magic.toString("latin1") !== "GGUF") throw formatError(name, 0, "not a GGUF file (magic is not GGUF)");
  let version = await cur.u32("version");
  let bigEndian = false;
  if (version > 0xffff && (version & 0xffff) === 0) {
    // A big-endian file read as little-endian: the version's bytes come out swapped.
    bigEndian = true;
    cur.littleEndian = false;
    version = ((version >>> 24) | ((version >>> 8) & 0xff00)) >>> 0;
  }
  if (version < 1 || version > 3) throw formatError(name, 4, `unsupported GGUF version ${version}`);
  const v1 = version === 1;
  const count = async (what: string): Promise<bigint> => (v1 ? BigInt(await cur.u32(what)) : await cur.u64(what));

  const tcAt = cur.offset;
  const tensorCount64 = await count("tensor count");
  if (tensorCount64 > BigInt(o.maxTensors)) throw limitError(name, tcAt, "tensor count", tensorCount64, o.maxTensors);
  const tensorCount = Number(tensorCount64);
  const kvAt = cur.offset;
  const kvCount64 = await count("metadata count");
  if (kvCount64 > BigInt(o.maxKeyValues)) throw limitError(name, kvAt, "metadata key-value count", kvCount64, o.maxKeyValues);
  const kvCount = Number(kvCount64);
  // Each key-value needs at least a length, a type and one byte; each tensor info a length, n_dims, type and offset.
  const lenBytes = v1 ? 4 : 8;
  const least = kvCount * (lenBytes + 5) + tensorCount * (lenBytes + 4 + 4 + 8);
  cur.need(least, `${kvCount} key-values and ${tensorCount} tensors (at least)`, kvAt);

  let arrayElements = 0;
  let kept = 0;
  // A string's length then its bytes, taken from the window without an await when they are in it.
  const readStringBytes = async (what: string, max: number): Promise<{ bytes: Buffer; at: number }> => {
    const at = cur.offset;
    const lb = cur.takeSync(lenBytes) ?? (await cur.take(lenBytes, `${what} length`));
    const len64 = v1 ? BigInt(cur.littleEndian ? lb.readUInt32LE(0) : lb.readUInt32BE(0)) : cur.littleEndian ? lb.readBigUInt64LE(0) : lb.readBigUInt64BE(0);
    const len = cur.checkLength(len64, max, `${what} length`, at);
    const bytes = cur.takeSync(len) ?? (await cur.take(len, what));
    return { bytes, at };
  };
  // The same without an await: true when the string was in the window and skipped; else the cursor
  // is left where it was for readStringBytes (which reads, or throws the error).
  const skipStringSync = (max: number): boolean => {
    const save = cur.offset;
    const lb = cur.takeSync(lenBytes);
    if (!lb) return false;
    const len64 = v1 ? BigInt(cur.littleEndian ? lb.readUInt32LE(0) : lb.readUInt32BE(0)) : cur.littleEndian ? lb.readBigUInt64LE(0) : lb.readBigUInt64BE(0);
    if (len64 <= BigInt(max) && cur.takeSync(Number(len64))) return true;
    cur.seek(save);
    return false;
  };
  const readString = async (what: string, max = o.maxStringBytes): Promise<{ text: string; at: number }> => {
    const { bytes, at } = await readStringBytes(what, max);
    return { text: strictUtf8(bytes, name, at, what), at };
  };
  const readValue = async (type: number, depth: number, what: string): Promise<GgufValue> => {
    switch (type) {
      case 0: return cur.u8(what);
      case 1: return cur.i8(what);
      case 2: return cur.u16(what);
      case 3: return cur.i16(what);
      case 4: return cur.u32(what);
      case 5: return cur.i32(what);
      case 6: return cur.f32(what);
      case 7: {
        const at = cur.offset;
        const b = await cur.u8(what);
        if (b > 1) throw formatError(name, at, `${what}: BOOL value ${b} is not 0 or 1`);
        return b === 1;
      }
      case 8: return (await readString(what)).text;
      case 9: {
        const at = cur.offset;
        if (depth >= o.maxArrayDepth) throw limitError(name, at, "array nesting depth", depth + 1, o.maxArrayDepth);
        const elementType = await cur.u32(`${what} element type`);
        if (elementType >= GGUF_VALUE_TYPES.length) throw formatError(name, at, `${what}: unknown array element type ${elementType}`);
        const cAt = cur.offset;
        const n = cur.checkLength(await count(`${what} count`), o.maxArrayElements, `${what} element count`, cAt, minSize(elementType, lenBytes));
        arrayElements += n;
        if (arrayElements > o.maxTotalArrayElements) throw limitError(name, cAt, "array elements in all", arrayElements, o.maxTotalArrayElements);
        const values: GgufValue[] = [];
        const keep = Math.min(n, o.maxArrayValuesKept, Math.max(0, o.maxTotalValuesKept - kept));
        kept += keep;
        for (let i = 0; i < keep; i++) values.push(await readValue(elementType, depth + 1, what));
        const rest = n - keep;
        const size = FIXED_SIZE[elementType];
        if (elementType === 8) {
          // strings not kept: lengths checked, bytes skipped (not decoded)
          for (let i = 0; i < rest; i++) if (!skipStringSync(o.maxStringBytes)) await readStringBytes(what, o.maxStringBytes);
        } else if (size === undefined) {
          for (let i = 0; i < rest; i++) await readValue(elementType, depth + 1, what);
        } else if (elementType === 7) {
          // BOOL: only 0 and 1 are valid, so the bytes not kept are still checked, a window at a time
          for (let left = rest; left > 0; ) {
            const at2 = cur.offset;
            const chunk = await cur.take(Math.min(left, 65_536), what);
            const bad = chunk.findIndex((b) => b > 1);
            if (bad >= 0) throw formatError(name, at2 + bad, `${what}: BOOL value ${chunk[bad]} is not 0 or 1`);
            left -= chunk.length;
          }
        } else {
          cur.skip(rest * size, what);
        }
        return { type: "array", elementType: GGUF_VALUE_TYPES[elementType] as GgufValueType, count: n, values };
      }
      case 10: return cur.u64(what);
      case 11: return cur.i64(what);
      case 12: return cur.f64(what);
      default:
        throw formatError(name, cur.offset - 4, `${what}: unknown value type ${type}`);
    }
  };

  const metadata = new Map<string, GgufValue>();
  const metadataTypes = new Map<string, GgufValueType>();
  let chatTemplateOffset: number | undefined;
  for (let i = 0; i < kvCount; i++) {
    const keyAt = cur.offset;
    const { text: key } = await readString("key", 65_535);
    if (metadata.has(key)) throw formatError(name, keyAt, `duplicate metadata key "${key.slice(0, 200)}"`);
    const typeAt = cur.offset;
    const type = await cur.u32("value type");
    if (type >= GGUF_VALUE_TYPES.length) throw formatError(name, typeAt, `key "${key.slice(0, 200)}": unknown value type ${type}`);
    if (key === "tokenizer.chat_template") chatTemplateOffset = cur.offset + lenBytes;
    metadata.set(key, await readValue(type, 0, `value of "${key.slice(0, 200)}"`));
    metadataTypes.set(key, GGUF_VALUE_TYPES[type] as GgufValueType);
  }

  let alignment = 32;
  const alignValue = metadata.get("general.alignment");
  if (alignValue !== undefined) {
    if (typeof alignValue !== "number" || metadataTypes.get("general.alignment") !== "UINT32" || alignValue === 0 || alignValue % 8 !== 0) {
      throw formatError(name, 0, `general.alignment ${String(alignValue)} is not a non-zero multiple of 8 (UINT32)`);
    }
    alignment = alignValue;
  }

  const tensors: GgufTensorInfo[] = [];
  const names = new Set<string>();
  let parameterCount = 0n;
  for (let i = 0; i < tensorCount; i++) {
    const at = cur.offset;
    const { text: tname } = await readString("tensor name", 64);
    if (names.has(tname)) throw formatError(name, at, `duplicate tensor name "${tname}"`);
    names.add(tname);
    const ndAt = cur.offset;
    const nDims = await cur.u32("n_dimensions");
    if (nDims > 4) throw formatError(name, ndAt, `tensor "${tname}": ${nDims} dimensions (at most 4)`);
    const dims: bigint[] = [];
    let elements = 1n;
    for (let d = 0; d < nDims; d++) {
      const dim = v1 ? BigInt(await cur.u32("dimension")) : await cur.u64("dimension");
      if (dim > BigInt(Number.MAX_SAFE_INTEGER)) throw formatError(name, ndAt, `tensor "${tname}": dimension ${dim} is out of range`);
      dims.push(dim);
      elements *= dim;
    }
    if (elements > 0x7fffffffffffffffn) throw formatError(name, ndAt, `tensor "${tname}": element count overflows`);
    const typeAt = cur.offset;
    const type = await cur.u32("tensor type");
    const offAt = cur.offset;
    const offset = await cur.u64("tensor offset");
    if (offset % BigInt(alignment) !== 0n) throw formatError(name, offAt, `tensor "${tname}": offset ${offset} is not a multiple of the alignment ${alignment}`);
    const info: GgufTensorInfo = { name: tname, dims, type, offset, elements };
    const t = GGML_TYPES[type];
    if (t) {
      info.typeName = t.name;
      const firstDim = dims[0] ?? 1n;
      if (firstDim % BigInt(t.block) !== 0n) throw formatError(name, typeAt, `tensor "${tname}": first dimension ${firstDim} is not a multiple of the ${t.name} block size ${t.block}`);
      info.bytes = (elements / BigInt(t.block)) * BigInt(t.bytes);
    }
    parameterCount += elements;
    tensors.push(info);
  }
  const headerEnd = cur.offset;
  const dataStart = headerEnd + ((alignment - (headerEnd % alignment)) % alignment);
  const dataBytes = BigInt(source.size) - BigInt(dataStart);
  for (const t of tensors) {
    if (t.bytes !== undefined && t.offset + t.bytes > dataBytes) {
      throw formatError(name, dataStart, `truncated: tensor "${t.name}" spans [${t.offset}, ${t.offset + t.bytes}) of tensor data, the file holds ${dataBytes < 0n ? 0n : dataBytes}`);
    }
  }

  const header: GgufHeader = {
    format: "gguf",
    version: version as 1 | 2 | 3,
    bigEndian,
    tensorCount,
    metadata,
    metadataTypes,
    tensors,
    alignment,
    dataStart: safeNumber(BigInt(dataStart), name, headerEnd, "data start"),
    parameterCount,
  };
  const str = (k: string): string | undefined => {
    const v = metadata.get(k);
    return typeof v === "string" ? v : undefined;
  };
  const arch = str("general.architecture");
  if (arch !== undefined) header.architecture = arch;
  const nm = str("general.name");
  if (nm !== undefined) header.name = nm;
  const lic = str("general.license");
  if (lic !== undefined) header.license = lic;
  const tpl = str("tokenizer.chat_template");
  if (tpl !== undefined) {
    header.chatTemplate = tpl;
    if (chatTemplateOffset !== undefined) header.chatTemplateOffset = chatTemplateOffset;
  }
  return header;
}

/** Bytes of each fixed-size value type (strings and arrays vary). */
const FIXED_SIZE: Readonly<Record<number, number>> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

/** Fewest bytes one element of a value type occupies (for the count-vs-bytes-left check). */
function minSize(type: number, lenBytes: number): number {
  switch (type) {
    case 0: case 1: case 7: return 1;
    case 2: case 3: return 2;
    case 4: case 5: case 6: return 4;
    case 8: return lenBytes;
    case 9: return 4 + lenBytes;
    default: return 8;
  }
}
