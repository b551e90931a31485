/**
 * Go build info in the pointer format of Go 1.13–1.17. No such toolchain can be installed here (Debian
 * ships Go 1.19, which writes the inline format tested against `go version -m` in catalogers.test.ts),
 * so these ELF files are built by hand, byte for byte as Go's linker lays them out and Go's
 * debug/buildinfo reads them (https://go.dev/src/debug/buildinfo/buildinfo.go): the 32-byte header
 * "\xff Go buildinf:" + pointer size + flags (bit 0: big-endian) + two pointers to Go string headers
 * (data pointer, length) in a PT_LOAD segment, and the module info between its two 16-byte sentinels.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { goBinaryCataloger, parseGoBuildInfo } from "../../src/catalogers/binary/go-binary.ts";
import type { VirtualFs } from "../../src/collect/index.ts";

const VADDR = 0x400000n;
const SIZE = 8192;
// The sentinels Go 1.13–1.17 put around the module info (cmd/go/internal/modload's infoStart/infoEnd).
const INFO_START = Buffer.from("3077af0c9274080241e1c107e6d618e6", "hex");
const INFO_END = Buffer.from("f932433186182072008242104116d8f2", "hex");
const MODINFO = "path\texample.com/app\nmod\texample.com/app\tv1.4.0\th1:AAAA=\ndep\tgolang.org/x/text\tv0.3.7\th1:BBBB=\ndep\tgithub.com/old/lib\tv1.0.0\n=>\tgithub.com/new/lib\tv1.2.0\th1:CCCC=\n";

/** A minimal ELF file with one PT_LOAD segment (file offset 0 → VADDR) holding pointer-format build info. */
function oldGoElf(opts: { is64: boolean; bigEndian: boolean; version?: string; modinfo?: Buffer; corruptPointer?: boolean }): Buffer {
  const { is64, bigEndian } = opts;
  const ptrSize = is64 ? 8 : 4;
  const b = Buffer.alloc(SIZE);
  const u16 = (o: number, v: number) => (bigEndian ? b.writeUInt16BE(v, o) : b.writeUInt16LE(v, o));
  const u32 = (o: number, v: number) => (bigEndian ? b.writeUInt32BE(v, o) : b.writeUInt32LE(v, o));
  const ptr = (o: number, v: bigint) => (is64 ? (bigEndian ? b.writeBigUInt64BE(v, o) : b.writeBigUInt64LE(v, o)) : u32(o, Number(v)));
  b.writeUInt32BE(0x7f454c46, 0);
  b[4] = is64 ? 2 : 1;
  b[5] = bigEndian ? 2 : 1;
  b[6] = 1;
  const phoff = is64 ? 64 : 52;
  if (is64) {
    ptr(0x20, BigInt(phoff));
    u16(0x36, 56);
    u16(0x38, 1);
    u32(phoff, 1); // PT_LOAD
    ptr(phoff + 8, 0n); // p_offset
    ptr(phoff + 16, VADDR); // p_vaddr
    ptr(phoff + 32, BigInt(SIZE)); // p_filesz
  } else {
    u32(0x1c, phoff);
    u16(0x2a, 32);
    u16(0x2c, 1);
    u32(phoff, 1);
    u32(phoff + 4, 0);
    u32(phoff + 8, Number(VADDR));
    u32(phoff + 16, SIZE);
  }
  const at = 0x1000;
  Buffer.from("\xff Go buildinf:", "latin1").copy(b, at);
  b[at + 14] = ptrSize;
  b[at + 15] = bigEndian ? 1 : 0;
  const versionHdr = 0x1100;
  const modHdr = versionHdr + 2 * ptrSize;
  ptr(at + 16, opts.corruptPointer ? VADDR + 0x100000n : VADDR + BigInt(versionHdr));
  ptr(at + 16 + ptrSize, VADDR + BigInt(modHdr));
  const version = Buffer.from(opts.version ?? "go1.16.15");
  const modinfo = opts.modinfo ?? Buffer.concat([INFO_START, Buffer.from(MODINFO), INFO_END]);
  version.copy(b, 0x1200);
  modinfo.copy(b, 0x1300);
  ptr(versionHdr, VADDR + 0x1200n);
  ptr(versionHdr + ptrSize, BigInt(version.length));
  ptr(modHdr, VADDR + 0x1300n);
  ptr(modHdr + ptrSize, BigInt(modinfo.length));
  return b;
}

describe("Go build info before Go 1.18 (pointer format)", () => {
  for (const [is64, bigEndian] of [
    [true, false],
    [false, false],
    [true, true],
    [false, true],
  ] as const) {
    test(`${is64 ? "64" : "32"}-bit ${bigEndian ? "big" : "little"}-endian ELF`, () => {
      const info = parseGoBuildInfo(oldGoElf({ is64, bigEndian }));
      assert.ok(info && info !== "old-format");
      assert.equal(info.goVersion, "go1.16.15");
      assert.equal(info.path, "example.com/app");
      assert.deepEqual(info.main, { path: "example.com/app", version: "v1.4.0" });
      assert.deepEqual(info.deps, [
        { path: "golang.org/x/text", version: "v0.3.7", sum: "h1:BBBB=" },
        { path: "github.com/new/lib", version: "v1.2.0" },
      ]);
    });
  }

  test("the cataloger makes the modules and stdlib components of such a binary", async () => {
    const bin = oldGoElf({ is64: true, bigEndian: false });
    const fs = {} as VirtualFs;
    const r = await goBinaryCataloger().extract({ entry: { path: "usr/bin/app", size: bin.length, mode: 0o100755 }, contents: bin, fs });
    assert.deepEqual(r.problems ?? [], []);
    assert.deepEqual(r.components.map((c) => c.purl).sort(), [
      "pkg:golang/example.com/app@v1.4.0",
      "pkg:golang/github.com/new/lib@v1.2.0",
      "pkg:golang/golang.org/x/text@v0.3.7",
      "pkg:golang/stdlib@1.16.15",
    ]);
  });

  test("pointers outside the file's segments, or absurd lengths, are refused without reading", () => {
    assert.equal(parseGoBuildInfo(oldGoElf({ is64: true, bigEndian: false, corruptPointer: true })), undefined);
    const b = oldGoElf({ is64: true, bigEndian: false });
    // The version string's length field (at 0x1108) claims 2^40 bytes.
    b.writeBigUInt64LE(1n << 40n, 0x1108);
    assert.equal(parseGoBuildInfo(b), undefined);
    // A length that runs past the segment's end.
    const c = oldGoElf({ is64: true, bigEndian: false });
    c.writeBigUInt64LE(BigInt(SIZE), 0x1108);
    assert.equal(parseGoBuildInfo(c), undefined);
    // A program header table that points past the end of the file.
    const d = oldGoElf({ is64: true, bigEndian: false });
    d.writeBigUInt64LE(BigInt(SIZE * 4), 0x20);
    assert.equal(parseGoBuildInfo(d), undefined);
  });

  test("a Mach-O or PE file in the pointer format is reported as not read", () => {
    const b = oldGoElf({ is64: true, bigEndian: false });
    b.writeUInt32BE(0xcffaedfe, 0); // Mach-O 64 magic: the ELF program headers are gone
    assert.equal(parseGoBuildInfo(b), "old-format");
  });
});
