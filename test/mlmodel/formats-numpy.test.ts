import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { InputError, LimitExceededError } from "../../src/errors.ts";
import { readModel } from "../../src/mlmodel/formats/index.ts";
import { readNpyHeader } from "../../src/mlmodel/formats/numpy.ts";
import { bufferSource, fileSource } from "../../src/io/byte-source.ts";
import { tempDir } from "../helpers.ts";
import { npy, zip } from "./formats-fixtures.ts";

async function rejectsOneLine(p: Promise<unknown>, cls: new (...a: never[]) => Error, re: RegExp, file = "a.npy"): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e.name}: ${e.message}`);
    assert.match(e.message, re);
    assert.ok(e.message.includes(file), e.message);
    assert.ok(!e.message.includes("\n"));
    return true;
  });
}
const read = (b: Buffer, o = {}) => readNpyHeader(bufferSource(b, "a.npy"), o);

/** pickle.dumps(["x"], 2) from CPython: the payload numpy writes for an object array. */
const PICKLED = Buffer.from("80025d71005801000000787101612e", "hex");

test("npy v1/v2/v3 headers: descr, fortran_order, shape, data offset aligned to 64", async () => {
  const h = await read(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", Buffer.alloc(24)));
  assert.deepEqual([h.descr, h.fortranOrder, h.shape, h.dataOffset, h.hasObject, h.dataBytes], ["<f4", false, [2, 3], 128, false, 24n]);
  const v2 = await read(npy("{'descr': '>i8', 'fortran_order': True, 'shape': (3,), }", Buffer.alloc(24), 2));
  assert.deepEqual([v2.version, v2.descr, v2.fortranOrder, v2.shape, v2.dataOffset % 64], [{ major: 2, minor: 0 }, ">i8", true, [3], 0]);
  const v3 = await read(npy("{'descr': [('név', '<U2'), ('b', '|b1')], 'fortran_order': False, 'shape': (), }", Buffer.alloc(9), 3));
  assert.deepEqual(v3.descr, [{ name: "név", descr: "<U2" }, { name: "b", descr: "|b1" }]);
  assert.deepEqual([v3.shape, v3.dataBytes], [[], 9n]);
  const sub = await read(npy("{'descr': [('x', '<f8', (2,)), (('title', 'y'), '<i2')], 'fortran_order': False, 'shape': (1,), }", Buffer.alloc(18)));
  assert.deepEqual(sub.descr, [{ name: "x", descr: "<f8", shape: [2] }, { name: "y", descr: "<i2" }]);
});

test("npy object dtype: the pickle payload's offset is reported, in plain and structured dtypes", async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const path = join(dir, "obj.npy");
    const file = npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", PICKLED);
    await writeFile(path, file);
    const src = await fileSource(path, "obj.npy");
    const h = await readNpyHeader(src).finally(() => src.close());
    assert.equal(h.hasObject, true);
    assert.equal(h.dataBytes, undefined);
    assert.deepEqual(file.subarray(h.dataOffset), PICKLED);
    const s = await read(npy("{'descr': [('a', '<i4'), ('b', 'O')], 'fortran_order': False, 'shape': (1,), }", PICKLED));
    assert.equal(s.hasObject, true);
    // a field named O is not an object dtype
    const n = await read(npy("{'descr': [('O', '<i4')], 'fortran_order': False, 'shape': (1,), }", Buffer.alloc(4)));
    assert.equal(n.hasObject, false);
  } finally {
    await cleanup();
  }
});

test("npy: hostile headers are parsed, never evaluated, and fail with one line", async () => {
  await rejectsOneLine(read(npy("{'descr': __import__('os').system('id'), 'fortran_order': False, 'shape': (1,), }", Buffer.alloc(8))), InputError, /invalid .npy header: unexpected character/);
  await rejectsOneLine(read(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", Buffer.alloc(4))), InputError, /unexpected header key "x"/);
  await rejectsOneLine(read(npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", Buffer.alloc(4))), InputError, /duplicate key "descr"/);
  await rejectsOneLine(read(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", Buffer.alloc(4))), InputError, /shape is not a tuple of non-negative integers/);
  await rejectsOneLine(read(npy(`{'descr': ${"(".repeat(5000)}`, Buffer.alloc(0))), InputError, /nested too deeply/);
  await rejectsOneLine(read(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", Buffer.alloc(4))), InputError, /out of range/);
  await rejectsOneLine(read(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1000,), }", Buffer.alloc(16))), InputError, /truncated: shape \[1000\] needs 8000 data bytes, 16 follow/);
  const good = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", Buffer.alloc(8));
  await rejectsOneLine(read(good.subarray(0, 30)), InputError, /at byte 10: truncated: header needs 118 bytes, 20 left/);
  await rejectsOneLine(read(Buffer.from("\x93NUMPY\x09\x00", "latin1")), InputError, /unsupported .npy version 9.0/);
  const huge = Buffer.concat([Buffer.from("\x93NUMPY\x02\x00", "latin1"), Buffer.from([0xff, 0xff, 0xff, 0xff])]);
  await rejectsOneLine(read(huge), LimitExceededError, /header length 4294967295 is over the limit of 65536/);
});

test("npz: stored and compressed members, object arrays flagged with their pickle offset", async () => {
  const plain = npy("{'descr': '<i2', 'fortran_order': False, 'shape': (4,), }", Buffer.from([1, 0, 2, 0, 3, 0, 4, 0]));
  const obj = npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", PICKLED);
  const big = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (100000,), }", Buffer.alloc(800_000));
  const file = zip([{ name: "plain.npy", data: plain }, { name: "obj.npy", data: obj }, { name: "big.npy", data: big, deflate: true }]);
  const d = await readModel(bufferSource(file, "arrays.npz"));
  assert.equal(d?.format, "npz");
  if (d?.format !== "npz") return;
  assert.deepEqual(d.members.map((m) => [m.member, m.header.hasObject, m.compressed, m.header.shape]), [
    ["plain.npy", false, false, [4]],
    ["obj.npy", true, false, [1]],
    ["big.npy", false, true, [100000]],
  ]);
  const o = d.members[1]!;
  assert.deepEqual(file.subarray(o.dataFileOffset!, o.dataFileOffset! + PICKLED.length), PICKLED);
  // a member that is not an .npy makes it a plain zip, not an npz
  const other = await readModel(bufferSource(zip([{ name: "a.npy", data: plain }, { name: "x.txt", data: Buffer.from("x") }]), "x.npz"));
  assert.deepEqual(other, { format: "zip", members: ["a.npy", "x.txt"] });
});
