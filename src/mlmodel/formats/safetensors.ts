/**
 * safetensors header reader (huggingface/safetensors README "Format", `safetensors/src/tensor.rs`):
 * u64 LE header length N, N bytes of JSON starting with `{` (may be right-padded with spaces), then
 * the tensor bytes. Validated as the reference reader does: N capped (100 MB there, configurable
 * here), duplicate keys refused, `__metadata__` string → string, every tensor a known dtype with a
 * shape and `data_offsets` [begin, end]; sorted by offset the tensors are contiguous from 0 with no
 * gap, `end − begin = prod(shape) × bits / 8`, and `8 + N + buffer end` is the file size (no hole
 * where a polyglot could hide). Only the header is read.
 */
import { formatError, limitError, strictUtf8 } from "./binary.ts";
import type { ByteSource } from "../../io/byte-source.ts";
import { isJsonObject, parseStrictJson, type JsonValue } from "./strict-json.ts";

/** Bits per element of each safetensors dtype (tensor.rs `Dtype::bitsize`). */
export const SAFETENSORS_DTYPE_BITS: Readonly<Record<string, number>> = {
  BOOL: 8, F4: 4, F6_E2M3: 6, F6_E3M2: 6, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8, F8_E4M3FNUZ: 8, F8_E5M2FNUZ: 8,
  I16: 16, U16: 16, F16: 16, BF16: 16, I32: 32, U32: 32, F32: 32, C64: 64, F64: 64, I64: 64, U64: 64,
};

/** safetensors' own MAX_HEADER_SIZE (100,000,000 bytes). */
export const DEFAULT_SAFETENSORS_MAX_HEADER = 100_000_000;

export interface SafetensorsOptions {
  /** Largest JSON header read (default 100,000,000 bytes, as safetensors). */
  maxHeaderBytes?: number;
  /** Most tensors in one header (default 1,000,000). */
  maxTensors?: number;
}

export interface SafetensorsTensor {
  name: string;
  dtype: string;
  shape: number[];
  /** Offsets in the data buffer (which starts at `dataStart`). */
  dataOffsets: [number, number];
  /** Number of elements (product of the shape). */
  elements: bigint;
}

export interface SafetensorsHeader {
  format: "safetensors";
  headerLength: number;
  /** File offset of the tensor data buffer (8 + headerLength). */
  dataStart: number;
  /** `__metadata__`, string → string. */
  metadata: Record<string, string>;
  /** Tensors in offset order. */
  tensors: SafetensorsTensor[];
  /** Σ elements over the tensors. */
  parameterCount: bigint;
  /** Element count per dtype (e.g. { BF16: 123n }), for a quantization/precision property. */
  dtypes: Record<string, bigint>;
}

