import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, open, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { InputError } from "../src/errors.ts";
import { hashFiles, hashFilesWithSize } from "../src/io/hash-files.ts";
import { CHUNK_BYTES } from "../src/io/hash-file.ts";
import { tempDir } from "./helpers.ts";

/** The digest sha256sum (coreutils) gives: an independent implementation to check against. */
function sha256sum(path: string): string {
  return execFileSync("sha256sum", ["--", path], { encoding: "utf8" }).split(" ")[0]!;
}

describe("hashFiles", () => {
  it("hashes files of every size class as sha256sum does, in parallel workers", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const files: string[] = [];
      // Empty, one byte, exactly one chunk, one chunk plus one, several chunks with a tail.
      for (const [i, size] of [0, 1, CHUNK_BYTES, CHUNK_BYTES + 1, 3 * CHUNK_BYTES + 12345].entries()) {
        const p = join(dir, `f${i}.bin`);
        await writeFile(p, randomBytes(size));
        files.push(p);
      }
      for (let i = 0; i < 20; i++) {
        const p = join(dir, `small${i}.txt`);
        await writeFile(p, `file ${i}\n`);
        files.push(p);
      }
      const got = await hashFiles(files, { concurrency: 2 });
      assert.equal(got.size, files.length);
      for (const f of files) assert.equal(got.get(f), sha256sum(f), f);
      assert.equal(got.get(files[0]!), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    } finally {
      await cleanup();
    }
  });

  it("reports the size hashed and hashes a duplicated path once", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const p = join(dir, "a");
      await writeFile(p, "abc");
      const got = await hashFilesWithSize([p, p], { concurrency: 4 });
      assert.deepEqual([...got], [[p, { sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", size: 3 }]]);
      assert.deepEqual(await hashFiles([]), new Map());
    } finally {
      await cleanup();
    }
  });

  it("hashes a sparse multi-chunk file through a symlink", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const p = join(dir, "sparse.bin");
      const h = await open(p, "w");
      await h.truncate(40 * 1024 * 1024 + 7);
      await h.write(Buffer.from("tail"), 0, 4, 40 * 1024 * 1024);
      await h.close();
      await symlink(p, join(dir, "link"));
      const got = await hashFiles([join(dir, "link")]);
      assert.equal(got.get(join(dir, "link")), sha256sum(p));
    } finally {
      await cleanup();
    }
  });

  it("fails closed on a missing file, a directory and a FIFO (no partial map, no hang)", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const ok = join(dir, "ok");
      await writeFile(ok, "x");
      await assert.rejects(hashFiles([ok, join(dir, "missing")]), (e: unknown) => e instanceof InputError && e.code === "NOT_FOUND" && e.message.includes("missing"));
      await mkdir(join(dir, "d"));
      await assert.rejects(hashFiles([join(dir, "d")]), (e: unknown) => e instanceof InputError && /d: not a regular file/.test(e.message));
      execFileSync("mkfifo", [join(dir, "fifo")]);
      await assert.rejects(hashFiles([join(dir, "fifo"), ok], { concurrency: 1 }), (e: unknown) => e instanceof InputError && /fifo: not a regular file/.test(e.message));
    } finally {
      await cleanup();
    }
  });

  it("refuses a concurrency that is not a positive integer", async () => {
    await assert.rejects(hashFiles(["/etc/hostname"], { concurrency: 0 }), RangeError);
    await assert.rejects(hashFilesWithSize(["/etc/hostname"], { concurrency: 1.5 }), RangeError);
  });
});
