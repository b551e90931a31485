// 7z archives and the LZMA/LZMA2/BCJ decoders under them. The decoders are checked against python3's
// lzma module (xz-utils) on raw streams; the archives are made by 7-Zip's `7zz` (Debian package
// 7zip) with each method the reader supports, and with the ones it refuses (AES, Deflate), which must
// be problems, never clean. Pickles are only DUMPED by python3.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { scanPickleBearingFile } from "../../src/mlmodel/pickle/index.ts";
import { decodeLzma, decodeLzma2, LzmaError } from "../../src/mlmodel/pickle/lzma.ts";
import { bcjX86Decode } from "../../src/mlmodel/pickle/sevenzip.ts";
import { tempDir } from "../helpers.ts";

function has(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const NO_PYTHON = has("python3", ["-c", "import lzma"]) ? false : "SKIPPED: python3 with lzma is not installed";
const NO_7ZZ = has("7zz", ["i"]) ? false : "SKIPPED: 7zz is not installed (Debian package 7zip)";

describe("LZMA, LZMA2 and BCJ x86 decoders against python's lzma", { skip: NO_PYTHON }, () => {
  let V: Record<string, Buffer> = {};
  before(() => {
    const script = String.raw`
import base64, json, lzma, os, random, sys
random.seed(7)
text = b"".join(b"tensor %d weight %f\n" % (i, i / 7) for i in range(20000))
noise = bytes(random.getrandbits(8) for _ in range(50000))
x86 = bytes(b for i in range(30000) for b in ((0xe8, i & 0xff, (i >> 8) & 0xff, 0, 0) if i % 3 == 0 else (random.getrandbits(8),)))
data = text + noise + text[:1000] + x86
OUT = {"data": data, "x86": x86,
  "lzma2": lzma.compress(data, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2, "preset": 6}]),
  "lzma1": lzma.compress(data, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA1, "preset": 6, "lc": 3, "lp": 0, "pb": 2}]),
  "lzma1_lc0lp2pb0": lzma.compress(data, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA1, "preset": 1, "lc": 0, "lp": 2, "pb": 0}]),
  "bcj": lzma.compress(x86, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_X86}, {"id": lzma.FILTER_LZMA2, "preset": 6}])}
sys.stdout.write(json.dumps({k: base64.b64encode(v).decode() for k, v in OUT.items()}))`;
    const out = execFileSync("python3", ["-c", script], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    V = Object.fromEntries(Object.entries(JSON.parse(out) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, "base64")]));
  });

  it("decodes LZMA2 and LZMA (with its end marker, other lc/lp/pb) to the original bytes", () => {
    const data = V.data as Buffer;
    assert.ok(decodeLzma2(V.lzma2 as Buffer, data.length).equals(data));
    assert.ok(decodeLzma(Buffer.from([0x5d, 0, 0, 0x10, 0]), V.lzma1 as Buffer, data.length).equals(data));
    const props = (0 * 5 + 2) * 9 + 0; // pb 0, lp 2, lc 0: (pb * 5 + lp) * 9 + lc
    assert.ok(decodeLzma(Buffer.from([props, 0, 0, 0x10, 0]), V.lzma1_lc0lp2pb0 as Buffer, data.length).equals(data));
  });

  it("undoes the BCJ x86 filter", () => {
    const x86 = V.x86 as Buffer;
    const filtered = decodeLzma2(V.bcj as Buffer, x86.length);
    assert.ok(!filtered.equals(x86), "the filter changed the call targets");
    bcjX86Decode(filtered);
    assert.ok(filtered.equals(x86));
  });

  it("truncated or corrupted input, or a wrong size: an LzmaError, never a throw of another kind or a hang", () => {
    const lz2 = V.lzma2 as Buffer;
    const size = (V.data as Buffer).length;
    for (let cut = 0; cut < lz2.length; cut += Math.max(1, Math.floor(lz2.length / 60))) {
      assert.throws(() => decodeLzma2(lz2.subarray(0, cut), size), LzmaError);
    }
    assert.throws(() => decodeLzma2(lz2, size - 1), LzmaError);
    assert.throws(() => decodeLzma2(lz2, size + 1), LzmaError);
    let other = 0;
    for (let i = 0; i < 60; i++) {
      const bad = Buffer.from(V.lzma1 as Buffer);
      const at = 5 + ((i * 7919) % (bad.length - 5));
      bad.writeUInt8(((bad[at] as number) ^ (1 << (i % 8))) & 0xff, at);
      try {
        decodeLzma(Buffer.from([0x5d, 0, 0, 0x10, 0]), bad, size);
      } catch (e) {
        if (!(e instanceof LzmaError)) other++;
      }
    }
    assert.equal(other, 0);
  });
});

