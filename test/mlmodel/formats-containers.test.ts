import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import { InputError, LimitExceededError, UnsafeInputError } from "../../src/errors.ts";
import { classifyZipMembers, detectModelFormat, readModel } from "../../src/mlmodel/formats/index.ts";
import { readKerasH5 } from "../../src/mlmodel/formats/keras.ts";
import { readSavedModel } from "../../src/mlmodel/formats/savedmodel.ts";
import { bufferSource, withFileSource } from "../../src/io/byte-source.ts";
import { ModelZip, withZip } from "../../src/mlmodel/formats/zip.ts";
import { tempDir } from "../helpers.ts";
import { hdf5WithAttributes, pb, tar, zip } from "./formats-fixtures.ts";

const hex = (s: string) => Buffer.from(s, "hex");
/** CPython pickle bytes (pickle.dumps at the protocol shown), as torch.save writes them. */
const MAGIC_P2 = hex("80028a0a6cfc9c46f9206aa850192e");
const MAGIC_P4 = hex("8004950d000000000000008a0a6cfc9c46f9206aa850192e");
const PROTO_1001 = hex("80024de9032e");
const SYS_INFO = hex("80027d710028581000000070726f746f636f6c5f76657273696f6e71014de903580d0000006c6974746c655f656e6469616e710288752e");
const DATA_PKL = hex("80027d710058010000007771014e732e"); // {'w': None}

/**
 * A Keras 2 style legacy .h5 written by h5py 3.7 (HDF5 1.10): root attributes keras_version "2.15.0"
 * and model_config (a Sequential with a Dense and a Lambda layer), stored as variable-length strings.
 * gzip + base64 of the file as h5py wrote it.
 */
const H5PY_LEGACY =
  "H4sICGjrFWsCA3NtYWxsLmg1AOv0cHHj5ZLiYgABDg4GFgYBBmTwHwoYJND4UJAApRmhdAeUXsEEE2cBy0G1A02HmK/ADOHvgIqHBLm6IpuPbs8oGNnAw9UxAERHQPkcUPoEE6o6WDoMoJK9gtD0ip6ueRg8oPbxMYgAXZOdWpRYHF+WWlScmZ8HFJdkZATrFIC7iQPFfWxInmBEMY8XbF5ufkpqTnxyfl5aZjoD2DwGvOZdRTKPaTS5jIJRMAqIAO7O/j6MDNCCBb18AgIjPUNTPQNEmXIVSlcrJeckFhfH5yXmpipZKSgFpxaWpuaVZCbmKOkoKEHKLaB4tRJMQXFqIUgmJ7ESWEYCBaLRTXBJzStOxaE5Ram2VkcBXYdPYm5SSiIOLallmWCnpJXmJZcAy2SQlUom5a6OMACUzCvNyYGQsbW1QIQULh/4RtPGKBgFo2AUjIJRMApGwSgYBaNgFIyC4QMAvccw2wAYAAA=";

