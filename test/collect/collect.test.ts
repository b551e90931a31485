import assert from "node:assert/strict";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { collect, DirectoryFs, type Cataloger, type FileEntry } from "../../src/collect/index.ts";
import { UnsafeInputError } from "../../src/errors.ts";
import { DEFAULT_IMAGE_LIMITS, ImageFs, resolveImage } from "../../src/image/index.ts";
import { tempDir } from "../helpers.ts";
import { layoutOf, tarOf } from "../image/layout-builder.ts";

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

describe("hidden copies: an image's files that later layers overwrote or deleted", () => {
  /** A cataloger that reads pins.txt and the history of pins.txt and gone.txt, and says what it saw when the walk ends. */
  function historian() {
    const offered: FileEntry[] = [];
    const copies: string[] = [];
    const cataloger: Cataloger = {
      name: "historian",
      fileRequired: (e) => {
        offered.push(e);
        return e.path === "pins.txt";
      },
      extract: async () => ({ components: [] }),
      history: {
        required: (e) => e.path === "pins.txt" || e.path === "gone.txt",
        async extract({ entry, contents }) {
          copies.push(`${entry.path}@${entry.layerIndex}:${contents.toString()}`);
        },
      },
      finish: async () => ({ components: [], targetProperties: { "test:copies": String(copies.length) } }),
    };
    return { cataloger, offered, copies };
  }

  it("are offered, top layer first, only to catalogers' history; never to fileRequired; directories have none", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const layout = join(dir, "layout");
      await layoutOf(layout, [
        { tar: await tarOf([{ name: "pins.txt", content: "a==1" }, { name: "gone.txt", content: "x" }, { name: "other.txt", content: "o" }]), compression: "gzip" },
        { tar: await tarOf([{ name: "pins.txt", content: "a==1\nb==2" }, { name: ".wh.gone.txt", content: "" }]), compression: "gzip" },
        { tar: await tarOf([{ name: "pins.txt", content: "a==1\nb==2\nc==3" }]), compression: "gzip" },
      ]);
      const image = await resolveImage({ kind: "oci-dir", input: layout, path: layout });
      const h = historian();
      const result = await collect(new ImageFs(image, DEFAULT_IMAGE_LIMITS), [h.cataloger, pinsCataloger]);
      assert.deepEqual(h.copies, ["pins.txt@1:a==1\nb==2", "pins.txt@0:a==1", "gone.txt@0:x"]);
      assert.ok(h.offered.every((e) => e.hidden !== true));
      assert.deepEqual(h.offered.map((e) => `${e.path}@${e.layerIndex}`), ["pins.txt@2", "other.txt@0"]);
      assert.deepEqual(result.stats, { filesSeen: 2, filesExtracted: 1 });
      assert.deepEqual(result.components.map((c) => c.ref), ["a@1", "b@2", "c@3"], "the cataloger without history saw the final copy only");
      assert.deepEqual(result.targetProperties, { "test:copies": "3" });

      await writeFile(join(dir, "pins.txt"), "a==1");
      const d = historian();
      const fromDir = await collect(new DirectoryFs(dir, { exclude: ["layout/**"] }), [d.cataloger]);
      assert.deepEqual(d.copies, []);
      assert.deepEqual(fromDir.targetProperties, { "test:copies": "0" });
    } finally {
      await cleanup();
    }
  });
});
