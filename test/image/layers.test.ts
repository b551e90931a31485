/**
 * Layer semantics and safety on small hand-made OCI layouts (test/image/layout-builder.ts): whiteouts,
 * opaque directories, gzip/zstd/uncompressed layers, platform selection, and malicious layers.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { collect } from "../../src/collect/index.ts";
import { LimitExceededError, UnsafeInputError, VerificationFailedError } from "../../src/errors.ts";
import { openImageSource, type ImageSourceOptions } from "../../src/image/index.ts";
import { runCli, tempDir } from "../helpers.ts";
import { layoutOf, tarOf, writeImage, writeIndex } from "./layout-builder.ts";

async function walkAll(path: string, options: ImageSourceOptions = {}) {
  const source = await openImageSource({ kind: "oci-dir", input: path, path }, options);
  const files: Record<string, string> = {};
  for await (const e of source.fs.walk()) files[e.path] = e.layer ?? "";
  return { files, source };
}

describe("squashed view of layers", () => {
  test("whiteouts, opaque directories and replaced paths, over none/gzip/zstd layers", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const l1 = await tarOf([
        { name: "etc/", type: "directory" },
        { name: "etc/keep", content: "1" },
        { name: "a/x", content: "x1" },
        { name: "a/y", content: "y1" },
        { name: "b/z", content: "z1" },
        { name: "c/inner", content: "c1" },
        { name: "d/old", content: "d1" },
      ]);
      const l2 = await tarOf([
        { name: "a/.wh.x", content: "" },
        { name: "a/y", content: "y2" },
        { name: "b/.wh..wh..opq", content: "" },
        { name: "b/new", content: "n2" },
        { name: "c", content: "now a file" },
        { name: "d", type: "symlink", linkname: "/etc" },
      ]);
      const l3 = await tarOf([{ name: "./etc/third", content: "3" }]);
      const img = await layoutOf(dir, [
        { tar: l1, compression: "none" },
        { tar: l2, compression: "zstd" },
        { tar: l3, compression: "gzip" },
      ]);
      const { files, source } = await walkAll(dir);
      const [d1, d2, d3] = img.layerDigests;
      assert.deepEqual(files, { "etc/third": d3, "a/y": d2, "b/new": d2, c: d2, "etc/keep": d1 });
      assert.equal((await source.fs.readFile("a/y")).toString(), "y2");
      assert.equal((await source.fs.readFile("d/keep")).toString(), "1", "d is a symlink to /etc inside the image");
      assert.equal(await source.fs.exists("a/x"), false);
      assert.equal(await source.fs.exists("b/z"), false);
      assert.equal(await source.fs.exists("c/inner"), false);
    } finally {
      await cleanup();
    }
  });

  test("platform selection from a nested index; a missing platform lists what there is", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const amd = await writeImage(dir, [{ tar: await tarOf([{ name: "arch", content: "amd64" }]), compression: "gzip" }], "amd64");
      const arm = await writeImage(dir, [{ tar: await tarOf([{ name: "arch", content: "arm64" }]), compression: "gzip" }], "arm64");
      await writeIndex(dir, [{ desc: amd.manifest }, { desc: arm.manifest }], true);
      for (const [platform, want] of [["linux/amd64", "amd64"], ["linux/arm64", "arm64"], ["linux/arm64/v8", "arm64"]] as const) {
        const { source } = await walkAll(dir, { platform });
        assert.equal((await source.fs.readFile("arch")).toString(), want);
        assert.equal(source.metadata.properties?.["tollgate:image:platform"], `linux/${want}`);
        assert.match(source.metadata.properties?.["tollgate:image:indexDigest"] ?? "", /^sha256:[a-f0-9]{64}$/);
        assert.equal(source.metadata.properties?.["tollgate:image:manifestDigest"], (want === "amd64" ? amd : arm).manifest.digest);
      }
      await assert.rejects(walkAll(dir, { platform: "linux/s390x" }), /no image for platform linux\/s390x; the index holds linux\/amd64, linux\/arm64/);
    } finally {
      await cleanup();
    }
  });
});

describe("malicious layers are refused and nothing is written outside the scratch area", () => {
  test('an entry with "../" is refused', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await layoutOf(join(dir, "img"), [{ tar: await tarOf([{ name: "../../escaped.txt", content: "boom" }]), compression: "gzip" }]);
      await assert.rejects(walkAll(join(dir, "img")).then(() => undefined), (e: unknown) => e instanceof UnsafeInputError && /climbs out of the image root/.test(e.message));
      const src = await openImageSource({ kind: "oci-dir", input: "x", path: join(dir, "img") });
      await assert.rejects(collect(src.fs, src.catalogers), UnsafeInputError);
      const cli = await runCli(["sbom", `oci-dir:${join(dir, "img")}`], { cwd: dir });
      assert.equal(cli.code, 2);
      assert.match(cli.stderr, /^tollgate: .*climbs out of the image root with "\.\."; refusing the layer\n$/);
      assert.equal(existsSync(join(dir, "escaped.txt")), false);
      assert.equal(existsSync(join(dir, "..", "escaped.txt")), false);
    } finally {
      await cleanup();
    }
  });

  test("a file written through a symlink of the same layer is refused", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const outside = join(dir, "outside");
      await layoutOf(join(dir, "img"), [
        { tar: await tarOf([{ name: "evil", type: "symlink", linkname: outside }, { name: "evil/owned.txt", content: "boom" }]), compression: "gzip" },
      ]);
      const src = await openImageSource({ kind: "oci-dir", input: "x", path: join(dir, "img") });
      await assert.rejects(collect(src.fs, src.catalogers), /written through the symlink "evil"/);
      assert.equal(existsSync(join(outside, "owned.txt")), false);
    } finally {
      await cleanup();
    }
  });

  test("absolute and climbing symlinks resolve inside the image, never to host files", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const hostFile = join(dir, "host-status");
      await writeFile(hostFile, "Package: host-only\nStatus: install ok installed\nVersion: 1\n");
      await layoutOf(join(dir, "img"), [
        {
          tar: await tarOf([
            { name: "etc/passwd", content: "image-passwd" },
            { name: "var/lib/dpkg/status", type: "symlink", linkname: hostFile },
            { name: "a/b/climb", type: "symlink", linkname: "../../../../../../../etc/passwd" },
          ]),
          compression: "gzip",
        },
      ]);
      const src = await openImageSource({ kind: "oci-dir", input: "x", path: join(dir, "img") });
      const r = await collect(src.fs, src.catalogers);
      assert.equal(r.components.filter((c) => c.name === "host-only").length, 0);
      await assert.rejects(src.fs.readFile("var/lib/dpkg/status"), /no such file in the image/);
      assert.equal((await src.fs.readFile("a/b/climb")).toString(), "image-passwd");
      assert.match(await readFile(hostFile, "utf8"), /host-only/, "the host file is untouched");
    } finally {
      await cleanup();
    }
  });

  test("a gzip bomb stops at the decompressed-bytes limit; a huge entry at the entry limit", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const zeros = Buffer.alloc(64 * 1024 * 1024);
      const img = await layoutOf(dir, [{ tar: await tarOf([{ name: "bomb", content: zeros }]), compression: "gzip" }]);
      const blobSize = (await readFile(join(dir, "blobs", "sha256", (img.layerDigests[0] as string).slice(7)))).length;
      assert.ok(blobSize < 256 * 1024, `the bomb is small when compressed (${blobSize} bytes)`);
      await assert.rejects(walkAll(dir, { limits: { maxDecompressedBytes: 8 * 1024 * 1024 } }), (e: unknown) => e instanceof LimitExceededError && /more than 8388608 bytes/.test(e.message));
      await assert.rejects(walkAll(dir, { limits: { maxEntryBytes: 1024 * 1024 } }), (e: unknown) => e instanceof LimitExceededError && /over the limit of 1048576 per file/.test(e.message));
    } finally {
      await cleanup();
    }
  });

  test("corrupt compressed data and a layer that is not a tar are clear input errors", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const garbage = Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.alloc(600, 0x41)]);
      await layoutOf(join(dir, "gz"), [{ tar: garbage, compression: "none" }]);
      await assert.rejects(walkAll(join(dir, "gz")), /layer data is corrupt/);
      await layoutOf(join(dir, "tar"), [{ tar: Buffer.alloc(2048, 0x41), compression: "gzip" }]);
      await assert.rejects(walkAll(join(dir, "tar")), /layer is not a valid tar/);
    } finally {
      await cleanup();
    }
  });

  test("a layer blob missing from the layout is named", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const img = await layoutOf(dir, [{ tar: await tarOf([{ name: "f", content: "x" }]), compression: "gzip" }]);
      await rm(join(dir, "blobs", "sha256", (img.layerDigests[0] as string).slice(7)));
      await assert.rejects(walkAll(dir), new RegExp(`layer blob ${img.layerDigests[0]} is missing from the layout`));
    } finally {
      await cleanup();
    }
  });

  test("a tampered layer blob fails digest verification", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const img = await layoutOf(dir, [{ tar: await tarOf([{ name: "f", content: "original" }]), compression: "none" }]);
      const blob = join(dir, "blobs", "sha256", (img.layerDigests[0] as string).slice(7));
      const bytes = await readFile(blob);
      const at = bytes.indexOf("original");
      bytes.write("modified", at);
      await writeFile(blob, bytes);
      await assert.rejects(walkAll(dir), (e: unknown) => e instanceof VerificationFailedError && /does not match/.test(e.message));
    } finally {
      await cleanup();
    }
  });
});