test("detectModelFormat: magic first, name second; a PNG named .pt is not a model", () => {
  const png = Buffer.from("\x89PNG\r\n\x1a\n....", "latin1");
  const st = Buffer.concat([hex("1000000000000000"), Buffer.from('{"a":1}         ')]);
  const cases: [string, Buffer, string | undefined][] = [
    ["m.gguf", Buffer.from("GGUF\x03\0\0\0"), "gguf"],
    ["anything", Buffer.from("GGUF\x03\0\0\0"), "gguf"],
    ["model.bin", st, "safetensors"],
    ["x.npy", Buffer.from("\x93NUMPY\x01\x00", "latin1"), "numpy"],
    ["m.h5", Buffer.from("\x89HDF\r\n\x1a\n", "latin1"), "hdf5"],
    ["m.pt", Buffer.from("PK\x03\x04", "latin1"), "zip"],
    ["m.bin", Buffer.from("tjgg\x01\0\0\0"), "ggml"],
    ["m.pkl", hex("80027d71002e"), "pickle"],
    ["weird-name", hex("80057d71002e"), "pickle"],
    ["m.pkl", hex("80017d2e"), "pickle"],
    ["m.txt", hex("80017d2e"), undefined],
    ["m.pt", MAGIC_P2, "pytorch-legacy"],
    ["m.pth", MAGIC_P4, "pytorch-legacy"],
    ["m.joblib", hex("80047d2e"), "joblib"],
    ["m.joblib", hex("1f8b0800"), "joblib"],
    ["m.joblib", hex("789c0000"), "joblib"],
    ["notes.txt", Buffer.from("cos\nsystem\n(S'id'\ntR."), "pickle"],
    ["m.pt", Buffer.from("(dp0\nS'a'\np1\nI1\ns."), "pickle"],
    ["model.pt", png, undefined],
    ["model.safetensors", png, undefined],
    ["m.onnx", hex("0808120570"), "onnx"],
    ["dir/saved_model.pb", hex("0801"), "tf-saved-model"],
    ["broken.safetensors", Buffer.from("garbage"), "safetensors"],
    ["x.gguf", Buffer.from("nope"), "gguf"],
    ["firmware.bin", Buffer.from("\x7fELF", "latin1"), undefined],
    ["with-user-block.h5", Buffer.alloc(16), "hdf5"],
    ["random.bin", Buffer.from("hello world"), undefined],
    ["m.tar", tar([{ name: "pickle", data: DATA_PKL }]).subarray(0, 512), "tar"],
  ];
  for (const [name, head, want] of cases) assert.equal(detectModelFormat(name, head), want, `${name} ${head.subarray(0, 8).toString("hex")}`);
  assert.equal(classifyZipMembers(["archive/data.pkl", "archive/data/0", "archive/version"]), "pytorch-zip");
  assert.equal(classifyZipMembers(["m/data.pkl", "m/constants.pkl", "m/code/__torch__.py"]), "torchscript");
  assert.equal(classifyZipMembers(["config.json", "metadata.json", "model.weights.h5"]), "keras");
  assert.equal(classifyZipMembers(["a.npy", "b.npy"]), "npz");
  assert.equal(classifyZipMembers(["README.md"]), "zip");
});

test("readModel: bare pickles, joblib (with its compression) and legacy GGML are described, not parsed", async () => {
  assert.deepEqual(await readModel(bufferSource(DATA_PKL, "m.pkl")), { format: "pickle", pickles: [{ offset: 0, length: DATA_PKL.length, role: "pickle", stacked: true }] });
  assert.deepEqual(await readModel(bufferSource(hex("1f8b080000000000"), "m.joblib")), { format: "joblib", compression: "gzip", pickles: [{ offset: 0, length: 8, role: "joblib", stacked: true }] });
  assert.deepEqual(await readModel(bufferSource(Buffer.from("tjgg\x03\0\0\0rest"), "old.bin")), { format: "ggml", magic: "tjgg" });
  assert.equal(await readModel(bufferSource(Buffer.from("\x89PNG\r\n\x1a\n", "latin1"), "model.pt")), undefined);
  assert.equal(await readModel(bufferSource(Buffer.alloc(0), "empty.pt")), undefined);
  await assert.rejects(readModel(bufferSource(Buffer.from("{}"), "empty.safetensors")), (e: Error) => e instanceof InputError && /empty.safetensors: at byte 0: truncated/.test(e.message));
});

test("PyTorch zip: pickles located in place (stored members), version, byteorder, storages; TorchScript flagged", async () => {
  const file = zip([
    { name: "archive/data.pkl", data: DATA_PKL },
    { name: "archive/byteorder", data: Buffer.from("little") },
    { name: "archive/data/0", data: Buffer.alloc(16) },
    { name: "archive/data/1", data: Buffer.alloc(8) },
    { name: "archive/version", data: Buffer.from("3\n") },
    { name: "archive/.data/serialization_id", data: Buffer.from("123") },
  ]);
  const { dir, cleanup } = await tempDir();
  try {
    const path = join(dir, "model.pt");
    await writeFile(path, file);
    const d = await withFileSource(path, (s) => readModel(s));
    assert.equal(d?.format, "pytorch-zip");
    if (d?.format !== "pytorch-zip") return;
    assert.equal(d.prefix, "archive");
    assert.deepEqual([d.version, d.byteorder, d.storageCount, d.torchscript], ["3", "little", 2, false]);
    assert.equal(d.pickles.length, 1);
    const p = d.pickles[0]!;
    assert.deepEqual([p.member, p.role, p.length], ["archive/data.pkl", "data", DATA_PKL.length]);
    assert.deepEqual(file.subarray(p.offset!, p.offset! + p.length), DATA_PKL);
  } finally {
    await cleanup();
  }
  const ts = await readModel(bufferSource(zip([
    { name: "m/data.pkl", data: DATA_PKL },
    { name: "m/constants.pkl", data: DATA_PKL, deflate: true },
    { name: "m/code/__torch__/m.py", data: Buffer.from("def forward(self): ...") },
    { name: "stray.pkl", data: DATA_PKL },
  ]), "m.pt"));
  assert.equal(ts?.format, "pytorch-zip");
  if (ts?.format !== "pytorch-zip") return;
  assert.equal(ts.torchscript, true);
  assert.deepEqual(ts.pickles.map((p) => [p.member, p.role, p.offset === undefined]), [["m/data.pkl", "data", false], ["m/constants.pkl", "constants", true]]);
  assert.deepEqual(ts.codeFiles, ["m/code/__torch__/m.py"]);
  assert.deepEqual(ts.strayMembers, ["stray.pkl"]);
});