/** Reads and validates a safetensors header (never the tensor data). */
export async function readSafetensorsHeader(source: ByteSource, options: SafetensorsOptions = {}): Promise<SafetensorsHeader> {
  const maxHeader = options.maxHeaderBytes ?? DEFAULT_SAFETENSORS_MAX_HEADER;
  const maxTensors = options.maxTensors ?? 1_000_000;
  const name = source.name;
  if (source.size < 8) throw formatError(name, 0, `truncated: the 8-byte header length needs 8 bytes, the file has ${source.size}`);
  const n64 = (await source.read(0, 8)).readBigUInt64LE(0);
  if (n64 > BigInt(maxHeader)) throw limitError(name, 0, "safetensors header length", n64, maxHeader);
  const headerLength = Number(n64);
  if (headerLength < 2) throw formatError(name, 0, `header length ${headerLength} is too small for a JSON object`);
  if (headerLength > source.size - 8) throw formatError(name, 0, `truncated: header length ${headerLength} but only ${source.size - 8} bytes follow`);
  // Exactly the header is read: nothing of the tensor data.
  const bytes = await source.read(8, headerLength);
  if (bytes[0] !== 0x7b) throw formatError(name, 8, "the header does not start with '{'");
  const text = strictUtf8(bytes, name, 8, "the header");
  const json = parseStrictJson(text, name, { baseOffset: 8 });
  if (!isJsonObject(json)) throw formatError(name, 8, "the header is not a JSON object");

  const dataStart = 8 + headerLength;
  const bufferSize = source.size - dataStart;
  let metadata: Record<string, string> = {};
  const tensors: SafetensorsTensor[] = [];
  const dtypes: Record<string, bigint> = {};
  for (const [key, value] of Object.entries(json)) {
    if (key === "__metadata__") {
      metadata = readMetadata(value, name);
      continue;
    }
    if (tensors.length >= maxTensors) throw limitError(name, 8, "tensor count", tensors.length + 1, maxTensors);
    tensors.push(readTensor(key, value, name));
  }
  tensors.sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  let expected = 0;
  let parameterCount = 0n;
  for (const t of tensors) {
    const [begin, end] = t.dataOffsets;
    if (begin !== expected || end < begin) {
      throw formatError(name, 8, `tensor "${t.name}": data_offsets [${begin}, ${end}] are not contiguous (expected to start at ${expected})`);
    }
    const bits = t.elements * BigInt(SAFETENSORS_DTYPE_BITS[t.dtype] as number);
    if (bits % 8n !== 0n) throw formatError(name, 8, `tensor "${t.name}": ${t.elements} × ${t.dtype} does not end on a byte boundary`);
    if (bits / 8n !== BigInt(end - begin)) {
      throw formatError(name, 8, `tensor "${t.name}": shape [${t.shape.join(", ")}] × ${t.dtype} is ${bits / 8n} bytes but data_offsets span ${end - begin}`);
    }
    expected = end;
    parameterCount += t.elements;
    dtypes[t.dtype] = (dtypes[t.dtype] ?? 0n) + t.elements;
  }
  if (expected !== bufferSize) {
    throw formatError(
      name,
      dataStart + Math.min(expected, Math.max(bufferSize, 0)),
      expected > bufferSize
        ? `truncated: the tensors need ${expected} data bytes, the file has ${bufferSize}`
        : `${bufferSize - expected} bytes after the last tensor are not covered by the header (a hole or a polyglot)`,
    );
  }
  return { format: "safetensors", headerLength, dataStart, metadata, tensors, parameterCount, dtypes };
}

function readMetadata(value: JsonValue, name: string): Record<string, string> {
  if (value === null) return {};
  if (!isJsonObject(value)) throw formatError(name, 8, "__metadata__ is not an object");
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") throw formatError(name, 8, `__metadata__ "${k}" is not a string`);
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function readTensor(key: string, value: JsonValue, name: string): SafetensorsTensor {
  const bad = (problem: string): never => {
    throw formatError(name, 8, `tensor "${key.slice(0, 200)}": ${problem}`);
  };
  if (!isJsonObject(value)) return bad("not an object");
  const dtype = value.dtype;
  if (typeof dtype !== "string" || !Object.hasOwn(SAFETENSORS_DTYPE_BITS, dtype)) return bad(`unknown dtype ${JSON.stringify(dtype)}`);
  const shape = value.shape;
  if (!Array.isArray(shape)) return bad("shape is not an array");
  let elements = 1n;
  const dims: number[] = [];
  for (const d of shape) {
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) return bad(`shape has an invalid dimension ${JSON.stringify(d)}`);
    dims.push(d);
    elements *= BigInt(d);
  }
  const offsets = value.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2) return bad("data_offsets is not [begin, end]");
  const [b, e] = offsets;
  if (typeof b !== "number" || typeof e !== "number" || !Number.isSafeInteger(b) || !Number.isSafeInteger(e) || b < 0 || e < 0) {
    return bad(`data_offsets ${JSON.stringify(offsets)} are not non-negative integers in range`);
  }
  return { name: key, dtype, shape: dims, dataOffsets: [b, e], elements };
}
