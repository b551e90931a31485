// scanPickleBearingFile over the containers that carry pickles, built by the test with their
// documented layouts: PyTorch zip checkpoints (archive/data.pkl with persistent-id storages,
// archive/data/<key> raw tensors), PyTorch's legacy stacked pickles, .npy/.npz (hand-written headers),
// joblib files (NumpyArrayWrapper then the raw array bytes; object arrays as a nested pickle; zlib and
// gzip compression). python3 only DUMPS them (fake torch/numpy/joblib modules give the globals their
// real names); nothing is ever loaded.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import type { Component } from "../../src/model/index.ts";
import { readNpyHeader } from "../../src/mlmodel/formats/numpy.ts";
import { bufferSource, withFileSource } from "../../src/io/byte-source.ts";
import { scanPickleBearingFile, walkPickle, type PickleScanResult } from "../../src/mlmodel/pickle/index.ts";
import { tempDir } from "../helpers.ts";
import { toolsMissing } from "../image/fixtures.ts";

const NO_PYTHON = toolsMissing("python3");

const SCRIPT = String.raw`
import base64, collections, gzip, io, json, lzma, os, pickle, struct, sys, types, zipfile, zlib
OUT = {}
def fake(modname, **attrs):
    parts = modname.split(".")
    for i in range(1, len(parts) + 1):
        sys.modules.setdefault(".".join(parts[:i]), types.ModuleType(".".join(parts[:i])))
    m = sys.modules[modname]
    for k, v in attrs.items():
        v.__module__ = modname
        v.__qualname__ = k
        setattr(m, k, v)
class FloatStorage: pass
def _rebuild_tensor_v2(*a): pass
fake("torch", FloatStorage=FloatStorage)
fake("torch._utils", _rebuild_tensor_v2=_rebuild_tensor_v2)
class Storage:
    def __init__(self, key, n): self.key, self.n = key, n
class Tensor:
    def __init__(self, storage, shape): self.storage, self.shape = storage, shape
    def __reduce_ex__(self, proto):
        return (_rebuild_tensor_v2, (self.storage, 0, self.shape, (1,), False, collections.OrderedDict()))
class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        return ("storage", FloatStorage, obj.key, "cpu", obj.n) if isinstance(obj, Storage) else None
class Evil:
    def __reduce__(self): return (os.system, ("id",))
def tpickle(obj, f=None):
    out = f or io.BytesIO()
    TorchPickler(out, protocol=2).dump(obj)
    return None if f else out.getvalue()
sd = collections.OrderedDict(weight=Tensor(Storage("0", 3), (3,)), bias=Tensor(Storage("1", 2), (2,)))
def mkzip(members, method=zipfile.ZIP_STORED):
    f = io.BytesIO()
    with zipfile.ZipFile(f, "w", method) as z:
        for name, data in members: z.writestr(name, data)
    return f.getvalue()
storage0 = b"\x80\x02" + struct.pack("<2f", 1, 2) + b"\x00\x00"  # raw floats that start like a pickle header
storage1 = struct.pack("<2f", 0.5, 0.25)
base = [("archive/data.pkl", tpickle(sd)), ("archive/data/0", storage0), ("archive/data/1", storage1), ("archive/version", b"3\n"), ("archive/byteorder", b"little")]
OUT["torch_zip"] = mkzip(base)
OUT["storage0"] = storage0
OUT["torch_zip_deflate"] = mkzip(base, zipfile.ZIP_DEFLATED)
OUT["torch_zip_evil"] = mkzip(base + [("archive/extra/hook.pkl", pickle.dumps(Evil(), protocol=4))], zipfile.ZIP_DEFLATED)
OUT["torch_zip_truncated_pkl"] = mkzip([("archive/data.pkl", tpickle(sd)[:-5])] + base[1:])

f = io.BytesIO()
for v in (0x1950a86a20f9469cfc6c, 1001, {"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}):
    pickle.dump(v, f, protocol=2)
tpickle(sd, f)
pickle.dump(["0", "1"], f, protocol=2)
f.write(struct.pack("<q", 3) + storage0 + b"\x00" * 4 + struct.pack("<q", 2) + storage1)
OUT["legacy"] = f.getvalue()

def npy(descr, shape, payload, major=1):
    header = "{'descr': %r, 'fortran_order': False, 'shape': %r, }" % (descr, shape)
    pre = 10 if major == 1 else 12
    header += " " * ((64 - (pre + len(header) + 1) % 64) % 64) + "\n"
    hl = struct.pack("<H" if major == 1 else "<I", len(header))
    return b"\x93NUMPY" + bytes([major, 0]) + hl + header.encode("latin1") + payload
looks_evil = b"cos\nsystem\n(S'id'\ntR."
looks_evil += b"\x00" * (-len(looks_evil) % 8)
OUT["npy_float"] = npy("<f8", (len(looks_evil) // 8,), looks_evil)
OUT["npy_object_evil"] = npy("|O", (1,), pickle.dumps([Evil()], protocol=3))
OUT["npy_object_safe"] = npy("|O", (2,), pickle.dumps(["a", 1], protocol=3))
OUT["npy_struct_object"] = npy([("a", "<f4"), ("b", "|O")], (1,), pickle.dumps([(1.0, Evil())], protocol=2), major=2)
OUT["npz_big_float"] = mkzip([("w.npy", npy("<f4", (100000,), b"\x80\x04" * 200000))], zipfile.ZIP_DEFLATED)
OUT["npz"] = mkzip([("a.npy", OUT["npy_float"]), ("b.npy", OUT["npy_object_evil"])], zipfile.ZIP_DEFLATED)

class NumpyArrayWrapper:
    def __init__(self, **kw): self.__dict__.update(kw)
fake("joblib.numpy_pickle", NumpyArrayWrapper=NumpyArrayWrapper)
class ndarray: pass
class dtype:
    def __init__(self, descr, flags, elsize=-1): self.descr, self.flags, self.elsize = descr, flags, elsize
    def __reduce__(self): return (dtype, (self.descr, False, True), (3, "<", None, None, None, self.elsize, -1, self.flags))
fake("numpy", ndarray=ndarray, dtype=dtype)
class FakeArray:
    def __init__(self, descr, shape, raw=None, objects=None, flags=0, pad=None): self.descr, self.shape, self.raw, self.objects, self.flags, self.pad = descr, shape, raw, objects, flags, pad
class JoblibPickler(pickle._Pickler):
    # joblib numpy_pickle.NumpyPickler.save: the wrapper, then the array bytes written to the file
    def __init__(self, f, protocol): super().__init__(f, protocol=protocol); self.fh = f
    def save(self, obj, save_persistent_id=True):
        if not isinstance(obj, FakeArray): return super().save(obj, save_persistent_id)
        w = NumpyArrayWrapper(subclass=ndarray, shape=obj.shape, order="C", dtype=dtype(obj.descr, obj.flags), allow_mmap=obj.objects is None, numpy_array_alignment_bytes=16)
        super().save(w)
        if self.proto >= 4: self.framer.commit_frame(force=True)
        if obj.objects is not None:
            pickle.dump(obj.objects, self.fh, protocol=5)
        else:
            pad = 16 - ((self.fh.tell() + 1) % 16)
            self.fh.write((obj.pad or bytes([pad]) + b"\xff" * pad) + obj.raw)
def joblib_dump(value, protocol=4):
    f = io.BytesIO(); JoblibPickler(f, protocol).dump(value); return f.getvalue()
clean = {"coef": FakeArray("f8", (3,), raw=struct.pack("<3d", 1, 2, 3)), "names": FakeArray("O8", (2,), objects=["a", "b"], flags=63), "intercept": 0.5, "grid": FakeArray("i4", (2, 2), raw=b"\x80\x04" * 8)}
OUT["joblib"] = joblib_dump(clean)
OUT["joblib_p2"] = joblib_dump(clean, protocol=2)
# raw bytes that look like a pickle are data to joblib and to pickle.load (the padding byte comes first)
OUT["joblib_raw_lookalike"] = joblib_dump({"coef": FakeArray("f8", (len(looks_evil) // 8,), raw=looks_evil)})
# a padding-length byte of 0x28 ("(", MARK) followed by 40 "padding" bytes that pickle.load runs
OUT["joblib_hidden"] = joblib_dump({"coef": FakeArray("f8", (2,), raw=b"\x00" * 16, pad=b"(" + looks_evil[:22].ljust(40, b"\xff"))})
OUT["joblib_nested_evil"] = joblib_dump({"names": FakeArray("O8", (1,), objects=[Evil()], flags=63)})
OUT["joblib_z"] = zlib.compress(OUT["joblib_nested_evil"])
OUT["joblib_gz"] = gzip.compress(OUT["joblib_nested_evil"])
OUT["joblib_xz"] = lzma.compress(OUT["joblib_nested_evil"])
mod = types.ModuleType("acme.models")
class Thing:
    def __init__(self): self.w = [1]
fake("acme.models", Thing=Thing)
OUT["thing"] = pickle.dumps(Thing(), protocol=4)
OUT["big_bytes"] = pickle.dumps({"blob": b"\x80\x04" * (1536 * 1024), "tail": Evil()}, protocol=4)
sys.stdout.write(json.dumps({k: base64.b64encode(v).decode() for k, v in OUT.items()}))
`;