test("PyTorch legacy stacked pickles and the 0.1.1 tar format", async () => {
  const legacy = Buffer.concat([MAGIC_P2, PROTO_1001, SYS_INFO, DATA_PKL, Buffer.alloc(32)]);
  const d = await readModel(bufferSource(legacy, "old.pt"));
  assert.deepEqual(d, { format: "pytorch-legacy", protocolVersion: 1001, pickles: [{ offset: 0, length: legacy.length, role: "stacked", stacked: true }] });
  const t = tar([{ name: "sys_info", data: SYS_INFO }, { name: "pickle", data: DATA_PKL }, { name: "storages", data: Buffer.concat([PROTO_1001, Buffer.alloc(40)]) }, { name: "tensors", data: PROTO_1001 }]);
  const td = await readModel(bufferSource(t, "older.pt"));
  assert.equal(td?.format, "pytorch-tar");
  if (td?.format !== "pytorch-tar") return;
  assert.deepEqual(td.members, ["sys_info", "pickle", "storages", "tensors"]);
  const pk = td.pickles.find((p) => p.role === "pickle")!;
  assert.deepEqual(t.subarray(pk.offset!, pk.offset! + pk.length), DATA_PKL);
  assert.equal(await readModel(bufferSource(tar([{ name: "README", data: Buffer.from("x") }]), "x.tar")), undefined);
  await assert.rejects(readModel(bufferSource(tar([{ name: "../pickle", data: DATA_PKL }]), "evil.pt")), (e: Error) => e instanceof UnsafeInputError && /evil.pt: tar member name "..\/pickle" escapes/.test(e.message));
  // a corrupt first header: not recognised as a tar at all; a corrupt later header: refused
  const bad = Buffer.from(t);
  bad[200] = 0x41;
  assert.equal(await readModel(bufferSource(bad, "bad.pt")), undefined);
  const bad2 = Buffer.from(t);
  bad2[1024 + 200] = 0x41;
  await assert.rejects(readModel(bufferSource(bad2, "bad.pt")), (e: Error) => e instanceof InputError && /bad.pt: at byte 1024: tar header checksum mismatch/.test(e.message));
  await assert.rejects(readModel(bufferSource(t.subarray(0, 1024 + 512 + 8), "cut.pt")), (e: Error) => e instanceof InputError && /cut.pt: at byte 1024: truncated: tar member of 16 bytes, 8 left/.test(e.message));
  await assert.rejects(readModel(bufferSource(t.subarray(0, 2048 + 100), "cut2.pt")), (e: Error) => e instanceof InputError && /cut2.pt: at byte 2048: truncated: a tar header needs 512 bytes, 100 left/.test(e.message));
});

