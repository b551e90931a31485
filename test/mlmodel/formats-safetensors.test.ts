import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { InputError, LimitExceededError } from "../../src/errors.ts";
import { readSafetensorsHeader } from "../../src/mlmodel/formats/safetensors.ts";
import { bufferSource, withFileSource } from "../../src/io/byte-source.ts";
import { tempDir } from "../helpers.ts";
import { safetensors } from "./formats-fixtures.ts";

/** Asserts a one-line error of the given class whose message matches `re` and names the file. */
async function rejectsOneLine(p: Promise<unknown>, cls: new (...a: never[]) => Error, re: RegExp, file = "m.safetensors"): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e.name}: ${e.message}`);
    assert.match(e.message, re);
    assert.ok(e.message.includes(file), `message names the file: ${e.message}`);
    assert.ok(!e.message.includes("\n"), "one line");
    return true;
  });
}

const read = (b: Buffer, o = {}) => readSafetensorsHeader(bufferSource(b, "m.safetensors"), o);

const valid = (): Buffer =>
  safetensors(
    {
      "b.bias": { dtype: "BF16", shape: [4], data_offsets: [24, 32] },
      "a.weight": { dtype: "F32", shape: [2, 3], data_offsets: [0, 24] },
      __metadata__: { format: "pt", note: "x" },
    },
    Buffer.alloc(32, 7),
  );

test("safetensors: header, metadata, tensors in offset order and parameter count, read from a file header-only", async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const path = join(dir, "model.safetensors");
    await writeFile(path, valid());
    const h = await withFileSource(path, (s) => readSafetensorsHeader(s));
    assert.deepEqual(h.metadata, { format: "pt", note: "x" });
    assert.deepEqual(
      h.tensors.map((t) => [t.name, t.dtype, t.shape, t.dataOffsets]),
      [
        ["a.weight", "F32", [2, 3], [0, 24]],
        ["b.bias", "BF16", [4], [24, 32]],
      ],
    );
    assert.equal(h.parameterCount, 10n);
    assert.deepEqual(h.dtypes, { F32: 6n, BF16: 4n });
    assert.equal(h.dataStart, 8 + h.headerLength);
    assert.equal(h.headerLength % 8, 0);
  } finally {
    await cleanup();
  }
});

test("safetensors: scalars, empty tensors and sub-byte dtypes follow the reference rules", async () => {
  const h = await read(
    safetensors(
      {
        s: { dtype: "F64", shape: [], data_offsets: [0, 8] },
        e: { dtype: "F16", shape: [0, 5], data_offsets: [8, 8] },
        f4: { dtype: "F4", shape: [4], data_offsets: [8, 10] },
      },
      Buffer.alloc(10),
    ),
  );
  assert.equal(h.parameterCount, 5n);
  await rejectsOneLine(read(safetensors({ f4: { dtype: "F4", shape: [3], data_offsets: [0, 2] } }, Buffer.alloc(2))), InputError, /byte boundary/);
});

test("safetensors: truncated, oversized and hostile headers fail with one line naming file and offset", async () => {
  const good = valid();
  await rejectsOneLine(read(good.subarray(0, 5)), InputError, /at byte 0: truncated/);
  await rejectsOneLine(read(good.subarray(0, good.length - 1)), InputError, /truncated: the tensors need 32 data bytes, the file has 31/);
  await rejectsOneLine(read(good.subarray(0, 40)), InputError, /truncated: header length \d+ but only 32 bytes follow/);
  // a header length over the cap is refused before anything is allocated, however large
  const huge = Buffer.alloc(16);
  huge.writeBigUInt64LE(0xffffffffffffffffn);
  await rejectsOneLine(read(huge), LimitExceededError, /header length 18446744073709551615 is over the limit of 100000000/);
  await rejectsOneLine(read(good, { maxHeaderBytes: 64 }), LimitExceededError, /over the limit of 64/);
  await rejectsOneLine(read(safetensors("[1]", Buffer.alloc(0))), InputError, /does not start with '\{'/);
  await rejectsOneLine(read(safetensors('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', Buffer.alloc(1))), InputError, /duplicate key "a"/);
  await rejectsOneLine(read(safetensors({ __metadata__: { n: 1 } as never }, Buffer.alloc(0))), InputError, /__metadata__ "n" is not a string/);
  await rejectsOneLine(read(safetensors({ a: { dtype: "Q4", shape: [1], data_offsets: [0, 1] } }, Buffer.alloc(1))), InputError, /unknown dtype "Q4"/);
  await rejectsOneLine(read(safetensors({ a: { dtype: "U8", shape: [-1], data_offsets: [0, 1] } }, Buffer.alloc(1))), InputError, /invalid dimension -1/);
  // gap, overlap, wrong size, negative and overflowing offsets
  const two = (o1: [number, number], o2: [number, number], data: number) =>
    read(safetensors({ x: { dtype: "U8", shape: [4], data_offsets: o1 }, y: { dtype: "U8", shape: [4], data_offsets: o2 } }, Buffer.alloc(data)));
  await rejectsOneLine(two([0, 4], [5, 9], 9), InputError, /tensor "y": data_offsets \[5, 9\] are not contiguous \(expected to start at 4\)/);
  await rejectsOneLine(two([0, 4], [2, 6], 6), InputError, /not contiguous/);
  await rejectsOneLine(read(safetensors({ x: { dtype: "F32", shape: [4], data_offsets: [0, 8] } }, Buffer.alloc(8))), InputError, /is 16 bytes but data_offsets span 8/);
  await rejectsOneLine(read(safetensors({ x: { dtype: "U8", shape: [1], data_offsets: [-1, 0] } }, Buffer.alloc(1))), InputError, /not non-negative integers/);
  await rejectsOneLine(read(safetensors('{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,18446744073709551616]}}', Buffer.alloc(1))), InputError, /not non-negative integers in range/);
  await rejectsOneLine(read(safetensors('{"x":{"dtype":"U8","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,1]}}', Buffer.alloc(1))), InputError, /span 1/);
  // bytes after the last tensor: a hole where a polyglot hides
  await rejectsOneLine(read(Buffer.concat([valid(), Buffer.from("PK\x03\x04")])), InputError, /4 bytes after the last tensor are not covered/);
  // nesting bomb in the JSON header
  await rejectsOneLine(read(safetensors(`{"__metadata__":${"[".repeat(100_000)}${"]".repeat(100_000)}}`, Buffer.alloc(0))), LimitExceededError, /JSON nesting depth 65 is over the limit of 64/);
  await rejectsOneLine(read(safetensors('{"a":1,}', Buffer.alloc(0))), InputError, /invalid JSON: expected a key/);
  const badUtf8 = Buffer.concat([Buffer.from('{"\xff":1}', "latin1")]);
  await rejectsOneLine(read(safetensors(badUtf8.toString("latin1"), Buffer.alloc(0)).fill(0xff, 10, 11)), InputError, /not valid UTF-8/);
});
