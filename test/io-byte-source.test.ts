import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { open, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { InputError, LimitExceededError } from "../src/errors.ts";
import { zipMemberKind } from "../src/mlmodel/formats/detect.ts";
import { readSafetensorsHeader } from "../src/mlmodel/formats/safetensors.ts";
import { bufferSource, fileSource, headSource, MAX_SOURCE_READ, sliceSource, withFileSource, type ByteSource } from "../src/io/byte-source.ts";
import { tempDir } from "./helpers.ts";

test("bufferSource, sliceSource and headSource check every range", async () => {
  const b = bufferSource(Buffer.from("0123456789"), "b.bin");
  assert.equal((await b.read(2, 3)).toString(), "234");
  assert.equal((await b.read(10, 0)).length, 0);
  await assert.rejects(b.read(8, 3), (e: Error) => e instanceof InputError && e.message === "b.bin: truncated: 3 bytes needed at offset 8, the file has 10");
  await assert.rejects(b.read(-1, 1), InputError);
  await assert.rejects(b.read(0, MAX_SOURCE_READ + 1), LimitExceededError);
  const s = sliceSource(b, 4, 4, "b.bin!slice");
  assert.equal((await s.read(0, 4)).toString(), "4567");
  await assert.rejects(s.read(2, 3), (e: Error) => e instanceof InputError && /b.bin!slice: truncated/.test(e.message));
  assert.throws(() => sliceSource(b, 8, 4), InputError);
  const h = headSource(Buffer.from("abc"), 1000, "z!m");
  assert.equal((await h.read(0, 3)).toString(), "abc");
  await assert.rejects(h.read(2, 2), (e: Error) => e instanceof LimitExceededError && /past the first 3 bytes/.test(e.message));
});

test("fileSource: regular files only (a FIFO is refused without blocking), read after close and a shrinking file fail", async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const fifo = join(dir, "pipe.safetensors");
    execFileSync("mkfifo", [fifo]);
    await assert.rejects(fileSource(fifo), (e: Error) => e instanceof InputError && /not a regular file/.test(e.message));
    await assert.rejects(fileSource(dir), (e: Error) => e instanceof InputError && /not a regular file/.test(e.message));
    await assert.rejects(fileSource(join(dir, "missing")), (e: Error) => e instanceof InputError && /no such file/.test(e.message));
    const path = join(dir, "f.bin");
    await writeFile(path, Buffer.alloc(100, 1));
    const src = await fileSource(path, "shown.bin");
    assert.equal(src.size, 100);
    assert.equal(src.name, "shown.bin");
    await truncate(path, 10);
    await assert.rejects(src.read(50, 10), (e: Error) => e instanceof InputError && /shown.bin: truncated: the file shrank/.test(e.message));
    await src.close();
    await assert.rejects(src.read(0, 1), /read after close/);
  } finally {
    await cleanup();
  }
});

test("a 40 GB safetensors file (sparse) is read header-only", async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const path = join(dir, "big.safetensors");
    const elements = 10_000_000_000; // F32 → 40 GB of data
    let json = JSON.stringify({ w: { dtype: "F32", shape: [elements], data_offsets: [0, elements * 4] }, __metadata__: { format: "pt" } });
    while (json.length % 8) json += " ";
    const head = Buffer.alloc(8);
    head.writeBigUInt64LE(BigInt(json.length));
    await writeFile(path, Buffer.concat([head, Buffer.from(json)]));
    const fh = await open(path, "r+");
    await fh.truncate(8 + json.length + elements * 4);
    await fh.close();
    let bytesRead = 0;
    const h = await withFileSource(path, (s) => {
      const counting: ByteSource = { size: s.size, name: s.name, read: (o, n) => ((bytesRead += n), s.read(o, n)) };
      return readSafetensorsHeader(counting);
    });
    assert.equal(h.parameterCount, 10_000_000_000n);
    assert.ok(bytesRead <= 8 + json.length, `read ${bytesRead} bytes`);
  } finally {
    await cleanup();
  }
});

test("zipMemberKind routes archive members as picklescan does", () => {
  assert.equal(zipMemberKind("archive/data.pkl", Buffer.alloc(0)), "pickle");
  assert.equal(zipMemberKind("archive/weird", Buffer.from([0x80, 0x02])), "pickle");
  assert.equal(zipMemberKind("x.npy", Buffer.alloc(0)), "numpy");
  assert.equal(zipMemberKind("x", Buffer.from("\x93NUMPY", "latin1")), "numpy");
  assert.equal(zipMemberKind("archive/data/0", Buffer.from([0x00, 0x00])), undefined);
  assert.equal(zipMemberKind("archive/version", Buffer.from("3\n")), undefined);
});