test("zip reader: traversal, duplicates, entry count, ratio bombs, lying sizes and truncation fail cleanly", async () => {
  const open = (b: Buffer, l = {}) => withZip(bufferSource(b, "a.zip"), async (z) => z, l);
  await assert.rejects(open(zip([{ name: "../../etc/cron.d/x", data: Buffer.from("x") }])), (e: Error) => e instanceof UnsafeInputError && /a.zip: zip member name escapes the archive/.test(e.message));
  await assert.rejects(open(zip([{ name: "/abs", data: Buffer.from("x") }])), UnsafeInputError);
  await assert.rejects(open(zip([{ name: "a/data.pkl", data: DATA_PKL }, { name: "a/data.pkl", data: SYS_INFO }])), (e: Error) => e instanceof UnsafeInputError && /holds "a\/data.pkl" twice/.test(e.message));
  await assert.rejects(open(zip(Array.from({ length: 5 }, (_, i) => ({ name: `f${i}`, data: Buffer.from("x") }))), { maxEntries: 4 }), (e: Error) => e instanceof LimitExceededError && /5 zip entries, more than the limit of 4/.test(e.message));
  const bomb = zip([{ name: "b.npy", data: Buffer.alloc(4 * 1024 * 1024), deflate: true }]);
  await assert.rejects(
    withZip(bufferSource(bomb, "bomb.zip"), (z) => z.read(z.members[0]!), { maxRatio: 100 }),
    (e: Error) => e instanceof LimitExceededError && /bomb.zip!b.npy: compression ratio \d+ is over the limit of 100/.test(e.message),
  );
  await assert.rejects(withZip(bufferSource(bomb, "bomb.zip"), (z) => z.read(z.members[0]!, 1024)), (e: Error) => e instanceof LimitExceededError && /4194304 bytes is over the limit of 1024/.test(e.message));
  const liar = zip([{ name: "x", data: Buffer.alloc(5000, 1), deflate: true, declaredSize: 100 }]);
  await assert.rejects(withZip(bufferSource(liar, "liar.zip"), (z) => z.read(z.members[0]!)), (e: Error) => e instanceof InputError && /liar.zip!x/.test(e.message) && !e.message.includes("\n"));
  const good = zip([{ name: "archive/data.pkl", data: DATA_PKL }]);
  await assert.rejects(open(good.subarray(0, good.length - 5)), (e: Error) => e instanceof InputError && /a.zip: not a valid zip archive/.test(e.message));
  // reading the head of a compressed member inflates only what is asked
  const z = await ModelZip.open(bufferSource(bomb, "bomb.zip"));
  try {
    assert.equal((await z.head(z.members[0]!, 10)).length, 10);
  } finally {
    z.close();
  }
});

test("Keras 3 .keras archive: config.json and metadata.json read strictly", async () => {
  const config = { module: "keras", class_name: "Sequential", config: { name: "s", layers: [{ class_name: "Dense", config: { name: "d" } }] } };
  const file = zip([
    { name: "metadata.json", data: Buffer.from(JSON.stringify({ keras_version: "3.8.0", date_saved: "2025-01-01@00:00:00" })) },
    { name: "config.json", data: Buffer.from(JSON.stringify(config)), deflate: true },
    { name: "model.weights.h5", data: Buffer.from("\x89HDF\r\n\x1a\n", "latin1") },
  ]);
  const d = await readModel(bufferSource(file, "m.keras"));
  assert.equal(d?.format, "keras");
  if (d?.format !== "keras") return;
  assert.deepEqual([d.kerasVersion, d.hasWeights, d.config], ["3.8.0", true, config]);
  const dup = zip([{ name: "config.json", data: Buffer.from('{"a":1,"a":2}') }, { name: "metadata.json", data: Buffer.from("{}") }]);
  await assert.rejects(readModel(bufferSource(dup, "d.keras")), (e: Error) => e instanceof InputError && /d.keras!config.json: at byte \d+: invalid JSON: duplicate key "a"/.test(e.message));
});

