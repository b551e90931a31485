/**
 * Model files for the ML-BOM tests, written byte by byte with their documented layouts: safetensors
 * (huggingface/safetensors README "Format"), GGUF v3 (ggml-org/ggml docs/gguf.md), a PyTorch-style
 * zip (torch.save's `archive/data.pkl`, stored members), pickles (CPython Lib/pickle.py opcodes), and a
 * Hugging Face hub cache (`models--org--name/{blobs,refs,snapshots/<rev>}` with snapshot files as
 * symlinks into blobs/, as huggingface_hub writes it).
 */
import { createHash } from "node:crypto";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { crc32 } from "node:zlib";

/** A safetensors file: tensors laid out contiguously in the given order, header padded to 8 bytes. */
export function safetensors(tensors: { name: string; dtype: string; shape: number[]; bytesPerElement: number }[], metadata?: Record<string, string>): Buffer {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1) * t.bytesPerElement;
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + n] };
    offset += n;
  }
  if (metadata) header.__metadata__ = metadata;
  let json = Buffer.from(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, Buffer.alloc(offset, 1)]);
}

type GgufKv = [key: string, type: "string", value: string] | [key: string, type: "u32", value: number] | [key: string, type: "strings", value: string[]];

function ggufString(s: string): Buffer {
  const b = Buffer.from(s, "utf8");
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(b.length));
  return Buffer.concat([len, b]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

/** A GGUF v3 file with the given key-values and one F32 tensor of `elements` elements (alignment 32). */
export function gguf(kvs: GgufKv[], elements = 8): Buffer {
  const parts: Buffer[] = [Buffer.from("GGUF", "latin1"), u32(3), u64(1), u64(kvs.length)];
  for (const [key, type, value] of kvs) {
    parts.push(ggufString(key));
    if (type === "string") parts.push(u32(8), ggufString(value));
    else if (type === "u32") parts.push(u32(4), u32(value));
    else parts.push(u32(9), u32(8), u64(value.length), ...value.map(ggufString));
  }
  // Tensor info: name, n_dims, dims, type (F32 = 0), offset.
  parts.push(ggufString("token_embd.weight"), u32(1), u64(elements), u32(0), u64(0));
  let head = Buffer.concat(parts);
  head = Buffer.concat([head, Buffer.alloc((32 - (head.length % 32)) % 32)]);
  return Buffer.concat([head, Buffer.alloc(elements * 4)]);
}

/** A zip of stored (uncompressed) members, as a PyTorch checkpoint is written (torch.save stores). */
export function storedZip(members: { name: string; data: Buffer }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const m of members) {
    const name = Buffer.from(m.name, "utf8");
    const crc = crc32(m.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0, 6); // flags
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt32LE(0, 10); // time, date
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(m.data.length, 18);
    local.writeUInt32LE(m.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt32LE(0, 12);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(m.data.length, 20);
    central.writeUInt32LE(m.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, m.data);
    centrals.push(central, name);
    offset += 30 + name.length + m.data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/**
 * A protocol 2 pickle that calls os.system("echo pwned") when loaded: PROTO 2, GLOBAL "os\nsystem\n"
 * (at offset 2), BINPUT, SHORT_BINUNICODE... as BINUNICODE, TUPLE1, REDUCE, STOP. Never loaded here.
 */
export const EVIL_PICKLE = Buffer.concat([
  Buffer.from([0x80, 0x02]),
  Buffer.from("cos\nsystem\n", "latin1"),
  Buffer.from([0x71, 0x00]), // BINPUT 0
  Buffer.from([0x58]), // BINUNICODE
  u32(11),
  Buffer.from("echo pwned", "latin1"),
  Buffer.from(" ", "latin1"),
  Buffer.from([0x85, 0x52, 0x2e]), // TUPLE1, REDUCE, STOP
]);

/**
 * A protocol 2 pickle of an OrderedDict of plain values, as a harmless checkpoint's data.pkl looks:
 * PROTO 2, GLOBAL collections OrderedDict, EMPTY_TUPLE, REDUCE, then SETITEMS of one int, STOP.
 */
export const SAFE_PICKLE = Buffer.concat([
  Buffer.from([0x80, 0x02]),
  Buffer.from("ccollections\nOrderedDict\n", "latin1"),
  Buffer.from([0x29, 0x52]), // EMPTY_TUPLE, REDUCE
  Buffer.from([0x28]), // MARK
  Buffer.from([0x58]),
  u32(1),
  Buffer.from("w", "latin1"),
  Buffer.from([0x4b, 0x07]), // BININT1 7
  Buffer.from([0x75, 0x2e]), // SETITEMS, STOP
]);

/** A PyTorch-style checkpoint zip around a data.pkl. */
export function torchZip(dataPkl: Buffer): Buffer {
  return storedZip([
    { name: "archive/data.pkl", data: dataPkl },
    { name: "archive/byteorder", data: Buffer.from("little") },
    { name: "archive/version", data: Buffer.from("3\n") },
  ]);
}

/** SHA-256 hex of bytes. */
export function sha256(b: Buffer | string): string {
  return createHash("sha256").update(b).digest("hex");
}

/**
 * A hub cache repository `models--<org>--<name>` under `cacheDir` with one snapshot whose files are
 * symlinks to `../../blobs/<sha256>` (huggingface_hub's layout); returns the snapshot folder.
 */
export async function hubCache(cacheDir: string, org: string, name: string, revision: string, files: Record<string, Buffer | string>): Promise<string> {
  const repo = join(cacheDir, `models--${org}--${name}`);
  const snapshot = join(repo, "snapshots", revision);
  await mkdir(join(repo, "blobs"), { recursive: true });
  await mkdir(join(repo, "refs"), { recursive: true });
  await mkdir(snapshot, { recursive: true });
  await writeFile(join(repo, "refs", "main"), revision);
  for (const [file, content] of Object.entries(files)) {
    const data = typeof content === "string" ? Buffer.from(content) : content;
    const blob = sha256(data);
    await writeFile(join(repo, "blobs", blob), data);
    await symlink(`../../blobs/${blob}`, join(snapshot, file));
  }
  return snapshot;
}
