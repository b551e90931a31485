/**
 * `VirtualFs.listDirectory`: the folder listing catalogers use to expand patterns (yarn classic's
 * workspace globs), on a real directory (DirectoryFs, built here in a temporary folder) and on an
 * image's squashed view (ImageFs, a two-layer OCI layout written with test/image/layout-builder.ts).
 */
import assert from "node:assert/strict";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DirectoryFs } from "../../src/collect/index.ts";
import { UnsafeInputError } from "../../src/errors.ts";
import { openImageSource } from "../../src/image/index.ts";
import { tempDir } from "../helpers.ts";
import { layoutOf, tarOf } from "../image/layout-builder.ts";

async function tree(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, ".."), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

describe("DirectoryFs.listDirectory", () => {
  it("lists files and folders directly inside, sorted, leaving out what the walk skips", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const root = join(dir, "root");
      await tree(root, {
        "pkgs/b/package.json": "{}",
        "pkgs/a/package.json": "{}",
        "pkgs/B.md": "x",
        "pkgs/node_modules/x/package.json": "{}",
        "pkgs/.git/HEAD": "x",
        "pkgs/gen/out.js": "x",
        "pkgs/a/deep/file.txt": "x",
      });
      const fs = new DirectoryFs(root, { exclude: ["pkgs/gen"] });
      assert.deepEqual(await fs.listDirectory("pkgs"), ["B.md", "a", "b"]);
      assert.deepEqual(await fs.listDirectory("pkgs/a"), ["deep", "package.json"]);
      assert.deepEqual(await fs.listDirectory(""), ["pkgs"]);
      assert.deepEqual(await fs.listDirectory("./pkgs/"), ["B.md", "a", "b"]);
      // Absent, a file, and folders the walk never enters: nothing.
      assert.deepEqual(await fs.listDirectory("absent"), []);
      assert.deepEqual(await fs.listDirectory("pkgs/B.md"), []);
      assert.deepEqual(await fs.listDirectory("pkgs/node_modules"), []);
      assert.deepEqual(await fs.listDirectory("pkgs/gen"), []);
      // The same set of names as the walk sees below the folder.
      const walked = new Set<string>();
      for await (const e of fs.walk()) if (e.path.startsWith("pkgs/")) walked.add(e.path.split("/")[1] as string);
      assert.deepEqual([...walked].sort(), await fs.listDirectory("pkgs"));
    } finally {
      await cleanup();
    }
  });

  it("never lists or follows a symlink out of the root, and refuses '..'", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const root = join(dir, "root");
      await tree(root, { "pkgs/a/package.json": "{}" });
      await tree(dir, { "outside/secret/package.json": "{}" });
      await symlink(join(dir, "outside"), join(root, "pkgs", "escape"));
      await symlink(root, join(root, "pkgs", "loop"));
      await symlink(join(dir, "outside", "secret", "package.json"), join(root, "pkgs", "a", "link.json"));
      const fs = new DirectoryFs(root);
      // Symlinks (to folders or files, inside or out) are not entries of the listing.
      assert.deepEqual(await fs.listDirectory("pkgs"), ["a"]);
      assert.deepEqual(await fs.listDirectory("pkgs/a"), ["package.json"]);
      await assert.rejects(fs.listDirectory("pkgs/escape"), UnsafeInputError);
      await assert.rejects(fs.listDirectory("pkgs/escape/secret"), UnsafeInputError);
      await assert.rejects(fs.listDirectory("pkgs/../../outside"), UnsafeInputError);
      // A symlink that stays inside the root resolves (as reads do).
      assert.deepEqual(await fs.listDirectory("pkgs/loop/pkgs"), ["a"]);
    } finally {
      await cleanup();
    }
  });
});

describe("ImageFs.listDirectory", () => {
  it("lists the squashed view: later layers add, delete (whiteouts) and hide under opaque folders", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const l1 = await tarOf([
        { name: "app/", type: "directory" },
        { name: "app/package.json", content: "{}" },
        { name: "app/packages/a/package.json", content: "{}" },
        { name: "app/packages/b/package.json", content: "{}" },
        { name: "app/old/x.txt", content: "x" },
        { name: "etc/passwd", content: "root:x:0:0::/root:/bin/sh\n" },
      ]);
      const l2 = await tarOf([
        { name: "app/packages/.wh.b", content: "" },
        { name: "app/packages/c/package.json", content: "{}" },
        { name: "app/old/", type: "directory" },
        { name: "app/old/.wh..wh..opq", content: "" },
        { name: "app/old/y.txt", content: "y" },
        { name: "app/link", type: "symlink", linkname: "/app/packages" },
        { name: "app/escape", type: "symlink", linkname: "../../../../etc" },
      ]);
      const layout = join(dir, "layout");
      await layoutOf(layout, [
        { tar: l1, compression: "gzip" },
        { tar: l2, compression: "none" },
      ]);
      const source = await openImageSource({ kind: "oci-dir", input: layout, path: layout, tag: "t" });
      const fs = source.fs;
      assert.ok(fs.listDirectory);
      assert.deepEqual(await fs.listDirectory("app"), ["old", "package.json", "packages"]);
      assert.deepEqual(await fs.listDirectory("app/packages"), ["a", "c"]);
      assert.deepEqual(await fs.listDirectory("/app/old/"), ["y.txt"]);
      assert.deepEqual(await fs.listDirectory(""), ["app", "etc"]);
      assert.deepEqual(await fs.listDirectory("absent"), []);
      assert.deepEqual(await fs.listDirectory("app/package.json"), []);
      // Symlinks in the path resolve inside the image: ".." stops at the image's root.
      assert.deepEqual(await fs.listDirectory("app/link"), ["a", "c"]);
      assert.deepEqual(await fs.listDirectory("app/escape"), ["passwd"]);
      // After a walk, the listing agrees with the walk's files.
      const walked: string[] = [];
      for await (const e of fs.walk()) walked.push(e.path);
      assert.deepEqual(walked.filter((p) => p.startsWith("app/packages/")).sort(), ["app/packages/a/package.json", "app/packages/c/package.json"]);
      assert.deepEqual(await fs.listDirectory("app/packages"), ["a", "c"]);
    } finally {
      await cleanup();
    }
  });
});