describe("7z archives made by 7-Zip", { skip: NO_7ZZ || NO_PYTHON }, () => {
  let dir = "";
  let cleanup: () => Promise<void> = async () => {};
  before(async () => {
    ({ dir, cleanup } = await tempDir());
    const pickles = execFileSync(
      "python3",
      ["-c", 'import base64, json, os, pickle, sys\nclass Evil:\n    def __reduce__(self): return (os.system, ("id",))\nsys.stdout.write(json.dumps([base64.b64encode(pickle.dumps({"a": Evil()}, protocol=4)).decode(), base64.b64encode(pickle.dumps({"w": list(range(100))}, protocol=2)).decode()]))'],
      { encoding: "utf8" },
    );
    const [evil, safe] = (JSON.parse(pickles) as string[]).map((s) => Buffer.from(s, "base64"));
    await writeFile(join(dir, "model.pkl"), evil as Buffer);
    await writeFile(join(dir, "safe.pkl"), safe as Buffer);
    await writeFile(join(dir, "notes.txt"), "hello\n".repeat(200));
    const make = (name: string, ...args: string[]): void => {
      execFileSync("7zz", ["a", "-bd", ...args, name, "model.pkl", "safe.pkl", "notes.txt"], { cwd: dir, stdio: "ignore" });
    };
    make("default.7z");
    make("lzma.7z", "-m0=LZMA", "-mhc=off");
    make("copy.7z", "-m0=Copy");
    make("bcj.7z", "-m0=BCJ", "-m1=LZMA2");
    make("nonsolid.7z", "-ms=off");
    make("aes.7z", "-pSECRET");
    make("aes-header.7z", "-pSECRET", "-mhe=on");
    make("deflate.7z", "-m0=Deflate");
  });
  after(() => cleanup());

  it("finds the pickle's imports in every supported method, with the member named", async () => {
    for (const name of ["default.7z", "lzma.7z", "copy.7z", "bcj.7z", "nonsolid.7z"]) {
      const r = await scanPickleBearingFile(name, await readFile(join(dir, name)));
      assert.equal(r.format, "7z");
      assert.deepEqual(r.problems, [], name);
      assert.deepEqual(r.scanned.sort(), [`${name}!model.pkl`, `${name}!safe.pkl`], name);
      assert.deepEqual(
        r.findings.map((f) => [f.id, f.matchedBy[0]?.location?.member]),
        [["TG-ML-PICKLE-001", "model.pkl"]],
        name,
      );
    }
  });

  it("refuses encrypted and Deflate archives as problems, never clean", async () => {
    for (const name of ["aes.7z", "aes-header.7z", "deflate.7z"]) {
      const r = await scanPickleBearingFile(name, await readFile(join(dir, name)));
      assert.deepEqual(r.findings, [], name);
      assert.equal(r.problems.length, 1, name);
      assert.match(r.problems[0]?.message ?? "", /7z archive not scanned: coder [0-9a-f]+ is not supported/, name);
    }
  });

  it("a truncated or corrupted archive is a problem or a finding, never a throw", async () => {
    const whole = await readFile(join(dir, "default.7z"));
    for (let cut = 0; cut < whole.length; cut++) {
      const r = await scanPickleBearingFile("t.7z", whole.subarray(0, cut));
      assert.ok(r.problems.length > 0 || r.findings.length > 0, `cut at ${cut}`);
    }
    for (let i = 32; i < whole.length; i++) {
      const bad = Buffer.from(whole);
      bad.writeUInt8(((bad[i] as number) ^ 0x55) & 0xff, i);
      await scanPickleBearingFile("c.7z", bad);
    }
  });
});