test("legacy Keras .h5: model_config found in a real h5py file and in user-block and hostile variants", async () => {
  const real = gunzipSync(Buffer.from(H5PY_LEGACY, "base64"));
  const d = await readKerasH5(bufferSource(real, "legacy.h5"));
  assert.equal(d.kerasVersion, "2.15.0");
  assert.equal(d.searchComplete, true);
  assert.deepEqual(d.config, { class_name: "Sequential", config: { name: "seq", layers: [{ class_name: "Dense", config: { name: "d" } }, { class_name: "Lambda", config: { name: "evil", function: ["4wEAAAAAAAAA", null, null] } }] } });
  assert.equal(real.subarray(d.configOffset!, d.configOffset! + 13).toString(), '{"class_name"');
  const cfg = JSON.stringify({ class_name: "Model", config: { layers: [] } });
  // the superblock after a 512-byte user block: no magic at 0, found by the .h5 name and read there
  const h = await readModel(bufferSource(hdf5WithAttributes({ model_config: cfg }, 100, 512), "ub.h5"));
  assert.equal(h?.format, "keras-h5");
  if (h?.format !== "keras-h5") return;
  assert.deepEqual([h.superblockOffset, h.config], [512, JSON.parse(cfg)]);
  assert.equal(await readModel(bufferSource(hdf5WithAttributes({ model_config: cfg }, 100, 512), "ub.bin")), undefined);
  const weightsOnly = await readKerasH5(bufferSource(hdf5WithAttributes({}, 5000), "w.h5"));
  assert.deepEqual([weightsOnly.config, weightsOnly.searchComplete], [undefined, true]);
  // config beyond the scanned range: the result says the search is incomplete
  const far = await readKerasH5(bufferSource(Buffer.concat([hdf5WithAttributes({}, 5000), Buffer.from(`model_config\0${cfg}`)]), "far.h5"), { maxScanBytes: 1000 });
  assert.deepEqual([far.config, far.searchComplete], [undefined, false]);
  const huge = JSON.stringify({ class_name: "Model", config: { pad: "x".repeat(5000) } });
  await assert.rejects(readKerasH5(bufferSource(hdf5WithAttributes({ model_config: huge }), "big.h5"), { maxConfigBytes: 1000 }), (e: Error) => e instanceof LimitExceededError && /big.h5: at byte \d+: model_config JSON is longer than the limit of 1000/.test(e.message));
  // Keras 3's legacy-h5 writer puts "module" first: the whole object is found, not its first layer
  const k3 = JSON.stringify({ module: "keras", class_name: "Sequential", config: { layers: [{ module: "keras.layers", class_name: "Dense", config: { name: "a" } }, { class_name: "Lambda", config: { name: "b" } }] }, registered_name: null });
  const k3h = await readKerasH5(bufferSource(hdf5WithAttributes({ model_config: k3 }), "k3.h5"));
  assert.deepEqual(k3h.config, JSON.parse(k3));
  const k3n = await readKerasH5(bufferSource(hdf5WithAttributes({ other_name: k3 }), "k3.h5"));
  assert.deepEqual(k3n.config, JSON.parse(k3));
  // a model_config that does not parse is an error, not a clean file
  await assert.rejects(readKerasH5(bufferSource(hdf5WithAttributes({ model_config: '{"class_name": "M", "config": {"a": 1, "a": 2}}' }), "dup.h5")), (e: Error) => e instanceof InputError && /dup.h5: at byte \d+: invalid JSON: duplicate key "a"/.test(e.message));
  await assert.rejects(readKerasH5(bufferSource(Buffer.from("not hdf5 at all"), "n.h5")), (e: Error) => e instanceof InputError && /n.h5: at byte 0: not an HDF5 file/.test(e.message));
});

test("SavedModel: ops of graph nodes and function library, with PrintV2 targets", async () => {
  const node = (name: string, op: string, attrs: Buffer[] = []) => pb.msg(1, [pb.str(1, name), pb.str(2, op), ...attrs]);
  const attr = (key: string, s: string) => pb.msg(5, [pb.str(1, key), pb.msg(2, [pb.str(2, s)])]);
  const model = Buffer.concat([
    pb.int(1, 1),
    pb.msg(2, [
      pb.msg(1, [pb.str(4, "serve"), pb.str(5, "2.15.0")]),
      pb.msg(2, [
        node("x", "Placeholder"),
        node("r", "ReadFile"),
        node("p", "PrintV2", [attr("output_stream", "file:///tmp/leak"), attr("end", "\n")]),
        node("r2", "ReadFile"),
        pb.msg(2, [pb.msg(1, [pb.msg(1, [pb.str(1, "__inference_f_1")]), pb.msg(3, [pb.str(1, "w"), pb.str(2, "WriteFile")])])]),
      ]),
    ]),
  ]);
  const { dir, cleanup } = await tempDir();
  try {
    const path = join(dir, "saved_model.pb");
    await writeFile(path, model);
    const d = await withFileSource(path, (s) => readModel(s));
    assert.equal(d?.format, "tf-saved-model");
    if (d?.format !== "tf-saved-model") return;
    assert.deepEqual(d.metaGraphs, [{ tags: ["serve"], tensorflowVersion: "2.15.0", nodeCount: 4, functionCount: 1 }]);
    assert.deepEqual([...d.ops.keys()], ["Placeholder", "ReadFile", "PrintV2", "WriteFile"]);
    assert.equal(d.ops.get("ReadFile")!.count, 2);
    assert.equal(d.ops.get("WriteFile")!.function, "__inference_f_1");
    assert.deepEqual(d.targets.map((t) => [t.op, t.node, t.attr, t.value]), [["PrintV2", "p", "output_stream", "file:///tmp/leak"]]);
  } finally {
    await cleanup();
  }
  await assert.rejects(readSavedModel(bufferSource(model.subarray(0, model.length - 3), "saved_model.pb")), (e: Error) => e instanceof InputError && /saved_model.pb: at byte \d+: truncated/.test(e.message));
});
