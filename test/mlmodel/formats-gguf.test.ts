import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { InputError, LimitExceededError } from "../../src/errors.ts";
import { readGgufHeader, type GgufArray } from "../../src/mlmodel/formats/gguf.ts";
import { bufferSource, withFileSource } from "../../src/io/byte-source.ts";
import { tempDir } from "../helpers.ts";
import { gguf, ggufStringArray, GgufWriter, type GgufKv } from "./formats-fixtures.ts";

async function rejectsOneLine(p: Promise<unknown>, cls: new (...a: never[]) => Error, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e.name}: ${e.message}`);
    assert.match(e.message, re);
    assert.ok(e.message.startsWith("m.gguf: at byte "), e.message);
    assert.ok(!e.message.includes("\n"));
    return true;
  });
}
const read = (b: Buffer, o = {}) => readGgufHeader(bufferSource(b, "m.gguf"), o);

const TEMPLATE = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}";
const kvs = (version = 3): GgufKv[] => {
  const u32s = Buffer.alloc((version === 1 ? 4 : 8) + 12);
  let p = version === 1 ? u32s.writeUInt32LE(3, 0) : u32s.writeBigUInt64LE(3n, 0);
  for (const v of [7, 8, 9]) p = u32s.writeUInt32LE(v, p);
  return [
    { key: "general.architecture", type: "string", value: "llama" },
    { key: "general.name", type: "string", value: "Tiny Llama" },
    { key: "general.license", type: "string", value: "apache-2.0" },
    { key: "general.alignment", type: "u32", value: 32 },
    { key: "llama.context_length", type: "u64", value: 4096n },
    { key: "llama.rope.freq_base", type: "f32", value: 10000 },
    { key: "x.i8", type: "i8", value: -3 },
    { key: "x.i16", type: "i16", value: -300 },
    { key: "x.u16", type: "u16", value: 65000 },
    { key: "x.i32", type: "i32", value: -70000 },
    { key: "x.i64", type: "i64", value: -5n },
    { key: "x.f64", type: "f64", value: 0.5 },
    { key: "x.bool", type: "bool", value: true },
    { key: "x.u8", type: "u8", value: 200 },
    { key: "tokenizer.ggml.tokens", type: "array", elementType: 8, raw: ggufStringArray(["<s>", "</s>", "hello"], version) },
    { key: "x.u32s", type: "array", elementType: 4, raw: u32s },
    { key: "tokenizer.chat_template", type: "string", value: TEMPLATE },
  ];
};

test("GGUF v3: every value type, convenience fields, tensor infos with sizes, parameter count; read from a file", async () => {
  const file = gguf(kvs(), [
    { name: "tok_embd.weight", dims: [64, 3], type: 0, offset: 0 },
    { name: "blk.0.attn_q.weight", dims: [256, 2], type: 12, offset: 768 },
  ], 768 + 288);
  const { dir, cleanup } = await tempDir();
  try {
    const path = join(dir, "m.gguf");
    await writeFile(path, file);
    const h = await withFileSource(path, (s) => readGgufHeader(s));
    assert.equal(h.version, 3);
    assert.equal(h.bigEndian, false);
    assert.equal(h.architecture, "llama");
    assert.equal(h.name, "Tiny Llama");
    assert.equal(h.license, "apache-2.0");
    assert.equal(h.chatTemplate, TEMPLATE);
    assert.equal(file.subarray(h.chatTemplateOffset!, h.chatTemplateOffset! + TEMPLATE.length).toString(), TEMPLATE);
    assert.equal(h.metadata.get("llama.context_length"), 4096n);
    assert.equal(h.metadata.get("llama.rope.freq_base"), 10000);
    assert.equal(h.metadata.get("x.i8"), -3);
    assert.equal(h.metadata.get("x.i16"), -300);
    assert.equal(h.metadata.get("x.u16"), 65000);
    assert.equal(h.metadata.get("x.i32"), -70000);
    assert.equal(h.metadata.get("x.i64"), -5n);
    assert.equal(h.metadata.get("x.f64"), 0.5);
    assert.equal(h.metadata.get("x.bool"), true);
    assert.equal(h.metadata.get("x.u8"), 200);
    const tokens = h.metadata.get("tokenizer.ggml.tokens") as GgufArray;
    assert.deepEqual([tokens.elementType, tokens.count, tokens.values], ["STRING", 3, ["<s>", "</s>", "hello"]]);
    assert.deepEqual((h.metadata.get("x.u32s") as GgufArray).values, [7, 8, 9]);
    assert.equal(h.metadataTypes.get("x.u32s"), "ARRAY");
    assert.deepEqual(
      h.tensors.map((t) => [t.name, t.dims, t.typeName, t.offset, t.bytes]),
      [
        ["tok_embd.weight", [64n, 3n], "F32", 0n, 768n],
        ["blk.0.attn_q.weight", [256n, 2n], "Q4_K", 768n, 288n],
      ],
    );
    assert.equal(h.parameterCount, 64n * 3n + 512n);
    assert.equal(h.dataStart % 32, 0);
    assert.equal(h.dataStart + 768 + 288, file.length);
  } finally {
    await cleanup();
  }
});

test("GGUF v1 (u32 counts and lengths), v2, and big-endian v3", async () => {
  const v1 = await read(gguf(kvs(1), [{ name: "w", dims: [4], type: 0, offset: 0 }], 16, 1));
  assert.equal(v1.version, 1);
  assert.equal(v1.architecture, "llama");
  assert.deepEqual((v1.metadata.get("x.u32s") as GgufArray).values, [7, 8, 9]);
  assert.equal(v1.tensors[0]!.bytes, 16n);
  const v2 = await read(gguf(kvs(2), [], 0, 2));
  assert.equal(v2.version, 2);
  // big-endian: every number swapped (magic stays the bytes "GGUF")
  const be: Buffer[] = [Buffer.from("GGUF")];
  const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
  const u64 = (n: number) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; };
  be.push(u32(3), u64(1), u64(1), u64(20), Buffer.from("general.architecture"), u32(8), u64(3), Buffer.from("gpt"));
  be.push(u64(1), Buffer.from("w"), u32(1), u64(8), u32(0), u64(0));
  let head = Buffer.concat(be);
  head = Buffer.concat([head, Buffer.alloc((32 - (head.length % 32)) % 32), Buffer.alloc(32)]);
  const h = await read(head);
  assert.equal(h.bigEndian, true);
  assert.equal(h.architecture, "gpt");
  assert.deepEqual(h.tensors[0]!.dims, [8n]);
});

test("GGUF: truncated, oversized, overflowing and nested-bomb headers fail with one line", async () => {
  const good = gguf(kvs(), [{ name: "w", dims: [8], type: 0, offset: 0 }], 32);
  for (const cut of [3, 7, 20, 100, 400]) await rejectsOneLine(read(good.subarray(0, cut)), InputError, /truncated|not a GGUF/);
  await rejectsOneLine(read(good.subarray(0, good.length - 1)), InputError, /tensor "w" spans \[0, 32\) of tensor data, the file holds 31/);
  await rejectsOneLine(read(Buffer.concat([Buffer.from("GGUF"), Buffer.from([9, 0, 0, 0]), Buffer.alloc(16)])), InputError, /unsupported GGUF version 9/);
  const w = (f: (w: GgufWriter) => void) => { const x = new GgufWriter(3); x.bytes(Buffer.from("GGUF")).u32(3); f(x); return x.build(); };
  // counts and lengths far beyond the file: refused before any allocation
  await rejectsOneLine(read(w((x) => x.u64(0xffffffffffffffffn).u64(0))), LimitExceededError, /tensor count 18446744073709551615 is over the limit of 1000000/);
  await rejectsOneLine(read(w((x) => x.u64(0).u64(1n << 40n))), LimitExceededError, /metadata key-value count \d+ is over the limit/);
  await rejectsOneLine(read(w((x) => x.u64(0).u64(1000))), InputError, /truncated: 1000 key-values and 0 tensors \(at least\) needs 13000 bytes, 0 left/);
  await rejectsOneLine(read(w((x) => x.u64(0).u64(1).u64(0x7fffffffffffffffn).bytes(Buffer.alloc(16)))), LimitExceededError, /key length 9223372036854775807 is over the limit of 65535/);
  await rejectsOneLine(read(w((x) => x.u64(0).u64(1).str("k").u32(8).u64(1n << 62n).bytes(Buffer.alloc(16)))), LimitExceededError, /value of "k" length \d+ is over the limit of 67108864/);
  await rejectsOneLine(read(w((x) => x.u64(0).u64(1).str("k").u32(8).u64(1000).bytes(Buffer.from("abc")))), InputError, /truncated/);
  await rejectsOneLine(read(w((x) => x.u64(0).u64(1).str("k").u32(9).u32(4).u64(1n << 40n))), LimitExceededError, /element count \d+ is over the limit of 16777216/);
  await rejectsOneLine(read(w((x) => x.u64(0).u64(1).str("k").u32(9).u32(4).u64(1_000_000))), InputError, /truncated: value of "k" element count 1000000 needs 4000000 bytes/);
  await rejectsOneLine(read(w((x) => x.u64(0).u64(1).str("k").u32(13).u32(0))), InputError, /unknown value type 13/);
  await rejectsOneLine(read(w((x) => x.u64(0).u64(1).str("k").u32(7).bytes(Buffer.from([2])))), InputError, /BOOL value 2/);
  await rejectsOneLine(read(w((x) => x.u64(0).u64(2).str("k").u32(0).bytes(Buffer.from([1])).str("k").u32(0).bytes(Buffer.from([1])))), InputError, /duplicate metadata key "k"/);
  // nested arrays: a bomb of array-in-array is stopped at the depth cap
  const nested = w((x) => {
    x.u64(0).u64(1).str("k").u32(9);
    for (let i = 0; i < 50; i++) x.u32(9).u64(1);
    x.u32(0).u64(1).bytes(Buffer.from([0]));
  });
  await rejectsOneLine(read(nested), LimitExceededError, /array nesting depth 5 is over the limit of 4/);
  // tensor infos
  const t = (name: string, nd: number, dims: bigint[], type: number, off: bigint) =>
    w((x) => {
      x.u64(1).u64(0).str(name).u32(nd);
      for (const d of dims) x.u64(d);
      x.u32(type).u64(off);
      x.bytes(Buffer.alloc(64));
    });
  await rejectsOneLine(read(t("w", 5, [1n, 1n, 1n, 1n, 1n], 0, 0n)), InputError, /5 dimensions \(at most 4\)/);
  await rejectsOneLine(read(t("x".repeat(65), 1, [1n], 0, 0n)), LimitExceededError, /tensor name length 65 is over the limit of 64/);
  await rejectsOneLine(read(t("w", 1, [8n], 0, 3n)), InputError, /offset 3 is not a multiple of the alignment 32/);
  await rejectsOneLine(read(t("w", 1, [33n], 2, 0n)), InputError, /not a multiple of the Q4_0 block size 32/);
  await rejectsOneLine(read(t("w", 2, [1n << 20n, 1n << 20n], 0, 0n)), InputError, /spans \[0, 4398046511104\) of tensor data/);
  await rejectsOneLine(read(t("w", 4, [1n << 20n, 1n << 20n, 1n << 20n, 1n << 20n], 0, 0n)), InputError, /element count overflows/);
  await rejectsOneLine(read(t("w", 1, [1n << 60n], 0, 0n)), InputError, /dimension \d+ is out of range/);
  // whole-header cap
  await rejectsOneLine(read(good, { maxHeaderBytes: 64 }), LimitExceededError, /past the limit of 64 bytes for the GGUF header/);
  // total array elements across arrays
  await rejectsOneLine(read(good, { maxTotalArrayElements: 4 }), LimitExceededError, /array elements in all 6 is over the limit of 4/);
});

test("GGUF: long arrays keep their exact count but only the first values", async () => {
  const many = Array.from({ length: 3000 }, (_, i) => `t${i}`);
  const h = await read(gguf([{ key: "tokenizer.ggml.tokens", type: "array", elementType: 8, raw: ggufStringArray(many) }], [], 0));
  const a = h.metadata.get("tokenizer.ggml.tokens") as GgufArray;
  assert.equal(a.count, 3000);
  assert.equal(a.values.length, 1024);
  assert.equal(a.values[1023], "t1023");
  // fixed-size arrays beyond the kept values are skipped in bulk; BOOL bytes are still checked
  const raw = (type: number, count: number, body: Buffer) => {
    const c = Buffer.alloc(8);
    c.writeBigUInt64LE(BigInt(count));
    return Buffer.concat([c, body]);
  };
  const okBools = await read(gguf([{ key: "b", type: "array", elementType: 7, raw: raw(7, 5000, Buffer.alloc(5000, 1)) }, { key: "after", type: "string", value: "x" }], [], 0));
  assert.deepEqual([(okBools.metadata.get("b") as GgufArray).count, okBools.metadata.get("after")], [5000, "x"]);
  const badBool = Buffer.alloc(5000, 1);
  badBool[4000] = 7;
  await rejectsOneLine(read(gguf([{ key: "b", type: "array", elementType: 7, raw: raw(7, 5000, badBool) }], [], 0)), InputError, /BOOL value 7 is not 0 or 1/);
  const f32 = await read(gguf([{ key: "s", type: "array", elementType: 6, raw: raw(6, 3000, Buffer.alloc(12000)) }, { key: "after", type: "u8", value: 9 }], [], 0), { maxTotalValuesKept: 10 });
  assert.deepEqual([(f32.metadata.get("s") as GgufArray).values.length, f32.metadata.get("after")], [10, 9]);
});
