import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { InputError, LimitExceededError } from "../../src/errors.ts";
import { readOnnxModel } from "../../src/mlmodel/formats/onnx.ts";
import { ProtoReader } from "../../src/mlmodel/formats/protobuf.ts";
import { bufferSource, withFileSource } from "../../src/io/byte-source.ts";
import { tempDir } from "../helpers.ts";
import { pb, varint } from "./formats-fixtures.ts";

async function rejectsOneLine(p: Promise<unknown>, cls: new (...a: never[]) => Error, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e.name}: ${e.message}`);
    assert.match(e.message, re);
    assert.ok(e.message.startsWith("m.onnx: at byte "), e.message);
    assert.ok(!e.message.includes("\n"));
    return true;
  });
}
const read = (b: Buffer, o = {}) => readOnnxModel(bufferSource(b, "m.onnx"), o);

/**
 * Encoded by protoc 3.21 (`protoc --encode=onnx.ModelProto onnx/onnx.proto`) from a text-format
 * ModelProto: an independent encoder of the schema. Two external tensors (one in an If node's
 * then_branch with location "../../etc/passwd"), one raw_data initializer, a custom-domain node,
 * metadata_props and two opset imports.
 */
const PROTOC_MODEL = Buffer.from(
  "CAgSD3RvbGxnYXRlLXhjaGVjaxoDMS4wIgphaS5leGFtcGxlKAMyA2RvYzqWAgoVCgFYCgFXEgFZGgJtbSIGTWF0TXVsCoYBCgFZEgFaGgRjb25kIgJJZipyCgt0aGVuX2JyYW5jaDJgChUaAWMiBkN1c3RvbToIY29tLmV2aWwSBHRoZW4qQQgCEAFCAVRqHAoIbG9jYXRpb24SEC4uLy4uL2V0Yy9wYXNzd2RqCwoGb2Zmc2V0EgEwagsKBmxlbmd0aBIBOHABoAEFOgASAWcqUwgCCAIQAUIBV2oXCghsb2NhdGlvbhILd2VpZ2h0cy5iaW5qDgoGb2Zmc2V0EgQ0MDk2agwKBmxlbmd0aBICMTZqDwoIY2hlY2tzdW0SA2FiY3ABKg0IARABQgFCSgQAAIA/WgMKAVhaAwoBV2IDCgFaQgQKABARQhEKDWNvbS5taWNyb3NvZnQQAXIMCgZhdXRob3ISAm1l",
  "base64",
);

test("ONNX: a protoc-encoded ModelProto reads field for field", async () => {
  const m = await read(PROTOC_MODEL);
  assert.equal(m.irVersion, 8n);
  assert.equal(m.producerName, "tollgate-xcheck");
  assert.equal(m.producerVersion, "1.0");
  assert.equal(m.domain, "ai.example");
  assert.equal(m.modelVersion, 3n);
  assert.equal(m.docString, "doc");
  assert.deepEqual(m.opsetImports, [{ domain: "", version: 17n }, { domain: "com.microsoft", version: 1n }]);
  assert.deepEqual(m.metadataProps, { author: "me" });
  assert.equal(m.graphName, "g");
  assert.deepEqual(m.inputs, ["X", "W"]);
  assert.deepEqual(m.outputs, ["Z"]);
  assert.equal(m.initializerCount, 2);
  assert.equal(m.nodeCount, 2);
  assert.deepEqual(m.operators, { ":MatMul": 1, ":If": 1, "com.evil:Custom": 1 });
  assert.deepEqual(m.customDomains, ["com.evil"]);
  assert.deepEqual(
    m.externalData.map((e) => [e.tensor, e.where, e.location, e.offset, e.length, e.checksum ?? null]),
    [
      ["T", "graph/node:cond/then_branch", "../../etc/passwd", "0", "8", null],
      ["W", "graph", "weights.bin", "4096", "16", "abc"],
    ],
  );
  // the reported offset is the TensorProto's tag in the file
  const t = m.externalData[1]!;
  assert.equal(PROTOC_MODEL[t.fileOffset], (5 << 3) | 2);
});

test("ONNX: functions, training graphs, sparse initializers and attribute tensors are walked; raw_data is skipped unread", async () => {
  const ext = (name: string, loc: string) => [pb.str(8, name), pb.msg(13, [pb.str(1, "location"), pb.str(2, loc)]), pb.int(14, 1)];
  const bigRaw = Buffer.alloc(1 << 20, 0x55);
  const model = Buffer.concat([
    pb.int(1, 9),
    pb.msg(7, [
      pb.msg(5, [pb.str(8, "dense"), pb.bytes(9, bigRaw)]),
      pb.msg(15, [pb.msg(1, ext("sp_values", "/abs/values.bin")), pb.msg(2, [pb.str(8, "sp_idx")])]),
      pb.msg(1, [pb.str(3, "k"), pb.str(4, "Constant"), pb.msg(5, [pb.str(1, "value"), pb.msg(5, ext("attr_t", "a.bin"))])]),
    ]),
    pb.msg(20, [pb.msg(1, [pb.msg(5, ext("train_init", "t.bin"))])]),
    pb.msg(25, [pb.str(1, "myfn"), pb.msg(7, [pb.str(4, "Loop"), pb.str(7, "custom.fn"), pb.msg(5, [pb.str(1, "body"), pb.msg(6, [pb.msg(5, ext("fn_t", "f.bin"))])])])]),
  ]);
  const { dir, cleanup } = await tempDir();
  try {
    const path = join(dir, "m.onnx");
    await writeFile(path, model);
    const m = await withFileSource(path, (s) => readOnnxModel(s));
    assert.deepEqual(
      m.externalData.map((e) => [e.tensor, e.where, e.location]),
      [
        ["sp_values", "graph", "/abs/values.bin"],
        ["attr_t", "graph/node:k/value", "a.bin"],
        ["train_init", "training/initialization", "t.bin"],
        ["fn_t", "function:myfn/node:Loop/body", "f.bin"],
      ],
    );
    assert.deepEqual(m.functionNames, ["myfn"]);
    assert.deepEqual(m.customDomains, ["custom.fn"]);
    assert.equal(m.initializerCount, 2);
    // the 1 MiB raw_data is never read: count the bytes the reader asks for
    const inner = bufferSource(model, "m.onnx");
    let bytesRead = 0;
    await readOnnxModel({ size: inner.size, name: inner.name, read: (o, n) => ((bytesRead += n), inner.read(o, n)) });
    assert.ok(bytesRead < 300_000, `read ${bytesRead} bytes of ${model.length}`);
  } finally {
    await cleanup();
  }
});

test("ONNX/protobuf: truncated, overlong, over-deep and malformed messages fail with one line", async () => {
  await rejectsOneLine(read(PROTOC_MODEL.subarray(0, 40)), InputError, /truncated: field \d+ declares \d+ bytes, \d+ left in its message/);
  await rejectsOneLine(read(Buffer.concat([varint((7 << 3) | 2), varint(0xffffffffffffn)])), InputError, /at byte 1: truncated: field 7 declares 281474976710655 bytes, 0 left/);
  await rejectsOneLine(read(Buffer.concat([varint((7 << 3) | 2), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])])), InputError, /malformed varint/);
  await rejectsOneLine(read(Buffer.from([0x08, 0x80])), InputError, /truncated/);
  await rejectsOneLine(read(Buffer.from([(7 << 3) | 3])), InputError, /wire type 3 \(field 7\) is not supported/);
  await rejectsOneLine(read(Buffer.from([0x00, 0x01])), InputError, /invalid protobuf field number 0/);
  await rejectsOneLine(read(pb.str(2, "x".repeat(100)), { maxStringBytes: 10 }), LimitExceededError, /string field 2 length 100 is over the limit of 10/);
  await rejectsOneLine(read(pb.bytes(2, Buffer.from([0xc3, 0x28]))), InputError, /at byte 2: string field 2 is not valid UTF-8/);
  // a graph nested in attributes 200 deep: the depth cap stops it (each level is node → attribute → graph)
  let g: Buffer = Buffer.alloc(0);
  for (let i = 0; i < 200; i++) g = Buffer.concat([pb.msg(1, [pb.str(4, "If"), pb.msg(5, [pb.str(1, "then_branch"), pb.msg(6, [g])])])]);
  await rejectsOneLine(read(pb.msg(7, [g])), LimitExceededError, /protobuf nesting depth 101 is over the limit of 100/);
  // field budget
  const many = Buffer.concat(Array.from({ length: 1000 }, () => pb.int(1, 1)));
  await rejectsOneLine(read(many, { maxFields: 500 }), LimitExceededError, /protobuf field count 501 is over the limit of 500/);
});

test("protobuf reader: varints, fixed fields and negative int64", async () => {
  const buf = Buffer.concat([pb.int(1, -2n), Buffer.from([(2 << 3) | 1]), Buffer.from("0102030405060708", "hex"), Buffer.from([(3 << 3) | 5, 1, 0, 0, 0])]);
  const r = ProtoReader.open(bufferSource(buf, "x.pb"));
  const out: [number, number, bigint][] = [];
  for await (const f of r.fields()) out.push([f.number, f.wireType, f.value]);
  assert.deepEqual(out, [[1, 0, 0xfffffffffffffffen], [2, 1, 0x0807060504030201n], [3, 5, 1n]]);
});
