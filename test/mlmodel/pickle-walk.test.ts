// The opcode walker: every protocol (pickles DUMPED by python3 from safe data and from objects whose
// reduce names os.system; nothing is ever loaded), hand-built streams for the opcodes python does not
// emit, and security regressions: huge length fields, deep memos, truncation inside every opcode
// argument, a million MARKs, lying FRAMEs. They must end with an error or a result, never a throw, and
// within the walker's bounds.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { judgeGlobal, OPCODES, walkPickle, type WalkResult } from "../../src/mlmodel/pickle/index.ts";
import { toolsMissing } from "../image/fixtures.ts";

const NO_PYTHON = toolsMissing("python3");

/** Runs a python3 script that prints a JSON object of name → base64 bytes, and decodes it. */
function pyDump(script: string): Record<string, Buffer> {
  const out = execFileSync("python3", ["-c", `import base64, json, pickle, sys, types, collections\n${script}\nsys.stdout.write(json.dumps({k: base64.b64encode(v).decode() for k, v in OUT.items()}))`], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  return Object.fromEntries(Object.entries(JSON.parse(out) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, "base64")]));
}

const b = (...parts: (string | number[] | Buffer)[]): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : Buffer.isBuffer(p) ? p : Buffer.from(p))));
const u32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const u64 = (n: bigint): number[] => Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));
const sbu = (s: string): Buffer => b([0x8c, Buffer.byteLength(s)], Buffer.from(s, "utf8"));

const names = (r: WalkResult): string[] => r.globals.map((g) => `${g.module}.${g.name}`);