let F: Record<string, Buffer> = {};

const ids = (r: PickleScanResult): string[] => r.findings.map((f) => f.id).sort();
const imports = (r: PickleScanResult): string[] => [...new Set(r.globals.map((g) => `${g.module}.${g.name}`))].sort();

describe("containers that carry pickles", { skip: NO_PYTHON }, () => {
  before(() => {
    const out = execFileSync("python3", ["-c", SCRIPT], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    F = Object.fromEntries(Object.entries(JSON.parse(out) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, "base64")]));
  });

  it("PyTorch zip: data.pkl judged, raw storages under data/ never parsed, stored or deflated", async () => {
    for (const name of ["torch_zip", "torch_zip_deflate"]) {
      const r = await scanPickleBearingFile(`${name}.pt`, F[name] as Buffer);
      assert.equal(r.format, "zip");
      assert.deepEqual(r.findings, [], name);
      assert.deepEqual(r.problems, [], name);
      assert.deepEqual(imports(r), ["collections.OrderedDict", "torch.FloatStorage", "torch._utils._rebuild_tensor_v2"]);
      assert.deepEqual(r.scanned, [`${name}.pt!archive/data.pkl`]);
    }
    // the storage starts like a pickle header: walked as one, it would be a parse error
    assert.ok(walkPickle(F.storage0 as Buffer).error);
  });

  it("PyTorch zip: a second pickle member is scanned too, findings name the member and the offset", async () => {
    const component: Component = { ref: "pkg:huggingface/acme/m", name: "m", type: "machine-learning-model", hashes: [], licenses: [], locations: [{ path: "m/pytorch_model.bin" }], dependencies: [] };
    const r = await scanPickleBearingFile("m/pytorch_model.bin", F.torch_zip_evil as Buffer, { component });
    assert.deepEqual(ids(r), ["TG-ML-PICKLE-001"]);
    const f = r.findings[0];
    assert.ok(f);
    assert.deepEqual(f.aliases, ["TG-ML-PICKLE-001"]);
    assert.equal(f.component, component);
    assert.deepEqual(f.fixedVersions, []);
    assert.deepEqual(f.severity, { level: "CRITICAL", source: "tollgate:model-scan" });
    const m = f.matchedBy[0];
    assert.equal(m?.advisoryId, "TG-ML-PICKLE-001");
    assert.equal(m?.kind, "content");
    assert.equal(m?.location?.path, "m/pytorch_model.bin");
    assert.equal(m?.location?.member, "archive/extra/hook.pkl");
    assert.match(m?.comparison ?? "", /^global posix\.system imported by STACK_GLOBAL at byte \d+, called via REDUCE at byte \d+$/);
    assert.match(f.summary ?? "", /m\/pytorch_model\.bin!archive\/extra\/hook\.pkl: pickle imports posix\.system/);
  });

  it("PyTorch zip: a truncated data.pkl is a TG-ML-PICKLE-003 finding, never clean", async () => {
    const r = await scanPickleBearingFile("t.pt", F.torch_zip_truncated_pkl as Buffer);
    assert.deepEqual(ids(r), ["TG-ML-PICKLE-003"]);
    assert.equal(r.findings[0]?.matchedBy[0]?.location?.member, "archive/data.pkl");
  });

  it("legacy PyTorch: the five pickles after the magic number, raw storages after them not parsed", async () => {
    const r = await scanPickleBearingFile("old.pt", F.legacy as Buffer);
    assert.equal(r.format, "pytorch-legacy");
    assert.deepEqual(r.findings, []);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(imports(r), ["collections.OrderedDict", "torch.FloatStorage", "torch._utils._rebuild_tensor_v2"]);
    // the same bytes without the magic number are a plain pickle stream: the storages do not parse
    const noMagic = Buffer.from(F.legacy as Buffer);
    noMagic.writeUInt8((noMagic[4] as number) ^ 1, 4);
    const r2 = await scanPickleBearingFile("old.pt", noMagic);
    assert.equal(r2.format, "pickle");
    assert.deepEqual(ids(r2), ["TG-ML-PICKLE-003"]);
  });

  it(".npy: an object dtype's pickle payload is scanned (offsets in the file), other dtypes are data", async () => {
    const flt = await scanPickleBearingFile("a.npy", F.npy_float as Buffer);
    assert.equal(flt.format, "npy");
    assert.deepEqual(flt.findings, []);
    assert.deepEqual(flt.globals, []);
    const evil = await scanPickleBearingFile("b.npy", F.npy_object_evil as Buffer);
    assert.deepEqual(ids(evil), ["TG-ML-PICKLE-001"]);
    const header = await readNpyHeader(bufferSource(F.npy_object_evil as Buffer));
    assert.equal(header.hasObject, true);
    assert.equal(header.dataOffset % 64, 0);
    assert.ok((evil.findings[0]?.matchedBy[0]?.location?.offset ?? 0) > header.dataOffset);
    assert.deepEqual((await scanPickleBearingFile("c.npy", F.npy_object_safe as Buffer)).findings, []);
    const struct = await scanPickleBearingFile("d.npy", F.npy_struct_object as Buffer);
    assert.equal((await readNpyHeader(bufferSource(F.npy_struct_object as Buffer))).version.major, 2);
    assert.deepEqual(ids(struct), ["TG-ML-PICKLE-001"]);
  });

  it(".npz: each .npy member, deflated", async () => {
    const r = await scanPickleBearingFile("x.npz", F.npz as Buffer);
    assert.deepEqual(ids(r), ["TG-ML-PICKLE-001"]);
    assert.equal(r.findings[0]?.matchedBy[0]?.location?.member, "b.npy");
    assert.deepEqual(r.scanned, ["x.npz!a.npy", "x.npz!b.npy"]);
    // a float array member is not read past its header: a member limit below its size is no problem
    const big = await scanPickleBearingFile("big.npz", F.npz_big_float as Buffer, { limits: { maxMemberBytes: 1024 } });
    assert.deepEqual(big.problems, []);
    assert.deepEqual(big.findings, []);
    assert.deepEqual(big.scanned, ["big.npz!w.npy"]);
  });

  it("joblib: raw arrays skipped as joblib reads them, object arrays scanned as nested pickles", async () => {
    for (const name of ["joblib", "joblib_p2"]) {
      const r = await scanPickleBearingFile("model.joblib", F[name] as Buffer);
      assert.deepEqual(r.findings, [], `${name}: ${JSON.stringify(r.findings.map((f) => f.matchedBy[0]?.comparison))}`);
      assert.deepEqual(r.problems, []);
      assert.deepEqual(imports(r), ["joblib.numpy_pickle.NumpyArrayWrapper", "numpy.dtype", "numpy.ndarray"]);
    }
    const nested = await scanPickleBearingFile("model.joblib", F.joblib_nested_evil as Buffer);
    assert.deepEqual(ids(nested), ["TG-ML-PICKLE-001"]);
  });

  it("joblib: bytes joblib reads as array data but pickle.load would run are still reported", async () => {
    const lookalike = await scanPickleBearingFile("model.pkl", F.joblib_raw_lookalike as Buffer);
    assert.deepEqual(lookalike.findings, []);
    const r = await scanPickleBearingFile("model.pkl", F.joblib_hidden as Buffer);
    assert.deepEqual(ids(r), ["TG-ML-PICKLE-001"]);
    assert.match(r.findings[0]?.matchedBy[0]?.comparison ?? "", /global os\.system imported by GLOBAL/);
  });

  it("joblib compressed: zlib and gzip decompressed and scanned; xz is a problem, never clean", async () => {
    for (const [name, comp] of [
      ["joblib_z", "zlib"],
      ["joblib_gz", "gzip"],
    ]) {
      const r = await scanPickleBearingFile("m.joblib", F[name as string] as Buffer);
      assert.equal(r.format, "joblib-compressed");
      assert.deepEqual(ids(r), ["TG-ML-PICKLE-001"]);
      assert.equal(r.findings[0]?.matchedBy[0]?.location?.member, `(${comp}-decompressed)`);
    }
    const xz = await scanPickleBearingFile("m.joblib", F.joblib_xz as Buffer);
    assert.equal(xz.format, "unsupported");
    assert.deepEqual(xz.findings, []);
    assert.match(xz.problems[0]?.message ?? "", /xz-compressed/);
  });

  it("default-deny: an unknown class is HIGH; extraAllow accepts it, never a denylisted one", async () => {
    const r = await scanPickleBearingFile("t.pkl", F.thing as Buffer);
    assert.deepEqual(ids(r), ["TG-ML-PICKLE-002"]);
    assert.equal(r.findings[0]?.severity.level, "HIGH");
    assert.match(r.findings[0]?.matchedBy[0]?.comparison ?? "", /global acme\.models\.Thing imported by STACK_GLOBAL at byte \d+, called via NEWOBJ\/BUILD/);
    assert.deepEqual((await scanPickleBearingFile("t.pkl", F.thing as Buffer, { extraAllow: ["acme.models.*"] })).findings, []);
    assert.deepEqual((await scanPickleBearingFile("t.pkl", F.thing as Buffer, { extraAllow: ["acme.models.Thing"] })).findings, []);
    const evil = await scanPickleBearingFile("e.pt", F.torch_zip_evil as Buffer, { extraAllow: ["posix.*", "posix.system"] });
    assert.deepEqual(ids(evil), ["TG-ML-PICKLE-001"]);
  });

  it("reads from a file through a ByteSource, with the same result", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const path = join(dir, "pytorch_model.bin");
      await writeFile(path, F.torch_zip_evil as Buffer);
      const r = await withFileSource(path, (src) => scanPickleBearingFile("pytorch_model.bin", src));
      assert.deepEqual(ids(r), ["TG-ML-PICKLE-001"]);
      const legacyPath = join(dir, "old.pt");
      await writeFile(legacyPath, F.legacy as Buffer);
      const l = await withFileSource(legacyPath, (src) => scanPickleBearingFile("old.pt", src));
      assert.equal(l.format, "pytorch-legacy");
      assert.deepEqual(l.findings, []);
      // gigabytes of storages after the pickles are never read: 8 MiB of them here, with a 2 MiB read limit
      await writeFile(legacyPath, Buffer.concat([F.legacy as Buffer, Buffer.alloc(8 * 1024 * 1024, 0x80)]));
      const l2 = await withFileSource(legacyPath, (src) => scanPickleBearingFile("old.pt", src, { limits: { maxPickleBytes: 2 * 1024 * 1024 } }));
      assert.equal(l2.format, "pytorch-legacy");
      assert.deepEqual(l2.findings, []);
      assert.deepEqual(l2.problems, []);
      // a 3 MiB pickle is read past the first MiB, to its end
      const bigPath = join(dir, "big.pkl");
      await writeFile(bigPath, F.big_bytes as Buffer);
      const big = await withFileSource(bigPath, (src) => scanPickleBearingFile("big.pkl", src));
      assert.deepEqual(ids(big), ["TG-ML-PICKLE-001"]);
      assert.deepEqual(big.problems, []);
      const capped = await withFileSource(bigPath, (src) => scanPickleBearingFile("big.pkl", src, { limits: { maxPickleBytes: 2 * 1024 * 1024 } }));
      assert.ok(capped.problems.some((p) => /larger than the limit/.test(p.message)));
    } finally {
      await cleanup();
    }
  });

  it("limits: a pickle over maxPickleBytes, a member over maxMemberBytes, too many entries: problems, never clean", async () => {
    const big = await scanPickleBearingFile("t.pkl", F.thing as Buffer, { limits: { maxPickleBytes: 20 } });
    assert.ok(big.problems.some((p) => /larger than the limit/.test(p.message)));
    const member = await scanPickleBearingFile("e.pt", F.torch_zip_evil as Buffer, { limits: { maxMemberBytes: 16 } });
    assert.ok(member.problems.some((p) => /over the limit of 16/.test(p.message)));
    const entries = await scanPickleBearingFile("e.pt", F.torch_zip_evil as Buffer, { limits: { maxZipEntries: 2 } });
    assert.ok(entries.problems.some((p) => /more than the limit of 2/.test(p.message)));
    const total = await scanPickleBearingFile("e.pt", F.torch_zip_evil as Buffer, { limits: { maxZipTotalBytes: 100 } });
    assert.ok(total.problems.some((p) => /zip bomb/.test(p.message)));
    const ops = await scanPickleBearingFile("e.pt", F.torch_zip as Buffer, { limits: { maxOps: 10 } });
    assert.ok(ops.problems.some((p) => /more than 10 opcodes/.test(p.message)));
    assert.ok(ops.findings.some((f) => f.id === "TG-ML-PICKLE-003"));
  });
});
