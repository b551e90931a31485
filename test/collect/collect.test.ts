import assert from "node:assert/strict";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { collect, DirectoryFs, type Cataloger } from "../../src/collect/index.ts";
import { UnsafeInputError } from "../../src/errors.ts";
import { tempDir } from "../helpers.ts";

/** A cataloger for a made-up `pins.txt` format (`name==version` per line), for testing the core alone. */
const pinsCataloger: Cataloger = {
  name: "pins",
  fileRequired: (e) => e.path.endsWith("pins.txt"),
  async extract({ entry, contents }) {
    const text = contents.toString("utf8");
    if (text.includes("BROKEN")) throw new Error("cannot parse");
    return {
      components: text
        .split("\n")
        .filter(Boolean)
        .map((line, i) => {
          const [name = "", version = ""] = line.split("==");
          return { ref: `${name}@${version}`, name, version, type: "library" as const, hashes: [], licenses: [], locations: [{ path: entry.path, line: i + 1 }], dependencies: [] };
        }),
    };
  },
};

describe("collect over a DirectoryFs", () => {
  it("walks once, in sorted order, skipping node_modules and .git, and reports a failing file without stopping", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await mkdir(join(dir, "b"));
      await mkdir(join(dir, "a"));
      await mkdir(join(dir, "node_modules", "x"), { recursive: true });
      await mkdir(join(dir, ".git"));
      await writeFile(join(dir, "b", "pins.txt"), "left==1.0\n");
      await writeFile(join(dir, "a", "pins.txt"), "right==2.0\nother==3\n");
      await writeFile(join(dir, "node_modules", "x", "pins.txt"), "hidden==9\n");
      await writeFile(join(dir, ".git", "pins.txt"), "hidden==9\n");
      await writeFile(join(dir, "pins.txt"), "BROKEN\n");
      const seen: string[] = [];
      const spy: Cataloger = { name: "spy", fileRequired: (e) => (seen.push(e.path), false), extract: async () => ({ components: [] }) };
      const result = await collect(new DirectoryFs(dir), [pinsCataloger, spy]);
      assert.deepEqual(seen, ["pins.txt", "a/pins.txt", "b/pins.txt"]);
      assert.deepEqual(result.components.map((c) => c.ref), ["right@2.0", "other@3", "left@1.0"]);
      assert.deepEqual(result.components[1]?.locations, [{ path: "a/pins.txt", line: 2 }]);
      assert.deepEqual(result.problems, [{ source: "pins", file: "pins.txt", message: "cannot parse" }]);
      assert.deepEqual(result.stats, { filesSeen: 3, filesExtracted: 3 });
    } finally {
      await cleanup();
    }
  });

  it("honours --exclude globs", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await mkdir(join(dir, "fixtures", "deep"), { recursive: true });
      await writeFile(join(dir, "fixtures", "deep", "pins.txt"), "x==1\n");
      await writeFile(join(dir, "pins.txt"), "y==1\n");
      const result = await collect(new DirectoryFs(dir, { exclude: ["fixtures"] }), [pinsCataloger]);
      assert.deepEqual(result.components.map((c) => c.ref), ["y@1"]);
    } finally {
      await cleanup();
    }
  });

  it("never reads through a symlink that leaves the root (security regression)", async () => {
    const { dir, cleanup } = await tempDir();
    const outside = await tempDir();
    try {
      await writeFile(join(outside.dir, "secret"), "s3cr3t");
      await symlink(join(outside.dir, "secret"), join(dir, "pins.txt"));
      await symlink(outside.dir, join(dir, "linked"));
      const fs = new DirectoryFs(dir);
      const walked: string[] = [];
      for await (const e of fs.walk()) walked.push(e.path);
      assert.deepEqual(walked, [], "symlinks are not walked");
      await assert.rejects(fs.readFile("pins.txt"), UnsafeInputError);
      await assert.rejects(fs.readFile("linked/secret"), UnsafeInputError);
      await assert.rejects(fs.readFile("../x"), /no such file|outside/);
      assert.equal(await fs.exists("pins.txt"), false);
    } finally {
      await cleanup();
      await outside.cleanup();
    }
  });

  it("enforces the per-file size limit", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await writeFile(join(dir, "pins.txt"), "a==1\n".repeat(100));
      const result = await collect(new DirectoryFs(dir), [pinsCataloger], { maxFileBytes: 64 });
      assert.equal(result.components.length, 0);
      assert.match(result.problems[0]?.message ?? "", /over the limit of 64/);
    } finally {
      await cleanup();
    }
  });
});