describe("pickles dumped by python3, protocols 0-5", { skip: NO_PYTHON }, () => {
  it("walks safe data without imports beyond the allowlist, errors or anomalies", () => {
    const dumps = pyDump(`
data = {"a": [1, -2, 2**70, -(2**70), 3.5, True, False, None, "é\\u20ac\\n", b"\\x00\\xff" * 300, bytearray(b"xy"), (1,), (1, 2), (1, 2, 3), tuple(range(20))],
        "s": {1, 2}, "f": frozenset({3}), "c": 1+2j, "o": collections.OrderedDict(k=1), "long": "x" * 70000, "big": list(range(2000))}
data["self"] = [data["a"], data["a"]]
OUT = {f"p{p}": pickle.dumps(data, protocol=p) for p in range(6)}`);
    for (const [name, bytes] of Object.entries(dumps)) {
      const r = walkPickle(bytes);
      assert.equal(r.error, undefined, `${name}: ${r.error?.message}`);
      assert.equal(r.anomalyCount, 0, `${name}: ${JSON.stringify(r.anomalies)}`);
      assert.equal(r.pickles.length, 1);
      assert.equal(r.end, bytes.length);
      for (const g of r.globals) assert.equal(judgeGlobal(g.module, g.name, g.resolved), "allowed", `${name}: ${g.module}.${g.name}`);
    }
  });

  it("finds os.system called through __reduce__ at every protocol, and a class of an unknown module", () => {
    const dumps = pyDump(`
import os
class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))
sys.modules["acme"] = types.ModuleType("acme"); mod = types.ModuleType("acme.models"); sys.modules["acme.models"] = mod
class Thing:
    def __init__(self): self.w = [1, 2]
Thing.__module__ = "acme.models"; Thing.__qualname__ = "Thing"; mod.Thing = Thing
OUT = {}
for p in range(6):
    OUT[f"evil{p}"] = pickle.dumps({"x": Evil()}, protocol=p)
    OUT[f"thing{p}"] = pickle.dumps(Thing(), protocol=p)
    OUT[f"ref{p}"] = pickle.dumps(os.system, protocol=p)`);
    for (let p = 0; p <= 5; p++) {
      const evil = walkPickle(dumps[`evil${p}`] as Buffer);
      assert.equal(evil.error, undefined);
      const sys = evil.globals.find((g) => g.name === "system");
      assert.ok(sys && sys.module === "posix" && sys.resolved, `protocol ${p}: ${names(evil)}`);
      assert.equal(sys.opcode, p >= 4 ? "STACK_GLOBAL" : "GLOBAL");
      assert.deepEqual(
        sys.calls.map((c) => c.opcode),
        ["REDUCE"],
      );
      assert.equal(judgeGlobal(sys.module, sys.name, true), "dangerous");

      const thing = walkPickle(dumps[`thing${p}`] as Buffer);
      assert.equal(thing.error, undefined);
      assert.equal(thing.anomalyCount, 0);
      const cls = thing.globals.find((g) => g.module === "acme.models");
      assert.ok(cls && cls.name === "Thing", `protocol ${p}: ${names(thing)}`);
      assert.equal(judgeGlobal(cls.module, cls.name, true), "not-allowed");
      assert.ok(cls.calls.length > 0 || thing.globals.some((g) => g.calls.length > 0), `protocol ${p}: a call site`);

      const ref = walkPickle(dumps[`ref${p}`] as Buffer);
      assert.deepEqual(names(ref), ["posix.system"]);
      assert.deepEqual(ref.globals[0]?.calls, []);
    }
  });

  it("walks protocol 5 out-of-band buffers (NEXT_BUFFER, READONLY_BUFFER)", () => {
    const dumps = pyDump(`
bufs = []
OUT = {"oob": pickle.dumps([pickle.PickleBuffer(b"abc"), pickle.PickleBuffer(bytearray(b"de"))], protocol=5, buffer_callback=bufs.append)}`);
    const bytes = dumps.oob as Buffer;
    assert.ok(bytes.includes(0x97) && bytes.includes(0x98));
    const r = walkPickle(bytes);
    assert.equal(r.error, undefined);
    assert.equal(r.anomalyCount, 0);
  });

  it("truncated at every byte, a pickle of every protocol ends in an error, never a throw", () => {
    const dumps = pyDump(`
import os
class Evil:
    def __reduce__(self):
        return (os.system, ("id",))
OUT = {f"p{p}": pickle.dumps([{"k": (1, 2.5, "s", b"b", 2**80, None, True)}, Evil(), frozenset({1}), bytearray(b"z")], protocol=p) for p in range(6)}`);
    for (const [name, bytes] of Object.entries(dumps)) {
      for (let cut = 0; cut < bytes.length; cut++) {
        const r = walkPickle(bytes.subarray(0, cut));
        assert.ok(r.error, `${name} cut at ${cut}`);
        assert.ok(r.error.offset <= cut);
        assert.equal(r.pickles.length, 0);
      }
    }
  });
});

