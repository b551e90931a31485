import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { writeFileAtomic } from "../src/io/atomic-write.ts";
import { cacheDir } from "../src/io/paths.ts";
import { tempDir } from "./helpers.ts";

describe("writeFileAtomic", () => {
  it("replaces the file whole and leaves no temporary file", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const f = join(dir, "sub", "out.json");
      await writeFileAtomic(f, "first");
      await writeFileAtomic(f, "second");
      assert.equal(await readFile(f, "utf8"), "second");
      assert.deepEqual(await readdir(join(dir, "sub")), ["out.json"]);
    } finally {
      await cleanup();
    }
  });

  it("leaves the old file intact when the write fails", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const f = join(dir, "out.json");
      await writeFile(f, "old");
      // A directory where the file should be renamed to: rename fails, the target stays as it was.
      await assert.rejects(writeFileAtomic(join(dir, "."), "new"));
      assert.equal(await readFile(f, "utf8"), "old");
      assert.deepEqual(await readdir(dir), ["out.json"]);
    } finally {
      await cleanup();
    }
  });
});

describe("cacheDir", () => {
  it("follows TOLLGATE_CACHE_DIR, then XDG_CACHE_HOME, then ~/.cache", () => {
    assert.equal(cacheDir({ TOLLGATE_CACHE_DIR: "/c" }), "/c");
    assert.equal(cacheDir({ XDG_CACHE_HOME: "/x" }), "/x/tollgate");
    assert.match(cacheDir({ XDG_CACHE_HOME: "relative" }), /\/\.cache\/tollgate$/);
  });
});