describe("hand-built streams", () => {
  it("reads every opcode of the table with its argument encoding", () => {
    // one stream that uses all 68 opcodes
    const s = b(
      [0x80, 4], // PROTO
      [0x95], u64(0n), // FRAME of 0 bytes... then a real one below
      "(", "I01\n", "I00\n", "I42\n", "L7L\n", "F1.5\n", "S'x\\x41'\n", "Vmod\\u00e9\n", "P1\n", "N", "(", "l", // MARK INT LONG FLOAT STRING UNICODE PERSID NONE LIST
      "J", u32(5), "K", [1], "M", [1, 2], [0x8a, 1, 0xff], [0x8b], u32(2), [1, 0], "G", [0, 0, 0, 0, 0, 0, 0, 0],
      "T", u32(1), "a", "U", [1], "b", "X", u32(1), "c", "B", u32(1), "d", "C", [1], "e", sbu("f"), [0x8d], u64(1n), "g", [0x8e], u64(1n), "h", [0x96], u64(1n), "i",
      "t", // TUPLE of all since the MARK
      ")", [0x85], ")", [0x86], ")", ")", [0x87], "0", "0", // EMPTY_TUPLE TUPLE1/2/3 POP
      "}", "p0\n", "q", [1], "r", u32(2), [0x94], "g0\n", "h", [1], "j", u32(2), "0", "0", "0", "0", // EMPTY_DICT PUT BINPUT LONG_BINPUT MEMOIZE GET BINGET LONG_BINGET
      "(", "N", "N", "d", "N", "N", "s", "(", "N", "N", "u", "0", // DICT SETITEM SETITEMS
      "]", "N", "a", "(", "N", "e", "0", // EMPTY_LIST APPEND APPENDS
      [0x8f], "(", "N", [0x90], "(", "N", [0x91], "0", "0", // EMPTY_SET ADDITEMS FROZENSET
      [0x88], [0x89], "0", "0", // NEWTRUE NEWFALSE
      "N", "Q", "0", // BINPERSID
      [0x97], [0x98], "0", // NEXT_BUFFER READONLY_BUFFER
      "cmod\nName\n", "N", "R", "0", // GLOBAL REDUCE
      "(", "cmod\nCls\n", "N", "o", "0", // OBJ
      "(", "N", "imod\nInst\n", "0", // INST
      "cmod\nNew\n", ")", [0x81], "}", "b", "0", // NEWOBJ BUILD
      "cmod\nEx\n", ")", "}", [0x92], "0", // NEWOBJ_EX
      sbu("m"), sbu("n"), [0x93], "0", // STACK_GLOBAL
      [0x82, 1], [0x83, 1, 0], [0x84], u32(1), "0", "0", "0", // EXT1 EXT2 EXT4
      "(", "1", // MARK POP_MARK
      "N", "2", "0", // DUP
      "N", ".", // STOP
    );
    const r = walkPickle(s);
    assert.equal(r.error, undefined, r.error?.message);
    assert.equal(r.pickles.length, 1);
    assert.equal(r.persistentIds, 2);
    assert.deepEqual(names(r), ["mod.Name", "mod.Cls", "mod.Inst", "mod.New", "mod.Ex", "m.n", "unknown.copyreg extension 1", "unknown.copyreg extension 1", "unknown.copyreg extension 1"]);
    const calls = Object.fromEntries(r.globals.slice(0, 5).map((g) => [g.name, g.calls.map((c) => c.opcode).join(",")]));
    assert.deepEqual(calls, { Name: "REDUCE", Cls: "OBJ", Inst: "INST", New: "NEWOBJ,BUILD", Ex: "NEWOBJ_EX" });
    assert.deepEqual(
      r.globals.filter((g) => g.opcode.startsWith("EXT")).map((g) => [g.opcode, g.resolved]),
      [["EXT1", false], ["EXT2", false], ["EXT4", false]],
    );
    assert.equal(judgeGlobal("unknown", "copyreg extension 1", false), "unresolved");
    assert.equal(r.anomalyCount, 0, JSON.stringify(r.anomalies));
  });

  it("truncated inside every opcode argument: an error at that opcode, never a throw", () => {
    const withArgs = OPCODES.filter((o) => o && o.arg !== "none");
    const samples: Record<string, Buffer> = {
      u1: b([1]), u2: b([1, 0]), i4: b(u32(1)), u4: b(u32(1)), u8: b(u64(1n)), f8: b([0, 0, 0, 0, 0, 0, 0, 0]),
      decimalnl: b("12\n"), longnl: b("12L\n"), floatnl: b("1.5\n"), stringnl: b("'ab'\n"), unicodenl: b("ab\n"), linenl: b("ab\n"), pairnl: b("os\nsystem\n"),
      bytes1: b([2], "ab"), bytes4s: b(u32(2), "ab"), bytes4: b(u32(2), "ab"), bytes8: b(u64(2n), "ab"), long1: b([2, 1, 0]), long4: b(u32(2), [1, 0]),
    };
    for (const op of withArgs) {
      if (!op) continue;
      const arg = samples[op.arg] as Buffer;
      for (let cut = 0; cut < arg.length; cut++) {
        const bytes = b([op.code], arg.subarray(0, cut));
        const r = walkPickle(bytes);
        assert.ok(r.error, `${op.name} cut at ${cut}`);
        assert.equal(r.error.offset, 0, `${op.name} cut at ${cut}: ${r.error.message}`);
        assert.equal(r.globals.length, 0);
      }
    }
  });

  it("checks length fields against the bytes left before reading anything", () => {
    const huge = [
      b([0x80, 4, 0x8d], u64(0x7fffffffffffffffn)), // BINUNICODE8
      b([0x80, 4, 0x8e], u64(0xffffffffffffffffn)), // BINBYTES8
      b([0x80, 5, 0x96], u64(1n << 62n)), // BYTEARRAY8
      b("X", u32(0xffffffff)), // BINUNICODE
      b("T", [0xff, 0xff, 0xff, 0x7f]), // BINSTRING 2^31-1
      b([0x8b, 0xff, 0xff, 0xff, 0x7f]), // LONG4
      b([0x80, 4, 0x95], u64(1n << 40n), "N."), // FRAME past the end
    ];
    for (const bytes of huge) {
      const r = walkPickle(bytes);
      assert.equal(r.error?.kind, "truncated", r.error?.message);
    }
    for (const neg of [b("T", u32(0xffffffff)), b([0x8b], u32(0x80000000))]) {
      assert.equal(walkPickle(neg).error?.kind, "invalid");
    }
  });

  it("refuses lying FRAMEs: an opcode across the frame end, a frame inside a frame", () => {
    // FRAME of 3 bytes, then SHORT_BINUNICODE of 5 bytes straddling its end
    const straddle = b([0x80, 4, 0x95], u64(3n), sbu("abcd"), ".");
    assert.match(walkPickle(straddle).error?.message ?? "", /past the end of its FRAME/);
    const nested = b([0x80, 4, 0x95], u64(11n), [0x95], u64(1n), "N", ".");
    assert.match(walkPickle(nested).error?.message ?? "", /FRAME inside/);
    const honest = b([0x80, 4, 0x95], u64(2n), "N.");
    assert.equal(walkPickle(honest).error, undefined);
  });

  it("a million MARKs, DUP and MEMOIZE floods: bounded, no throw", () => {
    const marks = Buffer.alloc(1_000_001, "(".charCodeAt(0));
    marks[1_000_000] = ".".charCodeAt(0);
    const r = walkPickle(marks);
    assert.equal(r.opCount, 1_000_001);
    assert.ok(r.error || r.anomalyCount > 0, "STOP on an empty stack is malformed");
    const capped = walkPickle(marks, { maxStackDepth: 1000 });
    assert.equal(capped.error?.kind, "limit");
    assert.equal(capped.error?.offset, 1000);

    const balanced = b(Buffer.alloc(1_000_000, "("), Buffer.alloc(1_000_000, "1"), "N.");
    const ok = walkPickle(balanced);
    assert.equal(ok.error, undefined);
    assert.equal(ok.anomalyCount, 0);

    const dups = b("N", Buffer.alloc(200_000, "2"), ".");
    assert.equal(walkPickle(dups).error, undefined);
    assert.equal(walkPickle(dups, { maxStackDepth: 10_000 }).error?.kind, "limit");

    const memo = b([0x80, 4], "N", Buffer.alloc(200_000, 0x94), ".");
    assert.equal(walkPickle(memo).error, undefined);
    const memoCapped = walkPickle(memo, { maxMemo: 500 });
    assert.equal(memoCapped.error?.kind, "limit");
    assert.match(memoCapped.error?.message ?? "", /memo larger than 500/);
    // sparse keys up to 2^32-1 do not allocate by key
    const sparse = b("N", "r", u32(0xffffffff), "j", u32(0xffffffff), "0", ".");
    assert.equal(walkPickle(sparse).error, undefined);
  });

  it("past maxGlobals repeated imports are counted, new ones still listed", () => {
    const rep = Buffer.from("ccollections\nOrderedDict\n0".repeat(5000), "latin1");
    const r = walkPickle(b(rep, "cos\nsystem\n."), { maxGlobals: 100 });
    assert.equal(r.error, undefined);
    assert.equal(r.globals.length, 101);
    assert.equal(r.globalsOmitted, 4900);
    assert.deepEqual(names(r).slice(-1), ["os.system"]);
  });

  it("caps the opcode count", () => {
    const many = b(Buffer.alloc(100_000, "N"), Buffer.alloc(99_999, "0"), ".");
    assert.equal(walkPickle(many).error, undefined);
    const r = walkPickle(many, { maxOps: 1000 });
    assert.equal(r.error?.kind, "limit");
    assert.equal(r.opCount, 1001);
  });

  it("walks concatenated pickles with a fresh memo each, and stops where asked", () => {
    const first = b([0x80, 4], sbu("os"), [0x94], ".");
    // the second pickle reads memo 0, which only the first one set
    const second = b([0x80, 4], "h", [0], sbu("system"), [0x93], "N", "R", ".");
    const r = walkPickle(b(first, second));
    assert.equal(r.pickles.length, 2);
    const g = r.globals[0];
    assert.ok(g && !g.resolved, "a memo entry of another pickle is not resolvable");
    assert.equal(g.pickle, 1);
    assert.equal(judgeGlobal(g.module, g.name, g.resolved), "unresolved");
    assert.equal(walkPickle(b(first, second), {}, { maxPickles: 1 }).globals.length, 0);
    const tiny = Buffer.alloc(200_000, "N.");
    assert.equal(walkPickle(tiny).pickles.length, 100_000);
  });

  it("decodes protocol-0 escapes before naming a STACK_GLOBAL (UNICODE \\u, STRING \\x and octal)", () => {
    const r = walkPickle(b("V\\u006fs\nS'sys\\x74em'\n", [0x93], "S'\\142uiltins'\nVeval\n", [0x93], "0", "0", "N."));
    assert.equal(r.error, undefined);
    assert.deepEqual(names(r), ["os.system", "builtins.eval"]);
    assert.ok(r.globals.every((g) => g.resolved));
  });

  it("names an unresolvable STACK_GLOBAL the way picklescan's look-back does", () => {
    // operands: the result of a GLOBAL and an int; look-back sees BININT1 (not a string) and GLOBAL
    const r = walkPickle(b("cos\nsystem\n", "K", [7], [0x93], "."));
    const g = r.globals[1];
    assert.ok(g && !g.resolved);
    assert.equal(`${g.module}.${g.name}`, "unknown.unknown");
    // an empty stack: an anomaly, and an unknown import
    const empty = walkPickle(b([0x93], "."));
    assert.equal(empty.globals[0]?.resolved, false);
    assert.ok(empty.anomalyCount > 0);
  });

  it("refuses invalid opcodes, unknown protocols and bad text arguments", () => {
    assert.match(walkPickle(b([0x80, 6], "N.")).error?.message ?? "", /protocol 6/);
    assert.match(walkPickle(b("N", [0xff])).error?.message ?? "", /invalid opcode 0xff/);
    assert.equal(walkPickle(b("Iabc\n.")).error?.kind, "invalid");
    assert.equal(walkPickle(b("S'abc\n.")).error?.kind, "invalid");
    assert.equal(walkPickle(b("c\xff\nx\n.")).error?.kind, "invalid");
    assert.equal(walkPickle(b("V\\u12\n.")).error?.kind, "invalid");
    assert.equal(walkPickle(Buffer.alloc(0)).error?.kind, "truncated");
    assert.equal(walkPickle(b("N")).error?.kind, "truncated");
  });
});
